//! Built-in functions, attribute lookup, and the methods of the built-in types (str, bytes,
//! list, dict, files, hashes). Module functions live in [`modules`](super::modules).

use std::cell::RefCell;
use std::rc::Rc;

use super::modules;
use super::value::{as_float, as_int, Exception, Iter, Value};
use super::vm::Ctx;

mod functions;
mod methods;

type R<T> = Result<T, Rc<Exception>>;

const BUILTINS: &[&str] = &[
    "print",
    "repr",
    "str",
    "int",
    "float",
    "bool",
    "len",
    "range",
    "list",
    "tuple",
    "dict",
    "bytes",
    "bytearray",
    "memoryview",
    "open",
    "hex",
    "ord",
    "chr",
    "abs",
    "min",
    "max",
    "sum",
    "sorted",
    "enumerate",
    "isinstance",
    "hasattr",
    "help",
    "globals",
    "iter",
    "next",
    "zip",
    "any",
    "all",
    "round",
    "divmod",
    "id",
    "hash",
];

const EXCEPTIONS: &[&str] = &[
    "BaseException",
    "Exception",
    "KeyboardInterrupt",
    "SystemExit",
    "OSError",
    "ValueError",
    "TypeError",
    "NameError",
    "KeyError",
    "IndexError",
    "LookupError",
    "ZeroDivisionError",
    "ArithmeticError",
    "OverflowError",
    "AttributeError",
    "ImportError",
    "RuntimeError",
    "StopIteration",
    "NotImplementedError",
    "MemoryError",
    "SyntaxError",
    "AssertionError",
    "EOFError",
];

pub fn lookup(name: &str) -> Option<Value> {
    if let Some(n) = BUILTINS.iter().find(|n| **n == name) {
        return Some(Value::Native(n));
    }
    EXCEPTIONS
        .iter()
        .find(|n| **n == name)
        .map(|n| Value::ExcType(n))
}

pub fn import(ctx: &Ctx, name: &str) -> R<(&'static str, Value)> {
    let key = modules::canonical(name)
        .ok_or_else(|| Exception::msg("ImportError", format!("no module named '{name}'")))?;
    Ok((key, Value::Module(Rc::new(modules::build(key, ctx.board)))))
}

fn arg(args: &[Value], i: usize) -> R<&Value> {
    args.get(i)
        .ok_or_else(|| Exception::msg("TypeError", "function missing required positional argument"))
}

pub fn int_arg(args: &[Value], i: usize) -> R<i64> {
    as_int(arg(args, i)?).ok_or_else(|| Exception::msg("TypeError", "can't convert to int"))
}

pub fn str_arg(args: &[Value], i: usize) -> R<String> {
    match arg(args, i)? {
        Value::Str(s) => Ok(s.to_string()),
        v => Err(Exception::msg(
            "TypeError",
            format!("can't convert '{}' object to str implicitly", v.type_name()),
        )),
    }
}

pub fn bytes_arg(args: &[Value], i: usize) -> R<Vec<u8>> {
    arg(args, i)?
        .as_bytes()
        .ok_or_else(|| Exception::msg("TypeError", "object with buffer protocol required"))
}

fn kwarg<'a>(kwargs: &'a [(Rc<str>, Value)], name: &str) -> Option<&'a Value> {
    kwargs.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
}

/// Every item of an iterable.
pub fn collect(v: &Value) -> R<Vec<Value>> {
    Ok(match v {
        Value::List(l) => l.borrow().clone(),
        Value::Tuple(t) | Value::AttrTuple(_, t) => t.to_vec(),
        Value::Str(s) => s.chars().map(|c| Value::str(&c.to_string())).collect(),
        Value::Dict(d) => d.borrow().iter().map(|(k, _)| k.clone()).collect(),
        Value::Range(a, b, s) => (0..super::value::range_len(*a, *b, *s))
            .map(|i| Value::Int(a + i * s))
            .collect(),
        Value::Iter(_) => {
            let mut out = Vec::new();
            while let Some(x) = next(v)? {
                out.push(x);
            }
            out
        }
        _ => match v.as_bytes() {
            Some(b) => b.into_iter().map(|x| Value::Int(x as i64)).collect(),
            None => {
                return Err(Exception::msg(
                    "TypeError",
                    format!("'{}' object isn't iterable", v.type_name()),
                ))
            }
        },
    })
}

pub fn iter(v: &Value) -> R<Value> {
    let state = match v {
        Value::Iter(_) => return Ok(v.clone()),
        Value::Range(a, b, s) => Iter::Range(*a, *b, *s),
        Value::List(_)
        | Value::Tuple(_)
        | Value::Str(_)
        | Value::Bytes(_)
        | Value::ByteArray(_) => Iter::Seq(v.clone(), 0),
        _ => Iter::Items(collect(v)?.into_iter()),
    };
    Ok(Value::Iter(Rc::new(RefCell::new(state))))
}

pub fn next(it: &Value) -> R<Option<Value>> {
    let Value::Iter(state) = it else {
        return Err(Exception::msg(
            "TypeError",
            format!("'{}' object isn't an iterator", it.type_name()),
        ));
    };
    let mut state = state.borrow_mut();
    Ok(match &mut *state {
        Iter::Range(cur, stop, step) => {
            if (*step > 0 && cur < stop) || (*step < 0 && cur > stop) {
                let v = *cur;
                *cur += *step;
                Some(Value::Int(v))
            } else {
                None
            }
        }
        Iter::Seq(seq, i) => {
            let item = match seq {
                Value::List(l) => l.borrow().get(*i).cloned(),
                Value::Tuple(t) => t.get(*i).cloned(),
                Value::Str(s) => s.chars().nth(*i).map(|c| Value::str(&c.to_string())),
                other => other
                    .as_bytes()
                    .and_then(|b| b.get(*i).map(|x| Value::Int(*x as i64))),
            };
            *i += 1;
            item
        }
        Iter::Items(items) => items.next(),
    })
}

pub fn close(ctx: &mut Ctx, v: &Value) -> R<()> {
    if let Value::File(f) = v {
        let mut f = f.borrow_mut();
        f.flush(ctx.fs).map_err(Exception::os)?;
        f.closed = true;
    }
    Ok(())
}

const STR_METHODS: &[&str] = &[
    "encode",
    "startswith",
    "endswith",
    "split",
    "strip",
    "rstrip",
    "lstrip",
    "join",
    "upper",
    "lower",
    "replace",
    "format",
    "find",
    "count",
    "isdigit",
    "splitlines",
];
const BYTES_METHODS: &[&str] = &[
    "decode",
    "hex",
    "startswith",
    "endswith",
    "find",
    "append",
    "extend",
];
const LIST_METHODS: &[&str] = &[
    "append", "pop", "extend", "insert", "remove", "index", "reverse", "clear", "count", "sort",
];
const DICT_METHODS: &[&str] = &["get", "keys", "values", "items", "pop", "update", "clear"];
const FILE_METHODS: &[&str] = &[
    "read",
    "write",
    "readinto",
    "readline",
    "readlines",
    "close",
    "flush",
    "seek",
    "tell",
];
const HASH_METHODS: &[&str] = &["update", "digest", "hexdigest"];

pub fn get_attr(obj: &Value, name: &str) -> R<Value> {
    let methods: &[&str] = match obj {
        Value::Module(m) => {
            return m
                .attrs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    Exception::msg(
                        "AttributeError",
                        format!("'module' object has no attribute '{name}'"),
                    )
                })
        }
        Value::AttrTuple(names, values) => {
            if let Some(i) = names.iter().position(|n| *n == name) {
                return Ok(values[i].clone());
            }
            &[]
        }
        Value::Exc(e) => {
            match name {
                "args" => return Ok(Value::tuple(e.args.clone())),
                "errno" | "value" => return Ok(e.args.first().cloned().unwrap_or(Value::None)),
                _ => {}
            }
            &[]
        }
        Value::Str(_) => STR_METHODS,
        Value::Bytes(_) | Value::ByteArray(_) | Value::MemoryView(..) => BYTES_METHODS,
        Value::List(_) => LIST_METHODS,
        Value::Dict(_) => DICT_METHODS,
        Value::File(_) => FILE_METHODS,
        Value::Hash(_) => HASH_METHODS,
        _ => &[],
    };
    if methods.contains(&name) {
        return Ok(Value::Method(Box::new(obj.clone()), name.into()));
    }
    Err(Exception::msg(
        "AttributeError",
        format!("'{}' object has no attribute '{name}'", obj.type_name()),
    ))
}

/// Calls anything callable but a Python function (the VM runs those itself).
pub fn call(
    ctx: &mut Ctx,
    func: Value,
    args: Vec<Value>,
    kwargs: Vec<(Rc<str>, Value)>,
) -> R<Value> {
    match func {
        Value::Native(name) if name.contains('.') => modules::call(ctx, name, &args),
        Value::Native(name) => functions::builtin(ctx, name, &args, &kwargs),
        Value::Method(recv, name) => methods::method(ctx, &recv, &name, &args),
        Value::ExcType(kind) => Ok(Value::Exc(Exception::new(kind, args))),
        other => Err(Exception::msg(
            "TypeError",
            format!("'{}' object isn't callable", other.type_name()),
        )),
    }
}

/// `"fmt" % args` with `%s %r %d %i %x %%`.
pub fn percent_format(fmt: &str, args: &Value) -> R<String> {
    let items = match args {
        Value::Tuple(t) => t.to_vec(),
        v => vec![v.clone()],
    };
    let mut items = items.into_iter();
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = chars
            .next()
            .ok_or_else(|| Exception::msg("ValueError", "incomplete format"))?;
        if spec == '%' {
            out.push('%');
            continue;
        }
        let v = items
            .next()
            .ok_or_else(|| Exception::msg("TypeError", "format string needs more arguments"))?;
        out.push_str(&match spec {
            's' => v.to_str(),
            'r' => v.repr(),
            'd' | 'i' => as_int(&v)
                .or(as_float(&v).map(|f| f as i64))
                .ok_or_else(|| Exception::msg("TypeError", "%d format: a number is required"))?
                .to_string(),
            'x' => format!("{:x}", as_int(&v).unwrap_or(0)),
            _ => return Err(Exception::msg("ValueError", "unsupported format character")),
        });
    }
    Ok(out)
}
