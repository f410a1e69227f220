//! The flash plan's checks: each refusal, its message (what is wrong and what to do), the
//! expert override, and the header patch.

use super::fixtures::*;
use super::*;
use crate::protocol::chip::Chip;

pub(super) const MB: u32 = 1024 * 1024;

pub(super) fn target(chip: Chip) -> Target {
    Target {
        chip,
        revision: 301,
        flash_size: 4 * MB,
    }
}

pub(super) fn part(name: &str, offset: u32, data: Vec<u8>) -> Part {
    Part {
        name: name.into(),
        offset,
        data,
    }
}

pub(super) fn plan(t: Target, parts: Vec<Part>) -> Result<FlashPlan, Vec<Refusal>> {
    FlashPlan::build(t, parts, PlanOptions::default())
}

/// The single refusal for one part, with its message.
pub(super) fn refuse(t: Target, p: Part) -> (Refusal, String) {
    let mut r = plan(t, vec![p]).expect_err("must be refused");
    assert_eq!(r.len(), 1, "{r:?}");
    let r = r.remove(0);
    let msg = r.to_string();
    (r, msg)
}

pub(super) fn has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "missing {p:?} in: {msg}");
    }
}

#[test]
fn micropython_layouts_pass_for_every_family() {
    for (chip, offset) in [
        (Chip::Esp32, 0x1000),
        (Chip::Esp32S2, 0x1000),
        (Chip::Esp32S3, 0),
        (Chip::Esp32C3, 0),
        (Chip::Esp32C6, 0),
        (Chip::Esp32C5, 0x2000),
        (Chip::Esp32P4, 0x2000),
        (Chip::Esp8266, 0),
    ] {
        let fw = if chip == Chip::Esp8266 {
            esp8266_firmware()
        } else {
            merged(chip)
        };
        let p = plan(target(chip), vec![part("firmware.bin", offset, fw)]);
        let p = p.unwrap_or_else(|r| panic!("{chip}: {r:?}"));
        assert_eq!(p.parts[0].offset, offset);
        assert!(p.overridden.is_empty());
    }
}

#[test]
fn the_classic_three_part_idf_layout_passes() {
    let parts = vec![
        part("app.bin", 0x10000, app(Chip::Esp32)),
        part(
            "bootloader.bin",
            0x1000,
            bootloader_rev(Chip::Esp32, 0, 399),
        ),
        part("partitions.bin", 0x8000, vec![0xAA, 0x50, 1, 2]),
    ];
    let p = plan(target(Chip::Esp32), parts).unwrap();
    let order: Vec<u32> = p.parts.iter().map(|p| p.offset).collect();
    assert_eq!(order, [0x1000, 0x8000, 0x10000]);
    assert_eq!(p.parts[1].kind, FileKind::Unknown);
}

#[test]
fn an_image_for_another_chip_is_refused_both_ways_round_the_esp8266() {
    let (r, msg) = refuse(
        target(Chip::Esp32C3),
        part("fw.bin", 0, merged(Chip::Esp32S3)),
    );
    assert_eq!(
        r,
        Refusal::WrongChip {
            name: "fw.bin".into(),
            image: ImageChip::Known(Chip::Esp32S3),
            board: Chip::Esp32C3
        }
    );
    has(
        &msg,
        &[
            "for ESP32-S3",
            "board is an ESP32-C3",
            "Download the firmware made for ESP32-C3",
        ],
    );
    // ESP8266 board, ESP32 image (no extended header expected).
    let (r, msg) = refuse(
        target(Chip::Esp8266),
        part("fw.bin", 0, merged(Chip::Esp32)),
    );
    assert!(
        matches!(
            r,
            Refusal::WrongChip {
                image: ImageChip::Known(Chip::Esp32),
                ..
            }
        ),
        "{r:?}"
    );
    has(&msg, &["firmware for ESP32,", "made for ESP8266"]);
    // ESP32 board, ESP8266 image.
    let (r, _) = refuse(
        target(Chip::Esp32),
        part("fw.bin", 0x1000, esp8266_firmware()),
    );
    assert!(
        matches!(
            r,
            Refusal::WrongChip {
                image: ImageChip::Known(Chip::Esp8266),
                ..
            }
        ),
        "{r:?}"
    );
}

#[test]
fn boot_images_must_sit_at_the_chips_bootloader_offset() {
    let (r, msg) = refuse(target(Chip::Esp32), part("fw.bin", 0, merged(Chip::Esp32)));
    assert!(matches!(r, Refusal::BootImageOffset { offset: 0, .. }));
    has(
        &msg,
        &[
            "starts from 0x1000",
            "set to 0x0",
            "Set the offset to 0x1000",
            "right for ESP8266, ESP32-S3",
        ],
    );
    let (_, msg) = refuse(
        target(Chip::Esp32S3),
        part("fw.bin", 0x1000, merged(Chip::Esp32S3)),
    );
    has(
        &msg,
        &[
            "starts from 0x0",
            "Set the offset to 0x0",
            "0x1000 is right for ESP32, ESP32-S2",
        ],
    );
    let (_, msg) = refuse(
        target(Chip::Esp8266),
        part("fw.bin", 0x1000, esp8266_firmware()),
    );
    has(&msg, &["Set the offset to 0x0"]);
}

#[test]
fn app_images_must_sit_in_an_app_partition() {
    let (r, msg) = refuse(
        target(Chip::Esp32),
        part("app.bin", 0x1000, app(Chip::Esp32)),
    );
    assert_eq!(
        r,
        Refusal::AppImageOffset {
            name: "app.bin".into(),
            offset: 0x1000
        }
    );
    has(
        &msg,
        &[
            "application image",
            "Set the offset to 0x10000",
            "complete firmware",
        ],
    );
    let (r, _) = refuse(
        target(Chip::Esp32C3),
        part("app.bin", 0, app(Chip::Esp32C3)),
    );
    assert!(matches!(r, Refusal::AppImageOffset { offset: 0, .. }));
    assert!(plan(
        target(Chip::Esp32C3),
        vec![part("app.bin", 0x110000, app(Chip::Esp32C3))]
    )
    .is_ok());
}

#[test]
fn raw_data_at_the_bootloader_offset_is_refused() {
    let (r, msg) = refuse(
        target(Chip::Esp32S3),
        part("littlefs.bin", 0, vec![0xFF; 4096]),
    );
    assert!(matches!(
        r,
        Refusal::NotBootable {
            first_byte: 0xFF,
            ..
        }
    ));
    has(
        &msg,
        &[
            "looks for its bootloader",
            "starts with 0xff",
            "chose the firmware .bin file",
        ],
    );
    // The same data elsewhere is fine (a file-system image, a partition table).
    assert!(plan(
        target(Chip::Esp32S3),
        vec![part("littlefs.bin", 0x200000, vec![0xFF; 4096])]
    )
    .is_ok());
}

#[test]
fn files_that_are_never_firmware_are_named() {
    let t = target(Chip::Esp32);
    let cases: [(&[u8], &[&str]); 7] = [
        (
            b"<!DOCTYPE html><title>404 Not Found</title>",
            &["is a web page (HTML)", "direct link to the .bin file"],
        ),
        (
            b"UF2\n\x57\x51\x5D\x9E\0\0\0\0",
            &[
                "UF2 file",
                "Raspberry Pi Pico",
                "the .bin firmware for ESP32",
            ],
        ),
        (
            b"\x7FELF\x01\x01\x01\0",
            &["ELF file", "Use the .bin file from the same build folder"],
        ),
        (b"PK\x03\x04\x14\0\0\0", &["ZIP archive", "unzip it first"]),
        (&[0x1F, 0x8B, 8, 0], &["gzip", "decompress it first"]),
        (
            b":10000000000000000000000000000000000000F0\n",
            &["Intel HEX", "Download the .bin instead"],
        ),
        (b"{\"builds\":[]}", &["JSON", "load it as a manifest"]),
    ];
    for (bytes, words) in cases {
        let (r, msg) = refuse(t, part("firmware.bin", 0x1000, bytes.to_vec()));
        assert!(matches!(r, Refusal::NotFirmware { .. }), "{r:?}");
        has(&msg, words);
        has(&msg, &["\"firmware.bin\" is "]);
    }
}

#[test]
fn damaged_images_are_refused_with_the_reason() {
    let mut fw = merged(Chip::Esp32);
    fw[0x30] ^= 0x40; // inside the first segment's data
    let (r, msg) = refuse(target(Chip::Esp32), part("fw.bin", 0x1000, fw));
    assert!(matches!(r, Refusal::DamagedImage { .. }), "{r:?}");
    has(&msg, &["damaged", "checksum", "download it again"]);
    let short = merged(Chip::Esp32S3)[..40].to_vec();
    let (_, msg) = refuse(target(Chip::Esp32S3), part("fw.bin", 0, short));
    has(&msg, &["cut short", "ends at byte 40", "download it again"]);
}

#[test]
fn empty_misaligned_too_large_and_nothing() {
    let t = target(Chip::Esp32);
    let (_, msg) = refuse(t, part("fw.bin", 0x1000, vec![]));
    has(&msg, &["is empty (0 bytes)", "Download it again"]);
    let (r, msg) = refuse(t, part("data.bin", 0x8100, vec![0; 16]));
    assert_eq!(
        r,
        Refusal::Misaligned {
            name: "data.bin".into(),
            offset: 0x8100,
            suggestion: 0x8000
        }
    );
    has(
        &msg,
        &["0x8100", "multiple of 0x1000", "probably be 0x8000"],
    );
    // For an image the suggestion is where that image belongs.
    let mut r = plan(t, vec![part("fw.bin", 0x1004, merged(Chip::Esp32))]).unwrap_err();
    assert!(r
        .iter()
        .any(|r| matches!(r, Refusal::BootImageOffset { .. })));
    r.retain(|r| matches!(r, Refusal::Misaligned { .. }));
    has(&r[0].to_string(), &["probably be 0x1000"]);
    let (_, msg) = refuse(t, part("fs.bin", 0x3F_F000, vec![0; 0x2000]));
    has(
        &msg,
        &[
            "would end at 0x401000",
            "4MB flash",
            "Download the build made for boards with 4MB",
        ],
    );
    let (_, msg) = refuse(t, part("fs.bin", 0x40_0000, vec![0; 16]));
    has(&msg, &["start at 0x400000", "only 4MB", "Check the offset"]);
    let r = plan(t, vec![]).unwrap_err();
    assert_eq!(r, vec![Refusal::NoParts]);
    has(
        &r[0].to_string(),
        &["nothing to flash", "choose a firmware file"],
    );
}

#[test]
fn overlapping_parts_are_refused_pairwise() {
    let t = target(Chip::Esp32);
    let parts = vec![
        part("fw.bin", 0x1000, merged(Chip::Esp32)), // ends at 0x3000+
        part("partitions.bin", 0x2000, vec![0xAA; 0x100]),
        part("app.bin", 0x10000, app(Chip::Esp32)),
    ];
    let r = plan(t, parts).unwrap_err();
    assert_eq!(r.len(), 1, "{r:?}");
    has(
        &r[0].to_string(),
        &[
            "\"fw.bin\" (0x1000 to",
            "\"partitions.bin\" (0x2000 to 0x2100)",
            "overwrite the other",
            "Check their offsets",
        ],
    );
}

#[test]
fn every_reason_is_reported_at_once() {
    let t = target(Chip::Esp32);
    let parts = vec![
        part("a.bin", 0x1000, merged(Chip::Esp32C3)),
        part("b.html", 0x1800, b"<html>".to_vec()),
    ];
    let r = plan(t, parts).unwrap_err();
    assert_eq!(r.len(), 4, "{r:?}"); // wrong chip, misaligned, not firmware, overlap
}
