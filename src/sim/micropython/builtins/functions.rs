//! The built-in functions (`print`, `len`, `open`, `bytes`, ...).

use std::cell::RefCell;
use std::rc::Rc;

use super::super::fs::OpenFile;
use super::super::value::{as_float, as_int, Exception, Iter, Value};
use super::super::vm::Ctx;
use super::{arg, collect, get_attr, int_arg, iter, kwarg, next, str_arg, R};

pub(super) fn builtin(
    ctx: &mut Ctx,
    name: &str,
    args: &[Value],
    kwargs: &[(Rc<str>, Value)],
) -> R<Value> {
    let first = || arg(args, 0);
    Ok(match name {
        "print" => {
            let text = |k, default: &str| match kwarg(kwargs, k) {
                Some(Value::Str(s)) => s.to_string(),
                Some(Value::None) | None => default.to_string(),
                Some(_) => String::new(),
            };
            let (sep, end) = (text("sep", " "), text("end", "\n"));
            let line = args
                .iter()
                .map(Value::to_str)
                .collect::<Vec<_>>()
                .join(&sep)
                + &end;
            ctx.print(line.as_bytes());
            Value::None
        }
        "repr" => Value::str(&first()?.repr()),
        "str" => match args {
            [] => Value::str(""),
            [v] => Value::str(&v.to_str()),
            [b, ..] => Value::str(&String::from_utf8_lossy(&b.as_bytes().unwrap_or_default())),
        },
        "int" => match args {
            [] => Value::Int(0),
            [Value::Str(s), rest @ ..] => {
                let base = rest.first().and_then(as_int).unwrap_or(10) as u32;
                let t = s.trim().replace('_', "");
                let digits = if base == 16 {
                    t.trim_start_matches("0x")
                } else {
                    &t
                };
                Value::Int(i64::from_str_radix(digits, base).map_err(|_| {
                    Exception::msg(
                        "ValueError",
                        format!(
                            "invalid syntax for integer with base {base}: {}",
                            super::super::value::str_repr(s)
                        ),
                    )
                })?)
            }
            [Value::Float(f), ..] => Value::Int(f.trunc() as i64),
            [v, ..] => Value::Int(
                as_int(v).ok_or_else(|| Exception::msg("TypeError", "can't convert to int"))?,
            ),
        },
        "float" => match args {
            [] => Value::Float(0.0),
            [Value::Str(s)] => Value::Float(
                s.trim()
                    .parse()
                    .map_err(|_| Exception::msg("ValueError", "invalid syntax for number"))?,
            ),
            [v, ..] => Value::Float(
                as_float(v).ok_or_else(|| Exception::msg("TypeError", "can't convert to float"))?,
            ),
        },
        "bool" => Value::Bool(args.first().is_some_and(Value::truthy)),
        "len" => Value::Int(match first()? {
            Value::Str(s) => s.chars().count(),
            v @ (Value::List(_)
            | Value::Tuple(_)
            | Value::Dict(_)
            | Value::Range(..)
            | Value::AttrTuple(..)) => collect(v)?.len(),
            v => v
                .as_bytes()
                .ok_or_else(|| {
                    Exception::msg(
                        "TypeError",
                        format!("object of type '{}' has no len()", v.type_name()),
                    )
                })?
                .len(),
        } as i64),
        "range" => match args.len() {
            1 => Value::Range(0, int_arg(args, 0)?, 1),
            2 => Value::Range(int_arg(args, 0)?, int_arg(args, 1)?, 1),
            _ => Value::Range(int_arg(args, 0)?, int_arg(args, 1)?, int_arg(args, 2)?),
        },
        "list" => Value::list(args.first().map(collect).transpose()?.unwrap_or_default()),
        "tuple" => Value::tuple(args.first().map(collect).transpose()?.unwrap_or_default()),
        "dict" => {
            let d = Value::Dict(Default::default());
            for (k, v) in kwargs {
                super::super::ops::store_index(&d, &Value::Str(k.clone()), v.clone())?;
            }
            d
        }
        "bytes" | "bytearray" => {
            let data = match args {
                [] => Vec::new(),
                [Value::Int(n)] => vec![0; (*n).max(0) as usize],
                [Value::Str(s), ..] => s.as_bytes().to_vec(),
                [v, ..] => match v.as_bytes() {
                    Some(b) => b,
                    None => collect(v)?
                        .iter()
                        .map(|x| as_int(x).filter(|b| (0..256).contains(b)).map(|b| b as u8))
                        .collect::<Option<_>>()
                        .ok_or_else(|| Exception::msg("ValueError", "bytes value out of range"))?,
                },
            };
            if name == "bytes" {
                Value::Bytes(data.into())
            } else {
                Value::ByteArray(Rc::new(RefCell::new(data)))
            }
        }
        "memoryview" => match first()? {
            Value::ByteArray(b) => {
                let n = b.borrow().len();
                Value::MemoryView(b.clone(), 0, n)
            }
            v @ Value::MemoryView(..) => v.clone(),
            v => {
                let data = v.as_bytes().ok_or_else(|| {
                    Exception::msg("TypeError", "object with buffer protocol required")
                })?;
                let n = data.len();
                Value::MemoryView(Rc::new(RefCell::new(data)), 0, n)
            }
        },
        "open" => {
            let path = str_arg(args, 0)?;
            let mode = match args.get(1).or(kwarg(kwargs, "mode")) {
                Some(Value::Str(m)) => m.to_string(),
                _ => "r".into(),
            };
            Value::File(Rc::new(RefCell::new(
                OpenFile::open(ctx.fs, &path, &mode).map_err(Exception::os)?,
            )))
        }
        "hex" => {
            let i = int_arg(args, 0)?;
            Value::str(&if i < 0 {
                format!("-0x{:x}", -i)
            } else {
                format!("0x{i:x}")
            })
        }
        "ord" => match first()? {
            Value::Str(s) if s.chars().count() == 1 => Value::Int(s.chars().next().unwrap() as i64),
            v => match v.as_bytes() {
                Some(b) if b.len() == 1 => Value::Int(b[0] as i64),
                _ => return Err(Exception::msg("TypeError", "ord expects a character")),
            },
        },
        "chr" => Value::str(
            &char::from_u32(int_arg(args, 0)? as u32)
                .ok_or_else(|| Exception::msg("ValueError", "chr() arg not in range(0x110000)"))?
                .to_string(),
        ),
        "abs" => match first()? {
            Value::Float(f) => Value::Float(f.abs()),
            v => Value::Int(
                as_int(v)
                    .ok_or_else(|| Exception::msg("TypeError", "bad operand type for abs()"))?
                    .abs(),
            ),
        },
        "min" | "max" => {
            let items = if args.len() == 1 {
                collect(&args[0])?
            } else {
                args.to_vec()
            };
            let want = if name == "min" {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            };
            let mut best = items
                .first()
                .cloned()
                .ok_or_else(|| Exception::msg("ValueError", "arg is an empty sequence"))?;
            for v in items.into_iter().skip(1) {
                if super::super::ops::order(&v, &best) == Some(want) {
                    best = v;
                }
            }
            best
        }
        "sum" => {
            let mut total = args.get(1).cloned().unwrap_or(Value::Int(0));
            for v in collect(first()?)? {
                total = super::super::ops::binary(super::super::ast::BinOp::Add, &total, &v)?;
            }
            total
        }
        "sorted" => {
            let mut items = collect(first()?)?;
            items.sort_by(|a, b| {
                super::super::ops::order(a, b).unwrap_or(std::cmp::Ordering::Equal)
            });
            if kwarg(kwargs, "reverse").is_some_and(Value::truthy) {
                items.reverse();
            }
            Value::list(items)
        }
        "enumerate" => Value::Iter(Rc::new(RefCell::new(Iter::Items(
            collect(first()?)?
                .into_iter()
                .enumerate()
                .map(|(i, v)| Value::tuple(vec![Value::Int(i as i64), v]))
                .collect::<Vec<_>>()
                .into_iter(),
        )))),
        "zip" => {
            let lists: Vec<Vec<Value>> = args.iter().map(collect).collect::<R<_>>()?;
            let n = lists.iter().map(Vec::len).min().unwrap_or(0);
            Value::Iter(Rc::new(RefCell::new(Iter::Items(
                (0..n)
                    .map(|i| Value::tuple(lists.iter().map(|l| l[i].clone()).collect()))
                    .collect::<Vec<_>>()
                    .into_iter(),
            ))))
        }
        "any" => Value::Bool(collect(first()?)?.iter().any(Value::truthy)),
        "all" => Value::Bool(collect(first()?)?.iter().all(Value::truthy)),
        "round" => match first()? {
            Value::Float(f) => Value::Int(f.round_ties_even() as i64),
            v => v.clone(),
        },
        "divmod" => Value::tuple(vec![
            super::super::ops::binary(super::super::ast::BinOp::FloorDiv, first()?, arg(args, 1)?)?,
            super::super::ops::binary(super::super::ast::BinOp::Mod, first()?, arg(args, 1)?)?,
        ]),
        "isinstance" => {
            let kinds = match arg(args, 1)? {
                Value::Tuple(t) => t.to_vec(),
                k => vec![k.clone()],
            };
            let ty = first()?.type_name();
            Value::Bool(kinds.iter().any(|k| {
                matches!(k, Value::Native(n) if *n == ty)
                    || matches!(k, Value::ExcType(b) if super::super::value::exc_matches(ty, b))
            }))
        }
        "hasattr" => Value::Bool(get_attr(first()?, &str_arg(args, 1)?).is_ok()),
        "iter" => iter(first()?)?,
        "next" => next(first()?)?.ok_or_else(|| Exception::new("StopIteration", vec![]))?,
        "id" | "hash" => Value::Int(
            first()?
                .repr()
                .bytes()
                .fold(0i64, |h, b| h.wrapping_mul(31).wrapping_add(b as i64))
                & 0x3FFF_FFFF,
        ),
        "help" => {
            ctx.print(b"Welcome to MicroPython on the ESP32!\n\nThis is a simulated board: the REPL, the filesystem and a small\nPython subset are modelled, the hardware is not.\n");
            Value::None
        }
        _ => {
            return Err(Exception::msg(
                "NotImplementedError",
                format!("{name}() isn't simulated"),
            ))
        }
    })
}
