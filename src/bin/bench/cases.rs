//! The modeled cases: fresh flash, identical re-flash, one changed block, read-back, erase-all,
//! each against its lower bound (see `bound`). Also the same jobs with a speed feature turned
//! off, so each change shows in the numbers.

use std::time::Instant;

use webflash::loader::BlockDeflater;
use webflash::protocol::chip::Chip;
use webflash::protocol::stub::StubImage;
use webflash::sim::timing::Timing;

use crate::bound::{wire_limit, write_bound};
use crate::image::{deflated_len, micropython_like, newer_build, other_firmware};
use crate::modeled::{flash_job, phase_map, stub_op, Flow};
use crate::report::Row;

pub const BAUD: u32 = 921_600;
const FLASH: usize = 4 << 20;

/// Image size per chip: MicroPython's ESP32 and C3 builds are about 1.5 MB, ESP8266 ~0.6 MB.
fn image_len(chip: Chip) -> usize {
    match chip {
        Chip::Esp8266 => 640 * 1024,
        _ => 1536 * 1024,
    }
}

/// Flash holding other firmware (another ESP-IDF project) at the image's place.
fn old_flash(chip: Chip, len: usize) -> Vec<u8> {
    let mut flash = vec![0xFF; FLASH];
    let at = chip.spec().bootloader_offset as usize;
    flash[at..at + len].copy_from_slice(&other_firmware(len, 7));
    flash
}

/// The second flash with the page's defaults (ESP32, 1.5 MB): a board with other firmware gets
/// everything erased first; the same MicroPython again, or its next release, is written over
/// what is there (only what changed), the files kept. Each against the fresh flash.
pub fn default_cases(stub: &StubImage, rows: &mut Vec<Row>) {
    let chip = Chip::Esp32;
    let len = image_len(chip);
    let image = micropython_like(len, 1);
    let name = |what: &str| format!("{chip} page defaults: {what} {} KB", len / 1024);
    let reason = |run: &crate::modeled::Run| {
        let (all, why) = run.decision.clone().unwrap_or_default();
        format!("{} — {why}", if all { "erased all" } else { "no erase" })
    };
    let fresh = flash_job(
        chip,
        &old_flash(chip, len),
        &image,
        stub,
        BAUD,
        Flow::PageDefaults,
    );
    rows.push(
        Row::new(
            name("other firmware → MicroPython"),
            fresh.seconds,
            "modeled",
        )
        .detail(reason(&fresh)),
    );
    let mut compare = |what: &str, run: crate::modeled::Run, target: Option<f64>| {
        let detail = format!(
            "{}; wrote {} B, skipped {} B",
            reason(&run),
            run.written,
            run.skipped
        );
        let mut row = Row::new(name(what), run.seconds, "modeled")
            .against("fresh flash (page defaults)", fresh.seconds, target)
            .detail(detail);
        row.phases = phase_map(&run.phases);
        rows.push(row);
    };
    let same = flash_job(
        chip,
        &fresh.flash_after,
        &image,
        stub,
        BAUD,
        Flow::PageDefaults,
    );
    compare("identical re-flash", same, Some(0.10));
    let newer = newer_build(len, 1);
    let update = flash_job(
        chip,
        &fresh.flash_after,
        &newer,
        stub,
        BAUD,
        Flow::PageDefaults,
    );
    compare("newer MicroPython release", update, None);
    let old_default = flash_job(chip, &fresh.flash_after, &image, stub, BAUD, Flow::EraseAll);
    compare("identical, old default (erase all)", old_default, None);
}

fn stub_baud(chip: Chip) -> u32 {
    if chip.spec().rom_can_change_baud {
        BAUD
    } else {
        115_200
    }
}

/// Fresh flash, identical re-flash and (ESP32) one changed block, for `chip`.
pub fn write_cases(chip: Chip, stub: &StubImage, rows: &mut Vec<Row>) {
    let len = image_len(chip);
    let image = micropython_like(len, 1);
    let offset = chip.spec().bootloader_offset;
    let at = offset as usize;
    let before = old_flash(chip, len);
    let ratio = deflated_len(&image) as f64 / len as f64;
    let sb = stub_baud(chip);
    let target = (chip == Chip::Esp32).then_some(1.10);
    let name = |what: &str| format!("{chip} {what} {} KB", len / 1024);

    let fresh = flash_job(chip, &before, &image, stub, BAUD, Flow::Fast);
    let bound = write_bound(offset, &before[at..at + len], &image, stub, sb, BAUD);
    let mut row = Row::new(name("fresh flash"), fresh.seconds, "modeled")
        .against("lower bound", bound.total, target)
        .detail(format!(
            "deflated to {:.1} %, sent {} B at {} baud; bound: wire {:.3} flash {:.3} fixed {:.3}",
            ratio * 100.0,
            fresh.sent,
            fresh.baud,
            bound.wire,
            bound.flash,
            bound.fixed
        ));
    row.phases = phase_map(&fresh.phases);
    rows.push(row);

    let plain = flash_job(chip, &before, &image, stub, BAUD, Flow::Plain);
    let mut row = Row::new(name("fresh, stub at 115200"), plain.seconds, "modeled")
        .against("lower bound", bound.total, None)
        .detail("without the ROM baud change (esptool's order)");
    row.phases = phase_map(&plain.phases);
    rows.push(row);

    let same = flash_job(chip, &fresh.flash_after, &image, stub, BAUD, Flow::Fast);
    let bound_same = write_bound(offset, &image, &image, stub, sb, BAUD);
    let mut row = Row::new(name("identical re-flash"), same.seconds, "modeled")
        .against("lower bound", bound_same.total, None)
        .detail(format!(
            "{:.3} of the fresh flash; wrote {} B, skipped {} B",
            same.seconds / fresh.seconds,
            same.written,
            same.skipped
        ));
    row.phases = phase_map(&same.phases);
    rows.push(row);

    let same_plain = flash_job(chip, &fresh.flash_after, &image, stub, BAUD, Flow::Plain);
    rows.push(
        Row::new(
            name("identical, no skipping"),
            same_plain.seconds,
            "modeled",
        )
        .against("lower bound", bound_same.total, None)
        .detail("writes everything again"),
    );

    if chip == Chip::Esp32 {
        let mut changed = image.clone();
        let block = 0x10000 * 8 - at;
        changed[block + 100] ^= 0x5A;
        let one = flash_job(chip, &fresh.flash_after, &changed, stub, BAUD, Flow::Fast);
        let bound_one = write_bound(offset, &image, &changed, stub, sb, BAUD);
        let mut row = Row::new(name("one 64 KiB block changed"), one.seconds, "modeled")
            .against("lower bound", bound_one.total, None)
            .detail(format!(
                "wrote {} B, skipped {} B",
                one.written, one.skipped
            ));
        row.phases = phase_map(&one.phases);
        rows.push(row);
    }
}

/// 4 MB read-back and erase-all on ESP32 with the stub at 921600.
pub fn stub_cases(stub: &StubImage, rows: &mut Vec<Row>) {
    let chip = Chip::Esp32;
    let len = image_len(chip);
    let flash = old_flash(chip, len);
    let expect = flash.clone();
    let (total, read, _) = stub_op(chip, &flash, stub, BAUD, async |l| {
        let back = l.read_flash(0, FLASH as u32).await.unwrap();
        assert!(back == expect, "read-back matches the flash");
    });
    let limit = wire_limit(FLASH, BAUD);
    rows.push(
        Row::new(
            "esp32 4 MB read-back = whole-flash backup (read phase)",
            read,
            "modeled",
        )
        .against("wire limit", limit, Some(1.05))
        .detail(format!("whole job incl. connect + stub: {total:.3} s")),
    );
    let (total, erase, _) = stub_op(chip, &flash, stub, BAUD, async |l| {
        l.erase_flash(FLASH as u32).await.unwrap();
        assert!(l.port().device().flash().iter().all(|&b| b == 0xFF));
    });
    let chip_erase = Timing::default().chip_erase_per_mb.as_secs_f64() * 4.0;
    rows.push(
        Row::new("esp32 erase-all 4 MB (erase phase)", erase, "modeled")
            .against("chip erase time", chip_erase, None)
            .detail(format!("whole job incl. connect + stub: {total:.3} s")),
    );
    // Whole-flash restore (step 3's backup): the board got MicroPython over its original
    // firmware; the backup of that firmware goes back, only the blocks that differ are sent, and
    // the whole 4 MB is checked by MD5.
    let backup = flash.clone();
    let mut now = flash;
    let at = chip.spec().bootloader_offset as usize;
    now[at..at + len].copy_from_slice(&micropython_like(len, 3));
    let (total, restore, _) = stub_op(chip, &now, stub, BAUD, async |l| {
        let baud = webflash::loader::Baud::Auto { max: BAUD };
        let out = l
            .restore_flash(&backup, baud, crate::modeled::WIRING, Some(stub))
            .await
            .unwrap();
        assert!(out.report.verified);
        assert!(
            l.port().device().flash() == &backup[..],
            "restored byte for byte"
        );
    });
    let bound = write_bound(0, &now, &backup, stub, BAUD, BAUD);
    rows.push(
        Row::new(
            "esp32 whole-flash restore 4 MB (write + verify)",
            restore,
            "modeled",
        )
        .against("bound (wire or flash)", bound.wire.max(bound.flash), None)
        .detail(format!(
            "whole job incl. connect + stub: {total:.3} s; bound: wire {:.3} flash {:.3}",
            bound.wire, bound.flash
        )),
    );
}

/// Host CPU: how soon the first block can leave, whole-image deflate vs streaming.
pub fn first_block_row() -> Row {
    let image = micropython_like(1536 * 1024, 1);
    let t = Instant::now();
    let whole = miniz_oxide::deflate::compress_to_vec_zlib(&image, 9);
    let whole_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let first = BlockDeflater::new(&image)
        .next_block(0x4000)
        .unwrap()
        .0
        .len();
    let first_s = t.elapsed().as_secs_f64();
    assert!(first > 0 && whole.len() > first);
    Row::new(
        "host: first 16 KiB block ready (streaming)",
        first_s,
        "wall",
    )
    .against("whole-image deflate first", whole_s, None)
    .detail("CPU time on this machine; the browser's wasm is slower")
}
