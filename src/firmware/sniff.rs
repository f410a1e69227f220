//! What kind of file the user gave us, from its first bytes. The commonest failure in a
//! classroom is not a bad image but the wrong file: a saved 404 page, a Pico UF2, a zip.

use crate::i18n::t;
use crate::protocol::image::{MAGIC, MAGIC_ESP8266_V2, MAX_SEGMENTS};

/// The kinds of file a student is likely to hand us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// Starts like an ESP image (magic, plausible segment count and flash mode).
    EspImage,
    /// A web page or XML error document (a wrong link saved as `.bin`).
    Html,
    /// JSON text, e.g. a manifest chosen as the firmware file.
    Json,
    /// USB Flashing Format, for drag-and-drop boards such as the Raspberry Pi Pico.
    Uf2,
    /// Compiler output with debug info, not a flash image.
    Elf,
    Zip,
    Gzip,
    /// Text records starting with `:`.
    IntelHex,
    Empty,
    /// Anything else: raw data (a file-system image, a backup, a partition table...).
    Unknown,
}

impl FileKind {
    /// Kinds that are never the right bytes to write raw into an ESP's flash.
    pub fn is_never_flashable(self) -> bool {
        !matches!(self, FileKind::EspImage | FileKind::Unknown)
    }

    /// A short description for messages: "a web page (HTML)".
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::EspImage => t("an ESP firmware image"),
            FileKind::Html => t("a web page (HTML)"),
            FileKind::Json => t("a JSON text file"),
            FileKind::Uf2 => t("a UF2 file"),
            FileKind::Elf => t("an ELF file"),
            FileKind::Zip => t("a ZIP archive"),
            FileKind::Gzip => t("a gzip-compressed file"),
            FileKind::IntelHex => t("an Intel HEX text file"),
            FileKind::Empty => t("an empty file"),
            FileKind::Unknown => t("a file of unknown type"),
        }
    }
}

/// Classifies `bytes` by their opening bytes only (cheap; the full check is `image::parse`).
pub fn sniff(bytes: &[u8]) -> FileKind {
    if bytes.is_empty() {
        return FileKind::Empty;
    }
    if looks_like_esp_image(bytes) {
        return FileKind::EspImage;
    }
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"\x7FELF") {
        return FileKind::Elf;
    }
    if starts(b"UF2\n") && bytes.get(4..8) == Some(&[0x57, 0x51, 0x5D, 0x9E]) {
        return FileKind::Uf2;
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return FileKind::Zip;
    }
    if starts(&[0x1F, 0x8B]) {
        return FileKind::Gzip;
    }
    let text = skip_bom_and_space(bytes);
    match text.first() {
        Some(b'<') => FileKind::Html,
        Some(b'{') | Some(b'[') => FileKind::Json,
        Some(b':') if is_intel_hex_record(text) => FileKind::IntelHex,
        _ => FileKind::Unknown,
    }
}

fn looks_like_esp_image(b: &[u8]) -> bool {
    let (Some(&magic), Some(&count), Some(&mode)) = (b.first(), b.get(1), b.get(2)) else {
        return false;
    };
    // Flash modes 0..=5 are QIO, QOUT, DIO, DOUT, FAST_READ, SLOW_READ.
    (magic == MAGIC || magic == MAGIC_ESP8266_V2)
        && (1..=MAX_SEGMENTS).contains(&(count as usize))
        && mode <= 5
}

fn skip_bom_and_space(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

/// `:LLAAAATT...` — at least the 10 hex digits of length, address, type and checksum.
fn is_intel_hex_record(text: &[u8]) -> bool {
    text.len() >= 11 && text[1..11].iter().all(u8::is_ascii_hexdigit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_recognised() {
        let cases: &[(&[u8], FileKind)] = &[
            (b"", FileKind::Empty),
            (&[0xE9, 3, 2, 0x20, 0, 0, 0, 0], FileKind::EspImage),
            (&[0xEA, 4, 0, 0x40], FileKind::EspImage),
            (b"<!DOCTYPE html><html><body>404: Not Found", FileKind::Html),
            (b"\xEF\xBB\xBF\r\n  <html lang=en>", FileKind::Html),
            (
                b"<?xml version=\"1.0\"?><Error>AccessDenied",
                FileKind::Html,
            ),
            (b"{\"name\":\"MicroPython\",\"builds\":[]}", FileKind::Json),
            (b"UF2\n\x57\x51\x5D\x9E\x00\x20\x00\x00", FileKind::Uf2),
            (b"\x7FELF\x01\x01\x01", FileKind::Elf),
            (b"PK\x03\x04\x14\x00", FileKind::Zip),
            (&[0x1F, 0x8B, 0x08, 0x00], FileKind::Gzip),
            (
                b":100000000C9434000C9446000C9446000C9446006A\n",
                FileKind::IntelHex,
            ),
            (&[0xFF; 64], FileKind::Unknown),
            (b"Not Found", FileKind::Unknown),
            (b":-)", FileKind::Unknown),
        ];
        for (bytes, kind) in cases {
            assert_eq!(sniff(bytes), *kind, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn an_e9_byte_alone_is_not_an_image() {
        assert_eq!(sniff(&[0xE9]), FileKind::Unknown);
        assert_eq!(sniff(&[0xE9, 0, 2, 0]), FileKind::Unknown); // no segments
        assert_eq!(sniff(&[0xE9, 17, 2, 0]), FileKind::Unknown);
        assert_eq!(sniff(&[0xE9, 2, 0x77, 0]), FileKind::Unknown);
    }

    #[test]
    fn only_images_and_raw_data_may_be_flashed() {
        assert!(!FileKind::EspImage.is_never_flashable());
        assert!(!FileKind::Unknown.is_never_flashable());
        for k in [FileKind::Html, FileKind::Uf2, FileKind::Elf, FileKind::Zip] {
            assert!(k.is_never_flashable());
        }
    }
}
