//! Operators: arithmetic, comparison, `in`, indexing and slicing, with MicroPython's
//! error messages where a host might show them.

use std::cmp::Ordering;
use std::rc::Rc;

use super::ast::{BinOp, CmpOp};
use super::value::{as_float, as_int, equal, identical, range_len, Exception, Value};

type R<T> = Result<T, Rc<Exception>>;

mod index;
pub use index::{delete_index, index, store_index};

fn unsupported(op: &str, l: &Value, r: &Value) -> Rc<Exception> {
    Exception::msg(
        "TypeError",
        format!(
            "unsupported types for {op}: '{}', '{}'",
            l.type_name(),
            r.type_name()
        ),
    )
}

fn op_name(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "__add__",
        BinOp::Sub => "__sub__",
        BinOp::Mul => "__mul__",
        BinOp::Div => "__truediv__",
        BinOp::FloorDiv => "__floordiv__",
        BinOp::Mod => "__mod__",
        BinOp::Pow => "__pow__",
        BinOp::And => "__and__",
        BinOp::Or => "__or__",
        BinOp::Xor => "__xor__",
        BinOp::Shl => "__lshift__",
        BinOp::Shr => "__rshift__",
    }
}

fn zero_div() -> Rc<Exception> {
    Exception::msg("ZeroDivisionError", "divide by zero")
}

fn overflow() -> Rc<Exception> {
    Exception::msg("OverflowError", "small int overflow")
}

pub fn binary(op: BinOp, l: &Value, r: &Value) -> R<Value> {
    if let (Some(a), Some(b)) = (as_int(l), as_int(r)) {
        return int_op(op, a, b);
    }
    if let (Some(a), Some(b)) = (as_float(l), as_float(r)) {
        return float_op(op, a, b).ok_or_else(|| unsupported(op_name(op), l, r))?;
    }
    match (op, l, r) {
        (BinOp::Add, Value::Str(a), Value::Str(b)) => Ok(Value::str(&format!("{a}{b}"))),
        (BinOp::Add, Value::List(a), Value::List(b)) => Ok(Value::list(
            a.borrow()
                .iter()
                .chain(b.borrow().iter())
                .cloned()
                .collect(),
        )),
        (BinOp::Add, Value::Tuple(a), Value::Tuple(b)) => {
            Ok(Value::tuple(a.iter().chain(b.iter()).cloned().collect()))
        }
        (BinOp::Add, Value::Bytes(_) | Value::ByteArray(_), _) if r.as_bytes().is_some() => {
            let mut v = l.as_bytes().unwrap();
            v.extend(r.as_bytes().unwrap());
            Ok(if matches!(l, Value::ByteArray(_)) {
                Value::ByteArray(Rc::new(v.into()))
            } else {
                Value::Bytes(v.into())
            })
        }
        (
            BinOp::Mul,
            Value::Str(_) | Value::Bytes(_) | Value::List(_) | Value::Tuple(_),
            Value::Int(_),
        ) => repeat(l, as_int(r).unwrap()),
        (
            BinOp::Mul,
            Value::Int(_),
            Value::Str(_) | Value::Bytes(_) | Value::List(_) | Value::Tuple(_),
        ) => repeat(r, as_int(l).unwrap()),
        (BinOp::Mod, Value::Str(fmt), args) => {
            super::builtins::percent_format(fmt, args).map(|s| Value::str(&s))
        }
        _ => Err(unsupported(op_name(op), l, r)),
    }
}

fn repeat(v: &Value, n: i64) -> R<Value> {
    let n = n.max(0) as usize;
    Ok(match v {
        Value::Str(s) => Value::str(&s.repeat(n)),
        Value::Bytes(b) => Value::Bytes(b.repeat(n).into()),
        Value::List(l) => Value::list((0..n).flat_map(|_| l.borrow().clone()).collect()),
        Value::Tuple(t) => Value::tuple((0..n).flat_map(|_| t.to_vec()).collect()),
        _ => unreachable!(),
    })
}

fn int_op(op: BinOp, a: i64, b: i64) -> R<Value> {
    let v = match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        BinOp::Mul => a.checked_mul(b),
        BinOp::Div => {
            if b == 0 {
                return Err(zero_div());
            }
            return Ok(Value::Float(a as f64 / b as f64));
        }
        BinOp::FloorDiv | BinOp::Mod => {
            if b == 0 {
                return Err(zero_div());
            }
            let q = a.div_euclid(b) - if b < 0 && a.rem_euclid(b) != 0 { 1 } else { 0 };
            let m = a - q * b;
            Some(if op == BinOp::FloorDiv { q } else { m })
        }
        BinOp::Pow => {
            if b < 0 {
                return Ok(Value::Float((a as f64).powf(b as f64)));
            }
            u32::try_from(b).ok().and_then(|b| a.checked_pow(b))
        }
        BinOp::And => Some(a & b),
        BinOp::Or => Some(a | b),
        BinOp::Xor => Some(a ^ b),
        BinOp::Shl => u32::try_from(b)
            .ok()
            .and_then(|b| a.checked_shl(b))
            .filter(|v| v >> b.min(63) == a),
        BinOp::Shr => Some(a >> b.clamp(0, 63)),
    };
    v.map(Value::Int).ok_or_else(overflow)
}

fn float_op(op: BinOp, a: f64, b: f64) -> Option<R<Value>> {
    let div = |f: fn(f64, f64) -> f64| {
        if b == 0.0 {
            Err(zero_div())
        } else {
            Ok(Value::Float(f(a, b)))
        }
    };
    Some(match op {
        BinOp::Add => Ok(Value::Float(a + b)),
        BinOp::Sub => Ok(Value::Float(a - b)),
        BinOp::Mul => Ok(Value::Float(a * b)),
        BinOp::Div => div(|a, b| a / b),
        BinOp::FloorDiv => div(|a, b| (a / b).floor()),
        BinOp::Mod => div(|a, b| a - b * (a / b).floor()),
        BinOp::Pow => Ok(Value::Float(a.powf(b))),
        _ => return None,
    })
}

pub fn compare(op: CmpOp, l: &Value, r: &Value) -> R<bool> {
    Ok(match op {
        CmpOp::Eq => equal(l, r),
        CmpOp::Ne => !equal(l, r),
        CmpOp::Is => identical(l, r),
        CmpOp::IsNot => !identical(l, r),
        CmpOp::In => contains(r, l)?,
        CmpOp::NotIn => !contains(r, l)?,
        _ => {
            let ord = order(l, r).ok_or_else(|| {
                unsupported(
                    if matches!(op, CmpOp::Lt | CmpOp::Ge) {
                        "__lt__"
                    } else {
                        "__gt__"
                    },
                    l,
                    r,
                )
            })?;
            match op {
                CmpOp::Lt => ord == Ordering::Less,
                CmpOp::Le => ord != Ordering::Greater,
                CmpOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }
        }
    })
}

pub fn order(l: &Value, r: &Value) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (as_int(l), as_int(r)) {
        return Some(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (as_float(l), as_float(r)) {
        return a.partial_cmp(&b);
    }
    match (l, r) {
        (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
        (Value::List(_) | Value::Tuple(_), Value::List(_) | Value::Tuple(_)) => {
            let (a, b) = (
                super::builtins::collect(l).ok()?,
                super::builtins::collect(r).ok()?,
            );
            for (x, y) in a.iter().zip(b.iter()) {
                if !equal(x, y) {
                    return order(x, y);
                }
            }
            Some(a.len().cmp(&b.len()))
        }
        _ => Some(l.as_bytes()?.cmp(&r.as_bytes()?)),
    }
}

fn contains(container: &Value, item: &Value) -> R<bool> {
    Ok(match container {
        Value::Str(s) => match item {
            Value::Str(i) => s.contains(&**i),
            _ => {
                return Err(Exception::msg(
                    "TypeError",
                    "can't convert to str implicitly",
                ))
            }
        },
        Value::Bytes(_) | Value::ByteArray(_) | Value::MemoryView(..) => {
            let hay = container.as_bytes().unwrap();
            match (as_int(item), item.as_bytes()) {
                (Some(b), _) => hay.contains(&(b as u8)),
                (_, Some(needle)) => {
                    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
                }
                _ => false,
            }
        }
        Value::Dict(d) => d.borrow().iter().any(|(k, _)| equal(k, item)),
        Value::Range(a, b, s) => as_int(item).is_some_and(|i| {
            let n = range_len(*a, *b, *s);
            (i - a) % s == 0 && (0..n).contains(&((i - a) / s))
        }),
        _ => super::builtins::collect(container)?
            .iter()
            .any(|v| equal(v, item)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_semantics() {
        assert!(equal(
            &binary(BinOp::FloorDiv, &Value::Int(-7), &Value::Int(2)).unwrap(),
            &Value::Int(-4)
        ));
        assert!(equal(
            &binary(BinOp::Mod, &Value::Int(-7), &Value::Int(2)).unwrap(),
            &Value::Int(1)
        ));
        assert!(equal(
            &binary(BinOp::Div, &Value::Int(1), &Value::Int(4)).unwrap(),
            &Value::Float(0.25)
        ));
        assert_eq!(
            binary(BinOp::Div, &Value::Int(1), &Value::Int(0))
                .err()
                .unwrap()
                .describe(),
            "ZeroDivisionError: divide by zero"
        );
        let s = Value::bytes(b"abcdef");
        assert_eq!(
            index(&s, &Value::Slice(Some(-2), None, None))
                .unwrap()
                .repr(),
            "b'ef'"
        );
        assert_eq!(
            index(&s, &Value::Slice(None, None, Some(-2)))
                .unwrap()
                .repr(),
            "b'fdb'"
        );
        assert_eq!(
            binary(BinOp::Add, &Value::Int(1), &Value::str("a"))
                .err()
                .unwrap()
                .describe(),
            "TypeError: unsupported types for __add__: 'int', 'str'"
        );
        assert!(compare(CmpOp::In, &Value::bytes(b"cd"), &s).unwrap());
        assert!(compare(CmpOp::Lt, &Value::str("a"), &Value::str("b")).unwrap());
    }
}
