//! The lower bound a flash job is measured against:
//!
//! `max(wire, flash) + fixed`, where
//! - `wire` = the zlib level-9 bytes of the data that must change, 10 bits each at the final
//!   baud (no framing, headers or acknowledgements);
//! - `flash` = erasing the 64 KiB blocks (4 KiB sectors at ragged ends) that hold other data,
//!   plus programming every changed 256-byte page, at the `sim::timing` datasheet figures;
//!   the stub erases and programs while the next block is on the wire, so this overlaps `wire`;
//! - `fixed` = what no host can avoid, at the model's figures:
//!   1. the auto-reset pulse: EN held low 100 ms, then GPIO0 held 50 ms after EN rises (the
//!      classic DTR/RTS circuit; esptool and we use the same holds);
//!   2. the ROM's boot to the download loop (`boot_delay`) and one SYNC exchange at 115200
//!      (46 bytes out, 14 back, one USB latency each way);
//!   3. the stub's bytes on the wire at the final baud (at 115200 where the ROM cannot change
//!      baud: ESP8266);
//!   4. one final MD5 of the written range: the chip reads it (`read_per_mb`) and answers
//!      (one latency each way);
//!   5. the hard reset pulse into the app: RTS held 100 ms.
//!
//! Not fixed costs (they are overheads the job is judged on): chip detection, register reads,
//! settling after a baud change, the MD5 comparison before writing, per-block headers, SLIP
//! escapes and acknowledgements.

use std::time::Duration;

use webflash::protocol::stub::StubImage;
use webflash::sim::timing::{wire_time, Timing};

use crate::image::deflated_len;

/// The bound's parts, in seconds.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Bound {
    pub wire: f64,
    pub flash: f64,
    pub fixed: f64,
    pub total: f64,
}

const ROM_BAUD: u32 = 115_200;

/// The fixed costs of a write job of `written` bytes (items 1–5 above).
pub fn fixed(stub: &StubImage, stub_baud: u32, written: usize) -> Duration {
    let t = Timing::default();
    let ms = Duration::from_millis;
    let stub_bytes: usize = stub.segments.iter().map(|s| s.data.len()).sum();
    let rtt = 2 * t.usb_latency;
    ms(100)
        + ms(50)
        + t.boot_delay
        + wire_time(46 + 14, ROM_BAUD)
        + rtt
        + wire_time(stub_bytes, stub_baud)
        + t.read(written)
        + rtt
        + ms(100)
}

/// Erase + program time for writing `new` over `old` (same length, at `offset`).
pub fn flash_time(offset: u32, old: &[u8], new: &[u8]) -> Duration {
    let t = Timing::default();
    let mut total = Duration::ZERO;
    let mut at = 0usize;
    while at < new.len() {
        let abs = offset as usize + at;
        let block = abs % 0x10000 == 0 && at + 0x10000 <= new.len();
        let step = if block {
            0x10000
        } else {
            0x1000 - abs % 0x1000
        };
        let end = (at + step).min(new.len());
        if old[at..end] != new[at..end] {
            let dirty = old[at..end].iter().any(|&b| b != 0xFF);
            if dirty {
                total += if block { t.block_erase } else { t.sector_erase };
            }
            total += t.program(end - at);
        }
        at = end;
    }
    total
}

/// The bound for writing `new` over `old` at `offset`, at `baud`.
pub fn write_bound(
    offset: u32,
    old: &[u8],
    new: &[u8],
    stub: &StubImage,
    stub_baud: u32,
    baud: u32,
) -> Bound {
    let changed: Vec<u8> = changed_blocks(offset, old, new);
    let wire = if changed.is_empty() {
        Duration::ZERO
    } else {
        wire_time(deflated_len(&changed), baud)
    };
    let flash = flash_time(offset, old, new);
    let fixed = fixed(stub, stub_baud, new.len());
    Bound {
        wire: wire.as_secs_f64(),
        flash: flash.as_secs_f64(),
        fixed: fixed.as_secs_f64(),
        total: (wire.max(flash) + fixed).as_secs_f64(),
    }
}

/// The 64 KiB blocks of `new` that differ from `old`, concatenated (what must be sent).
fn changed_blocks(offset: u32, old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < new.len() {
        let abs = offset as usize + at;
        let end = ((abs / 0x10000 + 1) * 0x10000 - offset as usize).min(new.len());
        if old[at..end] != new[at..end] {
            out.extend_from_slice(&new[at..end]);
        }
        at = end;
    }
    out
}

/// The wire limit for `bytes` at `baud`, in seconds.
pub fn wire_limit(bytes: usize, baud: u32) -> f64 {
    wire_time(bytes, baud).as_secs_f64()
}
