//! The REPL's byte-by-byte input handling, as MicroPython's `pyexec.c` and `readline.c` do
//! it: the friendly line editor (echo, backspace, continuation with auto-indent, paste
//! mode) and the raw and raw-paste modes tools use.

use super::app::{After, Input, MicroPython, Mode};
use crate::sim::flash::NorFlash;

/// Raw-paste flow-control window: half of MicroPython's 256-byte stdin buffer.
pub const RAW_PASTE_WINDOW: usize = 128;

const CTRL_A: u8 = 0x01;
const CTRL_B: u8 = 0x02;
const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const CTRL_E: u8 = 0x05;

/// Whether the friendly REPL must ask for another line before running `lines`.
fn needs_more(lines: &[String]) -> bool {
    let last = lines.last().map_or("", |l| l.as_str());
    if lines.len() > 1 && last.trim().is_empty() {
        return false;
    }
    let text = lines.join("\n");
    let mut depth = 0i32;
    let mut quote: Option<(char, bool)> = None;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some((q, triple)) => {
                if c == '\\' {
                    i += 1;
                } else if c == q && (!triple || chars.get(i + 1..i + 3) == Some(&[q, q])) {
                    i += if triple { 2 } else { 0 };
                    quote = None;
                }
            }
            None => match c {
                '#' => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                }
                '\'' | '"' => {
                    let triple = chars.get(i + 1..i + 3) == Some(&[c, c]);
                    i += if triple { 2 } else { 0 };
                    quote = Some((c, triple));
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            },
        }
        i += 1;
    }
    let opens_block = last
        .split('#')
        .next()
        .unwrap_or("")
        .trim_end()
        .ends_with(':');
    depth > 0 || matches!(quote, Some((_, true))) || opens_block || lines.len() > 1
}

impl MicroPython {
    /// One byte read by the REPL (no program is running).
    pub(super) fn feed(&mut self, b: u8, flash: &mut NorFlash) {
        match std::mem::replace(&mut self.input, Input::None) {
            Input::None => {}
            Input::Line { buf, lines, esc } => self.feed_line(b, buf, lines, esc, flash),
            Input::Paste(buf) => self.feed_paste(b, buf, flash),
            Input::Raw(buf) => self.feed_raw(b, buf, flash),
            Input::RawPaste { buf, remain } => self.feed_raw_paste(b, buf, remain, flash),
        }
    }

    fn feed_line(
        &mut self,
        b: u8,
        mut buf: Vec<u8>,
        mut lines: Vec<String>,
        esc: u8,
        flash: &mut NorFlash,
    ) {
        let empty = buf.is_empty() && lines.is_empty();
        // Escape sequences (arrow keys) are swallowed: no history or cursor movement here.
        let esc = match (esc, b) {
            (0, 0x1B) => Some(1),
            (0, _) => None,
            (1, b'[' | b'O') => Some(2),
            (2, 0x40..=0x7E) | (1, _) => Some(0),
            _ => Some(2),
        };
        if let Some(esc) = esc {
            self.input = Input::Line { buf, lines, esc };
            return;
        }
        match b {
            CTRL_A if empty => {
                self.say(b"\r\n");
                self.mode = Mode::Raw;
                self.raw_banner();
                return;
            }
            CTRL_B if empty => {
                self.say(b"\r\n");
                let banner = self.board.banner();
                self.say(banner);
                self.prompt();
                return;
            }
            CTRL_C => {
                self.say(b"\r\n");
                self.prompt();
                return;
            }
            CTRL_D if empty => {
                self.say(b"\r\n");
                self.soft_reset(flash);
                return;
            }
            CTRL_D if buf.is_empty() => {
                // Ends a compound statement early.
                self.say(b"\r\n");
                self.exec(&lines.join("\n"), "<stdin>", true, After::Friendly, flash);
                return;
            }
            CTRL_E if empty => {
                self.say(b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ");
                self.input = Input::Paste(Vec::new());
                return;
            }
            0x08 | 0x7F if buf.pop().is_some() => self.say(b"\x08 \x08"),
            b'\r' => {
                self.say(b"\r\n");
                let line = String::from_utf8_lossy(&buf).into_owned();
                if lines.is_empty() && line.trim().is_empty() {
                    self.prompt();
                    return;
                }
                lines.push(line);
                if needs_more(&lines) {
                    let last = lines.last().unwrap();
                    let mut indent = last.len() - last.trim_start().len();
                    if last.trim_end().ends_with(':') {
                        indent += 4;
                    }
                    self.say(b"... ");
                    let spaces = " ".repeat(indent);
                    self.say(&spaces);
                    self.input = Input::Line {
                        buf: spaces.into_bytes(),
                        lines,
                        esc: 0,
                    };
                } else {
                    self.exec(&lines.join("\n"), "<stdin>", true, After::Friendly, flash);
                }
                return;
            }
            b'\t' => {
                buf.extend_from_slice(b"    ");
                self.say(b"    ");
            }
            0x20..=0x7E | 0x80.. => {
                buf.push(b);
                self.say([b]);
            }
            _ => {}
        }
        self.input = Input::Line { buf, lines, esc: 0 };
    }

    fn feed_paste(&mut self, b: u8, mut buf: Vec<u8>, flash: &mut NorFlash) {
        match b {
            CTRL_C => {
                self.say(b"\r\n");
                self.prompt();
            }
            CTRL_D => {
                self.say(b"\r\n");
                self.exec(
                    &String::from_utf8_lossy(&buf),
                    "<stdin>",
                    false,
                    After::Friendly,
                    flash,
                );
            }
            _ => {
                buf.push(b);
                if b == b'\r' {
                    self.say(b"\r\n=== ");
                } else {
                    self.say([b]);
                }
                self.input = Input::Paste(buf);
            }
        }
    }

    fn feed_raw(&mut self, b: u8, mut buf: Vec<u8>, flash: &mut NorFlash) {
        match b {
            CTRL_A if buf == [CTRL_E, b'A'] => {
                // Raw-paste: accepted, then the window size and the first window's credit.
                self.say(b"R\x01");
                self.say((RAW_PASTE_WINDOW as u16).to_le_bytes());
                self.say(b"\x01");
                self.input = Input::RawPaste {
                    buf: Vec::new(),
                    remain: RAW_PASTE_WINDOW,
                };
            }
            CTRL_A => {
                self.say(b"\r\n");
                self.raw_banner();
            }
            CTRL_B => {
                self.say(b"\r\n");
                self.mode = Mode::Friendly;
                let banner = self.board.banner();
                self.say(banner);
                self.prompt();
            }
            CTRL_C => self.input = Input::Raw(Vec::new()),
            CTRL_D => {
                self.say(b"OK");
                if buf.is_empty() {
                    self.say(b"\r\n");
                    self.soft_reset(flash);
                } else {
                    self.exec(
                        &String::from_utf8_lossy(&buf),
                        "<stdin>",
                        false,
                        After::Raw,
                        flash,
                    );
                }
            }
            _ => {
                buf.push(b);
                self.input = Input::Raw(buf);
            }
        }
    }

    fn feed_raw_paste(&mut self, b: u8, mut buf: Vec<u8>, remain: usize, flash: &mut NorFlash) {
        match b {
            CTRL_D => {
                self.say(b"\x04");
                self.exec(
                    &String::from_utf8_lossy(&buf),
                    "<stdin>",
                    false,
                    After::Raw,
                    flash,
                );
            }
            CTRL_C => {
                // The device ends reception, then reports the interrupt as the program's error.
                self.say(b"\x04\x04KeyboardInterrupt: \r\n\x04>");
                self.input = Input::Raw(Vec::new());
            }
            _ => {
                buf.push(b);
                let remain = if remain == 1 {
                    self.say(b"\x01");
                    RAW_PASTE_WINDOW
                } else {
                    remain - 1
                };
                self.input = Input::RawPaste { buf, remain };
            }
        }
    }
}
