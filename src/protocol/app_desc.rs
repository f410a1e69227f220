//! ESP-IDF's application descriptor (`esp_app_desc_t`): 256 bytes at the start of an app
//! image's first segment (image byte 0x20), naming the project and its version. MicroPython's
//! esp32 port is the ESP-IDF project `micropython`, so this tells what a board runs without
//! starting it.

use super::image::{APP_DESC_MAGIC, APP_DESC_OFFSET};

/// Bytes to read from the start of an app image to get its descriptor.
pub const READ_LEN: usize = APP_DESC_OFFSET + 256;

/// The fields that say what an app is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDescriptor {
    /// `version` (32 bytes): MicroPython's is like `v1.24.1` (git describe).
    pub version: String,
    /// `project_name` (32 bytes).
    pub project: String,
    /// `idf_ver` (32 bytes), e.g. `v5.2.2`.
    pub idf: String,
}

impl AppDescriptor {
    /// Reads the descriptor of the app image starting at `image[0]`; `None` if it has none.
    pub fn parse(image: &[u8]) -> Option<AppDescriptor> {
        if image.first() != Some(&super::image::MAGIC) {
            return None;
        }
        let desc = image.get(APP_DESC_OFFSET..APP_DESC_OFFSET + 144)?;
        if u32::from_le_bytes(desc[..4].try_into().ok()?) != APP_DESC_MAGIC {
            return None;
        }
        let text = |at: usize| {
            let field = &desc[at..at + 32];
            let end = field.iter().position(|&b| b == 0).unwrap_or(32);
            String::from_utf8_lossy(&field[..end]).into_owned()
        };
        Some(AppDescriptor {
            version: text(16),
            project: text(48),
            idf: text(112),
        })
    }

    pub fn is_micropython(&self) -> bool {
        self.project == "micropython"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(project: &str, version: &str) -> Vec<u8> {
        let mut img = vec![0u8; READ_LEN];
        img[0] = 0xE9;
        img[0x20..0x24].copy_from_slice(&APP_DESC_MAGIC.to_le_bytes());
        img[0x20 + 16..0x20 + 16 + version.len()].copy_from_slice(version.as_bytes());
        img[0x20 + 48..0x20 + 48 + project.len()].copy_from_slice(project.as_bytes());
        img[0x20 + 112..0x20 + 118].copy_from_slice(b"v5.2.2");
        img
    }

    #[test]
    fn names_the_project_and_its_version() {
        let d = AppDescriptor::parse(&image("micropython", "v1.24.1")).unwrap();
        assert_eq!(
            (d.project.as_str(), d.version.as_str(), d.idf.as_str()),
            ("micropython", "v1.24.1", "v5.2.2")
        );
        assert!(d.is_micropython());
        assert!(!AppDescriptor::parse(&image("blink", "1.0"))
            .unwrap()
            .is_micropython());
    }

    #[test]
    fn no_descriptor_no_answer() {
        assert_eq!(AppDescriptor::parse(&[0xFF; READ_LEN]), None);
        let mut img = image("micropython", "v1");
        img[0x20] ^= 1;
        assert_eq!(AppDescriptor::parse(&img), None);
        assert_eq!(AppDescriptor::parse(&img[..40]), None);
    }
}
