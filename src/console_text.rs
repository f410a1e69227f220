//! Reading what a board printed on its console (boot logs, firmware chatter), for the advice
//! the loader and the REPL client give when the expected answer does not come.

/// The share of `bytes` that is readable text (printable ASCII, space, tab, CR, LF), 0.0..=1.0.
pub fn printable_share(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 1.0;
    }
    let readable = bytes
        .iter()
        .filter(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .count();
    readable as f64 / bytes.len() as f64
}

/// The last non-empty line of `text`, trimmed and cut to `max` characters: a sample to quote.
pub fn last_line(text: &str, max: usize) -> String {
    text.split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .last()
        .unwrap_or("")
        .chars()
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_samples() {
        assert_eq!(printable_share(b"ok\r\n"), 1.0);
        assert!(printable_share(&[0x8F, 0xF3, b'a', 0x99]) < 0.5);
        assert_eq!(last_line("one\r\ntwo  \r\n\r\n", 60), "two");
        assert_eq!(last_line("abcdef", 3), "abc");
        assert_eq!(last_line("", 3), "");
    }
}
