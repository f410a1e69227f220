//! The I/O boundary. Everything that talks to a device (the loader, the REPL client) does so
//! through [`Port`], so the same code drives a browser's Web Serial port, a simulated device
//! with a virtual clock, or a TCP/RFC 2217 connection.
//!
//! Time is part of the port because "now" differs per implementation: wall time in the browser,
//! virtual time in the simulator. Callers pass absolute deadlines measured on the port's clock.

use core::fmt;
use core::time::Duration;

/// Why a port operation failed. Each variant is something a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortError {
    /// The device went away (unplugged, reset into a new USB device, or closed by the browser).
    Disconnected,
    /// The port is not open (never opened, or already closed by us).
    Closed,
    /// Any other failure the platform reported, with its own words.
    Other(String),
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortError::Disconnected => f.write_str(crate::i18n::t(
                "the board was disconnected (check the USB cable, then press Connect again)",
            )),
            PortError::Closed => f.write_str(crate::i18n::t("the serial port is not open")),
            PortError::Other(msg) => {
                f.write_str(&crate::tf!("serial port error: {error}", error = msg))
            }
        }
    }
}

impl std::error::Error for PortError {}

/// The state of the two modem control lines that ESP boards use for reset and boot strapping.
/// `true` means asserted (0 V on the wire, as pyserial and Web Serial define it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Signals {
    /// Data Terminal Ready: on auto-reset boards, drives GPIO0 (the BOOT strap).
    pub dtr: bool,
    /// Request To Send: on auto-reset boards, drives EN (chip reset).
    pub rts: bool,
}

/// A serial connection to one device.
///
/// Implementations must not lose bytes between reads: whatever arrives while nobody is
/// reading is buffered until the next [`Port::read`].
#[allow(async_fn_in_trait)] // single-threaded everywhere we run (wasm, tests)
pub trait Port {
    /// Sends all of `data`.
    async fn write(&mut self, data: &[u8]) -> Result<(), PortError>;

    /// Appends whatever bytes are available to `buf`, waiting until at least one arrives or
    /// the port clock reaches `deadline`. Returns the number of bytes appended (0 on timeout).
    async fn read(&mut self, buf: &mut Vec<u8>, deadline: Duration) -> Result<usize, PortError>;

    /// Sets both control lines at once (one USB request on Web Serial).
    async fn set_signals(&mut self, signals: Signals) -> Result<(), PortError>;

    /// Changes the host side's baud rate. Bytes already received are kept.
    async fn set_baud(&mut self, baud: u32) -> Result<(), PortError>;

    /// The host side's current baud rate.
    fn baud(&self) -> u32;

    /// Waits for `duration` on the port's clock.
    async fn sleep(&mut self, duration: Duration);

    /// The port's monotonic clock.
    fn now(&self) -> Duration;

    /// Drops every byte received so far and not yet read.
    async fn discard_input(&mut self) -> Result<(), PortError> {
        let mut sink = Vec::new();
        let now = self.now();
        while self.read(&mut sink, now).await? > 0 {
            sink.clear();
        }
        Ok(())
    }
}

/// A borrowed port is a port: lets a short-lived client (e.g. the REPL) use a port that
/// something longer-lived (the session's loader) owns.
impl<P: Port + ?Sized> Port for &mut P {
    async fn write(&mut self, data: &[u8]) -> Result<(), PortError> {
        (**self).write(data).await
    }
    async fn read(&mut self, buf: &mut Vec<u8>, deadline: Duration) -> Result<usize, PortError> {
        (**self).read(buf, deadline).await
    }
    async fn set_signals(&mut self, signals: Signals) -> Result<(), PortError> {
        (**self).set_signals(signals).await
    }
    async fn set_baud(&mut self, baud: u32) -> Result<(), PortError> {
        (**self).set_baud(baud).await
    }
    fn baud(&self) -> u32 {
        (**self).baud()
    }
    async fn sleep(&mut self, duration: Duration) {
        (**self).sleep(duration).await
    }
    fn now(&self) -> Duration {
        (**self).now()
    }
}
