//! The organiser's handout: a workshop manifest made from firmware files, and the one link a
//! workshop hands out. Each file says itself which board family it is for (an ESP image's
//! header, a UF2's family id), where it goes and which version it carries; the organiser only
//! picks the files and a title. The manifest is ESP Web Tools' format with this project's two
//! extensions (a `sha256` per part; RP2040/RP2350 builds whose one part is the `.uf2`).

use sha2::{Digest, Sha256};

use super::erase::NewFirmware;
use super::json::escape as json_escaped;
use super::manifest::hex;
use super::role;
use super::sniff::{sniff, FileKind};
use crate::boards::rp2::{self, Rp2Chip};
use crate::i18n::t;
use crate::protocol::chip::{Chip, CHIPS};
use crate::protocol::image::{self, Format};

/// One firmware file of the handout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The manifest's `chipFamily`: "ESP32", "ESP32-C3", "ESP8266", "RP2040", "RP2350".
    pub family: String,
    /// Where the file is, as the manifest names it: a URL, or a name beside the manifest.
    pub path: String,
    /// Where it goes in the board's flash (0 for a UF2, which carries its own addresses).
    pub offset: u32,
    pub sha256: [u8; 32],
    pub size: usize,
    /// What it is, for the organiser: "micropython v1.24.1", or empty when it does not say.
    pub version: String,
}

/// Reads a firmware file for the handout; the error says what is wrong with it, for the
/// organiser.
pub fn describe(path: &str, bytes: &[u8]) -> Result<Entry, String> {
    let (family, offset) = match sniff(bytes) {
        FileKind::EspImage => esp_family(bytes)?,
        FileKind::Uf2 => (
            match uf2_family(bytes)? {
                Rp2Chip::Rp2040 => "RP2040",
                Rp2Chip::Rp2350 => "RP2350",
            }
            .to_string(),
            0,
        ),
        FileKind::Unknown if path.to_ascii_lowercase().ends_with(".dfu") => {
            return Err(
                t("a .dfu file (pyboard): a workshop manifest cannot carry one yet; hand it out as a file")
                    .into(),
            )
        }
        other => {
            return Err(crate::tf!(
                "{kind} is not firmware for a board this page installs (an ESP .bin or a Pico .uf2)",
                kind = other.describe()
            ))
        }
    };
    let version = if offset == 0 && family.starts_with("RP") {
        String::new()
    } else {
        NewFirmware::from_bytes(&[(offset, bytes)])
            .app
            .map(|a| format!("{} {}", a.project, a.version))
            .unwrap_or_default()
    };
    Ok(Entry {
        family,
        path: path.to_string(),
        offset,
        sha256: Sha256::digest(bytes).into(),
        size: bytes.len(),
        version,
    })
}

/// An ESP image's chip family and offset, from its own header.
fn esp_family(bytes: &[u8]) -> Result<(String, u32), String> {
    let parsed = image::parse_any(bytes)
        .map_err(|e| crate::tf!("a damaged ESP image: {error}", error = e))?;
    let chip = match (&parsed.format, &parsed.ext) {
        (Format::Esp32, Some(ext)) => Chip::from_image_chip_id(ext.chip_id).ok_or_else(|| {
            crate::tf!(
                "an ESP image for a chip this page does not know (id {id})",
                id = ext.chip_id
            )
        })?,
        _ => Chip::Esp8266,
    };
    let offset = role::suggest_offset(bytes, chip).unwrap_or(chip.spec().bootloader_offset);
    Ok((chip.spec().name.to_string(), offset))
}

/// The RP2 chip a UF2 is for: the one that takes it whole.
fn uf2_family(bytes: &[u8]) -> Result<Rp2Chip, String> {
    let fits: Vec<Rp2Chip> = [Rp2Chip::Rp2040, Rp2Chip::Rp2350]
        .into_iter()
        .filter(|&c| rp2::check(bytes, c, None).is_ok())
        .collect();
    match fits[..] {
        [chip] => Ok(chip),
        [] => Err(match rp2::check(bytes, Rp2Chip::Rp2040, None) {
            Err(e) => crate::tf!("a UF2 no Raspberry Pi Pico takes: {error}", error = e),
            Ok(_) => unreachable!("filtered above"),
        }),
        _ => Err(
            t("a UF2 that fits both RP2040 and RP2350: make one manifest per board by hand").into(),
        ),
    }
}

/// The workshop manifest: one build per family, in the order the chip table lists families
/// (ESP ones first), then the Picos. Refused when two files are for the same family.
pub fn manifest(title: &str, entries: &[Entry]) -> Result<String, String> {
    if entries.is_empty() {
        return Err(t("Add at least one firmware file to make the manifest.").into());
    }
    for (i, e) in entries.iter().enumerate() {
        if entries[..i].iter().any(|o| o.family == e.family) {
            return Err(crate::tf!(
                "Two files are for {family}: a manifest has one build per board family; remove one.",
                family = e.family
            ));
        }
    }
    let rank = |family: &str| {
        CHIPS
            .iter()
            .position(|s| s.name == family)
            .unwrap_or(CHIPS.len() + usize::from(family == "RP2350"))
    };
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by_key(|e| rank(&e.family));
    let title = if title.trim().is_empty() {
        "MicroPython"
    } else {
        title.trim()
    };
    let builds: Vec<String> = sorted
        .iter()
        .map(|e| {
            format!(
                "    {{\n      \"chipFamily\": \"{}\",\n      \"parts\": [{{ \"path\": \"{}\", \"offset\": {}, \"sha256\": \"{}\" }}]\n    }}",
                json_escaped(&e.family),
                json_escaped(&e.path),
                e.offset,
                hex(&e.sha256)
            )
        })
        .collect();
    Ok(format!(
        "{{\n  \"name\": \"{}\",\n  \"version\": \"{}\",\n  \"builds\": [\n{}\n  ]\n}}\n",
        json_escaped(title),
        json_escaped(
            &sorted
                .iter()
                .find(|e| !e.version.is_empty())
                .map_or("", |e| &e.version)
        ),
        builds.join(",\n")
    ))
}

/// `text` encoded as a URL query value, as JavaScript's `encodeURIComponent` does.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The link students open: the page (without its own query or fragment) with `?manifest=`, and
/// `&lang=` when the workshop opens the page in one language for everyone (else each browser's
/// language decides).
pub fn link(page_url: &str, manifest_url: &str, lang: Option<&str>) -> String {
    let page = page_url.split(['?', '#']).next().unwrap_or(page_url);
    let mut link = format!("{page}?manifest={}", encode_component(manifest_url));
    if let Some(lang) = lang {
        link.push_str("&lang=");
        link.push_str(&encode_component(lang));
    }
    link
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boards::uf2::{self, family};
    use crate::firmware::fixtures::{app, esp8266_firmware, merged};
    use crate::firmware::manifest;

    fn pico_uf2(family_id: u32) -> Vec<u8> {
        uf2::build(&vec![0x5a; 3000], rp2::FLASH_BASE, family_id)
    }

    #[test]
    fn each_file_names_its_family_and_offset() {
        let e = describe("mp-esp32.bin", &merged(Chip::Esp32)).unwrap();
        assert_eq!((e.family.as_str(), e.offset), ("ESP32", 0x1000));
        let e = describe("mp-c3.bin", &merged(Chip::Esp32C3)).unwrap();
        assert_eq!((e.family.as_str(), e.offset), ("ESP32-C3", 0));
        let e = describe("app.bin", &app(Chip::Esp32S3)).unwrap();
        assert_eq!((e.family.as_str(), e.offset), ("ESP32-S3", 0x10000));
        let e = describe("mp-8266.bin", &esp8266_firmware()).unwrap();
        assert_eq!((e.family.as_str(), e.offset), ("ESP8266", 0));
        let e = describe("RPI_PICO.uf2", &pico_uf2(family::RP2040)).unwrap();
        assert_eq!((e.family.as_str(), e.offset), ("RP2040", 0));
        let e = describe("RPI_PICO2.uf2", &pico_uf2(family::RP2350_ARM_S)).unwrap();
        assert_eq!(e.family, "RP2350");
        assert_eq!(
            e.sha256,
            <[u8; 32]>::from(Sha256::digest(pico_uf2(family::RP2350_ARM_S)))
        );
    }

    #[test]
    fn files_that_are_not_firmware_are_refused_with_what_they_are() {
        let page = describe("fw.bin", b"<!doctype html><html>404</html>").unwrap_err();
        assert!(page.contains("a web page (HTML)"), "{page}");
        let dfu = describe("pybv11.dfu", b"DfuSe\x01xxxxxxxx").unwrap_err();
        assert!(dfu.contains(".dfu"), "{dfu}");
        let samd =
            describe("samd.uf2", &uf2::build(&[1; 600], 0x2000, family::SAMD21)).unwrap_err();
        assert!(samd.contains("no Raspberry Pi Pico takes"), "{samd}");
    }

    #[test]
    fn the_manifest_reads_back_through_the_page_s_own_parser() {
        let esp = describe("https://fw.example/esp32 \"v1\".bin", &merged(Chip::Esp32)).unwrap();
        let pico = describe("RPI_PICO.uf2", &pico_uf2(family::RP2040)).unwrap();
        let c3 = describe("c3.bin", &merged(Chip::Esp32C3)).unwrap();
        let text = manifest(
            "Café \"MicroPython\" day",
            &[pico.clone(), c3.clone(), esp.clone()],
        )
        .unwrap();
        let m = manifest::parse(&text).unwrap();
        assert_eq!(m.name, "Café \"MicroPython\" day");
        let families: Vec<&str> = m.builds.iter().map(|b| b.chip_family.as_str()).collect();
        assert_eq!(families, ["ESP32", "ESP32-C3", "RP2040"]);
        let esp_part = &m.builds[0].parts[0];
        assert_eq!(esp_part.path, esp.path);
        assert_eq!(
            (esp_part.offset, esp_part.sha256),
            (0x1000, Some(esp.sha256))
        );
        assert_eq!(m.builds[2].rp2(), Some(Rp2Chip::Rp2040));
        assert_eq!(m.builds[2].parts[0].sha256, Some(pico.sha256));
    }

    #[test]
    fn two_files_for_one_family_or_none_are_refused() {
        let a = describe("a.bin", &merged(Chip::Esp32)).unwrap();
        let err = manifest("x", &[a.clone(), a]).unwrap_err();
        assert!(err.contains("Two files are for ESP32"), "{err}");
        assert!(manifest("x", &[]).is_err());
    }

    #[test]
    fn the_link_carries_the_manifest_url_encoded_like_encode_uri_component() {
        assert_eq!(
            link("https://ws.example/flash/?firmware=x#top", "https://ws.example/flash/a b&c=d.json", None),
            "https://ws.example/flash/?manifest=https%3A%2F%2Fws.example%2Fflash%2Fa%20b%26c%3Dd.json"
        );
        assert_eq!(
            link(
                "https://ws.example/",
                "https://ws.example/w.json",
                Some("de")
            ),
            "https://ws.example/?manifest=https%3A%2F%2Fws.example%2Fw.json&lang=de"
        );
        assert_eq!(encode_component("é~(x)"), "%C3%A9~(x)");
    }
}
