//! The demo pyboard: a pyboard v1.1 (STM32F405) in the page. Running MicroPython, it is a serial
//! port F055:9800 (`serial_mp`); after `machine.bootloader()` it is ST's DFU bootloader
//! 0483:DF11, the simulated STM32 bootloader (`webflash::sim::stm32_dfu`), which
//! `src/web/demo_pico.js` shows the page as a WebUSB device. Leaving DFU restarts it into what
//! its flash then holds. Its files live in flash sectors 1–4, which a MicroPython update leaves.

use std::time::Duration;

use wasm_bindgen::prelude::*;
use webflash::boards::dfu::layout;
use webflash::sim::flash::NorFlash;
use webflash::sim::micropython::Board;
use webflash::sim::stm32_dfu::FLASH_SIZE;
use webflash::web::time::{now, now_ms};

use crate::dfu::DemoDfu;
use crate::serial_mp::{version_and_date, Ended, SerialMicroPython};

/// MicroPython's pyboard filesystem: flash sectors 1–4 (0x08004000–0x0801FFFF).
const FS: (usize, usize) = (0x4000, 0x1C000);
/// From leaving one mode to the USB device of the next.
const REENUMERATE: Duration = Duration::from_millis(300);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    Dfu,
    MicroPython,
}

#[wasm_bindgen]
pub struct DemoPyboard {
    serial: SerialMicroPython,
    dfu: Option<DemoDfu>,
    /// What appears on the bus then.
    next: Option<(Next, Duration)>,
}

/// A pyboard firmware image with `banner` in it: its vector table and start in the first
/// sector, the rest from 0x08020000 (as MicroPython's PYBV11 build lays it out).
pub fn pyboard_image(banner: &str) -> Vec<u8> {
    let mut flash = vec![0xFF; FLASH_SIZE];
    for (i, b) in flash[..0x3800].iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    for (i, b) in flash[0x20000..0x48000].iter_mut().enumerate() {
        *b = (i * 13 % 241) as u8;
    }
    let at = 0x21000;
    flash[at..at + banner.len()].copy_from_slice(banner.as_bytes());
    flash[at + banner.len()] = 0;
    flash
}

fn banner_in(flash: &[u8]) -> Option<String> {
    let needle = b"MicroPython v";
    let at = flash.windows(needle.len()).position(|w| w == needle)?;
    let end = flash[at..].iter().position(|&b| b == 0)?;
    String::from_utf8(flash[at..at + end].to_vec()).ok()
}

fn pyboard(banner: &str) -> Board {
    let (version, date) = version_and_date(banner);
    Board {
        version,
        date,
        name: "PYBv1.1",
        mcu: "STM32F405RG",
        platform: "pyboard",
        mpy: 6 | 3 << 8 | 5 << 10,
        cpu_hz: 168_000_000,
        heap: 100_000,
        mac: [0x30, 0x6A, 0x38, 0x62, 0x30, 0x34],
        flash_size: FLASH_SIZE,
        fs: FS,
    }
}

/// The DFU device is not on the bus.
fn gone() -> JsError {
    JsError::new("disconnected")
}

#[wasm_bindgen]
impl DemoPyboard {
    /// A pyboard running MicroPython `version`.
    #[wasm_bindgen(constructor)]
    pub fn new(version: &str) -> DemoPyboard {
        let banner = format!("MicroPython {version} on 2024-11-29; PYBv1.1 with STM32F405RG");
        let mut flash = NorFlash::new(FLASH_SIZE);
        flash.load(&pyboard_image(&banner));
        let mut board = DemoPyboard {
            serial: SerialMicroPython::new(flash),
            dfu: None,
            next: None,
        };
        board.start_micropython();
        board
    }

    fn start_micropython(&mut self) {
        let banner = banner_in(self.serial.flash.contents()).unwrap_or_default();
        self.serial.start(pyboard(&banner));
    }

    fn tick(&mut self) {
        if let Some((next, _)) = self.next.filter(|(_, at)| *at <= now()) {
            self.next = None;
            match next {
                Next::Dfu => self.dfu = Some(DemoDfu::new(self.serial.flash.contents())),
                Next::MicroPython => self.start_micropython(),
            }
        }
        match self.serial.tick() {
            Some(Ended::Bootloader) => self.next = Some((Next::Dfu, now() + REENUMERATE)),
            Some(Ended::Reset) => self.next = Some((Next::MicroPython, now() + REENUMERATE)),
            None => {}
        }
    }

    /// "micropython", "dfu", or "off" (re-enumerating).
    pub fn state(&mut self) -> String {
        self.tick();
        if self.serial.running() {
            "micropython"
        } else if self.dfu.is_some() {
            "dfu"
        } else {
            "off"
        }
        .into()
    }

    /// Bytes from the page to MicroPython.
    pub fn write(&mut self, data: &[u8]) {
        self.tick();
        self.serial.write(data);
        self.tick();
    }

    /// What MicroPython printed that has arrived by now.
    pub fn take(&mut self) -> Vec<u8> {
        self.tick();
        self.serial.take()
    }

    /// Milliseconds until more output may arrive (`None`: nothing on its way).
    pub fn ms_until_output(&self) -> Option<f64> {
        let next = self
            .serial
            .next_event()
            .into_iter()
            .chain(self.next.map(|(_, at)| at))
            .min()?;
        Some((next.saturating_sub(now())).as_secs_f64() * 1000.0)
    }

    /// DTR/RTS: the pyboard's USB serial ignores them.
    pub fn set_signals(&mut self, _dtr: bool, _rts: bool) {}

    pub fn set_baud(&mut self, _baud: u32) {}

    /// The DFU interface's name (its memory layout).
    pub fn dfu_layout(&self) -> String {
        layout::STM32F405.into()
    }

    /// A control transfer to the DFU bootloader. Throws "stall" or "disconnected".
    pub fn control_out(
        &mut self,
        request_type: u8,
        request: u8,
        value: u16,
        index: u16,
        data: &[u8],
    ) -> Result<(), JsError> {
        self.tick();
        let dfu = self.dfu.as_mut().ok_or_else(gone)?;
        let result = dfu.control_out(now_ms(), request_type, request, value, index, data);
        self.after_transfer();
        result
    }

    /// A control transfer from the DFU bootloader, at most `length` bytes.
    pub fn control_in(
        &mut self,
        request_type: u8,
        request: u8,
        value: u16,
        index: u16,
        length: u16,
    ) -> Result<Vec<u8>, JsError> {
        self.tick();
        let dfu = self.dfu.as_mut().ok_or_else(gone)?;
        let result = dfu.control_in(now_ms(), request_type, request, value, index, length);
        self.after_transfer();
        result
    }

    /// After the host left DFU the bootloader starts the firmware: the flash keeps what was
    /// written, and MicroPython comes up.
    fn after_transfer(&mut self) {
        if self.dfu.as_ref().is_some_and(DemoDfu::left) {
            let dfu = self.dfu.take().unwrap();
            self.serial.flash.load(&dfu.flash(FLASH_SIZE));
            self.next = Some((Next::MicroPython, now() + REENUMERATE));
        }
    }
}
