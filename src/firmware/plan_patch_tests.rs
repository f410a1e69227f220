//! The flash plan's revision check, the expert override and the flash-size header patch.

use super::fixtures::*;
use super::plan_tests::{has, part, plan, refuse, target, MB};
use super::*;
use crate::protocol::chip::Chip;
use crate::protocol::image::{self, Layout};

#[test]
fn revision_ranges_follow_esptool() {
    let fw = |min, max| merged_rev(Chip::Esp32, min, max);
    let t = |revision| Target {
        revision,
        ..target(Chip::Esp32)
    };
    assert!(plan(t(300), vec![part("fw.bin", 0x1000, fw(300, 399))]).is_ok());
    assert!(plan(t(100), vec![part("fw.bin", 0x1000, fw(0, 0xFFFF))]).is_ok());
    let (r, msg) = refuse(t(100), part("fw.bin", 0x1000, fw(300, 0xFFFF)));
    assert!(matches!(
        r,
        Refusal::Revision {
            min: 300,
            max: None,
            ..
        }
    ));
    has(
        &msg,
        &[
            "revision v3.0 or newer",
            "this chip is revision v1.0",
            "generic build for ESP32",
        ],
    );
    let (_, msg) = refuse(t(400), part("fw.bin", 0x1000, fw(0, 399)));
    has(&msg, &["v3.99 or older"]);
    let (_, msg) = refuse(t(100), part("fw.bin", 0x1000, fw(200, 399)));
    has(&msg, &["between v2.0 and v3.99"]);
}

fn merged_rev(chip: Chip, min: u16, max: u16) -> Vec<u8> {
    let mut out = bootloader_rev(chip, min, max);
    out.extend_from_slice(&[0xFF; 64]);
    out
}

#[test]
fn the_expert_override_bypasses_chip_and_offset_checks_only() {
    let opts = PlanOptions {
        expert_override: true,
        ..PlanOptions::default()
    };
    let p = FlashPlan::build(
        target(Chip::Esp32C3),
        vec![part("fw.bin", 0x1000, merged(Chip::Esp32))],
        opts,
    )
    .unwrap();
    assert_eq!(p.overridden.len(), 2, "{:?}", p.overridden); // wrong chip + offset
    assert!(p.overridden.iter().all(Refusal::overridable));
    let too_big = vec![part("fw.bin", 0, vec![1; 5 * MB as usize])];
    assert!(FlashPlan::build(target(Chip::Esp32C3), too_big, opts).is_err());
    let html = vec![part("fw.bin", 0x10000, b"<html>".to_vec())];
    assert!(FlashPlan::build(target(Chip::Esp32C3), html, opts).is_err());
    // Never the default.
    assert!(!PlanOptions::default().expert_override);
}

#[test]
fn the_bootloader_header_gets_the_detected_flash_size() {
    let t = Target {
        flash_size: 16 * MB,
        ..target(Chip::Esp32)
    };
    let original = merged(Chip::Esp32);
    let p = plan(t, vec![part("fw.bin", 0x1000, original.clone())]).unwrap();
    let planned = &p.parts[0];
    assert_eq!(
        planned.patched,
        Some(HeaderPatch {
            before: 0x20,
            after: 0x40
        })
    );
    assert_eq!(planned.data[3], 0x40);
    assert_eq!(planned.data[2], original[2], "mode kept");
    let img = image::parse(&planned.data, Layout::Esp32).expect("digest fixed");
    assert_eq!(img.flash_size_code(), 0x40);
    assert_eq!(
        planned.data[img.end()..],
        original[img.end()..],
        "rest of the merged file untouched"
    );
    assert_eq!(planned.data.len(), original.len());
    // ESP8266: 1 MB board gets code 0x20, no digest involved.
    let t = Target {
        flash_size: MB,
        ..target(Chip::Esp8266)
    };
    let p = plan(t, vec![part("fw.bin", 0, esp8266_firmware())]).unwrap();
    assert_eq!(
        p.parts[0].patched,
        Some(HeaderPatch {
            before: 0x40,
            after: 0x20
        })
    );
}

#[test]
fn nothing_is_patched_when_it_should_not_be() {
    // Same size already, app images, patching disabled.
    let p = plan(
        target(Chip::Esp32),
        vec![part("fw.bin", 0x1000, merged(Chip::Esp32))],
    )
    .unwrap();
    assert_eq!(p.parts[0].patched, None);
    let t = Target {
        flash_size: 16 * MB,
        ..target(Chip::Esp32)
    };
    let a = app(Chip::Esp32);
    let p = plan(t, vec![part("app.bin", 0x10000, a.clone())]).unwrap();
    assert_eq!((p.parts[0].patched, &p.parts[0].data), (None, &a));
    let opts = PlanOptions {
        patch_flash_size: false,
        ..PlanOptions::default()
    };
    let p = FlashPlan::build(t, vec![part("fw.bin", 0x1000, merged(Chip::Esp32))], opts).unwrap();
    assert_eq!(p.parts[0].patched, None);
    assert_eq!(p.total_bytes(), merged(Chip::Esp32).len() as u64);
}
