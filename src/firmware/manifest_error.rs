//! Why a manifest cannot be used, in words for the workshop organiser who wrote it and the
//! student who opened the link: each message names the field and the fix.

use crate::i18n::t;
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
            ManifestError::NotJson { html: true, .. } => f.write_str(t("The manifest address returned a web page, not a manifest: the link is wrong or the file was moved. Check the manifest URL (it should end in .json and open as plain text).")),
            ManifestError::NotJson { detail, .. } => f.write_str(&crate::tf!("The manifest is not valid JSON ({detail}). Fix the file (a JSON validator shows where) or check that the URL points at the manifest.", detail = detail)),
            ManifestError::NoBuilds => f.write_str(&crate::tf!("The manifest has no \"builds\" list, so there is nothing to flash. Add {example}.", example = "\"builds\": [{\"chipFamily\": \"ESP32\", \"parts\": [{\"path\": \"firmware.bin\", \"offset\": 4096}]}]")),
            ManifestError::BadField { at, problem } => f.write_str(&crate::tf!("The manifest is invalid at {at}: {problem}.", at = at, problem = problem)),
            ManifestError::BadOffset { at, value, suggestion } => match suggestion {
                Some(n) => f.write_str(&crate::tf!("The manifest's {at} is {value}, which is not a valid offset: offsets are whole numbers of bytes written in decimal without quotes. Write {n} (= {hex}) instead.", at = at, value = value, n = n, hex = format!("{n:#x}"))),
                None => f.write_str(&crate::tf!("The manifest's {at} is {value}, which is not a valid offset: offsets are whole numbers of bytes written in decimal without quotes (e.g. 65536 for 0x10000).", at = at, value = value)),
            },
            ManifestError::NoBuildForChip { chip, name, supported } if supported.is_empty() => f.write_str(&crate::tf!("\"{name}\" has no build for {chip} boards; it supports no chip this page knows. Use a board with one of those chips, or ask whoever gave you the link for an {chip} build.", name = name, chip = chip)),
            ManifestError::NoBuildForChip { chip, name, supported } => f.write_str(&crate::tf!("\"{name}\" has no build for {chip} boards; it supports {chips}. Use a board with one of those chips, or ask whoever gave you the link for an {chip} build.", name = name, chip = chip, chips = supported.join(", "))),
            ManifestError::Sha256Mismatch { path, expected, actual } => f.write_str(&crate::tf!("\"{path}\" is not the file the manifest describes (SHA-256 {actual}, expected {expected}): the download was damaged or the file was replaced. Download again; if it persists, tell the organiser that the manifest and the file do not match.", path = path, actual = actual, expected = expected)),
        }
    }
}

impl std::error::Error for ManifestError {}
