//! UF2 files: 512-byte blocks, each carrying up to 476 bytes for one flash address (Microsoft's
//! UF2 format; `boards.md` §2.1–2.3). Pure: parses and checks a whole file before anything is
//! written, the way the RP2 boot ROMs read the blocks, so a file they would ignore (another
//! family, a wrong payload size) or take only in part (missing blocks) is refused with a reason.

use crate::firmware::sniff::{sniff, FileKind};
use crate::i18n::{number, t};
use std::collections::BTreeMap;

pub const BLOCK: usize = 512;
pub const MAGIC_START0: u32 = 0x0A32_4655;
pub const MAGIC_START1: u32 = 0x9E5D_5157;
pub const MAGIC_END: u32 = 0x0AB1_6F30;

pub const FLAG_NOT_MAIN_FLASH: u32 = 0x0000_0001;
pub const FLAG_FILE_CONTAINER: u32 = 0x0000_1000;
pub const FLAG_FAMILY_ID: u32 = 0x0000_2000;
pub const FLAG_EXTENSION_TAGS: u32 = 0x0000_8000;

/// Family ids (uf2 `utils/uf2families.json`, pico-sdk `boot/uf2.h`).
pub mod family {
    pub const RP2040: u32 = 0xE48B_FF56;
    pub const RP2XXX_ABSOLUTE: u32 = 0xE48B_FF57;
    pub const RP2XXX_DATA: u32 = 0xE48B_FF58;
    pub const RP2350_ARM_S: u32 = 0xE48B_FF59;
    pub const RP2350_RISCV: u32 = 0xE48B_FF5A;
    pub const RP2350_ARM_NS: u32 = 0xE48B_FF5B;
    pub const ESP32S2: u32 = 0xBFDD_4EEE;
    pub const ESP32S3: u32 = 0xC47E_5767;
    pub const ESP32: u32 = 0x1C5F_21B0;
    pub const ESP32C3: u32 = 0xD42B_A06C;
    pub const SAMD21: u32 = 0x68ED_2B88;
    pub const SAMD51: u32 = 0x5511_4460;
    pub const NRF52840: u32 = 0xADA5_2840;
    pub const STM32F4: u32 = 0x5775_5A57;

    /// A name for messages.
    pub fn name(id: u32) -> Option<&'static str> {
        Some(match id {
            RP2040 => "RP2040 (Raspberry Pi Pico)",
            RP2XXX_ABSOLUTE => crate::i18n::t("RP2350 (absolute addresses)"),
            RP2XXX_DATA => crate::i18n::t("RP2040/RP2350 data"),
            RP2350_ARM_S => "RP2350 (Raspberry Pi Pico 2)",
            RP2350_RISCV => "RP2350 RISC-V (Raspberry Pi Pico 2)",
            RP2350_ARM_NS => crate::i18n::t("RP2350 (non-secure)"),
            ESP32S2 => crate::i18n::t("ESP32-S2 (TinyUF2 bootloader)"),
            ESP32S3 => crate::i18n::t("ESP32-S3 (TinyUF2 bootloader)"),
            ESP32 => "ESP32",
            ESP32C3 => "ESP32-C3",
            SAMD21 => "SAMD21",
            SAMD51 => "SAMD51",
            NRF52840 => "nRF52840",
            STM32F4 => "STM32F4",
            _ => return None,
        })
    }
}

/// RP2350-E10's workaround: a leading block the boot ROM must ignore. The extension tag's word:
/// size 4 in the low byte, type 0x9957E3 above it.
pub const TAG_RP2_IGNORE_BLOCK: u32 = 0x9957_E304;

/// One block's header and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    pub flags: u32,
    pub target: u32,
    pub block_no: u32,
    pub num_blocks: u32,
    /// With [`FLAG_FAMILY_ID`]; otherwise the field is the file size (unused here).
    pub family: Option<u32>,
    pub payload: &'a [u8],
    /// Extension tags follow the payload and one of them says "ignore this block".
    pub ignore: bool,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Reads one 512-byte block; `None` when its magic numbers say it is no UF2 block.
pub fn block(raw: &[u8]) -> Option<Block<'_>> {
    if raw.len() != BLOCK
        || u32_at(raw, 0) != MAGIC_START0
        || u32_at(raw, 4) != MAGIC_START1
        || u32_at(raw, 508) != MAGIC_END
    {
        return None;
    }
    let flags = u32_at(raw, 8);
    let size = (u32_at(raw, 16) as usize).min(476);
    let payload = &raw[32..32 + size];
    let mut ignore = false;
    if flags & FLAG_EXTENSION_TAGS != 0 {
        let mut at = (32 + size).next_multiple_of(4);
        while at + 4 <= 508 {
            let word = u32_at(raw, at);
            let len = (word & 0xFF) as usize;
            if len == 0 {
                break;
            }
            if word >> 8 == TAG_RP2_IGNORE_BLOCK >> 8 {
                ignore = true;
            }
            at += len.next_multiple_of(4);
        }
    }
    Some(Block {
        flags,
        target: u32_at(raw, 12),
        block_no: u32_at(raw, 20),
        num_blocks: u32_at(raw, 24),
        family: (flags & FLAG_FAMILY_ID != 0).then(|| u32_at(raw, 28)),
        payload,
        ignore,
    })
}

/// The blocks of one family in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRun {
    pub family: Option<u32>,
    pub blocks: usize,
    /// Lowest target address and the end of the highest payload.
    pub start: u32,
    pub end: u32,
    /// Bytes of payload (what lands in flash).
    pub bytes: u64,
    /// Every block was 256 bytes at a 256-byte-aligned address (what the RP2 ROMs take).
    pub rp2_pages: bool,
}

/// A whole file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uf2 {
    pub runs: Vec<FamilyRun>,
    /// Blocks the boot ROM skips (RP2350-E10's leading absolute block, "not main flash").
    pub skipped: usize,
}

/// Why a file is not a usable UF2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uf2Error {
    Empty,
    /// The first block has no UF2 magic numbers: another kind of file (what it looks like).
    NotUf2(FileKind),
    /// The length is not a whole number of 512-byte blocks (a cut-off download).
    Truncated {
        len: usize,
    },
    /// Block `index` lost its magic numbers (a damaged file).
    DamagedBlock {
        index: usize,
    },
    /// `numBlocks` differs between blocks of one family.
    InconsistentCount {
        family: Option<u32>,
    },
    /// Some of a family's blocks are missing (or appear twice).
    MissingBlocks {
        family: Option<u32>,
        have: usize,
        expected: u32,
    },
}

impl std::fmt::Display for Uf2Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Uf2Error::Empty => f.write_str(t("The file is empty. Download the .uf2 again.")),
            Uf2Error::NotUf2(FileKind::EspImage) => f.write_str(t("This is firmware for an ESP32 or ESP8266 board (.bin), not a UF2 file for a Pico. Choose the .uf2 file for your Pico from the MicroPython download page.")),
            Uf2Error::NotUf2(FileKind::Unknown) => f.write_str(t("This is not a UF2 file (it does not start with a UF2 block). Choose the .uf2 file from the MicroPython download page.")),
            Uf2Error::NotUf2(kind) => f.write_str(&crate::tf!("This is {kind}, not a UF2 file. Choose the .uf2 file from the MicroPython download page.", kind = kind.describe())),
            Uf2Error::Truncated { len } => f.write_str(&crate::tf!("The file ends in the middle of a block ({len} bytes is not a whole number of 512-byte blocks): the download was cut off. Download it again.", len = number(*len as u64))),
            Uf2Error::DamagedBlock { index } => f.write_str(&crate::tf!("Block {index} of the file is damaged. Download the .uf2 again.", index = number(*index as u64))),
            Uf2Error::InconsistentCount { .. } => f.write_str(t("The file's blocks disagree about how many there are: it is damaged. Download it again.")),
            Uf2Error::MissingBlocks { have, expected, .. } => f.write_str(&crate::tf!("The file holds {have} of its {expected} blocks: it is incomplete. Download it again.", have = number(*have as u64), expected = number(*expected as u64))),
        }
    }
}

/// Parses and checks every block of `bytes`.
pub fn parse(bytes: &[u8]) -> Result<Uf2, Uf2Error> {
    if bytes.is_empty() {
        return Err(Uf2Error::Empty);
    }
    if block(&bytes[..bytes.len().min(BLOCK)]).is_none() {
        return Err(Uf2Error::NotUf2(sniff(bytes)));
    }
    if bytes.len() % BLOCK != 0 {
        return Err(Uf2Error::Truncated { len: bytes.len() });
    }
    // family → (numBlocks, block numbers seen, run)
    let mut runs: BTreeMap<Option<u32>, (u32, Vec<bool>, FamilyRun)> = BTreeMap::new();
    let mut skipped = 0;
    for (index, raw) in bytes.chunks_exact(BLOCK).enumerate() {
        let b = block(raw).ok_or(Uf2Error::DamagedBlock { index })?;
        if b.ignore || b.flags & (FLAG_NOT_MAIN_FLASH | FLAG_FILE_CONTAINER) != 0 {
            skipped += 1;
            continue;
        }
        let entry = runs.entry(b.family).or_insert_with(|| {
            (
                b.num_blocks,
                vec![false; b.num_blocks.min(1 << 20) as usize],
                FamilyRun {
                    family: b.family,
                    blocks: 0,
                    start: u32::MAX,
                    end: 0,
                    bytes: 0,
                    rp2_pages: true,
                },
            )
        });
        let (count, seen, run) = entry;
        if b.num_blocks != *count {
            return Err(Uf2Error::InconsistentCount { family: b.family });
        }
        match seen.get_mut(b.block_no as usize) {
            Some(slot) if !*slot => *slot = true,
            _ => {
                return Err(Uf2Error::MissingBlocks {
                    family: b.family,
                    have: run.blocks,
                    expected: *count,
                })
            }
        }
        run.blocks += 1;
        run.start = run.start.min(b.target);
        run.end = run.end.max(b.target.saturating_add(b.payload.len() as u32));
        run.bytes += b.payload.len() as u64;
        run.rp2_pages &= b.payload.len() == 256 && b.target % 256 == 0;
    }
    let mut out = Vec::new();
    for (count, seen, run) in runs.into_values() {
        if seen.iter().any(|s| !s) || run.blocks != count as usize {
            return Err(Uf2Error::MissingBlocks {
                family: run.family,
                have: run.blocks,
                expected: count,
            });
        }
        out.push(run);
    }
    Ok(Uf2 { runs: out, skipped })
}

/// The MicroPython banner text inside a UF2 file's payload (`MicroPython v1.24.1 on
/// 2024-11-29; Raspberry Pi Pico with RP2040`), to show which version a file holds.
pub fn micropython_banner(bytes: &[u8]) -> Option<String> {
    // The payload in file order: blocks of one file are written in address order.
    let mut payload = Vec::with_capacity(bytes.len() / 2);
    for raw in bytes.chunks_exact(BLOCK) {
        if let Some(b) = block(raw) {
            payload.extend_from_slice(b.payload);
        }
    }
    const NEEDLE: &[u8] = b"MicroPython v";
    let at = payload.windows(NEEDLE.len()).position(|w| w == NEEDLE)?;
    let text: String = payload[at..]
        .iter()
        .take(100)
        .take_while(|&&b| (0x20..0x7F).contains(&b))
        .map(|&b| b as char)
        .collect();
    Some(text)
}

/// Writes `image` (at flash address `base`) as a UF2 file of 256-byte blocks of `family`,
/// as `picotool uf2 convert` does. For tests and the simulator.
pub fn build(image: &[u8], base: u32, family: u32) -> Vec<u8> {
    let pages = image.len().div_ceil(256);
    let mut out = Vec::with_capacity(pages * BLOCK);
    for (i, page) in image.chunks(256).enumerate() {
        let mut b = [0u8; BLOCK];
        let mut put = |at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put(0, MAGIC_START0);
        put(4, MAGIC_START1);
        put(8, FLAG_FAMILY_ID);
        put(12, base + 256 * i as u32);
        put(16, 256);
        put(20, i as u32);
        put(24, pages as u32);
        put(28, family);
        put(508, MAGIC_END);
        b[32..32 + page.len()].copy_from_slice(page);
        out.extend_from_slice(&b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn a_picotool_style_file_parses_into_one_run() {
        let file = build(&image(1000), 0x1000_0000, family::RP2040);
        assert_eq!(file.len(), 4 * BLOCK);
        // The first block, byte for byte where it matters.
        assert_eq!(&file[..8], b"UF2\n\x57\x51\x5d\x9e");
        assert_eq!(&file[12..16], &0x1000_0000u32.to_le_bytes());
        assert_eq!(&file[28..32], &0xE48B_FF56u32.to_le_bytes());
        assert_eq!(&file[508..512], b"\x30\x6f\xb1\x0a");
        let uf2 = parse(&file).unwrap();
        assert_eq!(
            uf2.runs,
            vec![FamilyRun {
                family: Some(family::RP2040),
                blocks: 4,
                start: 0x1000_0000,
                end: 0x1000_0400,
                bytes: 1024,
                rp2_pages: true,
            }]
        );
    }

    #[test]
    fn the_banner_is_found_across_blocks() {
        let mut img = image(2000);
        img[250..250 + 45].copy_from_slice(b"MicroPython v1.25.0 on 2025-04-15; Raspberry\0");
        let file = build(&img, 0x1000_0000, family::RP2040);
        assert_eq!(
            micropython_banner(&file).as_deref(),
            Some("MicroPython v1.25.0 on 2025-04-15; Raspberry")
        );
        assert_eq!(micropython_banner(&build(&image(600), 0, 1)), None);
    }

    #[test]
    fn damage_is_named() {
        let file = build(&image(1000), 0x1000_0000, family::RP2040);
        assert_eq!(parse(&file[..1500]), Err(Uf2Error::Truncated { len: 1500 }));
        // One block of four, alone: the rest is missing.
        assert!(matches!(
            parse(&file[512..1024]),
            Err(Uf2Error::MissingBlocks {
                have: 1,
                expected: 4,
                ..
            })
        ));
        let mut broken = file.clone();
        broken[2 * BLOCK + 508] = 0;
        assert_eq!(parse(&broken), Err(Uf2Error::DamagedBlock { index: 2 }));
        assert!(matches!(
            parse(&file[..3 * BLOCK]),
            Err(Uf2Error::MissingBlocks {
                have: 3,
                expected: 4,
                ..
            })
        ));
        let mut twice = file.clone();
        twice.extend_from_slice(&file[..BLOCK]);
        assert!(matches!(parse(&twice), Err(Uf2Error::MissingBlocks { .. })));
        assert_eq!(
            parse(b"<html>").unwrap_err(),
            Uf2Error::NotUf2(FileKind::Html)
        );
        assert_eq!(
            parse(&[0x00; 1024]).unwrap_err(),
            Uf2Error::NotUf2(FileKind::Unknown)
        );
        assert!(parse(b"PK\x03\x04rest")
            .unwrap_err()
            .to_string()
            .starts_with("This is a ZIP archive, not a UF2 file."));
    }

    #[test]
    fn an_rp2350_file_with_its_absolute_block_is_read_past_it() {
        let mut abs = build(&[0xEF; 256], 0x10FF_FF00, family::RP2XXX_ABSOLUTE);
        abs[8..12].copy_from_slice(&(FLAG_FAMILY_ID | FLAG_EXTENSION_TAGS).to_le_bytes());
        abs[24..28].copy_from_slice(&2u32.to_le_bytes());
        // After the 256-byte payload: the ignore-block tag, then the 0 that ends the tags.
        abs[288..292].copy_from_slice(&TAG_RP2_IGNORE_BLOCK.to_le_bytes());
        abs.extend(build(&image(512), 0x1000_0000, family::RP2350_ARM_S));
        let uf2 = parse(&abs).unwrap();
        assert_eq!(uf2.skipped, 1);
        assert_eq!(uf2.runs.len(), 1);
        assert_eq!(uf2.runs[0].family, Some(family::RP2350_ARM_S));
    }
}
