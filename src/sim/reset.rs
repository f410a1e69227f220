//! How DTR/RTS reach the chip's EN (reset) and boot-strap pins.
//!
//! UART bridge boards use the classic two-transistor circuit: EN is pulled low only while RTS
//! is asserted and DTR is not; GPIO0 (the strap) is low only while DTR is asserted and RTS is
//! not. An RC filter on EN delays the release, so the strap is sampled shortly after EN rises,
//! which is why esptool's "DTR on, then RTS off" sequence boots into download mode even though
//! it passes through (DTR, RTS) = (on, on).
//!
//! Espressif's USB-Serial-JTAG peripheral reads the line states itself: asserting RTS while DTR
//! is asserted arms download mode; RTS asserted with DTR released holds the chip in reset; the
//! chip boots (into download mode if armed) when RTS is released. The classic sequence therefore
//! resets such a board into its normal firmware, as it does on real hardware. That reset is a
//! core reset: the strapping pins are not sampled again (the device decides what boots).
//!
//! The wiring is given per change, because on a chip with native USB what answers on the
//! connector (and so what the lines do) changes with what runs (see [`super::usb`]).

use std::time::Duration;

use crate::port::Signals;
use crate::usb::ResetWiring;

/// What the chip does next, as decided by the control lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boot {
    /// Start the ROM serial loader (strap low).
    Download,
    /// Boot from flash.
    Flash,
}

/// The reset/strap circuit between the serial port and the chip.
#[derive(Debug, Clone)]
pub struct ResetCircuit {
    lines: Signals,
    /// EN went high at this time; the chip leaves reset after the RC delay.
    releasing_since: Option<Duration>,
    in_reset: bool,
    download_armed: bool,
    release_delay: Duration,
}

impl ResetCircuit {
    pub fn new(release_delay: Duration) -> Self {
        ResetCircuit {
            lines: Signals::default(),
            releasing_since: None,
            in_reset: false,
            download_armed: false,
            release_delay,
        }
    }

    /// True while the chip is held in reset.
    pub fn in_reset(&self) -> bool {
        self.in_reset
    }

    /// The time at which a pending reset release takes effect, if one is pending.
    pub fn release_due(&self) -> Option<Duration> {
        self.releasing_since.map(|t| t + self.release_delay)
    }

    fn strap_low(&self) -> bool {
        self.lines.dtr && !self.lines.rts
    }

    /// Applies new line states at `at`, as the circuit of `wiring` sees them. Returns
    /// `Some(boot)` when the chip comes out of reset.
    pub fn set_lines(&mut self, at: Duration, lines: Signals, wiring: ResetWiring) -> Option<Boot> {
        let mut boot = self.poll(at);
        let before = self.lines;
        self.lines = lines;
        match wiring {
            ResetWiring::UartBridge => {
                let en_low = lines.rts && !lines.dtr;
                if en_low {
                    self.in_reset = true;
                    self.releasing_since = None;
                } else if self.in_reset && self.releasing_since.is_none() {
                    self.releasing_since = Some(at);
                }
            }
            ResetWiring::UsbJtagSerial => {
                if lines.rts && !before.rts && lines.dtr {
                    self.download_armed = true;
                }
                if lines.rts && !lines.dtr {
                    self.in_reset = true;
                } else if self.in_reset && !lines.rts {
                    self.in_reset = false;
                    let armed = std::mem::take(&mut self.download_armed);
                    boot = Some(if armed { Boot::Download } else { Boot::Flash });
                }
            }
            // The ROM's USB-OTG CDC port ignores the lines.
            ResetWiring::UsbOtg => {}
        }
        boot
    }

    /// Lets time pass; returns `Some(boot)` if the chip left reset by `now`.
    pub fn poll(&mut self, now: Duration) -> Option<Boot> {
        let due = self.release_due()?;
        if now < due {
            return None;
        }
        self.releasing_since = None;
        self.in_reset = false;
        Some(if self.strap_low() {
            Boot::Download
        } else {
            Boot::Flash
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(dtr: bool, rts: bool) -> Signals {
        Signals { dtr, rts }
    }
    const MS: Duration = Duration::from_millis(1);

    /// esptool's ClassicReset, line by line.
    fn classic(c: &mut ResetCircuit, c_wiring: ResetWiring) -> Option<Boot> {
        let mut boot = None;
        let steps = [
            (0, s(false, false)),
            (0, s(false, true)),
            (100, s(true, true)),
            (100, s(true, false)),
            (150, s(false, false)),
        ];
        for (t, lines) in steps {
            boot = boot.or(c.set_lines(MS * t, lines, c_wiring));
        }
        boot.or(c.poll(MS * 200))
    }

    /// esptool's USBJTAGSerialReset, line by line.
    fn usb_jtag(c: &mut ResetCircuit, c_wiring: ResetWiring) -> Option<Boot> {
        let mut boot = None;
        let steps = [
            (0, s(false, false)),
            (100, s(true, false)),
            (200, s(true, true)),
            (200, s(false, true)),
            (200, s(false, true)),
            (300, s(false, true)),
            (300, s(false, false)),
        ];
        for (t, lines) in steps {
            boot = boot.or(c.set_lines(MS * t, lines, c_wiring));
        }
        boot.or(c.poll(MS * 400))
    }

    #[test]
    fn classic_sequence_enters_download_on_a_uart_bridge() {
        let mut c = ResetCircuit::new(MS * 2);
        assert_eq!(
            classic(&mut c, ResetWiring::UartBridge),
            Some(Boot::Download)
        );
    }

    #[test]
    fn rts_pulse_alone_boots_from_flash() {
        let mut c = ResetCircuit::new(MS * 2);
        let bridge = ResetWiring::UartBridge;
        assert_eq!(c.set_lines(MS * 0, s(false, true), bridge), None);
        assert_eq!(c.set_lines(MS * 100, s(false, false), bridge), None);
        assert_eq!(c.poll(MS * 103), Some(Boot::Flash));
    }

    #[test]
    fn usb_jtag_needs_its_own_sequence() {
        let usj = ResetWiring::UsbJtagSerial;
        let mut c = ResetCircuit::new(MS * 2);
        assert_eq!(usb_jtag(&mut c, usj), Some(Boot::Download));
        let mut c = ResetCircuit::new(MS * 2);
        assert_eq!(classic(&mut c, usj), Some(Boot::Flash));
    }
}
