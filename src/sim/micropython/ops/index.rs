//! Indexing, slicing and item assignment.

use std::rc::Rc;

use super::super::value::{as_int, equal, range_len, Exception, Value};
use super::R;

/// Python's index normalisation: negative counts from the end.
fn position(i: i64, len: usize) -> R<usize> {
    let j = if i < 0 { i + len as i64 } else { i };
    if j < 0 || j >= len as i64 {
        return Err(Exception::msg("IndexError", "index out of range"));
    }
    Ok(j as usize)
}

/// The indices a slice selects in a sequence of `len`.
fn slice_indices(
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
    len: usize,
) -> R<Vec<usize>> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(Exception::msg("ValueError", "slice step cannot be zero"));
    }
    let len = len as i64;
    let clamp = |v: i64, lo: i64, hi: i64| if v < 0 { (v + len).max(lo) } else { v.min(hi) };
    let (lo, hi) = if step > 0 { (0, len) } else { (-1, len - 1) };
    let a = start.map_or(if step > 0 { 0 } else { len - 1 }, |s| clamp(s, lo, hi));
    let b = stop.map_or(if step > 0 { len } else { -1 }, |s| clamp(s, lo, hi));
    let mut out = Vec::new();
    let mut i = a;
    while (step > 0 && i < b) || (step < 0 && i > b) {
        out.push(i as usize);
        i += step;
    }
    Ok(out)
}

pub fn index(obj: &Value, index: &Value) -> R<Value> {
    if let Value::Slice(a, b, s) = index {
        return slice(obj, *a, *b, *s);
    }
    if let Value::Dict(d) = obj {
        return d
            .borrow()
            .iter()
            .find(|(k, _)| equal(k, index))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Exception::new("KeyError", vec![index.clone()]));
    }
    let i = as_int(index).ok_or_else(|| {
        Exception::msg(
            "TypeError",
            format!("indices must be integers, not {}", index.type_name()),
        )
    })?;
    Ok(match obj {
        Value::List(l) => {
            let l = l.borrow();
            l[position(i, l.len())?].clone()
        }
        Value::Tuple(t) | Value::AttrTuple(_, t) => t[position(i, t.len())?].clone(),
        Value::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            Value::str(&chars[position(i, chars.len())?].to_string())
        }
        Value::Range(a, b, s) => {
            Value::Int(a + s * position(i, range_len(*a, *b, *s) as usize)? as i64)
        }
        Value::Bytes(_) | Value::ByteArray(_) | Value::MemoryView(..) => {
            let b = obj.as_bytes().unwrap();
            Value::Int(b[position(i, b.len())?] as i64)
        }
        _ => {
            return Err(Exception::msg(
                "TypeError",
                format!("'{}' object isn't subscriptable", obj.type_name()),
            ))
        }
    })
}

fn slice(obj: &Value, a: Option<i64>, b: Option<i64>, s: Option<i64>) -> R<Value> {
    let pick = |len| slice_indices(a, b, s, len);
    Ok(match obj {
        Value::MemoryView(buf, start, end) if s.unwrap_or(1) == 1 => {
            let idx = pick(end - start)?;
            match (idx.first(), idx.last()) {
                (Some(f), Some(l)) => Value::MemoryView(buf.clone(), start + f, start + l + 1),
                _ => Value::MemoryView(buf.clone(), *start, *start),
            }
        }
        Value::Str(st) => {
            let chars: Vec<char> = st.chars().collect();
            Value::str(
                &pick(chars.len())?
                    .into_iter()
                    .map(|i| chars[i])
                    .collect::<String>(),
            )
        }
        Value::Bytes(_) | Value::ByteArray(_) | Value::MemoryView(..) => {
            let bytes = obj.as_bytes().unwrap();
            let out: Vec<u8> = pick(bytes.len())?.into_iter().map(|i| bytes[i]).collect();
            if matches!(obj, Value::ByteArray(_)) {
                Value::ByteArray(Rc::new(out.into()))
            } else {
                Value::Bytes(out.into())
            }
        }
        Value::List(_) | Value::Tuple(_) => {
            let items = super::super::builtins::collect(obj)?;
            let out: Vec<Value> = pick(items.len())?
                .into_iter()
                .map(|i| items[i].clone())
                .collect();
            if matches!(obj, Value::List(_)) {
                Value::list(out)
            } else {
                Value::tuple(out)
            }
        }
        _ => {
            return Err(Exception::msg(
                "TypeError",
                format!("'{}' object isn't subscriptable", obj.type_name()),
            ))
        }
    })
}

pub fn store_index(obj: &Value, index: &Value, value: Value) -> R<()> {
    match obj {
        Value::Dict(d) => {
            let mut d = d.borrow_mut();
            match d.iter_mut().find(|(k, _)| equal(k, index)) {
                Some(slot) => slot.1 = value,
                None => d.push((index.clone(), value)),
            }
        }
        Value::List(l) => {
            let i = as_int(index)
                .ok_or_else(|| Exception::msg("TypeError", "list indices must be integers"))?;
            let mut l = l.borrow_mut();
            let j = position(i, l.len())?;
            l[j] = value;
        }
        Value::ByteArray(buf) | Value::MemoryView(buf, ..) => {
            let (start, len) = match obj {
                Value::MemoryView(_, s, e) => (*s, e - s),
                _ => (0, buf.borrow().len()),
            };
            if let Value::Slice(a, b, s) = index {
                let idx = slice_indices(*a, *b, *s, len)?;
                let data = value.as_bytes().ok_or_else(|| {
                    Exception::msg("TypeError", "object with buffer protocol required")
                })?;
                if data.len() != idx.len() {
                    return Err(Exception::msg(
                        "NotImplementedError",
                        "array/bytes required on right side",
                    ));
                }
                let mut buf = buf.borrow_mut();
                for (i, b) in idx.into_iter().zip(data) {
                    buf[start + i] = b;
                }
            } else {
                let i = as_int(index)
                    .ok_or_else(|| Exception::msg("TypeError", "indices must be integers"))?;
                let b = as_int(&value)
                    .filter(|b| (0..256).contains(b))
                    .ok_or_else(|| Exception::msg("ValueError", "bytes value out of range"))?;
                let j = position(i, len)?;
                buf.borrow_mut()[start + j] = b as u8;
            }
        }
        _ => {
            return Err(Exception::msg(
                "TypeError",
                format!(
                    "'{}' object doesn't support item assignment",
                    obj.type_name()
                ),
            ))
        }
    }
    Ok(())
}

pub fn delete_index(obj: &Value, index: &Value) -> R<()> {
    match obj {
        Value::Dict(d) => {
            let mut d = d.borrow_mut();
            let at = d
                .iter()
                .position(|(k, _)| equal(k, index))
                .ok_or_else(|| Exception::new("KeyError", vec![index.clone()]))?;
            d.remove(at);
        }
        Value::List(l) => {
            let i = as_int(index)
                .ok_or_else(|| Exception::msg("TypeError", "list indices must be integers"))?;
            let mut l = l.borrow_mut();
            let j = position(i, l.len())?;
            l.remove(j);
        }
        _ => {
            return Err(Exception::msg(
                "TypeError",
                format!("'{}' object doesn't support item deletion", obj.type_name()),
            ))
        }
    }
    Ok(())
}
