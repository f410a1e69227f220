//! What can go wrong talking to the chip, each in words a student can act on.

use core::fmt;

use crate::i18n::{number, t};
use crate::port::PortError;
use crate::protocol::response::DeviceError;

/// Why connecting failed, read from what the board printed (or did not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncFailure {
    /// Nothing came back at all.
    Silence,
    /// The chip booted its normal firmware: the boot strap was not pulled low.
    WrongBootMode { boot_line: String },
    /// The ROM said it was waiting for download but never answered SYNC.
    DownloadModeNoReply,
    /// Text or bytes that are not a boot log (firmware running, wrong baud, noise).
    OtherOutput { sample: String },
}

/// A loader failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Port(PortError),
    /// The chip did not answer in time (what it was doing, marked for translation).
    Timeout(&'static str),
    /// The chip refused a command.
    Device(DeviceError),
    /// The command does not exist on this chip's loader (what it cannot do, marked for
    /// translation).
    Unsupported(&'static str),
    NoSync(SyncFailure),
    UnknownChip {
        magic: u32,
    },
    /// Flash contents differ from what was written.
    Verify {
        offset: u32,
        len: u32,
        expected: String,
        actual: String,
    },
    /// A read returned data whose digest does not match what the chip computed.
    ReadDigest,
    /// The stub did not start (no `OHAI`).
    StubDidNotStart,
    /// The request is outside the flash or otherwise not possible.
    Invalid(String),
    Cancelled,
}

impl From<PortError> for Error {
    fn from(e: PortError) -> Self {
        Error::Port(e)
    }
}

impl From<DeviceError> for Error {
    fn from(e: DeviceError) -> Self {
        Error::Device(e)
    }
}

impl fmt::Display for SyncFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncFailure::Silence => f.write_str(t("The board did not answer at all. Check that the USB cable carries data (charge-only cables do not), then hold the BOOT button, tap RESET (or EN), release BOOT, and press Connect again.")),
            SyncFailure::WrongBootMode { boot_line } => f.write_str(&crate::tf!("The board started its normal firmware instead of the bootloader ({boot_line}). Hold the BOOT button, tap RESET (or EN), release BOOT, then press Connect again.", boot_line = boot_line)),
            SyncFailure::DownloadModeNoReply => f.write_str(t("The board is in download mode but does not answer. Unplug it, plug it back in, and press Connect again; if that keeps happening, try another USB cable or port.")),
            SyncFailure::OtherOutput { sample } => f.write_str(&crate::tf!("The board is running other firmware and did not reset into the bootloader (it printed \"{sample}\"). Hold the BOOT button, tap RESET (or EN), release BOOT, then press Connect again.", sample = sample)),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Port(e) => write!(f, "{e}"),
            Error::Timeout(what) => f.write_str(&crate::tf!("The board stopped answering ({what}). Check the cable and press Connect again; nothing was reported as done.", what = t(what))),
            Error::Device(e) => f.write_str(&crate::tf!("The board refused a command: {error}.", error = e)),
            Error::Unsupported(what) => f.write_str(&crate::tf!("This chip's bootloader cannot {what}.", what = t(what))),
            Error::NoSync(why) => write!(f, "{why}"),
            Error::UnknownChip { magic } => f.write_str(&crate::tf!("This chip is not one webflash knows (id {id}). It may be too new; check for a newer webflash.", id = format!("0x{magic:08x}"))),
            Error::Verify { offset, len, expected, actual } => f.write_str(&crate::tf!("Verification failed at {offset} ({len} bytes): the flash holds different data than was written (MD5 {actual}, expected {expected}). The board is still in the bootloader: press Flash to try again; if it fails again, the flash chip or the power supply may be faulty.", offset = format!("0x{offset:x}"), len = number(*len as u64), actual = actual, expected = expected)),
            Error::ReadDigest => f.write_str(t("The data read from the board was damaged on the way (digest mismatch). Try again.")),
            Error::StubDidNotStart => f.write_str(t("The flasher helper program did not start on the board. Press Connect to try again.")),
            Error::Invalid(msg) => write!(f, "{msg}"),
            Error::Cancelled => f.write_str(t("Cancelled.")),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for loader results.
pub type Result<T> = core::result::Result<T, Error>;
