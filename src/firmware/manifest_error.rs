//! Why a manifest cannot be used, in words for the workshop organiser who wrote it and the
//! student who opened the link: each message names the field and the fix.

use crate::protocol::chip::Chip;

/// Why a manifest cannot be used. Messages name the field and the fix.
#[derive(Debug, Clone, PartialEq)]
pub enum ManifestError {
    /// `detail` is the JSON parser's message; `html` when the text is a web page (wrong link).
    NotJson {
        detail: String,
        html: bool,
    },
    NoBuilds,
    /// `at` is a path such as `builds[0].parts[1].path`.
    BadField {
        at: String,
        problem: String,
    },
    /// An offset that is not a whole non-negative number; `suggestion` is the likely intent.
    BadOffset {
        at: String,
        value: String,
        suggestion: Option<u64>,
    },
    NoBuildForChip {
        chip: Chip,
        name: String,
        supported: Vec<String>,
    },
    Sha256Mismatch {
        path: String,
        expected: String,
        actual: String,
    },
}

impl core::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ManifestError::NotJson { html: true, .. } => write!(
                f,
                "The manifest address returned a web page, not a manifest: the link is wrong or the file \
                 was moved. Check the manifest URL (it should end in .json and open as plain text)."
            ),
            ManifestError::NotJson { detail, .. } => write!(
                f,
                "The manifest is not valid JSON ({detail}). Fix the file (a JSON validator shows where) \
                 or check that the URL points at the manifest."
            ),
            ManifestError::NoBuilds => write!(
                f,
                "The manifest has no \"builds\" list, so there is nothing to flash. Add \"builds\": \
                 [{{\"chipFamily\": \"ESP32\", \"parts\": [{{\"path\": \"firmware.bin\", \"offset\": 4096}}]}}]."
            ),
            ManifestError::BadField { at, problem } => {
                write!(f, "The manifest is invalid at {at}: {problem}.")
            }
            ManifestError::BadOffset { at, value, suggestion } => {
                write!(
                    f,
                    "The manifest's {at} is {value}, which is not a valid offset: offsets are whole \
                     numbers of bytes written in decimal without quotes"
                )?;
                match suggestion {
                    Some(n) => write!(f, ". Write {n} (= {n:#x}) instead."),
                    None => write!(f, " (e.g. 65536 for 0x10000)."),
                }
            }
            ManifestError::NoBuildForChip {
                chip,
                name,
                supported,
            } => write!(
                f,
                "\"{name}\" has no build for {chip} boards; it supports {}. Use a board with one of \
                 those chips, or ask whoever gave you the link for an {chip} build.",
                if supported.is_empty() {
                    "no chip this page knows".to_string()
                } else {
                    supported.join(", ")
                }
            ),
            ManifestError::Sha256Mismatch {
                path,
                expected,
                actual,
            } => write!(
                f,
                "\"{path}\" is not the file the manifest describes (SHA-256 {actual}, expected {expected}): \
                 the download was damaged or the file was replaced. Download again; if it persists, \
                 tell the organiser that the manifest and the file do not match."
            ),
        }
    }
}

impl std::error::Error for ManifestError {}
