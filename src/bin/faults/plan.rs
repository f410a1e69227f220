//! What one seeded session does: which board, which job, what goes wrong. Everything follows
//! from the seed, so any session replays exactly (`faults --replay SEED`).

use std::time::Duration;

use webflash::protocol::chip::Chip;
use webflash::sim::noisy::Rng;
use webflash::usb::ResetWiring;

/// The per-byte error rates the campaign sweeps (both directions).
pub const NOISE: [f64; 5] = [0.0, 1e-6, 1e-5, 1e-4, 1e-3];

/// Every chip in the table.
pub const CHIPS: [Chip; 10] = [
    Chip::Esp8266,
    Chip::Esp32,
    Chip::Esp32S2,
    Chip::Esp32S3,
    Chip::Esp32C2,
    Chip::Esp32C3,
    Chip::Esp32C5,
    Chip::Esp32C6,
    Chip::Esp32H2,
    Chip::Esp32P4,
];

/// The job a session runs after connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Other firmware on the board; write the image.
    Fresh,
    /// The image is already there; write it again (compared, mostly skipped).
    Reflash,
    /// Read a region back.
    ReadBack,
    /// Erase a region.
    Erase,
}

/// The one extra thing that goes wrong besides line noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    None,
    /// Garbage in place of `len` bytes, host to chip or back, during the job.
    Burst {
        to_chip: bool,
        len: usize,
    },
    /// Nothing moves for this long, during the job.
    Stall(Duration),
    /// The chip resets by itself (power glitch, watchdog) during the job.
    ChipReset,
    /// The cable is pulled during the job.
    Unplug,
    /// Garbage for a while after each baud change.
    BaudGlitch(usize),
    /// Answers SYNC but the stub never starts (it stops while the stub arrives).
    NeverStub,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub seed: u64,
    pub chip: Chip,
    pub stub: bool,
    pub wiring: ResetWiring,
    pub op: Op,
    pub noise: f64,
    pub fault: Fault,
    pub len: usize,
    /// Where in the job the fault lands, as a fraction of the job's bytes.
    pub at: f64,
}

/// The wirings a chip is sold with.
pub fn wirings(chip: Chip) -> &'static [ResetWiring] {
    use ResetWiring::*;
    match chip {
        Chip::Esp32S2 => &[UartBridge, UsbOtg],
        Chip::Esp32S3 | Chip::Esp32P4 => &[UartBridge, UsbJtagSerial, UsbOtg],
        Chip::Esp32C3 | Chip::Esp32C5 | Chip::Esp32C6 | Chip::Esp32H2 => {
            &[UartBridge, UsbJtagSerial]
        }
        _ => &[UartBridge],
    }
}

impl Spec {
    pub fn from_seed(seed: u64) -> Spec {
        let mut r = Rng::new(seed);
        let chip = *r.pick(&CHIPS);
        let wiring = *r.pick(wirings(chip));
        // The ESP8266's ROM cannot hash, so it cannot verify a write: always the stub there.
        let stub = chip == Chip::Esp8266 || r.below(4) != 0;
        let op = *r.pick(&[Op::Fresh, Op::Fresh, Op::Reflash, Op::ReadBack, Op::Erase]);
        let noise = *r.pick(&NOISE);
        let fault = match r.below(14) {
            0 => Fault::Burst {
                to_chip: r.below(2) == 0,
                len: 1 + r.below(200) as usize,
            },
            1 => Fault::Stall(Duration::from_millis(100 + r.below(9_900))),
            2 => Fault::ChipReset,
            3 => Fault::Unplug,
            4 => Fault::BaudGlitch(1 + r.below(64) as usize),
            5 if stub => Fault::NeverStub,
            _ => Fault::None,
        };
        // Reading with the ROM takes 64 bytes a request: keep those jobs short.
        let max = match (op, stub) {
            (Op::ReadBack, false) => 128 << 10,
            (Op::ReadBack, true) => 1 << 20,
            _ => 1_536 << 10,
        };
        let len = (4096 + r.below(max as u64 - 4096) as usize) & !3;
        Spec {
            seed,
            chip,
            stub,
            wiring,
            op,
            noise,
            fault,
            len,
            at: r.unit(),
        }
    }
}
