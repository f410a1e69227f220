//! The demo Pico: a Raspberry Pi Pico (RP2040) in the page. Running MicroPython, it is a serial
//! port (the simulated MicroPython of `webflash::sim`, as a Pico); after `machine.bootloader()`
//! it is a BOOTSEL drive served by the simulated boot ROM (`webflash::sim::rp2`), which takes a
//! UF2 written to it and reboots into it. `src/web/demo_pico.js` wraps both in the Web Serial
//! and File System Access shapes. Also exports the boot ROM alone ([`Rp2Drive`]), which the
//! browser tests load under Node for their simulated Picos.

use std::time::Duration;

use wasm_bindgen::prelude::*;
use webflash::boards::rp2::Rp2Chip;
use webflash::sim::block_on;
use webflash::sim::flash::NorFlash;
use webflash::sim::micropython::Board;
use webflash::sim::picoboot::PicobootSim;
use webflash::sim::rp2::{bootable_image, AfterReboot, Bootsel, Written};
use webflash::usb_device::{Setup, UsbDevice};
use webflash::web::time::now;

use crate::dfu::outcome;
use crate::serial_mp::{version_and_date, SerialMicroPython};

fn chip(name: &str) -> Result<Rp2Chip, JsError> {
    match name {
        "rp2040" => Ok(Rp2Chip::Rp2040),
        "rp2350" => Ok(Rp2Chip::Rp2350),
        _ => Err(JsError::new("chip: rp2040 or rp2350")),
    }
}

/// A Pico in BOOTSEL mode as its boot ROM serves it: the drive, and the PICOBOOT interface
/// (which share the flash).
#[wasm_bindgen]
pub struct Rp2Drive {
    usb: PicobootSim,
}

#[wasm_bindgen]
impl Rp2Drive {
    /// `chip`: "rp2040" or "rp2350"; the flash starts as `contents`, the rest erased.
    #[wasm_bindgen(constructor)]
    pub fn new(chip_name: &str, flash_size: u32, contents: &[u8]) -> Result<Rp2Drive, JsError> {
        let rom = Bootsel::new(chip(chip_name)?, flash_size as usize, contents);
        Ok(Rp2Drive {
            usb: PicobootSim::new(rom),
        })
    }

    /// PICOBOOT: a bulk transfer to endpoint `ep` at `now_ms`. Throws "stall" or "disconnected".
    pub fn picoboot_out(&mut self, now_ms: f64, ep: u8, data: &[u8]) -> Result<(), JsError> {
        self.usb
            .set_now(Duration::from_micros((now_ms * 1000.0) as u64));
        block_on(self.usb.bulk_out(ep, data)).map_err(outcome)
    }

    /// PICOBOOT: a bulk transfer from endpoint `ep`, at most `len` bytes.
    pub fn picoboot_in(&mut self, now_ms: f64, ep: u8, len: u32) -> Result<Vec<u8>, JsError> {
        self.usb
            .set_now(Duration::from_micros((now_ms * 1000.0) as u64));
        block_on(self.usb.bulk_in(ep, len as usize)).map_err(outcome)
    }

    /// PICOBOOT's control requests (INTERFACE_RESET out, GET_COMMAND_STATUS in).
    pub fn picoboot_control(
        &mut self,
        now_ms: f64,
        request_type: u8,
        request: u8,
        value: u16,
        index: u16,
        length: u16,
    ) -> Result<Vec<u8>, JsError> {
        self.usb
            .set_now(Duration::from_micros((now_ms * 1000.0) as u64));
        let setup = Setup {
            request_type,
            request,
            value,
            index,
        };
        if request_type & 0x80 != 0 {
            block_on(self.usb.control_in(setup, length)).map_err(outcome)
        } else {
            block_on(self.usb.control_out(setup, &[]))
                .map(|_| Vec::new())
                .map_err(outcome)
        }
    }

    pub fn picoboot_clear_halt(&mut self, endpoint_in: bool, ep: u8) -> Result<(), JsError> {
        block_on(self.usb.clear_halt(endpoint_in, ep)).map_err(outcome)
    }

    /// Milliseconds from now (the ROM's clock) until the chip reboots after a PICOBOOT reboot,
    /// if one was asked.
    pub fn picoboot_reboot_in_ms(&self) -> Option<f64> {
        let now = self.usb.now();
        self.usb
            .reboot_due()
            .map(|d| d.saturating_sub(now).as_secs_f64() * 1000.0)
    }

    /// In BOOTSEL again (after a reboot or replugging): the ROM's PICOBOOT state starts afresh.
    pub fn picoboot_reconnect(&mut self) {
        self.usb.reconnect();
    }

    /// The cable is pulled during a PICOBOOT transfer.
    pub fn picoboot_unplug(&mut self) {
        self.usb.unplug();
    }

    /// Flip one bit at flash `address` after the next PICOBOOT write covering it (a bad cell).
    pub fn picoboot_flip_after_write(&mut self, address: u32) {
        self.usb.faults.flip_after_write = Some(address);
    }

    /// The flash (for tests).
    pub fn flash(&self) -> Vec<u8> {
        self.usb.rom.flash().to_vec()
    }

    pub fn label(&self) -> String {
        self.usb.rom.volume_label().into()
    }

    pub fn info_uf2(&self) -> String {
        self.usb.rom.info_uf2().into()
    }

    pub fn index_htm(&self) -> String {
        self.usb.rom.index_htm().into()
    }

    /// A 512-byte sector the host wrote: "ignored", "taken", "complete" (then the chip
    /// reboots after `reboot_ms`), or "refused" (a PICOBOOT host holds exclusive access).
    pub fn write_sector(&mut self, sector: &[u8]) -> String {
        // While a PICOBOOT host holds exclusive access the ROM's drive takes no writes.
        if self.usb.exclusive >= 1 {
            return "refused".into();
        }
        match self.usb.rom.write_sector(sector) {
            Written::Ignored => "ignored",
            Written::Taken => "taken",
            Written::Complete => "complete",
        }
        .into()
    }

    pub fn reboot_ms(&self) -> u32 {
        self.usb.rom.reboot_delay().as_millis() as u32
    }

    /// Whether the chip runs the flash after a reboot (else it stays in BOOTSEL).
    pub fn boots_flash(&self) -> bool {
        self.usb.rom.after_reboot() == AfterReboot::RunsFlash
    }

    /// The MicroPython banner in the flash, if any.
    pub fn banner(&self) -> Option<String> {
        self.usb.rom.micropython_banner()
    }
}

/// A flash image that boots, with `banner` in it (for tests and the demo Pico's firmware).
#[wasm_bindgen]
pub fn rp2_image(chip_name: &str, banner: &str, len: u32) -> Vec<u8> {
    let chip = chip(chip_name).unwrap_or(Rp2Chip::Rp2040);
    bootable_image(chip, banner, len as usize)
}

/// The Pico's filesystem: the end of its 2 MB flash (MicroPython's RPI_PICO keeps 1408 KiB).
const FS: (usize, usize) = (0x6_0000, 0x16_0000);

/// The demo Pico, on the browser's clock.
#[wasm_bindgen]
pub struct DemoPico {
    drive: Rp2Drive,
    serial: SerialMicroPython,
    /// The chip reboots then (after a UF2 transfer).
    reboot_at: Option<Duration>,
}

fn pico_board(banner: &str) -> Board {
    let (version, date) = version_and_date(banner);
    Board {
        version,
        date,
        name: "Raspberry Pi Pico",
        mcu: "RP2040",
        platform: "rp2",
        mpy: 6 | 3 << 8 | 6 << 10,
        cpu_hz: 125_000_000,
        heap: 190_000,
        mac: [0xE6, 0x61, 0x38, 0x52, 0x83, 0x4A],
        flash_size: 2 << 20,
        fs: FS,
    }
}

#[wasm_bindgen]
impl DemoPico {
    /// A Pico running MicroPython `version`.
    #[wasm_bindgen(constructor)]
    pub fn new(version: &str) -> Result<DemoPico, JsError> {
        let banner = format!("MicroPython {version} on 2024-11-29; Raspberry Pi Pico with RP2040");
        let image = bootable_image(Rp2Chip::Rp2040, &banner, 64 * 1024);
        let mut pico = DemoPico {
            drive: Rp2Drive::new("rp2040", 2 << 20, &image)?,
            serial: SerialMicroPython::new(NorFlash::new(2 << 20)),
            reboot_at: None,
        };
        pico.start_micropython();
        Ok(pico)
    }

    fn start_micropython(&mut self) {
        let banner = self.drive.banner().unwrap_or_default();
        self.serial.start(pico_board(&banner));
    }

    /// "micropython", "bootsel", or "off" (rebooting).
    pub fn state(&mut self) -> String {
        self.tick();
        match (self.serial.running(), self.reboot_at) {
            (true, _) => "micropython",
            (false, None) => "bootsel",
            (false, Some(_)) => "off",
        }
        .into()
    }

    fn tick(&mut self) {
        if let Some(_) = self.reboot_at.filter(|at| *at <= now()) {
            self.reboot_at = None;
            if self.drive.boots_flash() {
                self.start_micropython();
            }
        }
        // Either way (bootloader or reset) the USB serial device goes; the drive shows.
        self.serial.tick();
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
            .chain(self.reboot_at)
            .min()?;
        Some((next.saturating_sub(now())).as_secs_f64() * 1000.0)
    }

    /// DTR/RTS: a Pico's USB serial ignores them.
    pub fn set_signals(&mut self, _dtr: bool, _rts: bool) {}

    pub fn set_baud(&mut self, _baud: u32) {}

    pub fn drive_label(&self) -> String {
        self.drive.label()
    }

    pub fn drive_files(&self) -> Vec<String> {
        vec![
            "INFO_UF2.TXT".into(),
            self.drive.info_uf2(),
            "INDEX.HTM".into(),
            self.drive.index_htm(),
        ]
    }

    /// A sector written to the drive (while in BOOTSEL); schedules the reboot when complete.
    pub fn write_sector(&mut self, sector: &[u8]) {
        self.tick();
        if !self.serial.running()
            && self.reboot_at.is_none()
            && self.drive.write_sector(sector) == "complete"
        {
            self.reboot_at = Some(now() + Duration::from_millis(self.drive.reboot_ms() as u64));
        }
    }
}
