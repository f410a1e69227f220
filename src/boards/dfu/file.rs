//! `.dfu` files as MicroPython publishes pyboard firmware: ST's DfuSe 1.1a layout (a prefix,
//! targets, elements with their flash addresses) followed by the USB DFU suffix with its CRC
//! (`boards.md` §4.6). Pure: a whole file is read and checked before anything is written.

use crate::firmware::sniff::{sniff, FileKind};
use crate::i18n::{mark, t};

const PREFIX: usize = 11;
const TARGET: usize = 274;
const SUFFIX: usize = 16;
const NAME: usize = 255;
/// The `bcdDFU` of a DfuSe file.
pub const BCD_DFUSE: u16 = 0x011A;

/// A parsed `.dfu` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DfuFile {
    pub targets: Vec<Target>,
    /// The suffix's USB ids (0xFFFF: any).
    pub vendor: u16,
    pub product: u16,
    pub device: u16,
}

/// One memory (alternate setting) and what goes into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub alt: u8,
    pub name: Option<String>,
    pub elements: Vec<Element>,
}

/// Bytes for one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub address: u32,
    pub data: Vec<u8>,
}

impl DfuFile {
    /// Every element of every target, in file order.
    pub fn elements(&self) -> impl Iterator<Item = (u8, &Element)> {
        self.targets
            .iter()
            .flat_map(|t| t.elements.iter().map(move |e| (t.alt, e)))
    }
}

/// Why a file is not a `.dfu` this page can write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DfuFileError {
    /// No DFU suffix and no DfuSe prefix: another kind of file.
    NotDfu(FileKind),
    /// The suffix's checksum differs: the file was damaged (or cut) on the way.
    BadCrc { stored: u32, computed: u32 },
    /// A DFU suffix without ST's DfuSe part: a raw image with no addresses.
    NoAddresses,
    /// The DfuSe part ends early or its sizes disagree (a cut-off or badly made file).
    Damaged(&'static str),
    /// No bytes to write.
    NoElements,
}

impl std::fmt::Display for DfuFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DfuFileError::NotDfu(FileKind::EspImage) => f.write_str(t("This is firmware for an ESP32 or ESP8266 board (.bin), not a .dfu file for a pyboard. Choose the .dfu file for your board from the MicroPython download page. Nothing was written.")),
            DfuFileError::NotDfu(FileKind::Uf2) => f.write_str(t("This is a UF2 file (for a Raspberry Pi Pico or a board with a UF2 drive), not a .dfu file for a pyboard. Choose the .dfu file for your board. Nothing was written.")),
            DfuFileError::NotDfu(FileKind::Empty) => f.write_str(t("The file is empty. Download the .dfu file again. Nothing was written.")),
            DfuFileError::NotDfu(FileKind::Unknown) => f.write_str(t("This is not a .dfu file (it has neither the DFU ending nor ST's DfuSe start). Choose the .dfu file from the MicroPython download page. Nothing was written.")),
            DfuFileError::NotDfu(kind) => f.write_str(&crate::tf!("This is {kind}, not a .dfu file. Choose the .dfu file from the MicroPython download page. Nothing was written.", kind = kind.describe())),
            DfuFileError::BadCrc { stored, computed } => f.write_str(&crate::tf!("This .dfu file is damaged: its checksum says {stored} but the bytes give {computed} (a cut-off or corrupted download). Download it again. Nothing was written.", stored = format!("0x{stored:08X}"), computed = format!("0x{computed:08X}"))),
            DfuFileError::NoAddresses => f.write_str(t("This .dfu file has no addresses (it lacks ST's DfuSe part), so the page cannot tell where it goes. Use the .dfu file from the MicroPython download page. Nothing was written.")),
            DfuFileError::Damaged(what) => f.write_str(&crate::tf!("This .dfu file is damaged or badly made ({what}). Download it again. Nothing was written.", what = t(what))),
            DfuFileError::NoElements => f.write_str(t("This .dfu file holds no firmware (no elements). Nothing was written.")),
        }
    }
}

impl std::error::Error for DfuFileError {}

/// The DFU suffix's CRC: reflected CRC-32 (0xEDB88320), seeded 0xFFFFFFFF, no final XOR (the
/// bitwise NOT of zlib's `crc32`), over everything but the CRC itself.
pub fn crc(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    crc
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// Reads and checks a whole `.dfu` file.
pub fn parse(bytes: &[u8]) -> Result<DfuFile, DfuFileError> {
    let has_suffix = bytes.len() >= SUFFIX && {
        let s = &bytes[bytes.len() - SUFFIX..];
        &s[8..11] == b"UFD" && s[11] as usize == SUFFIX
    };
    if !has_suffix {
        return Err(if bytes.starts_with(b"DfuSe") {
            DfuFileError::Damaged(mark("it has no DFU ending; it was probably cut off"))
        } else {
            DfuFileError::NotDfu(sniff(bytes))
        });
    }
    let body_len = bytes.len() - SUFFIX;
    let stored = u32_at(bytes, bytes.len() - 4);
    let computed = crc(&bytes[..bytes.len() - 4]);
    if stored != computed {
        return Err(DfuFileError::BadCrc { stored, computed });
    }
    let suffix = &bytes[body_len..];
    let (device, product, vendor) = (u16_at(suffix, 0), u16_at(suffix, 2), u16_at(suffix, 4));
    let body = &bytes[..body_len];
    if !body.starts_with(b"DfuSe") || u16_at(suffix, 6) != BCD_DFUSE {
        return Err(DfuFileError::NoAddresses);
    }
    if body.len() < PREFIX || body[5] != 1 {
        return Err(DfuFileError::Damaged(mark("unknown DfuSe version")));
    }
    if u32_at(body, 6) as usize != body_len {
        return Err(DfuFileError::Damaged(mark(
            "the image size in its header is wrong",
        )));
    }
    let mut at = PREFIX;
    let mut targets = Vec::new();
    for _ in 0..body[10] {
        let head = body
            .get(at..at + TARGET)
            .ok_or(DfuFileError::Damaged(mark("a target header is cut off")))?;
        if !head.starts_with(b"Target") {
            return Err(DfuFileError::Damaged(mark("a target header is missing")));
        }
        let alt = head[6];
        let named = u32_at(head, 7) != 0;
        let raw_name = &head[11..11 + NAME];
        let name_len = raw_name.iter().position(|&c| c == 0).unwrap_or(NAME);
        let name = named.then(|| String::from_utf8_lossy(&raw_name[..name_len]).into_owned());
        let size = u32_at(head, 11 + NAME) as usize;
        let count = u32_at(head, 15 + NAME);
        at += TARGET;
        let end = at
            .checked_add(size)
            .filter(|&e| e <= body_len)
            .ok_or(DfuFileError::Damaged(mark(
                "a target is longer than the file",
            )))?;
        let mut elements = Vec::new();
        for _ in 0..count {
            let head = body
                .get(at..at + 8)
                .filter(|_| at + 8 <= end)
                .ok_or(DfuFileError::Damaged(mark("an element header is cut off")))?;
            let (address, len) = (u32_at(head, 0), u32_at(head, 4) as usize);
            at += 8;
            let data =
                body.get(at..at + len)
                    .filter(|_| at + len <= end)
                    .ok_or(DfuFileError::Damaged(mark(
                        "an element is longer than its target",
                    )))?;
            elements.push(Element {
                address,
                data: data.to_vec(),
            });
            at += len;
        }
        if at != end {
            return Err(DfuFileError::Damaged(mark(
                "a target's size disagrees with its elements",
            )));
        }
        targets.push(Target {
            alt,
            name,
            elements,
        });
    }
    if at != body_len {
        return Err(DfuFileError::Damaged(mark("bytes follow the last target")));
    }
    if targets
        .iter()
        .all(|t| t.elements.iter().all(|e| e.data.is_empty()))
    {
        return Err(DfuFileError::NoElements);
    }
    Ok(DfuFile {
        targets,
        vendor,
        product,
        device,
    })
}

/// Writes a `.dfu` file (DfuSe prefix, one target per entry, suffix with CRC), as MicroPython's
/// `tools/dfu.py` lays it out; used to make test files and to wrap a plain image (expert use).
pub fn build(targets: &[Target], vendor: u16, product: u16) -> Vec<u8> {
    let mut out = build_body(targets);
    add_suffix(&mut out, vendor, product, 0);
    out
}

/// The DfuSe part only (prefix, targets, elements): what `dfu-suffix -a` takes.
pub fn build_body(targets: &[Target]) -> Vec<u8> {
    let mut out = b"DfuSe\x01".to_vec();
    out.extend_from_slice(&[0; 4]); // image size, filled in below
    out.push(targets.len() as u8);
    for t in targets {
        let size: usize = t.elements.iter().map(|e| 8 + e.data.len()).sum();
        out.extend_from_slice(b"Target");
        out.push(t.alt);
        out.extend_from_slice(&(t.name.is_some() as u32).to_le_bytes());
        let mut name = [0u8; NAME];
        if let Some(n) = &t.name {
            let n = &n.as_bytes()[..n.len().min(NAME - 1)];
            name[..n.len()].copy_from_slice(n);
        }
        out.extend_from_slice(&name);
        out.extend_from_slice(&(size as u32).to_le_bytes());
        out.extend_from_slice(&(t.elements.len() as u32).to_le_bytes());
        for e in &t.elements {
            out.extend_from_slice(&e.address.to_le_bytes());
            out.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&e.data);
        }
    }
    // DFUImageSize counts the prefix and the targets, not the suffix.
    let len = out.len() as u32;
    out[6..10].copy_from_slice(&len.to_le_bytes());
    out
}

/// Appends the DFU suffix for a DfuSe file, with its CRC.
pub fn add_suffix(out: &mut Vec<u8>, vendor: u16, product: u16, device: u16) {
    out.extend_from_slice(&device.to_le_bytes());
    out.extend_from_slice(&product.to_le_bytes());
    out.extend_from_slice(&vendor.to_le_bytes());
    out.extend_from_slice(&BCD_DFUSE.to_le_bytes());
    out.extend_from_slice(b"UFD");
    out.push(SUFFIX as u8);
    let c = crc(out);
    out.extend_from_slice(&c.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pyboard_like() -> Vec<Target> {
        vec![Target {
            alt: 0,
            name: Some("ST...".into()),
            elements: vec![
                Element {
                    address: 0x0800_0000,
                    data: (0..1000).map(|i| i as u8).collect(),
                },
                Element {
                    address: 0x0802_0000,
                    data: vec![0xA5; 4096],
                },
            ],
        }]
    }

    #[test]
    fn the_crc_is_zlibs_inverted() {
        // zlib.crc32(b"123456789") == 0xCBF43926
        assert_eq!(crc(b"123456789"), !0xCBF4_3926);
    }

    #[test]
    fn a_built_file_reads_back() {
        let file = build(&pyboard_like(), 0x0483, 0xDF11);
        let dfu = parse(&file).unwrap();
        assert_eq!(dfu.targets, pyboard_like());
        assert_eq!((dfu.vendor, dfu.product), (0x0483, 0xDF11));
    }

    #[test]
    fn every_cut_and_every_flipped_byte_is_refused() {
        let file = build(&pyboard_like(), 0x0483, 0xDF11);
        for cut in 0..file.len() {
            assert!(parse(&file[..cut]).is_err(), "cut at {cut}");
        }
        for at in (0..file.len()).step_by(7) {
            let mut bad = file.clone();
            bad[at] ^= 0x10;
            assert!(parse(&bad).is_err(), "flip at {at}");
        }
    }

    #[test]
    fn other_files_are_named() {
        let mut esp = vec![0xE9, 0x03, 0x02, 0x20];
        esp.resize(4096, 0);
        assert_eq!(parse(&esp), Err(DfuFileError::NotDfu(FileKind::EspImage)));
        assert!(parse(&esp).unwrap_err().to_string().contains("ESP32"));
        // A plain image with only a DFU suffix: no addresses.
        let mut plain = vec![1, 2, 3, 4];
        add_suffix(&mut plain, 0x0483, 0xDF11, 0);
        assert_eq!(parse(&plain), Err(DfuFileError::NoAddresses));
    }
}
