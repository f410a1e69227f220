//! Flasher stub images: the small programs uploaded to RAM that replace the ROM loader with a
//! faster, more capable one. esptool ships them as JSON (`entry`, `text`/`data` base64,
//! `text_start`, `data_start`); `scripts/setup.sh` takes them from the pinned esptool package
//! at build time (never part of this repository) and writes each as a `.stub` file, the same
//! segments as raw bytes, which the page fetches: about half the bytes of the JSON on the wire.
//!
//! A `.stub` file: `WFSTUB` 1 0, entry (u32 LE), segment count (u32 LE), then per segment its
//! load address, its length (u32 LE each) and its bytes.

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

/// The first bytes of a `.stub` file.
pub const MAGIC: &[u8; 8] = b"WFSTUB\x01\x00";

impl StubImage {
    /// Reads a `.stub` file.
    pub fn from_bytes(bytes: &[u8]) -> Result<StubImage, String> {
        let bad = || "not a flasher stub file (rebuild the page: scripts/setup.sh app)".to_string();
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(bad)?;
        let mut at = 0usize;
        let mut word = || -> Result<u32, String> {
            let w = rest.get(at..at + 4).ok_or_else(bad)?;
            at += 4;
            Ok(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        };
        let entry = word()?;
        let count = word()?;
        let mut heads = Vec::new();
        for _ in 0..count.min(4) {
            heads.push((word()?, word()? as usize));
        }
        if count > 4 {
            return Err(bad());
        }
        let mut segments = Vec::new();
        for (addr, len) in heads {
            let data = rest.get(at..at + len).ok_or_else(bad)?.to_vec();
            at += len;
            segments.push(Segment { addr, data });
        }
        if at != rest.len() || segments.is_empty() {
            return Err(bad());
        }
        Ok(StubImage { entry, segments })
    }

    /// Writes the `.stub` file [`StubImage::from_bytes`] reads.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&self.entry.to_le_bytes());
        out.extend_from_slice(&(self.segments.len() as u32).to_le_bytes());
        for s in &self.segments {
            out.extend_from_slice(&s.addr.to_le_bytes());
            out.extend_from_slice(&(s.data.len() as u32).to_le_bytes());
        }
        for s in &self.segments {
            out.extend_from_slice(&s.data);
        }
        out
    }

    /// Parses esptool's stub JSON (native only: the tests check each `.stub` against it).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_json(text: &str) -> Result<StubImage, String> {
        use base64::Engine;
        #[derive(serde::Deserialize)]
        struct Json {
            entry: u32,
            text: String,
            text_start: u32,
            data: Option<String>,
            data_start: Option<u32>,
        }
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

    /// The stub's name for a chip id ("esp32c3" → "esp32c3"); the page fetches `<name>.stub`,
    /// esptool's package holds `<name>.json`. ESP32-P4 below revision 3.0 needs its own build.
    pub fn name(chip_id: &str, revision: u32) -> String {
        if chip_id == "esp32p4" && revision < 300 {
            "esp32p4-rev1".into()
        } else {
            chip_id.to_string()
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
        assert!(StubImage::from_bytes(b"<html>").is_err());
    }

    #[test]
    fn stub_files_round_trip_and_truncation_is_refused() {
        let json = r#"{"entry": 7, "text": "AQIDBA==", "text_start": 16, "data": "BQY=", "data_start": 32}"#;
        let stub = StubImage::from_json(json).unwrap();
        let bytes = stub.to_bytes();
        assert_eq!(StubImage::from_bytes(&bytes).unwrap(), stub);
        for cut in 0..bytes.len() {
            assert!(
                StubImage::from_bytes(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(StubImage::from_bytes(&longer).is_err());
    }

    #[test]
    fn p4_revision_picks_its_stub() {
        assert_eq!(StubImage::name("esp32p4", 100), "esp32p4-rev1");
        assert_eq!(StubImage::name("esp32p4", 300), "esp32p4");
        assert_eq!(StubImage::name("esp32", 300), "esp32");
    }
}
