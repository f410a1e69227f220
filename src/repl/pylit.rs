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
                String::from_utf8_lossy(&self.quoted()?).into_owned(),
            )),
            b'b' if matches!(self.s.get(self.i + 1), Some(b'\'' | b'"')) => {
                self.i += 1;
                Ok(Lit::Bytes(self.quoted()?))
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
    /// A quoted string body with Python escapes, as raw bytes.
    fn quoted(&mut self) -> Result<Vec<u8>, String> {
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
                b'x' => {
                    let hex = self.s.get(self.i..self.i + 2).ok_or("short \\x escape")?;
                    let v = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16)
                        .map_err(|_| "bad \\x escape")?;
                    out.push(v);
                    self.i += 2;
                }
                other => out.push(other),
            }
        }
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
}
