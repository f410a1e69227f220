//! The speed features keep every write honest: skipping what is already there still verifies,
//! a partial rewrite touches only the blocks that differ, nothing outside the regions changes,
//! and the baud is raised in the ROM before the stub goes over the link.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{board, firmware_like, stub};
use webflash::loader::{Baud, Event, Loader, Region, Stage, WriteOptions, WriteReport};
use webflash::port::Port;
use webflash::protocol::chip::Chip;
use webflash::sim::{block_on, SimPort};
use webflash::usb::ResetWiring;

const OFFSET: u32 = 0x1000;
/// Not a multiple of 64 KiB, so the first and last blocks are partial; whole sectors.
const LEN: usize = 0x5F000;
const WIRING: Option<ResetWiring> = Some(ResetWiring::UartBridge);

/// A connected board (stub or ROM) whose flash starts as `flash`.
fn ready(chip: Chip, stub: bool, flash: &[u8]) -> Loader<SimPort> {
    let mut l = board(chip, ResetWiring::UartBridge);
    l.port_mut().device_mut().load_flash(flash);
    block_on(async {
        l.connect(WIRING, 7).await.unwrap();
        l.detect().await.unwrap();
        if stub {
            l.run_stub(&common::stub(chip), false).await.unwrap();
        }
        l.set_flash_size(4 << 20).await.unwrap();
    });
    l
}

fn write(l: &mut Loader<SimPort>, data: &[u8]) -> WriteReport {
    block_on(l.write_flash(
        &[Region {
            offset: OFFSET,
            data,
        }],
        WriteOptions::default(),
    ))
    .unwrap()
}

/// 4 MB of junk (nothing erased) with `image` at OFFSET.
fn flash_with(image: &[u8]) -> Vec<u8> {
    let mut flash = firmware_like(4 << 20, 99);
    flash[OFFSET as usize..OFFSET as usize + image.len()].copy_from_slice(image);
    flash
}

#[test]
fn identical_reflash_sends_no_data_and_still_verifies() {
    let image = firmware_like(LEN, 1);
    for (chip, stub) in [
        (Chip::Esp32, true),
        (Chip::Esp32, false),
        (Chip::Esp8266, true),
    ] {
        let mut l = ready(chip, stub, &flash_with(&image));
        let before = l.port().tx_log.len();
        let report = write(&mut l, &image);
        assert!(report.verified, "{chip} stub={stub}");
        assert_eq!((report.written, report.sent), (0, 0), "{chip} stub={stub}");
        assert_eq!(report.skipped, LEN as u64);
        // Only a few MD5 requests went out.
        assert!(l.port().tx_log.len() - before < 200, "{chip} stub={stub}");
    }
}

#[test]
fn one_changed_block_is_the_only_one_rewritten() {
    let old = firmware_like(LEN, 2);
    let mut new = old.clone();
    // A byte in the block at 0x30000 (0x2F000 into the region).
    new[0x2F000 + 1234] ^= 0xA5;
    for stub in [true, false] {
        let flash = flash_with(&old);
        let mut l = ready(Chip::Esp32, stub, &flash);
        let report = write(&mut l, &new);
        assert!(report.verified);
        assert_eq!(report.written, 0x10000, "stub={stub}");
        assert_eq!(report.skipped, (LEN - 0x10000) as u64);
        let after = l.port().device().flash();
        assert!(after[OFFSET as usize..OFFSET as usize + LEN] == new[..]);
    }
}

#[test]
fn flash_outside_the_regions_is_untouched() {
    let old = firmware_like(LEN, 3);
    let mut new = firmware_like(LEN, 4);
    // Keep some blocks equal so the write is split into runs, including the partial first one.
    new[0x1F000..0x2F000].copy_from_slice(&old[0x1F000..0x2F000]);
    for stub in [true, false] {
        let flash = flash_with(&old);
        let mut l = ready(Chip::Esp32, stub, &flash);
        let report = write(&mut l, &new);
        assert!(report.verified && report.skipped == 0x10000, "stub={stub}");
        let after = l.port().device().flash();
        let (start, end) = (OFFSET as usize, OFFSET as usize + LEN);
        assert!(after[..start] == flash[..start], "stub={stub}: below");
        assert!(after[end..] == flash[end..], "stub={stub}: above");
        assert!(after[start..end] == new[..], "stub={stub}: the region");
    }
}

#[test]
fn a_lie_about_the_flash_is_caught_by_the_final_md5() {
    // Erases fail, so blocks found different are "written" over old bits: the verify must fail.
    let old = firmware_like(LEN, 5);
    let mut new = old.clone();
    new[0x40000] ^= 0xFF;
    let mut l = ready(Chip::Esp32, true, &flash_with(&old));
    l.port_mut().device_mut().set_erase_fails(true);
    let result = block_on(l.write_flash(
        &[Region {
            offset: OFFSET,
            data: &new,
        }],
        WriteOptions::default(),
    ));
    assert!(
        matches!(result, Err(webflash::loader::Error::Verify { .. })),
        "{result:?}"
    );
}

#[test]
fn baud_is_raised_in_the_rom_before_the_stub() {
    for chip in [Chip::Esp32, Chip::Esp32C3, Chip::Esp8266] {
        let mut l = board(chip, ResetWiring::UartBridge);
        let stages = Rc::new(RefCell::new(Vec::new()));
        let sink = stages.clone();
        l.on_event(move |e| {
            if let Event::Stage(s) = e {
                sink.borrow_mut().push(s)
            }
        });
        let stub = stub(chip);
        let plan = Some(Baud::Auto { max: 921_600 });
        let ready = block_on(l.prepare_with(WIRING, Some(&stub), plan)).unwrap();
        assert!(ready.stub);
        let stages = stages.borrow();
        let baud_at = stages.iter().position(|s| *s == Stage::ChangingBaud);
        let stub_at = stages.iter().position(|s| *s == Stage::UploadingStub);
        if chip.spec().rom_can_change_baud {
            assert!(baud_at < stub_at, "{chip}: {stages:?}");
            assert_eq!(l.port().baud(), 921_600, "{chip}");
        } else {
            assert_eq!(baud_at, None, "{chip}: the ESP8266 ROM keeps 115200");
        }
    }
}

#[test]
fn rom_baud_falls_back_when_the_link_cannot_keep_up() {
    let mut config = webflash::sim::DeviceConfig::new(Chip::Esp32);
    config.max_baud = 460_800;
    let mut l = Loader::new(SimPort::new(webflash::sim::Device::new(config)));
    let stub = stub(Chip::Esp32);
    let plan = Some(Baud::Auto { max: 921_600 });
    let ready = block_on(l.prepare_with(WIRING, Some(&stub), plan)).unwrap();
    assert!(ready.stub);
    assert_eq!(l.port().baud(), 460_800);
}

#[test]
fn a_blank_gap_before_the_image_lets_the_chip_erase_its_first_block_at_once() {
    // MicroPython's ESP32 image starts at 0x1000, inside the first 64 KiB erase block. When
    // 0x0-0x1000 reads blank that block is erased in one go instead of 15 sectors; when it
    // holds data (a secure-boot digest, say) it stays as it is.
    let image = firmware_like(LEN, 5);
    let modeled = |gap_blank: bool| {
        let mut flash = flash_with(&firmware_like(LEN, 6));
        if gap_blank {
            flash[..OFFSET as usize].fill(0xFF);
        }
        let mut l = ready(Chip::Esp32, true, &flash);
        block_on(l.change_baud(921_600)).unwrap();
        let start = l.port().now();
        let report = write(&mut l, &image);
        let took = l.port().now() - start;
        assert!(report.verified);
        let after = l.port().device().flash();
        let (begin, end) = (OFFSET as usize, OFFSET as usize + LEN);
        assert!(
            after[..begin] == flash[..begin],
            "gap blank={gap_blank}: below"
        );
        assert!(
            after[begin..end] == image[..],
            "gap blank={gap_blank}: the image"
        );
        assert!(after[end..] == flash[end..], "gap blank={gap_blank}: above");
        took
    };
    let (blank, programmed) = (modeled(true), modeled(false));
    assert!(
        programmed.as_millis() > blank.as_millis() + 300,
        "block erase saves the sector-by-sector stall: {blank:?} vs {programmed:?}"
    );
}

#[test]
fn other_firmware_is_not_compared_block_by_block_to_the_end() {
    // Four leading blocks that differ mean other firmware: the rest is written without asking
    // the chip for each block's MD5 (a round trip each), and the result is still verified.
    let image = firmware_like(LEN, 7);
    let mut l = ready(Chip::Esp32, true, &flash_with(&firmware_like(LEN, 8)));
    let before = l.port().tx_log.len();
    let report = write(&mut l, &image);
    assert!(report.verified && report.skipped == 0);
    let md5_requests = l.port().tx_log[before..]
        .windows(3)
        .filter(|w| *w == [0xC0, 0x00, 0x13])
        .count();
    // The whole region, four blocks, the 4 KiB below the image (is it blank?), the final check.
    assert_eq!(md5_requests, 7);
    let after = l.port().device().flash();
    assert!(after[OFFSET as usize..OFFSET as usize + LEN] == image[..]);
}
