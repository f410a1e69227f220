//! ESP Web Tools manifests (schema: `landscape.md` §1.4). A manifest that works with ESP Web
//! Tools must work here unchanged, so parsing is as lenient as EWT where EWT is lenient, and
//! strict only where EWT silently flashes garbage (a non-integer offset: the WLED `32.768` bug).
//! Our one extension: an optional `sha256` (hex) per part, checked after download.

use super::json::{number_text, Json as Value, Object};
pub use super::manifest_error::ManifestError;
use super::plan::Part;
use super::url::{join_url, manifest_base};
use crate::boards::rp2::Rp2Chip;
use crate::i18n::t;
use crate::protocol::chip::Chip;
use sha2::{Digest, Sha256};

/// How the board is attached, which EWT derives from the port's USB VID:PID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialType {
    /// Espressif native USB (USB-JTAG-Serial / CDC).
    Cdc,
    /// A USB-UART bridge chip.
    Uart,
    /// Any other string: kept, never matched (as in EWT).
    Other(String),
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub home_assistant_domain: Option<String>,
    pub funding_url: Option<String>,
    /// Ask before erasing on a new install (the deprecated `new_install_skip_erase` maps here).
    pub new_install_prompt_erase: bool,
    /// Seconds; `None` = EWT's default (10), `Some(0.0)` disables Improv.
    pub new_install_improv_wait_time: Option<f64>,
    pub builds: Vec<Build>,
}

/// One chip family's (and optionally serial type's) set of parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Build {
    /// As written, e.g. "ESP32-C3".
    pub chip_family: String,
    pub parts: Vec<ManifestPart>,
    pub serial_type: Option<SerialType>,
    /// Seen in the wild, ignored by EWT; kept for display.
    pub improv: Option<bool>,
    /// Passed through untouched.
    pub ota: Option<Value>,
}

impl Build {
    /// The chip this build is for, if the family name is one we know.
    pub fn chip(&self) -> Option<Chip> {
        Chip::from_name(&self.chip_family)
    }

    /// Our extension for boards installed from a UF2 file: `"chipFamily": "RP2040"` or
    /// `"RP2350"` (ESP Web Tools skips families it does not know), its one part the `.uf2`.
    pub fn rp2(&self) -> Option<Rp2Chip> {
        match self.chip_family.to_ascii_uppercase().as_str() {
            "RP2040" => Some(Rp2Chip::Rp2040),
            "RP2350" => Some(Rp2Chip::Rp2350),
            _ => None,
        }
    }
}

/// A file and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestPart {
    pub path: String,
    pub offset: u32,
    /// Our extension: the expected SHA-256 of the downloaded file.
    pub sha256: Option<[u8; 32]>,
}

/// A part with its path resolved to the URL to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPart {
    pub url: String,
    pub part: ManifestPart,
}

impl ResolvedPart {
    /// The plan input for this part once its bytes are downloaded (and checked).
    pub fn into_part(self, data: Vec<u8>) -> Part {
        Part {
            name: self.url,
            offset: self.part.offset,
            data,
        }
    }
}

fn bad(at: impl Into<String>, problem: impl Into<String>) -> ManifestError {
    ManifestError::BadField {
        at: at.into(),
        problem: problem.into(),
    }
}

/// Text fields: EWT just displays them, so numbers are accepted too.
fn text(obj: &Object, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(number_text(*n)),
        _ => None,
    }
}

/// Parses manifest text.
pub fn parse(text_in: &str) -> Result<Manifest, ManifestError> {
    let value = Value::parse(text_in).map_err(|detail| ManifestError::NotJson {
        detail,
        html: text_in.trim_start().starts_with('<'),
    })?;
    let obj = value.as_object().ok_or_else(|| {
        bad(
            t("the top level"),
            crate::tf!("expected a JSON object {example}", example = "{ ... }"),
        )
    })?;
    let builds = match obj.get("builds") {
        None | Some(Value::Null) => return Err(ManifestError::NoBuilds),
        Some(Value::Array(b)) if b.is_empty() => return Err(ManifestError::NoBuilds),
        Some(Value::Array(b)) => b,
        Some(_) => return Err(bad("builds", t("expected a list [ ... ]"))),
    };
    let flag = |k: &str| obj.get(k).and_then(Value::as_bool).unwrap_or(false);
    Ok(Manifest {
        name: text(obj, "name").unwrap_or_default(),
        version: text(obj, "version").unwrap_or_default(),
        home_assistant_domain: text(obj, "home_assistant_domain"),
        funding_url: text(obj, "funding_url"),
        new_install_prompt_erase: flag("new_install_prompt_erase")
            || flag("new_install_skip_erase"),
        new_install_improv_wait_time: obj
            .get("new_install_improv_wait_time")
            .and_then(Value::as_f64),
        builds: builds
            .iter()
            .enumerate()
            .map(|(i, b)| build(i, b))
            .collect::<Result<_, _>>()?,
    })
}

fn build(i: usize, value: &Value) -> Result<Build, ManifestError> {
    let at = format!("builds[{i}]");
    let obj = value.as_object().ok_or_else(|| {
        bad(
            &at,
            crate::tf!("expected an object {example}", example = "{ ... }"),
        )
    })?;
    let chip_family = match obj.get("chipFamily") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(bad(
                format!("{at}.chipFamily"),
                t("missing; write e.g. \"chipFamily\": \"ESP32\""),
            ))
        }
    };
    let parts = match obj.get("parts") {
        Some(Value::Array(p)) if !p.is_empty() => p,
        _ => {
            return Err(bad(
                format!("{at}.parts"),
                t("missing or empty; list the files to flash"),
            ))
        }
    };
    let serial_type = obj
        .get("serialType")
        .and_then(Value::as_str)
        .map(|s| match s {
            "cdc" => SerialType::Cdc,
            "uart" => SerialType::Uart,
            other => SerialType::Other(other.to_string()),
        });
    Ok(Build {
        chip_family,
        parts: parts
            .iter()
            .enumerate()
            .map(|(j, p)| part(&format!("{at}.parts[{j}]"), p))
            .collect::<Result<_, _>>()?,
        serial_type,
        improv: obj.get("improv").and_then(Value::as_bool),
        ota: obj.get("ota").cloned(),
    })
}

fn part(at: &str, value: &Value) -> Result<ManifestPart, ManifestError> {
    let obj = value.as_object().ok_or_else(|| {
        bad(
            at,
            crate::tf!(
                "expected {example}",
                example = "{\"path\": ..., \"offset\": ...}"
            ),
        )
    })?;
    let path = match obj.get("path") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => {
            return Err(bad(
                format!("{at}.path"),
                t("missing; give the file name or URL of the part"),
            ))
        }
    };
    let offset = offset(&format!("{at}.offset"), obj.get("offset"))?;
    let sha256 = match obj.get("sha256") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_hex32(s).ok_or_else(|| {
            bad(
                format!("{at}.sha256"),
                t("must be 64 hexadecimal digits (the output of sha256sum)"),
            )
        })?),
        Some(_) => {
            return Err(bad(
                format!("{at}.sha256"),
                t("must be a string of 64 hexadecimal digits"),
            ))
        }
    };
    Ok(ManifestPart {
        path,
        offset,
        sha256,
    })
}

fn offset(at: &str, value: Option<&Value>) -> Result<u32, ManifestError> {
    let fail = |value: String, suggestion: Option<u64>| ManifestError::BadOffset {
        at: at.to_string(),
        value,
        suggestion,
    };
    match value {
        None => Err(bad(at, t("missing; write e.g. \"offset\": 65536"))),
        Some(Value::Number(n)) => {
            let n = *n;
            if n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n) {
                Ok(n as u32)
            } else if n.fract() == 0.0 {
                Err(fail(number_text(n), None))
            } else {
                // "32.768" meant 32768: a thousands separator read as a decimal point.
                Err(fail(number_text(n), thousands(&number_text(n))))
            }
        }
        Some(Value::String(s)) => {
            let t = s.trim();
            let suggestion = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => t.parse().ok(),
            };
            Err(fail(
                crate::tf!("the text \"{text}\"", text = s),
                suggestion,
            ))
        }
        Some(other) => Err(fail(other.to_string(), None)),
    }
}

/// "32.768" → 32768: groups of three digits after a dot read as a thousands separator.
fn thousands(s: &str) -> Option<u64> {
    let mut groups = s.split('.');
    let head = groups.next()?;
    let ok = !head.is_empty()
        && head.len() <= 3
        && head.chars().all(|c| c.is_ascii_digit())
        && groups.clone().count() > 0
        && groups.all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit()));
    if ok {
        s.replace('.', "").parse().ok()
    } else {
        None
    }
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Manifest {
    /// The UF2 build for `chip` (see [`Build::rp2`]), or with the chip not known yet, the
    /// first UF2 build.
    pub fn uf2_build(&self, chip: Option<Rp2Chip>) -> Option<&Build> {
        self.builds
            .iter()
            .find(|b| b.rp2().is_some() && (chip.is_none() || b.rp2() == chip))
    }

    /// EWT's selection: the first build for `chip` with the same serial type, else the first
    /// for `chip` with none. With the serial type unknown (`None`), a build without one is
    /// preferred, then any build for the chip.
    pub fn select_build(
        &self,
        chip: Chip,
        serial: Option<&SerialType>,
    ) -> Result<&Build, ManifestError> {
        let for_chip = || self.builds.iter().filter(move |b| b.chip() == Some(chip));
        let found = match serial {
            Some(s) => for_chip()
                .find(|b| b.serial_type.as_ref() == Some(s))
                .or_else(|| for_chip().find(|b| b.serial_type.is_none())),
            None => for_chip()
                .find(|b| b.serial_type.is_none())
                .or_else(|| for_chip().next()),
        };
        found.ok_or_else(|| {
            let mut supported: Vec<String> = Vec::new();
            for b in &self.builds {
                if !supported.contains(&b.chip_family) {
                    supported.push(b.chip_family.clone());
                }
            }
            ManifestError::NoBuildForChip {
                chip,
                name: if self.name.is_empty() {
                    t("This firmware").into()
                } else {
                    self.name.clone()
                },
                supported,
            }
        })
    }
}

/// The build's parts with their URLs resolved (see [`manifest_base`] for blob:/data: manifests).
pub fn resolve_parts(build: &Build, manifest_url: &str, page_url: &str) -> Vec<ResolvedPart> {
    let base = manifest_base(manifest_url, page_url);
    build
        .parts
        .iter()
        .map(|p| ResolvedPart {
            url: join_url(base, &p.path),
            part: p.clone(),
        })
        .collect()
}

/// Refuses downloaded bytes whose SHA-256 differs from the manifest's (when it gives one).
pub fn verify_sha256(part: &ManifestPart, bytes: &[u8]) -> Result<(), ManifestError> {
    let Some(expected) = part.sha256 else {
        return Ok(());
    };
    let actual = Sha256::digest(bytes);
    if actual.as_slice() == expected {
        return Ok(());
    }
    Err(ManifestError::Sha256Mismatch {
        path: part.path.clone(),
        expected: hex(&expected),
        actual: hex(&actual),
    })
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
