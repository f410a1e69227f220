//! The simulated device: an ESP chip on a board, as seen from the serial port.
//!
//! [`Device`] is a pure, clocked model: the transport tells it when bytes arrive and when the
//! control lines change, and collects what it sends back, each chunk stamped with the time it
//! leaves the chip and the baud rate the chip's UART runs at. It never reads a clock itself,
//! so the same model runs in tests under a virtual clock ([`SimPort`]), in the `esp-sim`
//! process under wall time, and in the browser's demo board.
//!
//! Inside: a reset circuit ([`reset`]), the ROM loader ([`rom`]), the flasher stub ([`stub`]),
//! a NOR flash ([`flash::NorFlash`]), the timing model ([`timing`]), and the firmware a board
//! runs after reset: MicroPython ([`micropython`]), recognised from the flash contents.

mod boot;
pub(crate) mod bootlog;
mod device;
pub mod flash;
mod loader;
mod memory;
pub mod micropython;
pub mod noisy;
pub mod picoboot;
mod port;
mod regs;
pub mod reset;
pub mod rp2;
pub mod stm32_dfu;
pub mod timing;
pub mod usb;
mod watchdog;
mod write;

pub use device::{usual_revision, Device, DeviceConfig, Faults, Output, StartMode};
pub use port::{block_on, Clock, SimPort, VirtualClock};

/// Whether a UART at `a` baud reads bytes sent at `b`: their bit times may differ by 2 % (half
/// a bit over a 10-bit frame, shared by both ends' clock errors).
pub fn rates_match(a: u32, b: u32) -> bool {
    a.abs_diff(b) as u64 * 100 <= a.max(b) as u64 * 2
}

/// What the receiving UART makes of bytes sent at another baud rate: framing garbage, about
/// as many bytes as fit the time at the receiver's rate. Deterministic, so tests repeat.
pub fn garble(bytes: &[u8], sent_baud: u32, receiver_baud: u32) -> Vec<u8> {
    if bytes.is_empty() || rates_match(sent_baud, receiver_baud) {
        return bytes.to_vec();
    }
    let n = ((bytes.len() as u64 * receiver_baud as u64) / sent_baud as u64).max(1) as usize;
    (0..n)
        .map(|i| {
            let b = bytes[i * bytes.len() / n];
            // Never a SLIP delimiter, so garbage cannot fake a frame boundary.
            match b.rotate_left(3) ^ 0x5A {
                0xC0 => 0xE0,
                g => g,
            }
        })
        .collect()
}

/// Deterministic bytes that compress about as well as firmware does.
pub fn firmware_like(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.max(1);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        // Runs of repeated bytes mixed with noise.
        let run = (x >> 28) as usize + 1;
        let byte = if x & 3 == 0 { 0 } else { (x >> 8) as u8 };
        out.extend(std::iter::repeat_n(byte, run.min(len - out.len())));
    }
    out
}
