//! Test images built byte by byte (no binary fixtures in the tree).

use crate::protocol::chip::Chip;
use crate::protocol::image::{build, BuildSpec, ExtHeader, APP_DESC_MAGIC};

pub fn ext_for(chip: Chip, min_rev_full: u16, max_rev_full: u16) -> ExtHeader {
    ExtHeader {
        wp_pin: 0xEE,
        drive: [0; 3],
        chip_id: chip.spec().image_chip_id.expect("not an ESP8266"),
        min_rev: 0,
        min_rev_full,
        max_rev_full,
        hash_appended: true,
    }
}

fn spec(ext: Option<ExtHeader>) -> BuildSpec {
    BuildSpec {
        flash_mode: 2,
        // 4 MB code for ESP32 family (0x20) / 4 MB for ESP8266 is 0x40; freq 40 MHz.
        flash_size_freq: if ext.is_some() { 0x20 } else { 0x40 },
        entry: 0x4008_0400,
        ext,
    }
}

/// A bootloader image for `chip` with a revision range.
pub fn bootloader_rev(chip: Chip, min_rev_full: u16, max_rev_full: u16) -> Vec<u8> {
    if chip == Chip::Esp8266 {
        return esp8266_firmware();
    }
    // Not XOR-neutral, so a parser that skipped the checksum would be caught.
    let data: Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(37) ^ 0x5A).collect();
    build(
        &spec(Some(ext_for(chip, min_rev_full, max_rev_full))),
        &[(0x3FFF_0000, &data[..32]), (0x4007_8000, &data[32..])],
    )
}

/// A MicroPython-style merged binary: bootloader, then (at file offset 0x7000 for the
/// partition table, here shortened) more bytes that are not part of the image.
pub fn merged(chip: Chip) -> Vec<u8> {
    let mut out = bootloader_rev(chip, 0, 0xFFFF);
    out.resize(0x2000, 0xFF);
    out.extend_from_slice(b"\xAA\x50partition table and app follow");
    out
}

/// An ESP-IDF app image: the first segment starts with the app descriptor.
pub fn app(chip: Chip) -> Vec<u8> {
    let mut desc = APP_DESC_MAGIC.to_le_bytes().to_vec();
    desc.extend_from_slice(&[0x11; 252]);
    build(
        &spec(Some(ext_for(chip, 0, 0xFFFF))),
        &[
            (0x3F40_0020, &desc),
            (0x400D_0020, &[0x22, 0x33, 0x44, 0x55]),
        ],
    )
}

/// A whole ESP8266 MicroPython-style firmware: an image without extended header, then IROM.
pub fn esp8266_firmware() -> Vec<u8> {
    let mut out = build(
        &spec(None),
        &[
            (0x4010_0000, &[0x33, 0x10, 0x20, 0x30]),
            (0x3FFE_8000, &[0x44; 16]),
        ],
    );
    out.resize(0x9000, 0xFF);
    out.extend_from_slice(&[0x55; 256]);
    out
}
