//! The container of a whole-flash backup file, shared by every board kind: a magic line that
//! names the kind, one line of JSON that says what the flash came from, then the flash.
//!
//! ```text
//! "WFPICO1\n" or "WFESP1\n"   then {"chip":…, …, "flash_size":N, "sha256":"…"} and "\n",
//!                              then N bytes of flash.
//! ```
//! The JSON is written here by hand (a few string fields, escaped) and read back with the
//! project's JSON reader. A file whose flash is cut
//! short or does not match its SHA-256 is refused whole.

use sha2::{Digest, Sha256};

use crate::firmware::json::{escape as json_escaped, Json, Object};
use crate::firmware::manifest::hex;

/// Why bytes are not a usable backup of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerError {
    /// Not a backup of this kind made by this page.
    NotABackup,
    /// Cut short, or its bytes do not match its SHA-256.
    Damaged,
}

/// The file's bytes: `magic`, the `fields` (in order) with `flash_size` and `sha256` added,
/// then `flash`.
pub fn encode(magic: &[u8], fields: &[(&str, &str)], flash: &[u8]) -> Vec<u8> {
    let mut header = String::from("{");
    for (key, value) in fields {
        header.push_str(&format!("\"{key}\":\"{}\",", json_escaped(value)));
    }
    header.push_str(&format!(
        "\"flash_size\":{},\"sha256\":\"{}\"}}\n",
        flash.len(),
        hex(&Sha256::digest(flash))
    ));
    let mut out = magic.to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(flash);
    out
}

/// What a file says about itself, and its flash (size and SHA-256 checked).
pub struct Decoded {
    pub fields: Object,
    pub flash: Vec<u8>,
}

impl Decoded {
    /// A text field, or "" when it is missing.
    pub fn text(&self, key: &str) -> String {
        self.fields
            .get(key)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    }
}

/// Reads a backup of the kind `magic` names, checking the flash's size and digest.
pub fn decode(magic: &[u8], bytes: &[u8]) -> Result<Decoded, ContainerError> {
    use ContainerError::*;
    let rest = bytes.strip_prefix(magic).ok_or(NotABackup)?;
    let nl = rest.iter().position(|&b| b == b'\n').ok_or(Damaged)?;
    let text = std::str::from_utf8(&rest[..nl]).map_err(|_| Damaged)?;
    let json = Json::parse(text).map_err(|_| Damaged)?;
    let fields = json.as_object().ok_or(Damaged)?.clone();
    let size = fields
        .get("flash_size")
        .and_then(Json::as_f64)
        .ok_or(Damaged)?;
    let flash = rest[nl + 1..].to_vec();
    let digest = fields.get("sha256").and_then(Json::as_str).ok_or(Damaged)?;
    if flash.len() as f64 != size || digest != hex(&Sha256::digest(&flash)) {
        return Err(Damaged);
    }
    Ok(Decoded { fields, flash })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_reads_back_and_any_damage_is_refused() {
        let flash: Vec<u8> = (0..5000u32).map(|i| (i * 31) as u8).collect();
        let file = encode(
            b"WFTEST1\n",
            &[("chip", "X"), ("date", "2026-12-06")],
            &flash,
        );
        let back = decode(b"WFTEST1\n", &file).unwrap();
        assert_eq!(back.flash, flash);
        assert_eq!(back.text("chip"), "X");
        assert_eq!(back.text("missing"), "");
        assert!(matches!(
            decode(b"WFOTHER\n", &file),
            Err(ContainerError::NotABackup)
        ));
        // Values with quotes, backslashes and control characters read back as they were.
        let odd = "a\"b\\c\nd\u{1}é";
        let file2 = encode(b"WFTEST1\n", &[("id", odd)], &flash);
        assert_eq!(decode(b"WFTEST1\n", &file2).unwrap().text("id"), odd);
        for cut in [file.len() - 1, file.len() - 4000, 20] {
            assert!(matches!(
                decode(b"WFTEST1\n", &file[..cut]),
                Err(ContainerError::Damaged)
            ));
        }
        let mut flipped = file.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            decode(b"WFTEST1\n", &flipped),
            Err(ContainerError::Damaged)
        ));
    }
}
