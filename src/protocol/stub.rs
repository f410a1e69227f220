//! Flasher stub images: the small programs uploaded to RAM that replace the ROM loader with a
//! faster, more capable one. We read the JSON format that esptool and esptool-js ship
//! (`entry`, `text`/`data` base64, `text_start`, `data_start`); the files come from a pinned
//! package at build time and are never part of this repository.

use base64::Engine;
use serde::Deserialize;

/// One segment to load into RAM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub addr: u32,
    pub data: Vec<u8>,
}

/// A parsed stub image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubImage {
    pub entry: u32,
    /// Code first, then initialised data (the order esptool uploads them in).
    pub segments: Vec<Segment>,
}

#[derive(Deserialize)]
struct Json {
    entry: u32,
    text: String,
    text_start: u32,
    data: Option<String>,
    data_start: Option<u32>,
}

impl StubImage {
    /// Parses esptool's stub JSON.
    pub fn from_json(text: &str) -> Result<StubImage, String> {
        let json: Json =
            serde_json::from_str(text).map_err(|e| format!("not a flasher stub file: {e}"))?;
        let b64 = |s: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map_err(|e| format!("bad base64 in stub: {e}"))
        };
        let mut segments = vec![Segment {
            addr: json.text_start,
            data: b64(&json.text)?,
        }];
        if let (Some(data), Some(addr)) = (json.data, json.data_start) {
            segments.push(Segment {
                addr,
                data: b64(&data)?,
            });
        }
        Ok(StubImage {
            entry: json.entry,
            segments,
        })
    }

    /// The stub file name for a chip id ("esp32c3" → "esp32c3.json"). ESP32-P4 below
    /// revision 3.0 needs its own build.
    pub fn file_name(chip_id: &str, revision: u32) -> String {
        if chip_id == "esp32p4" && revision < 300 {
            "esp32p4-rev1.json".into()
        } else {
            format!("{chip_id}.json")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_and_data_segments() {
        let json = r#"{"entry": 1074790404, "text": "AQIDBA==", "text_start": 1074790400,
                       "data": "BQY=", "data_start": 1073720000, "bss_start": 1073643776}"#;
        let stub = StubImage::from_json(json).unwrap();
        assert_eq!(stub.entry, 0x4010_0004);
        assert_eq!(
            stub.segments[0],
            Segment {
                addr: 0x4010_0000,
                data: vec![1, 2, 3, 4]
            }
        );
        assert_eq!(stub.segments[1].data, vec![5, 6]);
    }

    #[test]
    fn rejects_non_stub_files() {
        assert!(StubImage::from_json("<html>").is_err());
        assert!(StubImage::from_json(r#"{"entry":1,"text":"!!","text_start":0}"#).is_err());
    }

    #[test]
    fn p4_revision_picks_its_stub() {
        assert_eq!(StubImage::file_name("esp32p4", 100), "esp32p4-rev1.json");
        assert_eq!(StubImage::file_name("esp32p4", 300), "esp32p4.json");
        assert_eq!(StubImage::file_name("esp32", 300), "esp32.json");
    }
}
