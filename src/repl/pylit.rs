//! Python literals as MicroPython prints them with `repr`: what the board sends back for file
//! listings and file contents, and how bytes are written into code we send.

/// A parsed literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lit {
    Int(i64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Lit>),
    Bool(bool),
    None,
}

/// Parses one literal (tuples and lists both become [`Lit::Tuple`]).
pub fn parse(text: &str) -> Result<Lit, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let lit = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected text after a value at {}", p.i));
    }
    Ok(lit)
}

/// Parses a sequence like `a,b,c,` (MicroPython printing `repr(x), end=','` in a loop).
pub fn parse_seq(text: &str) -> Result<Vec<Lit>, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        p.ws();
        if p.i >= p.s.len() {
            return Ok(out);
        }
        out.push(p.value()?);
        p.ws();
        if p.peek() == Some(b',') {
            p.i += 1;
        }
    }
}

/// `bytes` as a Python bytes literal (`b'..'`), safe to paste into code.
pub fn bytes_repr(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 2 + 3);
    out.push_str("b'");
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            0x20..=0x7E => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('\'');
    out
}

/// `text` as a Python string literal.
pub fn str_repr(text: &str) -> String {
    let mut out = String::from("'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn value(&mut self) -> Result<Lit, String> {
        self.ws();
        match self.peek().ok_or("unexpected end")? {
            b'(' | b'[' => self.tuple(),
            b'\'' | b'"' => Ok(Lit::Str(
                String::from_utf8_lossy(&self.quoted(true)?).into_owned(),
            )),
            b'b' if matches!(self.s.get(self.i + 1), Some(b'\'' | b'"')) => {
                self.i += 1;
                Ok(Lit::Bytes(self.quoted(false)?))
            }
            b'-' | b'0'..=b'9' => self.int(),
            _ => self.word(),
        }
    }
    fn word(&mut self) -> Result<Lit, String> {
        let rest = &self.s[self.i..];
        for (w, lit) in [
            (&b"True"[..], Lit::Bool(true)),
            (b"False", Lit::Bool(false)),
            (b"None", Lit::None),
        ] {
            if rest.starts_with(w) {
                self.i += w.len();
                return Ok(lit);
            }
        }
        Err(format!("unexpected character at {}", self.i))
    }
    fn int(&mut self) -> Result<Lit, String> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap();
        text.parse()
            .map(Lit::Int)
            .map_err(|e| format!("bad number {text}: {e}"))
    }
    fn tuple(&mut self) -> Result<Lit, String> {
        let close = if self.peek() == Some(b'(') {
            b')'
        } else {
            b']'
        };
        self.i += 1;
        let mut items = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok(Lit::Tuple(items));
            }
            items.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {}
                _ => return Err(format!("expected , or closing bracket at {}", self.i)),
            }
        }
    }
    /// A quoted body with Python escapes, as raw bytes. In a `text` (str) literal `\xNN`,
    /// `\uNNNN` and `\UNNNNNNNN` are code points, written out as UTF-8 (MicroPython's `repr`
    /// writes `'\xf1'` for "ñ"); in bytes, `\xNN` is a byte. An unknown escape keeps its
    /// backslash, as in Python.
    fn quoted(&mut self, text: bool) -> Result<Vec<u8>, String> {
        let quote = self.peek().unwrap();
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = self.peek().ok_or("unterminated string")?;
            self.i += 1;
            if c == quote {
                return Ok(out);
            }
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let e = self.peek().ok_or("unterminated escape")?;
            self.i += 1;
            match e {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'0' => out.push(0),
                b'a' => out.push(7),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'v' => out.push(11),
                b'\\' | b'\'' | b'"' => out.push(e),
                b'x' if !text => out.push(self.hex(2)? as u8),
                b'x' | b'u' | b'U' if text => {
                    let digits = match e {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let c = char::from_u32(self.hex(digits)?).ok_or("escape out of range")?;
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                other => out.extend([b'\\', other]),
            }
        }
    }

    /// `n` hex digits.
    fn hex(&mut self, n: usize) -> Result<u32, String> {
        let digits = self.s.get(self.i..self.i + n).ok_or("short escape")?;
        let text = std::str::from_utf8(digits).map_err(|_| "bad escape")?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("bad escape".into());
        }
        self.i += n;
        u32::from_str_radix(text, 16).map_err(|_| "bad escape".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_every_value() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(parse(&bytes_repr(&all)), Ok(Lit::Bytes(all)));
        assert_eq!(parse("b\"it's\""), Ok(Lit::Bytes(b"it's".to_vec())));
    }

    #[test]
    fn listing_tuples_parse() {
        let seq = parse_seq("('main.py', 32768, 0, 120),('lib', 16384, 0, 0),").unwrap();
        assert_eq!(
            seq[0],
            Lit::Tuple(vec![
                Lit::Str("main.py".into()),
                Lit::Int(32768),
                Lit::Int(0),
                Lit::Int(120)
            ])
        );
        assert_eq!(seq.len(), 2);
        assert_eq!(
            parse("[1, -2, True, None]"),
            Ok(Lit::Tuple(vec![
                Lit::Int(1),
                Lit::Int(-2),
                Lit::Bool(true),
                Lit::None
            ]))
        );
    }

    #[test]
    fn strings_escape_for_code() {
        assert_eq!(str_repr("a'b\\c\n"), "'a\\'b\\\\c\\n'");
        assert_eq!(
            parse(&str_repr("dir/it's.py")),
            Ok(Lit::Str("dir/it's.py".into()))
        );
        assert!(parse("(1, 2").is_err());
    }

    /// MicroPython's `repr` escapes non-ASCII in a str as code points (`'\xf1'` is "ñ",
    /// `'\u20ac'` is "€"); in bytes, `\xf1` is one byte.
    #[test]
    fn str_escapes_are_code_points_and_bytes_escapes_are_bytes() {
        assert_eq!(parse(r"'\xf1and\xfa'"), Ok(Lit::Str("ñandú".into())));
        assert_eq!(parse(r"'\u20ac \U0001f600'"), Ok(Lit::Str("€ 😀".into())));
        assert_eq!(parse(r"b'\xf1\x00'"), Ok(Lit::Bytes(vec![0xF1, 0])));
        assert_eq!(parse(r"'a\qb'"), Ok(Lit::Str("a\\qb".into())));
        assert!(parse(r"'\xz1'").is_err());
        assert!(parse(r"'\ud800'").is_err());
    }
}
