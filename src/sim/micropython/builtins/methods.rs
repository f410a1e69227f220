//! Methods of the built-in types: str, bytes/bytearray/memoryview, list, dict, files.

use std::cell::RefCell;
use std::rc::Rc;

use super::super::fs::OpenFile;
use super::super::modules;
use super::super::value::{as_int, Exception, Value};
use super::super::vm::Ctx;
use super::{arg, bytes_arg, close, collect, int_arg, str_arg, R};

pub(super) fn method(ctx: &mut Ctx, recv: &Value, name: &str, args: &[Value]) -> R<Value> {
    match recv {
        Value::Str(s) => str_method(s, name, args),
        Value::Bytes(_) | Value::ByteArray(_) | Value::MemoryView(..) => {
            let data = recv.as_bytes().unwrap();
            match (name, recv) {
                ("decode", _) => Ok(Value::str(&String::from_utf8_lossy(&data))),
                ("hex", _) => Ok(Value::str(
                    &data.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                )),
                ("startswith", _) => Ok(Value::Bool(data.starts_with(&bytes_arg(args, 0)?))),
                ("endswith", _) => Ok(Value::Bool(data.ends_with(&bytes_arg(args, 0)?))),
                ("find", _) => {
                    let n = bytes_arg(args, 0)?;
                    Ok(Value::Int(if n.is_empty() {
                        0
                    } else {
                        data.windows(n.len())
                            .position(|w| w == n)
                            .map_or(-1, |i| i as i64)
                    }))
                }
                ("append", Value::ByteArray(b)) => {
                    b.borrow_mut().push(int_arg(args, 0)? as u8);
                    Ok(Value::None)
                }
                ("extend", Value::ByteArray(b)) => {
                    b.borrow_mut().extend(bytes_arg(args, 0)?);
                    Ok(Value::None)
                }
                _ => Err(Exception::msg(
                    "AttributeError",
                    format!("'{}' object has no attribute '{name}'", recv.type_name()),
                )),
            }
        }
        Value::List(l) => {
            let mut l = l.borrow_mut();
            match name {
                "append" => l.push(arg(args, 0)?.clone()),
                "extend" => l.extend(collect(arg(args, 0)?)?),
                "insert" => {
                    let i = int_arg(args, 0)?.clamp(0, l.len() as i64) as usize;
                    l.insert(i, arg(args, 1)?.clone());
                }
                "pop" => {
                    let i = args.first().and_then(as_int).unwrap_or(-1);
                    let j = if i < 0 { i + l.len() as i64 } else { i };
                    if j < 0 || j >= l.len() as i64 {
                        return Err(Exception::msg("IndexError", "pop from empty list"));
                    }
                    return Ok(l.remove(j as usize));
                }
                "remove" | "index" | "count" => {
                    let x = arg(args, 0)?;
                    let hits: Vec<usize> = l
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| super::super::value::equal(v, x))
                        .map(|(i, _)| i)
                        .collect();
                    match name {
                        "count" => return Ok(Value::Int(hits.len() as i64)),
                        _ if hits.is_empty() => {
                            return Err(Exception::msg("ValueError", "object not in sequence"))
                        }
                        "index" => return Ok(Value::Int(hits[0] as i64)),
                        _ => {
                            l.remove(hits[0]);
                        }
                    }
                }
                "reverse" => l.reverse(),
                "clear" => l.clear(),
                "sort" => l.sort_by(|a, b| {
                    super::super::ops::order(a, b).unwrap_or(std::cmp::Ordering::Equal)
                }),
                _ => unreachable!("get_attr lists the methods"),
            }
            Ok(Value::None)
        }
        Value::Dict(d) => match name {
            "get" => Ok(super::super::ops::index(recv, arg(args, 0)?)
                .unwrap_or_else(|_| args.get(1).cloned().unwrap_or(Value::None))),
            "keys" | "values" | "items" => {
                let d = d.borrow();
                Ok(Value::list(
                    d.iter()
                        .map(|(k, v)| match name {
                            "keys" => k.clone(),
                            "values" => v.clone(),
                            _ => Value::tuple(vec![k.clone(), v.clone()]),
                        })
                        .collect(),
                ))
            }
            "pop" => {
                let v = super::super::ops::index(recv, arg(args, 0)?)
                    .or_else(|e| args.get(1).cloned().ok_or(e))?;
                let _ = super::super::ops::delete_index(recv, arg(args, 0)?);
                Ok(v)
            }
            "update" => {
                let Value::Dict(other) = arg(args, 0)? else {
                    return Err(Exception::msg("TypeError", "update needs a dict"));
                };
                let pairs = other.borrow().clone();
                for (k, v) in pairs {
                    super::super::ops::store_index(recv, &k, v)?;
                }
                Ok(Value::None)
            }
            _ => {
                d.borrow_mut().clear();
                Ok(Value::None)
            }
        },
        Value::File(f) => file_method(ctx, f, name, args),
        Value::Hash(h) => modules::hash_method(h, name, args),
        _ => Err(Exception::msg(
            "AttributeError",
            format!("'{}' object has no attribute '{name}'", recv.type_name()),
        )),
    }
}

fn file_method(ctx: &mut Ctx, f: &Rc<RefCell<OpenFile>>, name: &str, args: &[Value]) -> R<Value> {
    if name == "close" {
        return close(ctx, &Value::File(f.clone())).map(|_| Value::None);
    }
    let mut file = f.borrow_mut();
    if file.closed {
        return Err(Exception::os(9));
    }
    let text = |file: &OpenFile, b: Vec<u8>| {
        if file.binary {
            Value::Bytes(b.into())
        } else {
            Value::str(&String::from_utf8_lossy(&b))
        }
    };
    if matches!(name, "read" | "readinto" | "readline" | "readlines") && !file.readable {
        return Err(Exception::os(9));
    }
    match name {
        "read" => {
            let n = args
                .first()
                .and_then(as_int)
                .filter(|n| *n >= 0)
                .map(|n| n as usize);
            let data = file.read(n);
            Ok(text(&file, data))
        }
        "readline" => {
            let data = file.readline();
            Ok(text(&file, data))
        }
        "readlines" => {
            let mut lines = Vec::new();
            loop {
                let l = file.readline();
                if l.is_empty() {
                    return Ok(Value::list(lines));
                }
                lines.push(text(&file, l));
            }
        }
        "readinto" => match arg(args, 0)? {
            Value::ByteArray(buf) | Value::MemoryView(buf, ..) => {
                let (start, len) = match &args[0] {
                    Value::MemoryView(_, s, e) => (*s, e - s),
                    _ => (0, buf.borrow().len()),
                };
                let data = file.read(Some(len));
                buf.borrow_mut()[start..start + data.len()].copy_from_slice(&data);
                Ok(Value::Int(data.len() as i64))
            }
            _ => Err(Exception::msg(
                "TypeError",
                "object with buffer protocol required",
            )),
        },
        "write" => {
            if !file.writable {
                return Err(Exception::os(9));
            }
            let data = match arg(args, 0)? {
                Value::Str(s) => s.as_bytes().to_vec(),
                _ => bytes_arg(args, 0)?,
            };
            file.write(&data);
            Ok(Value::Int(data.len() as i64))
        }
        "flush" => file
            .flush(ctx.fs)
            .map_err(Exception::os)
            .map(|_| Value::None),
        "seek" => {
            let off = int_arg(args, 0)?;
            let base = match args.get(1).and_then(as_int).unwrap_or(0) {
                1 => file.pos as i64,
                2 => file.data.len() as i64,
                _ => 0,
            };
            file.pos = (base + off).max(0) as usize;
            Ok(Value::Int(file.pos as i64))
        }
        _ => Ok(Value::Int(file.pos as i64)),
    }
}

fn str_method(s: &str, name: &str, args: &[Value]) -> R<Value> {
    let strs = |v: Vec<&str>| Value::list(v.into_iter().map(Value::str).collect());
    Ok(match name {
        "encode" => Value::bytes(s.as_bytes()),
        "startswith" => Value::Bool(s.starts_with(&str_arg(args, 0)?)),
        "endswith" => Value::Bool(s.ends_with(&str_arg(args, 0)?)),
        "split" => match args.first() {
            None | Some(Value::None) => strs(s.split_whitespace().collect()),
            Some(_) => strs(s.split(&str_arg(args, 0)?).collect()),
        },
        "splitlines" => strs(s.lines().collect()),
        "strip" => Value::str(s.trim()),
        "rstrip" => Value::str(s.trim_end()),
        "lstrip" => Value::str(s.trim_start()),
        "upper" => Value::str(&s.to_uppercase()),
        "lower" => Value::str(&s.to_lowercase()),
        "isdigit" => Value::Bool(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit())),
        "replace" => Value::str(&s.replace(&str_arg(args, 0)?, &str_arg(args, 1)?)),
        "find" => Value::Int(
            s.find(&str_arg(args, 0)?)
                .map_or(-1, |i| s[..i].chars().count() as i64),
        ),
        "count" => Value::Int(s.matches(&str_arg(args, 0)?).count() as i64),
        "join" => Value::str(
            &collect(arg(args, 0)?)?
                .iter()
                .map(|v| match v {
                    Value::Str(x) => Ok(x.to_string()),
                    _ => Err(Exception::msg("TypeError", "join expects a list of str")),
                })
                .collect::<R<Vec<_>>>()?
                .join(s),
        ),
        "format" => {
            let mut out = String::new();
            let mut auto = 0;
            let mut rest = s;
            while let Some(open) = rest.find('{') {
                out.push_str(&rest[..open]);
                if rest[open..].starts_with("{{") {
                    out.push('{');
                    rest = &rest[open + 2..];
                    continue;
                }
                let close = rest[open..]
                    .find('}')
                    .ok_or_else(|| Exception::msg("ValueError", "unmatched '{' in format"))?
                    + open;
                let field = &rest[open + 1..close];
                let (index, conv) = field.split_once(':').map_or((field, ""), |(a, b)| (a, b));
                let i = if index.is_empty() {
                    auto += 1;
                    auto - 1
                } else {
                    index
                        .parse()
                        .map_err(|_| Exception::msg("KeyError", index))?
                };
                let v = arg(args, i)?;
                out.push_str(&match conv {
                    "x" => format!("{:x}", as_int(v).unwrap_or(0)),
                    "02x" => format!("{:02x}", as_int(v).unwrap_or(0)),
                    _ => v.to_str(),
                });
                rest = &rest[close + 1..];
            }
            out.push_str(&rest.replace("}}", "}"));
            Value::str(&out)
        }
        _ => unreachable!("get_attr lists the methods"),
    })
}
