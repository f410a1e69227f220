//! A simulated STM32F405 (pyboard) in ST's DFU bootloader, behind [`UsbDevice`] with a virtual
//! clock: the DFU 1.1 state machine with DfuSe commands (`boards.md` §4.1–4.5), 1 MiB of flash in
//! the F405's sectors, datasheet erase and program times, and strictness where the silicon is
//! strict: addresses outside the flash are refused (errTARGET), programming over bytes that are
//! not erased fails (errPROG), a request in the wrong state stalls and leaves dfuERROR, and after
//! the zero-length DNLOAD the device resets into its firmware and is gone from the bus.

use std::time::Duration;

use crate::boards::dfu::layout::{self, Layout};
use crate::boards::dfu::request::{
    dfu_configuration, dfuse, Request, GET_CONFIGURATION_DESCRIPTOR, IN, OUT,
};
use crate::usb_device::{Setup, UsbDevice, UsbError};

pub const FLASH_START: u32 = 0x0800_0000;
pub const FLASH_SIZE: usize = 1 << 20;
/// mboot's and the F4 ROM's wTransferSize.
pub const TRANSFER_SIZE: u16 = 2048;
/// One control transfer on a full-speed bus (a frame), plus the data at ~1 MB/s.
const TRANSFER: Duration = Duration::from_millis(1);

const IDLE: u8 = 2;
const DNLOAD_SYNC: u8 = 3;
const DNBUSY: u8 = 4;
const DNLOAD_IDLE: u8 = 5;
const MANIFEST: u8 = 7;
const UPLOAD_IDLE: u8 = 9;
const ERROR: u8 = 10;

const ERR_TARGET: u8 = 0x01;
const ERR_PROG: u8 = 0x06;
const ERR_STALLED: u8 = 0x0F;

/// The simulated bootloader.
pub struct Stm32Dfu {
    pub flash: Vec<u8>,
    layout: Layout,
    now: Duration,
    state: u8,
    status: u8,
    pointer: u32,
    /// Work started by the last DNLOAD, done at this time (reported as dfuDNBUSY until then).
    busy_until: Option<Duration>,
    pending: Option<Vec<u8>>,
    pending_block: u16,
    /// The firmware was started: the DFU device is gone.
    pub left: bool,
    /// Sectors whose bits no longer program (a worn flash): writes there do not stick.
    pub worn: Vec<u32>,
    pub erases: usize,
}

impl Default for Stm32Dfu {
    fn default() -> Self {
        Self::new()
    }
}

impl Stm32Dfu {
    /// A pyboard in DFU mode with blank flash.
    pub fn new() -> Stm32Dfu {
        Stm32Dfu {
            flash: vec![0xFF; FLASH_SIZE],
            layout: layout::parse(layout::STM32F405).expect("the F405 layout"),
            now: Duration::ZERO,
            state: IDLE,
            status: 0,
            pointer: FLASH_START,
            busy_until: None,
            pending: None,
            pending_block: 0,
            left: false,
            worn: Vec::new(),
            erases: 0,
        }
    }

    /// Time passes to `now` (a host on another clock, such as the page's demo pyboard).
    pub fn set_now(&mut self, now: Duration) {
        self.now = self.now.max(now);
    }

    /// The interface string the device reports (its memory layout).
    pub fn layout_string(&self) -> &'static str {
        layout::STM32F405
    }

    /// Bytes of flash at `address` (test access).
    pub fn read(&self, address: u32, len: usize) -> &[u8] {
        let at = (address - FLASH_START) as usize;
        &self.flash[at..at + len]
    }

    fn fail(&mut self, status: u8) {
        self.status = status;
        self.state = ERROR;
    }

    fn stall(&mut self) -> UsbError {
        self.fail(ERR_STALLED);
        UsbError::Stall
    }

    fn offset(&self, address: u32, len: usize) -> Option<usize> {
        let at = address.checked_sub(FLASH_START)? as usize;
        (at + len <= FLASH_SIZE).then_some(at)
    }

    /// Carries out the pending DNLOAD (when the host first asks for the status); returns how
    /// long it takes.
    fn execute(&mut self, block: u16, data: Vec<u8>) -> Duration {
        if block == 0 {
            match (data.first().copied(), data.len()) {
                (Some(dfuse::SET_ADDRESS), 5) => {
                    let a = u32::from_le_bytes([data[1], data[2], data[3], data[4]]);
                    if self.offset(a, 0).is_none() {
                        self.fail(ERR_TARGET);
                    } else {
                        self.pointer = a;
                    }
                    Duration::from_micros(100)
                }
                (Some(dfuse::ERASE), 5) => {
                    let a = u32::from_le_bytes([data[1], data[2], data[3], data[4]]);
                    let Some(seg) = self
                        .layout
                        .segments
                        .iter()
                        .find(|s| a >= s.start && (a as u64) < s.end())
                        .copied()
                    else {
                        self.fail(ERR_TARGET);
                        return Duration::from_micros(100);
                    };
                    let start = seg.start + (a - seg.start) / seg.sector_size * seg.sector_size;
                    let at = (start - FLASH_START) as usize;
                    self.flash[at..at + seg.sector_size as usize].fill(0xFF);
                    self.erases += 1;
                    // STM32F405 datasheet typicals (x32): 16 KiB 250 ms, 64 KiB 550 ms, 128 KiB 1 s.
                    Duration::from_millis(match seg.sector_size {
                        s if s <= 16 * 1024 => 250,
                        s if s <= 64 * 1024 => 550,
                        _ => 1000,
                    })
                }
                (Some(dfuse::ERASE), 1) => {
                    self.flash.fill(0xFF);
                    self.erases += 1;
                    Duration::from_secs(8)
                }
                _ => {
                    self.fail(ERR_STALLED);
                    Duration::ZERO
                }
            }
        } else {
            let address = self.pointer + (block as u32 - 2) * TRANSFER_SIZE as u32;
            let Some(at) = self.offset(address, data.len()) else {
                self.fail(ERR_TARGET);
                return Duration::from_micros(100);
            };
            if self.flash[at..at + data.len()]
                .iter()
                .zip(&data)
                .any(|(&old, &new)| old != 0xFF && new != 0xFF)
            {
                self.fail(ERR_PROG);
                return Duration::from_micros(100);
            }
            let worn = self.worn.clone();
            for (i, &b) in data.iter().enumerate() {
                let addr = address + i as u32;
                if !worn.iter().any(|&w| addr >= w && addr < w + 0x4000) {
                    self.flash[at + i] = b;
                }
            }
            // 16 µs per 32-bit word.
            Duration::from_micros(16 * data.len().div_ceil(4) as u64)
        }
    }
}

impl UsbDevice for Stm32Dfu {
    async fn control_out(&mut self, setup: Setup, data: &[u8]) -> Result<(), UsbError> {
        if self.left {
            return Err(UsbError::Disconnected);
        }
        self.now += TRANSFER + Duration::from_micros(data.len() as u64);
        if setup.request_type != OUT {
            return Err(self.stall());
        }
        match setup.request {
            r if r == Request::Dnload as u8 => {
                if !matches!(self.state, IDLE | DNLOAD_IDLE) {
                    return Err(self.stall());
                }
                if data.is_empty() {
                    // Leave DFU: manifest, then run the firmware at the address pointer.
                    self.state = MANIFEST;
                    self.pending = None;
                    return Ok(());
                }
                if data.len() > TRANSFER_SIZE as usize {
                    return Err(self.stall());
                }
                self.pending = Some(data.to_vec());
                self.pending_block = setup.value;
                self.state = DNLOAD_SYNC;
                Ok(())
            }
            r if r == Request::ClrStatus as u8 => {
                if self.state == ERROR {
                    self.state = IDLE;
                    self.status = 0;
                }
                Ok(())
            }
            r if r == Request::Abort as u8 => {
                if matches!(self.state, IDLE | DNLOAD_IDLE | UPLOAD_IDLE) {
                    self.state = IDLE;
                    Ok(())
                } else {
                    Err(self.stall())
                }
            }
            _ => Err(self.stall()),
        }
    }

    async fn control_in(&mut self, setup: Setup, len: u16) -> Result<Vec<u8>, UsbError> {
        if self.left {
            return Err(UsbError::Disconnected);
        }
        self.now += TRANSFER + Duration::from_micros(len as u64);
        let (kind, request, value) = GET_CONFIGURATION_DESCRIPTOR;
        if (setup.request_type, setup.request, setup.value) == (kind, request, value) {
            // A standard request: answered in any DFU state, as the USB core does.
            let mut d = dfu_configuration(TRANSFER_SIZE, 4);
            d.truncate(len as usize);
            return Ok(d);
        }
        if setup.request_type != IN {
            return Err(self.stall());
        }
        match setup.request {
            r if r == Request::GetStatus as u8 => {
                if self.state == MANIFEST {
                    // The firmware starts: the device answers once more, then leaves the bus.
                    self.left = true;
                    return Ok(vec![0, 0, 0, 0, MANIFEST, 0]);
                }
                if let Some(data) = self.pending.take() {
                    let work = self.execute(self.pending_block, data);
                    if self.state == ERROR {
                        return Ok(vec![self.status, 0, 0, 0, ERROR, 0]);
                    }
                    self.busy_until = Some(self.now + work);
                    self.state = DNBUSY;
                }
                if let Some(until) = self.busy_until {
                    if self.now < until {
                        let ms = (until - self.now).as_millis().max(1) as u32;
                        let p = ms.to_le_bytes();
                        return Ok(vec![0, p[0], p[1], p[2], DNBUSY, 0]);
                    }
                    self.busy_until = None;
                    self.state = DNLOAD_IDLE;
                }
                Ok(vec![self.status, 0, 0, 0, self.state, 0])
            }
            r if r == Request::GetState as u8 => Ok(vec![self.state]),
            r if r == Request::Upload as u8 => {
                if !matches!(self.state, IDLE | UPLOAD_IDLE) || setup.value < 2 {
                    return Err(self.stall());
                }
                let address = self.pointer + (setup.value as u32 - 2) * TRANSFER_SIZE as u32;
                let n = (len as usize).min(TRANSFER_SIZE as usize);
                let Some(at) = self.offset(address, n) else {
                    self.fail(ERR_TARGET);
                    return Err(UsbError::Stall);
                };
                self.state = UPLOAD_IDLE;
                Ok(self.flash[at..at + n].to_vec())
            }
            _ => Err(self.stall()),
        }
    }

    async fn sleep(&mut self, duration: Duration) {
        self.now += duration;
    }

    fn now(&self) -> Duration {
        self.now
    }
}
