//! The demo pyboard's DFU bootloader: the simulated STM32F405 (`webflash::sim::stm32_dfu`) as
//! control transfers a fake `navigator.usb` device forwards (`src/web/demo_usb.js` in the page,
//! the browser tests' pyboard harness in Node). The bootloader keeps the caller's clock, so the
//! poll timeouts it asks for pass in real time.

use std::time::Duration;

use wasm_bindgen::prelude::*;
use webflash::sim::block_on;
use webflash::sim::stm32_dfu::{Stm32Dfu, FLASH_SIZE, FLASH_START, TRANSFER_SIZE};
use webflash::usb_device::{Setup, UsbDevice, UsbError};

#[wasm_bindgen]
pub struct DemoDfu {
    dfu: Stm32Dfu,
}

/// A failed transfer as the page's and the tests' fakes read it: "stall", "disconnected" or
/// "error" (the demo Pico's PICOBOOT uses it too).
pub fn outcome(e: UsbError) -> JsError {
    JsError::new(match e {
        UsbError::Stall => "stall",
        UsbError::Disconnected => "disconnected",
        UsbError::Other(_) => "error",
    })
}

#[wasm_bindgen]
impl DemoDfu {
    /// A pyboard in its DFU bootloader whose flash (from 0x08000000) starts as `contents`.
    #[wasm_bindgen(constructor)]
    pub fn new(contents: &[u8]) -> DemoDfu {
        let mut dfu = Stm32Dfu::new();
        let n = contents.len().min(FLASH_SIZE);
        dfu.flash[..n].copy_from_slice(&contents[..n]);
        DemoDfu { dfu }
    }

    /// The DFU interface's name: the memory layout.
    pub fn layout(&self) -> String {
        self.dfu.layout_string().into()
    }

    pub fn transfer_size(&self) -> u16 {
        TRANSFER_SIZE
    }

    /// A control transfer to the device at `now_ms` (the caller's clock). Throws "stall" or
    /// "disconnected".
    pub fn control_out(
        &mut self,
        now_ms: f64,
        request_type: u8,
        request: u8,
        value: u16,
        index: u16,
        data: &[u8],
    ) -> Result<(), JsError> {
        self.dfu
            .set_now(Duration::from_micros((now_ms * 1000.0) as u64));
        let setup = Setup {
            request_type,
            request,
            value,
            index,
        };
        block_on(self.dfu.control_out(setup, data)).map_err(outcome)
    }

    /// A control transfer from the device at `now_ms`, at most `length` bytes.
    pub fn control_in(
        &mut self,
        now_ms: f64,
        request_type: u8,
        request: u8,
        value: u16,
        index: u16,
        length: u16,
    ) -> Result<Vec<u8>, JsError> {
        self.dfu
            .set_now(Duration::from_micros((now_ms * 1000.0) as u64));
        let setup = Setup {
            request_type,
            request,
            value,
            index,
        };
        block_on(self.dfu.control_in(setup, length)).map_err(outcome)
    }

    /// The firmware was started: the DFU device has left the bus.
    pub fn left(&self) -> bool {
        self.dfu.left
    }

    /// Sectors erased so far.
    pub fn erases(&self) -> usize {
        self.dfu.erases
    }

    /// `len` bytes of flash from the start.
    pub fn flash(&self, len: usize) -> Vec<u8> {
        self.dfu.read(FLASH_START, len.min(FLASH_SIZE)).to_vec()
    }

    /// The MicroPython banner in the flash (`MicroPython v1.25.0 on 2025-04-15; PYBv1.1 with
    /// STM32F405RG`), if any.
    pub fn banner(&self) -> Option<String> {
        let needle = b"MicroPython v";
        let flash = &self.dfu.flash;
        let at = flash.windows(needle.len()).position(|w| w == needle)?;
        let end = flash[at..]
            .iter()
            .position(|&b| b == 0 || b == b'\r' || b == b'\n')?;
        String::from_utf8(flash[at..at + end].to_vec()).ok()
    }
}
