//! Run-time values of the interpreter, their `repr`/`str` (byte-exact with MicroPython where
//! hosts parse them, e.g. mpremote's `ast.literal_eval` of bytes chunks), truth and equality.

use std::cell::RefCell;
use std::fmt::Write;
use std::rc::Rc;

use super::compile::Code;
use super::fs::OpenFile;

pub type Shared<T> = Rc<RefCell<T>>;

#[derive(Clone)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    ByteArray(Shared<Vec<u8>>),
    /// A window `[start, end)` onto a bytearray.
    MemoryView(Shared<Vec<u8>>, usize, usize),
    List(Shared<Vec<Value>>),
    Tuple(Rc<[Value]>),
    Dict(Shared<Vec<(Value, Value)>>),
    /// MicroPython's attrtuple (`sys.implementation`, `os.uname()`): a tuple with field names.
    AttrTuple(Rc<[&'static str]>, Rc<[Value]>),
    Function(Rc<Function>),
    /// A built-in function, by qualified name (`print`, `os.listdir`).
    Native(&'static str),
    /// `receiver.method`, resolved when called.
    Method(Box<Value>, Rc<str>),
    Module(Rc<Module>),
    File(Shared<OpenFile>),
    Hash(Shared<sha2::Sha256>),
    Iter(Shared<Iter>),
    Range(i64, i64, i64),
    /// `a[start:stop:step]`'s index.
    Slice(Option<i64>, Option<i64>, Option<i64>),
    ExcType(&'static str),
    Exc(Rc<Exception>),
}

pub struct Function {
    pub name: Rc<str>,
    pub code: Rc<Code>,
    pub defaults: Vec<Value>,
}

pub struct Module {
    pub name: &'static str,
    pub attrs: Vec<(&'static str, Value)>,
}

pub enum Iter {
    Seq(Value, usize),
    Range(i64, i64, i64),
    Items(std::vec::IntoIter<Value>),
}

/// One traceback line: file, line number, function.
pub type TraceEntry = (Rc<str>, u32, Rc<str>);

/// A raised exception: its type, arguments, and where it passed (innermost first).
pub struct Exception {
    pub kind: &'static str,
    pub args: Vec<Value>,
    pub trace: RefCell<Vec<TraceEntry>>,
}

impl std::fmt::Debug for Exception {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Exception {
    pub fn new(kind: &'static str, args: Vec<Value>) -> Rc<Exception> {
        Rc::new(Exception {
            kind,
            args,
            trace: RefCell::new(Vec::new()),
        })
    }
    pub fn msg(kind: &'static str, msg: impl Into<String>) -> Rc<Exception> {
        Exception::new(kind, vec![Value::str(&msg.into())])
    }
    /// OSError with an errno, printed `[Errno 2] ENOENT` as MicroPython does.
    pub fn os(errno: i64) -> Rc<Exception> {
        Exception::new("OSError", vec![Value::Int(errno)])
    }
    pub fn errno(&self) -> Option<i64> {
        match (self.kind, self.args.first()) {
            ("OSError", Some(Value::Int(n))) => Some(*n),
            _ => None,
        }
    }
    /// The last line of a traceback: `NameError: name 'x' isn't defined`.
    pub fn describe(&self) -> String {
        match (self.args.as_slice(), self.errno()) {
            (_, Some(n)) if self.args.len() == 1 => match errno_name(n) {
                Some(name) => format!("{}: [Errno {n}] {name}", self.kind),
                None => format!("{}: {n}", self.kind),
            },
            ([], _) => format!("{}: ", self.kind),
            ([one], _) => format!("{}: {}", self.kind, one.to_str()),
            (many, _) => format!(
                "{}: {}",
                self.kind,
                Value::Tuple(many.to_vec().into()).repr()
            ),
        }
    }
    /// `Traceback (most recent call last): ...` with `\n` line ends (cooked on output).
    pub fn traceback(&self) -> String {
        let mut s = String::from("Traceback (most recent call last):\n");
        for (file, line, func) in self.trace.borrow().iter().rev() {
            let _ = writeln!(s, "  File \"{file}\", line {line}, in {func}");
        }
        s.push_str(&self.describe());
        s.push('\n');
        s
    }
}

pub fn errno_name(n: i64) -> Option<&'static str> {
    Some(match n {
        1 => "EPERM",
        2 => "ENOENT",
        5 => "EIO",
        9 => "EBADF",
        12 => "ENOMEM",
        13 => "EACCES",
        17 => "EEXIST",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        28 => "ENOSPC",
        30 => "EROFS",
        39 => "ENOTEMPTY",
        _ => return None,
    })
}

/// Exception classes a handler of `base` catches, besides `base` itself.
pub fn exc_matches(kind: &str, base: &str) -> bool {
    kind == base
        || base == "BaseException"
        || (base == "Exception" && !matches!(kind, "KeyboardInterrupt" | "SystemExit"))
        || (base == "LookupError" && matches!(kind, "KeyError" | "IndexError"))
        || (base == "ArithmeticError" && matches!(kind, "ZeroDivisionError" | "OverflowError"))
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(s.into())
    }
    pub fn bytes(b: &[u8]) -> Value {
        Value::Bytes(b.into())
    }
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)))
    }
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(items.into())
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::ByteArray(_) => "bytearray",
            Value::MemoryView(..) => "memoryview",
            Value::List(_) => "list",
            Value::Tuple(_) | Value::AttrTuple(..) => "tuple",
            Value::Dict(_) => "dict",
            Value::Function(_) => "function",
            Value::Native(_) | Value::Method(..) => "function",
            Value::Module(_) => "module",
            Value::File(_) => "FileIO",
            Value::Hash(_) => "sha256",
            Value::Iter(_) => "iterator",
            Value::Range(..) => "range",
            Value::Slice(..) => "slice",
            Value::ExcType(_) => "type",
            Value::Exc(e) => e.kind,
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::ByteArray(b) => !b.borrow().is_empty(),
            Value::MemoryView(_, s, e) => e > s,
            Value::List(l) => !l.borrow().is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::Dict(d) => !d.borrow().is_empty(),
            Value::Range(a, b, s) => range_len(*a, *b, *s) > 0,
            _ => true,
        }
    }

    /// The bytes of a bytes-like value (bytes, bytearray, memoryview).
    pub fn as_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Value::Bytes(b) => Some(b.to_vec()),
            Value::ByteArray(b) => Some(b.borrow().clone()),
            Value::MemoryView(b, s, e) => Some(b.borrow()[*s..*e].to_vec()),
            _ => None,
        }
    }

    pub fn to_str(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            Value::Exc(e) => match e.args.as_slice() {
                [] => String::new(),
                [one] => one.to_str(),
                many => Value::Tuple(many.to_vec().into()).repr(),
            },
            _ => self.repr(),
        }
    }

    pub fn repr(&self) -> String {
        match self {
            Value::None => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => float_repr(*f),
            Value::Str(s) => str_repr(s),
            Value::Bytes(b) => bytes_repr(b),
            Value::ByteArray(b) => format!("bytearray({})", bytes_repr(&b.borrow())),
            Value::MemoryView(..) => "<memoryview>".into(),
            Value::List(l) => format!("[{}]", join_repr(&l.borrow())),
            Value::Tuple(t) if t.len() == 1 => format!("({},)", t[0].repr()),
            Value::Tuple(t) => format!("({})", join_repr(t)),
            Value::AttrTuple(names, values) => {
                let fields: Vec<String> = names
                    .iter()
                    .zip(values.iter())
                    .map(|(n, v)| format!("{n}={}", v.repr()))
                    .collect();
                format!("({})", fields.join(", "))
            }
            Value::Dict(d) => {
                let items: Vec<String> = d
                    .borrow()
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.repr(), v.repr()))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            Value::Function(f) => format!("<function {}>", f.name),
            Value::Native(n) => format!("<function {}>", n.rsplit('.').next().unwrap_or(n)),
            Value::Method(_, n) => format!("<bound_method {n}>"),
            Value::Module(m) => format!("<module '{}'>", m.name),
            Value::File(_) => "<io.FileIO 20>".into(),
            Value::Hash(_) => "<sha256>".into(),
            Value::Iter(_) => "<iterator>".into(),
            Value::Range(a, b, 1) => format!("range({a}, {b})"),
            Value::Range(a, b, s) => format!("range({a}, {b}, {s})"),
            Value::Slice(..) => "slice".into(),
            Value::ExcType(k) => format!("<class '{k}'>"),
            Value::Exc(e) => format!("{}({})", e.kind, join_repr(&e.args)),
        }
    }
}

fn join_repr(items: &[Value]) -> String {
    items.iter().map(Value::repr).collect::<Vec<_>>().join(", ")
}

pub fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    if step > 0 && stop > start {
        (stop - start + step - 1) / step
    } else if step < 0 && stop < start {
        (start - stop - step - 1) / -step
    } else {
        0
    }
}

fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    // ESP32 builds use single-precision floats: about 7 significant digits.
    let s = format!("{}", f as f32);
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

/// Python's quote choice: single quotes unless the text has `'` and no `"`.
fn quote_for(has_single: bool, has_double: bool) -> char {
    if has_single && !has_double {
        '"'
    } else {
        '\''
    }
}

pub fn str_repr(s: &str) -> String {
    let q = quote_for(s.contains('\''), s.contains('"'));
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7F => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

pub fn bytes_repr(b: &[u8]) -> String {
    let q = quote_for(b.contains(&b'\''), b.contains(&b'"'));
    let mut out = String::with_capacity(b.len() + 3);
    out.push('b');
    out.push(q);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c as char == q => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7E => out.push(c as char),
            c => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push(q);
    out
}

/// `==` as Python defines it for the types we have.
pub fn equal(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (None, None) => true,
        (Bool(x), Bool(y)) => x == y,
        (Int(_) | Bool(_), Int(_) | Bool(_)) => as_int(a) == as_int(b),
        (Int(_) | Float(_) | Bool(_), Int(_) | Float(_) | Bool(_)) => as_float(a) == as_float(b),
        (Str(x), Str(y)) => x == y,
        (Bytes(_) | ByteArray(_) | MemoryView(..), Bytes(_) | ByteArray(_) | MemoryView(..)) => {
            a.as_bytes() == b.as_bytes()
        }
        (List(x), List(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equal(p, q))
        }
        (Tuple(x) | AttrTuple(_, x), Tuple(y) | AttrTuple(_, y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equal(p, q))
        }
        (Dict(x), Dict(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| equal(k, k2) && equal(v, v2)))
        }
        (ExcType(x), ExcType(y)) => x == y,
        (Native(x), Native(y)) => x == y,
        _ => identical(a, b),
    }
}

/// `is`: the same object (values without identity compare equal by value).
pub fn identical(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (None, None) => true,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (List(x), List(y)) => Rc::ptr_eq(x, y),
        (Dict(x), Dict(y)) => Rc::ptr_eq(x, y),
        (ByteArray(x), ByteArray(y)) => Rc::ptr_eq(x, y),
        (File(x), File(y)) => Rc::ptr_eq(x, y),
        (Function(x), Function(y)) => Rc::ptr_eq(x, y),
        (Module(x), Module(y)) => Rc::ptr_eq(x, y),
        (Exc(x), Exc(y)) => Rc::ptr_eq(x, y),
        (ExcType(x), ExcType(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        _ => false,
    }
}

pub fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

pub fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        _ => as_int(v).map(|i| i as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reprs_match_python() {
        assert_eq!(bytes_repr(b"a'b"), r#"b"a'b""#);
        assert_eq!(bytes_repr(b"a'\"\x00\xff\\\n"), r#"b'a\'"\x00\xff\\\n'"#);
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("a\tb"), "'a\\tb'");
        assert_eq!(
            Value::tuple(vec![
                Value::str("x"),
                Value::Int(32768),
                Value::Int(0),
                Value::Int(5)
            ])
            .repr(),
            "('x', 32768, 0, 5)"
        );
        assert_eq!(Value::tuple(vec![Value::Int(1)]).repr(), "(1,)");
        assert_eq!(Value::Float(2.5).repr(), "2.5");
        assert_eq!(Value::Float(3.0).repr(), "3.0");
        assert_eq!(Exception::os(2).describe(), "OSError: [Errno 2] ENOENT");
        assert_eq!(
            Exception::new("KeyboardInterrupt", vec![]).describe(),
            "KeyboardInterrupt: "
        );
    }

    #[test]
    fn equality_across_numeric_and_bytes_types() {
        assert!(equal(&Value::Int(1), &Value::Float(1.0)));
        assert!(equal(&Value::Bool(true), &Value::Int(1)));
        let ba = Value::ByteArray(Rc::new(RefCell::new(b"ab".to_vec())));
        assert!(equal(&ba, &Value::bytes(b"ab")));
        assert!(!equal(&Value::str("1"), &Value::Int(1)));
    }
}
