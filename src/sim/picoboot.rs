//! The PICOBOOT interface of an RP2040/RP2350 in BOOTSEL mode, as its boot ROM serves it
//! (`boards.md` §2.11), over [`UsbDevice`] with a virtual clock. It shares the flash with the
//! drive model ([`Bootsel`]), and is strict where the ROM is: a packet that is not a 32-byte
//! command with the magic stalls both endpoints; a wrong size or transfer length, an address
//! outside flash, RAM and ROM, a flash read or write not on a 256-byte page, an erase not in
//! whole 4 KiB sectors: the status says which and the endpoint stalls until the host clears it
//! (INTERFACE_RESET). Flash is NOR: writing only clears bits. Flash addresses alias modulo the
//! flash size, as the chip sees them. The RP2040 ROM's quirk is kept: a no-data command whose
//! task fails (a misaligned erase) is acknowledged with status OK and does nothing.
//!
//! Timing: bulk data at full speed (~1 MB/s), 45 ms per sector erase, 0.8 ms per page program.

use std::time::Duration;

use crate::boards::picoboot::{
    code, expected_size, Block, Status, EP_IN, EP_OUT, FLASH_BASE, GET_COMMAND_STATUS,
    INTERFACE_RESET, PAGE, REQUEST_IN, REQUEST_OUT, SECTOR,
};
use crate::boards::rp2::Rp2Chip;
use crate::sim::rp2::Bootsel;
use crate::usb_device::{Setup, UsbDevice, UsbError};

/// A byte of bulk data at full speed (about 1 MB/s; the bus's ceiling is 19 packets of 64 bytes
/// per 1 ms frame, 1.216 MB/s).
pub const BYTE: Duration = Duration::from_nanos(1000);
/// A 4 KiB sector erase and a 256-byte page program on the Pico's QSPI flash (W25Q16JV typical).
pub const ERASE: Duration = Duration::from_millis(45);
pub const PROGRAM: Duration = Duration::from_micros(800);

/// Where a command stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Idle,
    /// Receiving a WRITE's data at `address`, `left` bytes to go.
    DataOut {
        address: u32,
        left: u32,
    },
    /// Sending `data` from `at`.
    DataIn {
        data: Vec<u8>,
        at: usize,
    },
    /// The host reads a zero-length packet (after an OUT or no-data command); the work takes
    /// `busy` before it comes.
    AckIn {
        busy: Duration,
    },
    /// The host sends one packet (after an IN command).
    AckOut,
}

/// Faults a test can inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The cable is pulled once this many bytes of WRITE data have arrived.
    pub unplug_after_written: Option<usize>,
    /// After the next page program covering this address, one bit there flips (a bad cell).
    pub flip_after_write: Option<u32>,
}

pub struct PicobootSim {
    pub rom: Bootsel,
    now: Duration,
    status: Status,
    stall_out: bool,
    stall_in: bool,
    phase: Phase,
    pub exclusive: u8,
    xip_exited: bool,
    /// The chip reboots then (REBOOT / REBOOT2 acknowledged).
    reboot_at: Option<Duration>,
    unplugged: bool,
    pub faults: Faults,
    written: usize,
    /// Flash changed without EXIT_XIP first (picotool never does that; neither ROM checks,
    /// so this is reported, not refused).
    pub without_exit_xip: usize,
    pub erases: usize,
}

impl PicobootSim {
    pub fn new(rom: Bootsel) -> PicobootSim {
        PicobootSim {
            rom,
            now: Duration::ZERO,
            status: Status {
                token: 0,
                code: code::OK,
                id: 0,
                in_progress: false,
            },
            stall_out: false,
            stall_in: false,
            phase: Phase::Idle,
            exclusive: 0,
            xip_exited: false,
            reboot_at: None,
            unplugged: false,
            faults: Faults::default(),
            written: 0,
            without_exit_xip: 0,
            erases: 0,
        }
    }

    fn chip(&self) -> Rp2Chip {
        self.rom.chip()
    }

    /// Time passes to `now` (a host on another clock, such as the browser tests' Pico).
    pub fn set_now(&mut self, now: Duration) {
        self.now = self.now.max(now);
    }

    /// Back on the bus in BOOTSEL mode (after a reboot into BOOTSEL, or plugged in again): the
    /// ROM starts afresh, the flash keeps what it holds.
    pub fn reconnect(&mut self) {
        self.reset();
        self.reboot_at = None;
        self.unplugged = false;
        self.xip_exited = false;
        self.written = 0;
    }

    /// The cable is pulled.
    pub fn unplug(&mut self) {
        self.unplugged = true;
    }

    /// The device is no longer on the bus (rebooted, or unplugged).
    pub fn gone(&self) -> bool {
        self.unplugged || self.reboot_at.is_some_and(|at| self.now >= at)
    }

    /// When the chip reboots, once a REBOOT/REBOOT2 was acknowledged.
    pub fn reboot_due(&self) -> Option<Duration> {
        self.reboot_at
    }

    /// The chip has rebooted (into its flash if that holds an image, see [`Bootsel::after_reboot`]).
    pub fn rebooted(&self) -> bool {
        self.reboot_at.is_some_and(|at| self.now >= at)
    }

    fn check(&self) -> Result<(), UsbError> {
        if self.gone() {
            Err(UsbError::Disconnected)
        } else {
            Ok(())
        }
    }

    fn fail(&mut self, code: u32) {
        self.status.code = code;
        self.stall_out = true;
        self.stall_in = true;
        self.phase = Phase::Idle;
    }

    fn reset(&mut self) {
        self.stall_out = false;
        self.stall_in = false;
        self.phase = Phase::Idle;
        self.status = Status {
            token: 0,
            code: code::OK,
            id: 0,
            in_progress: false,
        };
        self.exclusive = 0;
    }

    /// The flash window's end (the ROM accepts flash addresses up to it and aliases).
    fn window_end(&self) -> u64 {
        match self.chip() {
            Rp2Chip::Rp2040 => 0x2000_0000,
            Rp2Chip::Rp2350 => 0x1200_0000,
        }
    }

    fn in_flash(&self, address: u32, len: u32) -> bool {
        address >= FLASH_BASE && address as u64 + len as u64 <= self.window_end()
    }

    fn offset(&self, address: u32) -> usize {
        (address - FLASH_BASE) as usize % self.rom.flash().len()
    }

    /// The ROM's own bytes a host may read (picotool reads the magic at 0x10).
    fn rom_bytes(&self, address: u32, len: u32) -> Option<Vec<u8>> {
        let limit = match self.chip() {
            Rp2Chip::Rp2040 => 0x2000u64,
            Rp2Chip::Rp2350 => 0x7E01,
        };
        if address as u64 + len as u64 >= limit {
            return None;
        }
        let (chip, version) = match self.chip() {
            Rp2Chip::Rp2040 => (1, 3),
            Rp2Chip::Rp2350 => (2, 2),
        };
        let mut rom = vec![0u8; limit as usize];
        rom[0x10..0x14].copy_from_slice(&[0x4D, 0x75, chip, version]);
        Some(rom[address as usize..(address + len) as usize].to_vec())
    }

    fn command(&mut self, packet: &[u8]) {
        let Some(block) = Block::parse(packet) else {
            // Not a command: both endpoints stall, the status stays as it was.
            self.stall_out = true;
            self.stall_in = true;
            return;
        };
        self.status = Status {
            token: block.token,
            code: code::UNKNOWN_CMD,
            id: block.id,
            in_progress: false,
        };
        let id = block.id;
        let known = match self.chip() {
            Rp2Chip::Rp2040 => matches!(id, 0x01 | 0x02 | 0x03 | 0x84 | 0x05 | 0x06 | 0x07),
            Rp2Chip::Rp2350 => matches!(id, 0x01 | 0x03 | 0x84 | 0x05 | 0x06 | 0x07 | 0x0A | 0x8B),
        };
        if !known {
            return self.fail(code::UNKNOWN_CMD);
        }
        if expected_size(id) != Some(block.size) {
            return self.fail(code::INVALID_CMD_LENGTH);
        }
        let (address, size) = (block.word(0), block.word(1));
        let transfer_ok = match id {
            0x84 | 0x05 => block.transfer_length == size,
            0x8B => block.transfer_length <= 256,
            _ => block.transfer_length == 0,
        };
        if !transfer_ok {
            return self.fail(code::INVALID_TRANSFER_LENGTH);
        }
        self.status.code = code::OK;
        let ack = |busy| Phase::AckIn { busy };
        self.phase = match id {
            0x01 => {
                self.exclusive = block.args[0];
                ack(Duration::ZERO)
            }
            0x02 => {
                // RP2040 REBOOT: acknowledged, then the watchdog reboots after the delay.
                self.reboot_at = Some(self.now + Duration::from_millis(block.word(2) as u64));
                ack(Duration::ZERO)
            }
            0x0A => {
                if block.word(0) & 0xF != 0 {
                    return self.fail(code::NOT_PERMITTED);
                }
                self.reboot_at = Some(self.now + Duration::from_millis(block.word(1) as u64));
                ack(Duration::ZERO)
            }
            0x06 => {
                self.xip_exited = true;
                ack(Duration::ZERO)
            }
            0x07 => {
                self.xip_exited = false;
                ack(Duration::ZERO)
            }
            0x03 => {
                let bad = if address % SECTOR != 0 || size % SECTOR != 0 {
                    Some(code::BAD_ALIGNMENT)
                } else if !self.in_flash(address, size) {
                    Some(code::INVALID_ADDRESS)
                } else {
                    None
                };
                match (bad, self.chip()) {
                    // RP2040: a no-data task's failure is acknowledged, status OK, nothing done.
                    (Some(_), Rp2Chip::Rp2040) => ack(Duration::ZERO),
                    (Some(code), Rp2Chip::Rp2350) => return self.fail(code),
                    (None, _) => {
                        if !self.xip_exited {
                            self.without_exit_xip += 1;
                        }
                        let mut s = 0;
                        while s < size {
                            let at = self.offset(address + s);
                            self.rom.flash_mut()[at..at + SECTOR as usize].fill(0xFF);
                            s += SECTOR;
                            self.erases += 1;
                        }
                        ack(ERASE * (size / SECTOR))
                    }
                }
            }
            0x05 => {
                if address % PAGE != 0 || size % PAGE != 0 {
                    self.status.code = code::BAD_ALIGNMENT;
                    self.stall_out = true;
                    return;
                }
                if !self.in_flash(address, size) {
                    self.status.code = code::INVALID_ADDRESS;
                    self.stall_out = true;
                    return;
                }
                if !self.xip_exited {
                    self.without_exit_xip += 1;
                }
                Phase::DataOut {
                    address,
                    left: size,
                }
            }
            0x84 => {
                let data = if let Some(rom) = self.rom_bytes(address, size) {
                    rom
                } else if !self.in_flash(address, size) {
                    self.status.code = code::INVALID_ADDRESS;
                    self.stall_in = true;
                    return;
                } else if address % PAGE != 0 {
                    self.status.code = code::BAD_ALIGNMENT;
                    self.stall_in = true;
                    return;
                } else {
                    (0..size)
                        .map(|i| self.rom.flash()[self.offset(address + i)])
                        .collect()
                };
                Phase::DataIn { data, at: 0 }
            }
            0x8B => {
                // GET_INFO SYS: FLASH_DEV_INFO is the ROM's default (CS0 16 MiB) unless OTP sets it.
                let mut words = vec![0u32, block.args[4] as u32 & 0x08];
                if block.args[0] != 1 {
                    return self.fail(code::INVALID_ARG);
                }
                if block.args[4] & 0x08 != 0 {
                    words.push(0x0C00);
                }
                words[0] = words.len() as u32 - 1;
                let mut data: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
                data.resize(block.transfer_length as usize, 0);
                Phase::DataIn { data, at: 0 }
            }
            _ => unreachable!("checked above"),
        };
    }

    fn data_out(&mut self, bytes: &[u8], address: u32, left: u32) -> Result<(), UsbError> {
        let n = (bytes.len() as u32).min(left);
        if let Some(limit) = self.faults.unplug_after_written {
            if self.written + n as usize >= limit {
                self.unplugged = true;
                return Err(UsbError::Disconnected);
            }
        }
        self.written += n as usize;
        let base = self.offset(address);
        let flash = &mut self.rom.flash_mut()[base..base + n as usize];
        for (cell, &b) in flash.iter_mut().zip(&bytes[..n as usize]) {
            // NOR flash: programming clears bits, it never sets them.
            *cell &= b;
        }
        if let Some(flip) = self.faults.flip_after_write {
            if (address..address + n).contains(&flip) {
                self.faults.flip_after_write = None;
                let at = self.offset(flip);
                self.rom.flash_mut()[at] ^= 0x01;
            }
        }
        self.now += PROGRAM * n.div_ceil(PAGE);
        self.phase = if left == n {
            Phase::AckIn {
                busy: Duration::ZERO,
            }
        } else {
            Phase::DataOut {
                address: address + n,
                left: left - n,
            }
        };
        Ok(())
    }
}

impl UsbDevice for PicobootSim {
    async fn control_out(&mut self, setup: Setup, _data: &[u8]) -> Result<(), UsbError> {
        self.check()?;
        self.now += Duration::from_millis(1);
        if (setup.request_type, setup.request) == (REQUEST_OUT, INTERFACE_RESET) {
            self.reset();
            return Ok(());
        }
        Err(UsbError::Stall)
    }

    async fn control_in(&mut self, setup: Setup, len: u16) -> Result<Vec<u8>, UsbError> {
        self.check()?;
        self.now += Duration::from_millis(1);
        if (setup.request_type, setup.request, len) == (REQUEST_IN, GET_COMMAND_STATUS, 16) {
            return Ok(self.status.to_bytes().to_vec());
        }
        Err(UsbError::Stall)
    }

    async fn bulk_out(&mut self, endpoint: u8, data: &[u8]) -> Result<(), UsbError> {
        self.check()?;
        if endpoint != EP_OUT || self.stall_out {
            return Err(UsbError::Stall);
        }
        self.now += BYTE * data.len() as u32 + Duration::from_micros(100);
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Idle => self.command(data),
            Phase::DataOut { address, left } => self.data_out(data, address, left)?,
            // Any single packet is the ack.
            Phase::AckOut => {}
            other => {
                // Data sent while the device expects to send: both stall.
                self.phase = other;
                self.fail(code::UNKNOWN_ERROR);
                return Err(UsbError::Stall);
            }
        }
        Ok(())
    }

    async fn bulk_in(&mut self, endpoint: u8, len: usize) -> Result<Vec<u8>, UsbError> {
        self.check()?;
        if endpoint != EP_IN || self.stall_in {
            return Err(UsbError::Stall);
        }
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::DataIn { data, at } => {
                let n = len.min(data.len() - at);
                let out = data[at..at + n].to_vec();
                self.now += BYTE * n as u32 + Duration::from_micros(100);
                self.phase = if at + n == data.len() {
                    Phase::AckOut
                } else {
                    Phase::DataIn { data, at: at + n }
                };
                Ok(out)
            }
            Phase::AckIn { busy } => {
                self.now += busy + Duration::from_micros(100);
                Ok(Vec::new())
            }
            other => {
                // Nothing to send: the host waits until its timeout.
                self.phase = other;
                Err(UsbError::Other("timed out".into()))
            }
        }
    }

    async fn clear_halt(&mut self, endpoint_in: bool, _endpoint: u8) -> Result<(), UsbError> {
        self.check()?;
        if endpoint_in {
            self.stall_in = false;
        } else {
            self.stall_out = false;
        }
        Ok(())
    }

    async fn sleep(&mut self, duration: Duration) {
        self.now += duration;
    }

    fn now(&self) -> Duration {
        self.now
    }
}
