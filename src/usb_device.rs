//! The USB boundary for boards that install over WebUSB instead of a serial port (STM32 DFU
//! with control transfers; the Pico's PICOBOOT with bulk transfers too): [`UsbDevice`] is the only way the DFU client talks
//! to a device, so the same code drives the browser's `USBDevice` and a simulated bootloader
//! under a virtual clock. Shaped like WebUSB's `controlTransferIn/Out`.

use core::fmt;
use core::time::Duration;

/// A control transfer's setup packet (what WebUSB's `USBControlTransferParameters` carry, with
/// the request type and recipient folded into `request_type` as on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    pub request_type: u8,
    pub request: u8,
    pub value: u16,
    pub index: u16,
}

/// Why a USB transfer failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsbError {
    /// The device refused the request (WebUSB status "stall").
    Stall,
    /// The device went away (unplugged, or restarted into its firmware).
    Disconnected,
    /// Anything else the platform reported, in its own words.
    Other(String),
}

impl fmt::Display for UsbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsbError::Stall => f.write_str(crate::i18n::t("the board refused a USB request")),
            UsbError::Disconnected => f.write_str(crate::i18n::t(
                "the board disconnected (check the cable, then choose it again)",
            )),
            UsbError::Other(e) => f.write_str(&crate::tf!("USB error: {error}", error = e)),
        }
    }
}

impl std::error::Error for UsbError {}

/// One claimed USB interface of one device.
#[allow(async_fn_in_trait)] // single-threaded everywhere we run (wasm, tests)
pub trait UsbDevice {
    /// A control transfer from host to device with `data`.
    async fn control_out(&mut self, setup: Setup, data: &[u8]) -> Result<(), UsbError>;
    /// A control transfer from device to host of at most `len` bytes.
    async fn control_in(&mut self, setup: Setup, len: u16) -> Result<Vec<u8>, UsbError>;
    /// A bulk transfer to OUT `endpoint` (WebUSB's `transferOut`). Devices without bulk
    /// endpoints (DFU) keep the default.
    async fn bulk_out(&mut self, endpoint: u8, data: &[u8]) -> Result<(), UsbError> {
        let _ = (endpoint, data);
        Err(UsbError::Other(
            crate::i18n::t("this device has no bulk endpoints").into(),
        ))
    }
    /// A bulk transfer from IN `endpoint` of at most `len` bytes (WebUSB's `transferIn`).
    async fn bulk_in(&mut self, endpoint: u8, len: usize) -> Result<Vec<u8>, UsbError> {
        let _ = (endpoint, len);
        Err(UsbError::Other(
            crate::i18n::t("this device has no bulk endpoints").into(),
        ))
    }
    /// Clears a stalled endpoint (WebUSB's `clearHalt`).
    async fn clear_halt(&mut self, endpoint_in: bool, endpoint: u8) -> Result<(), UsbError> {
        let _ = (endpoint_in, endpoint);
        Ok(())
    }
    /// Waits on the device's clock.
    async fn sleep(&mut self, duration: Duration);
    /// The device's monotonic clock.
    fn now(&self) -> Duration;
}
