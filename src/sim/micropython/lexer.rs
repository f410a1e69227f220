//! Python source to tokens, with the INDENT/DEDENT bookkeeping the grammar needs.
//! Brackets suspend line ends, as in Python, so mpremote's multi-line calls parse.

use std::rc::Rc;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Name(Rc<str>),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Op(&'static str),
    Newline,
    Indent,
    Dedent,
    Eof,
}

/// A token and the source line it starts on (for tracebacks).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
}

/// Longest first, so `**=` wins over `**` and `*`.
const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=",
    "&=", "|=", "^=", "->", "<<", ">>", "+", "-", "*", "/", "%", "<", ">", "=", "(", ")", "[", "]",
    "{", "}", ",", ":", ".", ";", "&", "|", "^", "~", "@",
];

/// Why the source did not tokenize (reported as a SyntaxError).
#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    pub line: u32,
    pub msg: &'static str,
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, LexError> {
    let src: Vec<char> = src
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .collect();
    let mut toks = Vec::new();
    let mut indents = vec![0usize];
    let mut depth = 0usize; // open brackets
    let mut line = 1u32;
    let mut i = 0;
    let mut at_line_start = true;
    let err = |line, msg| Err(LexError { line, msg });
    while i < src.len() {
        if at_line_start && depth == 0 {
            // Measure indentation; blank and comment-only lines do not count.
            let mut col = 0;
            while i < src.len() && (src[i] == ' ' || src[i] == '\t') {
                col = if src[i] == '\t' {
                    (col / 8 + 1) * 8
                } else {
                    col + 1
                };
                i += 1;
            }
            if i >= src.len() || src[i] == '\n' || src[i] == '#' {
                while i < src.len() && src[i] != '\n' {
                    i += 1;
                }
                i += 1;
                line += 1;
                continue;
            }
            at_line_start = false;
            if col > *indents.last().unwrap() {
                indents.push(col);
                toks.push(Token {
                    tok: Tok::Indent,
                    line,
                });
            }
            while col < *indents.last().unwrap() {
                indents.pop();
                toks.push(Token {
                    tok: Tok::Dedent,
                    line,
                });
            }
            if col != *indents.last().unwrap() {
                return err(line, "unindent doesn't match any outer indent level");
            }
        }
        let c = src[i];
        if c == '\n' {
            if depth == 0 {
                toks.push(Token {
                    tok: Tok::Newline,
                    line,
                });
                at_line_start = true;
            }
            line += 1;
            i += 1;
        } else if c == ' ' || c == '\t' {
            i += 1;
        } else if c == '#' {
            while i < src.len() && src[i] != '\n' {
                i += 1;
            }
        } else if c == '\\' && src.get(i + 1) == Some(&'\n') {
            i += 2;
            line += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && src.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let (tok, n) = number(&src[i..]).ok_or(LexError {
                line,
                msg: "invalid syntax for number",
            })?;
            toks.push(Token { tok, line });
            i += n;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < src.len() && (src[i].is_alphanumeric() || src[i] == '_') {
                i += 1;
            }
            let word: String = src[start..i].iter().collect();
            let prefix = word.to_ascii_lowercase();
            let is_prefix = matches!(prefix.as_str(), "b" | "r" | "br" | "rb");
            if is_prefix && i < src.len() && (src[i] == '\'' || src[i] == '"') {
                let start_line = line;
                let (text, n, lines) =
                    string_body(&src[i..], prefix.contains('r'), prefix.contains('b'))
                        .map_err(|msg| LexError { line, msg })?;
                i += n;
                line += lines;
                let tok = if prefix.contains('b') {
                    Tok::Bytes(text.into_iter().map(|c| c as u8).collect())
                } else {
                    Tok::Str(text.into_iter().collect())
                };
                toks.push(Token {
                    tok,
                    line: start_line,
                });
            } else {
                toks.push(Token {
                    tok: Tok::Name(word.into()),
                    line,
                });
            }
        } else if c == '\'' || c == '"' {
            let start_line = line;
            let (text, n, lines) =
                string_body(&src[i..], false, false).map_err(|msg| LexError { line, msg })?;
            i += n;
            line += lines;
            toks.push(Token {
                tok: Tok::Str(text.into_iter().collect()),
                line: start_line,
            });
        } else {
            let rest: String = src[i..(i + 3).min(src.len())].iter().collect();
            let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
                return err(line, "invalid syntax");
            };
            match *op {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth = depth.saturating_sub(1),
                _ => {}
            }
            toks.push(Token {
                tok: Tok::Op(op),
                line,
            });
            i += op.len();
        }
    }
    if !at_line_start {
        toks.push(Token {
            tok: Tok::Newline,
            line,
        });
    }
    while indents.len() > 1 {
        indents.pop();
        toks.push(Token {
            tok: Tok::Dedent,
            line,
        });
    }
    toks.push(Token {
        tok: Tok::Eof,
        line,
    });
    Ok(toks)
}

/// An int or float literal at the start of `s`, and its length.
fn number(s: &[char]) -> Option<(Tok, usize)> {
    let text: String = s
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_' || **c == '.')
        .collect();
    let mut n = text.len();
    // An exponent sign belongs to the literal: 1e-3.
    let mut text = text;
    if (text.ends_with('e') || text.ends_with('E'))
        && matches!(s.get(n), Some('+' | '-'))
        && !text.starts_with("0x")
    {
        let more: String = s[n + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        text.push(s[n]);
        text.push_str(&more);
        n = text.len();
    }
    let clean = text.replace('_', "");
    let lower = clean.to_ascii_lowercase();
    let radix = |p: &str, r| i64::from_str_radix(&lower[p.len()..], r).ok();
    let int = if lower.starts_with("0x") {
        radix("0x", 16)
    } else if lower.starts_with("0o") {
        radix("0o", 8)
    } else if lower.starts_with("0b") {
        radix("0b", 2)
    } else {
        lower.parse::<i64>().ok()
    };
    match int {
        Some(v) => Some((Tok::Int(v), n)),
        None => lower.parse::<f64>().ok().map(|f| (Tok::Float(f), n)),
    }
}

/// The characters of a quoted string starting at `s[0]` (the quote), how many source chars it
/// took, and how many line breaks it spanned. Bytes literals keep each escape as one char < 256.
fn string_body(
    s: &[char],
    raw: bool,
    bytes: bool,
) -> Result<(Vec<char>, usize, u32), &'static str> {
    let q = s[0];
    let triple = s.len() >= 3 && s[1] == q && s[2] == q;
    let mut i = if triple { 3 } else { 1 };
    let mut out = Vec::new();
    let mut lines = 0;
    loop {
        let Some(&c) = s.get(i) else {
            return Err("unterminated string");
        };
        if c == q && (!triple || (s.get(i + 1) == Some(&q) && s.get(i + 2) == Some(&q))) {
            return Ok((out, i + if triple { 3 } else { 1 }, lines));
        }
        if c == '\n' {
            if !triple {
                return Err("unterminated string");
            }
            lines += 1;
        }
        if c != '\\' || raw {
            if raw && c == '\\' && s.get(i + 1).is_some() {
                out.push(c);
                i += 1;
                out.push(s[i]);
                i += 1;
                continue;
            }
            if bytes && c as u32 > 127 {
                return Err("bytes can only contain ASCII literal characters");
            }
            out.push(c);
            i += 1;
            continue;
        }
        let e = *s.get(i + 1).ok_or("unterminated string")?;
        i += 2;
        let hex = |s: &[char], at: usize, n: usize| -> Result<u32, &'static str> {
            let digits: String = s
                .get(at..at + n)
                .ok_or("invalid \\x escape")?
                .iter()
                .collect();
            u32::from_str_radix(&digits, 16).map_err(|_| "invalid \\x escape")
        };
        match e {
            '\n' => lines += 1,
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\\' | '\'' | '"' => out.push(e),
            'x' => {
                out.push(char::from_u32(hex(s, i, 2)?).unwrap());
                i += 2;
            }
            'u' if !bytes => {
                out.push(char::from_u32(hex(s, i, 4)?).ok_or("invalid \\u escape")?);
                i += 4;
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap();
                for _ in 0..2 {
                    match s.get(i).and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v & if bytes { 0xFF } else { 0x1FF }).unwrap());
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn indentation_and_brackets() {
        let t = toks("while 1:\n  f(1,\n 2)\nx=0x1F\n");
        assert!(t.contains(&Tok::Indent) && t.contains(&Tok::Dedent));
        assert!(t.contains(&Tok::Int(31)));
        // The line break inside f(...) is not a statement end.
        assert_eq!(t.iter().filter(|t| **t == Tok::Newline).count(), 3);
    }

    #[test]
    fn string_and_bytes_escapes() {
        assert_eq!(toks(r"'a\n\x41\'b'")[0], Tok::Str("a\nA'b".into()));
        assert_eq!(
            toks(r#"b'\x00\xff\\"'"#)[0],
            Tok::Bytes(vec![0, 0xFF, b'\\', b'"'])
        );
        assert_eq!(toks("'''x\ny'''")[0], Tok::Str("x\ny".into()));
        assert_eq!(toks(r"r'\n'")[0], Tok::Str("\\n".into()));
        assert!(tokenize("'abc").is_err());
    }
}
