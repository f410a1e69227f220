//! What the demo Pico and the demo pyboard share while they run MicroPython: the official port
//! (in a worker, `webflash::sim::micropython`) behind a USB serial port on the browser's clock,
//! its output delivered after its wire time, and `machine.bootloader()` / `machine.reset()`
//! ending it.

use std::time::Duration;

use webflash::sim::flash::NorFlash;
use webflash::sim::micropython::{Board, MicroPython};
use webflash::sim::timing::wire_time;
use webflash::web::time::now;

/// The board's version and build date from its banner
/// (`MicroPython v1.24.1 on 2024-11-29; Raspberry Pi Pico with RP2040`).
pub fn version_and_date(banner: &str) -> (String, String) {
    let version = banner.split_whitespace().nth(1).unwrap_or("v1.24.1");
    let date = banner
        .split(" on ")
        .nth(1)
        .and_then(|d| d.get(..10))
        .unwrap_or("2024-11-29");
    (version.into(), date.into())
}

/// Why MicroPython ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `machine.bootloader()`.
    Bootloader,
    /// `machine.reset()`.
    Reset,
}

/// A board's MicroPython on its USB serial port.
pub struct SerialMicroPython {
    /// Flash as MicroPython sees it (its files live in it).
    pub flash: NorFlash,
    mp: Option<MicroPython>,
    out: Vec<u8>,
    /// When the serial link delivers what MicroPython printed.
    due: Duration,
}

impl SerialMicroPython {
    pub fn new(flash: NorFlash) -> SerialMicroPython {
        SerialMicroPython {
            flash,
            mp: None,
            out: Vec::new(),
            due: Duration::ZERO,
        }
    }

    /// MicroPython starts (a board that has been running a while: nothing of its boot shows).
    pub fn start(&mut self, board: Board) {
        self.mp = Some(MicroPython::resume(now(), board, &mut self.flash));
    }

    pub fn running(&self) -> bool {
        self.mp.is_some()
    }

    /// Lets time pass; says when MicroPython ended (it asked for its bootloader or a reset):
    /// its USB serial device is gone.
    pub fn tick(&mut self) -> Option<Ended> {
        let mp = self.mp.as_mut()?;
        mp.advance(now(), &mut self.flash);
        for (_, bytes) in mp.take_output() {
            self.out.extend_from_slice(&bytes);
        }
        let ended = if mp.take_bootloader() {
            Ended::Bootloader
        } else if mp.take_hard_reset() {
            Ended::Reset
        } else {
            return None;
        };
        self.mp = None;
        self.out.clear();
        Some(ended)
    }

    /// Bytes from the page to MicroPython.
    pub fn write(&mut self, data: &[u8]) {
        let t = now();
        if let Some(mp) = self.mp.as_mut() {
            mp.receive(t, data, &mut self.flash);
        }
        self.due = t + wire_time(data.len(), 115_200);
    }

    /// What MicroPython printed that has arrived by now.
    pub fn take(&mut self) -> Vec<u8> {
        if now() < self.due {
            return Vec::new();
        }
        std::mem::take(&mut self.out)
    }

    /// When the host should look again.
    pub fn next_event(&self) -> Option<Duration> {
        self.mp.as_ref().and_then(|mp| mp.next_event_at())
    }
}
