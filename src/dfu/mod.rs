//! The DFU client (issue 12): installs a checked `.dfu` file into an STM32 board in its DFU
//! bootloader over any [`UsbDevice`] — erase only the sectors the image covers, download in the
//! device's transfer size, wait out each poll timeout, read every element back (UPLOAD) and
//! compare its SHA-256, then leave DFU so the board starts its firmware. The pure parts are in
//! [`crate::boards::dfu`]; the order of requests is pydfu's and dfu-util's (`boards.md` §4.8).

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::boards::dfu::file::DfuFile;
use crate::boards::dfu::layout::{FitError, Layout};
use crate::boards::dfu::request::{dfuse, status_name, Request, State, Status, IN, OUT};
use crate::i18n::t;
use crate::usb_device::{Setup, UsbDevice, UsbError};

/// The most a device may ask the host to wait between requests (erasing a 128 KiB sector takes
/// about 2 s on an STM32F4; anything far beyond is a fault).
const MAX_POLL: Duration = Duration::from_secs(30);

/// What went wrong, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DfuError {
    Usb(UsbError),
    /// The image does not fit this board (nothing was written).
    Fit(FitError),
    /// The bootloader answered a request with an error status (`what` it was doing, in the
    /// page's language).
    Status {
        what: String,
        status: u8,
    },
    /// The bootloader is in a state the protocol does not allow here.
    State {
        what: String,
        state: State,
    },
    /// Read back, an element differs from the file.
    Verify {
        address: u32,
    },
}

impl From<UsbError> for DfuError {
    fn from(e: UsbError) -> Self {
        DfuError::Usb(e)
    }
}

impl std::fmt::Display for DfuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DfuError::Usb(e) => write!(f, "{e}."),
            DfuError::Fit(e) => write!(f, "{e}"),
            DfuError::Status { what, status } => f.write_str(&crate::tf!("The board's DFU bootloader refused {what}: {status}. Unplug the board, put it back in DFU mode and try again.", what = what, status = status_name(*status))),
            DfuError::State { what, state } => f.write_str(&crate::tf!("The board's DFU bootloader was in an unexpected state ({state}) while {what}. Unplug the board, put it back in DFU mode and try again.", state = format!("{state:?}"), what = what)),
            DfuError::Verify { address } => f.write_str(&crate::tf!("Reading the flash back found different bytes at the part written at {address}: the install is NOT verified. Try again; if it repeats, the board's flash may be worn.", address = format!("0x{address:08X}"))),
        }
    }
}

impl std::error::Error for DfuError {}

pub type Result<T> = std::result::Result<T, DfuError>;

/// What an install did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub sectors_erased: usize,
    pub bytes_written: usize,
    /// Every element was read back and its SHA-256 matched.
    pub verified: bool,
}

/// A DFU-mode interface of one device.
pub struct Dfu<D: UsbDevice> {
    dev: D,
    interface: u16,
    transfer_size: u16,
}

impl<D: UsbDevice> Dfu<D> {
    /// `transfer_size` is the functional descriptor's wTransferSize.
    pub fn new(dev: D, interface: u16, transfer_size: u16) -> Self {
        Dfu {
            dev,
            interface,
            transfer_size: transfer_size.max(64),
        }
    }

    pub fn into_device(self) -> D {
        self.dev
    }

    fn setup(&self, out: bool, request: Request, value: u16) -> Setup {
        Setup {
            request_type: if out { OUT } else { IN },
            request: request as u8,
            value,
            index: self.interface,
        }
    }

    pub async fn status(&mut self) -> Result<Status> {
        let setup = self.setup(false, Request::GetStatus, 0);
        let bytes = self.dev.control_in(setup, 6).await?;
        Status::parse(&bytes).ok_or(DfuError::Usb(UsbError::Other(
            t("a short GETSTATUS answer").into(),
        )))
    }

    async fn request_out(&mut self, request: Request, value: u16, data: &[u8]) -> Result<()> {
        let setup = self.setup(true, request, value);
        Ok(self.dev.control_out(setup, data).await?)
    }

    /// Brings the interface to dfuIDLE from wherever a previous tool left it (as pydfu: ABORT
    /// from a transfer's idle state, CLRSTATUS after an error), up to four times.
    pub async fn to_idle(&mut self) -> Result<()> {
        for _ in 0..4 {
            let s = self.status().await?;
            match s.state {
                State::DfuIdle => return Ok(()),
                State::DnloadIdle | State::UploadIdle => {
                    self.request_out(Request::Abort, 0, &[]).await?
                }
                _ => self.request_out(Request::ClrStatus, 0, &[]).await?,
            }
        }
        let state = self.status().await?.state;
        Err(DfuError::State {
            what: t("getting ready").into(),
            state,
        })
    }

    /// After a DNLOAD: waits out the device's poll timeouts until it is idle again.
    async fn finish(&mut self, what: &str) -> Result<()> {
        loop {
            let s = self.status().await?;
            if s.status != 0 {
                // Leave the error state so the board can be used again, then report.
                let _ = self.request_out(Request::ClrStatus, 0, &[]).await;
                return Err(DfuError::Status {
                    what: what.into(),
                    status: s.status,
                });
            }
            match s.state {
                State::DnBusy | State::DnloadSync => {
                    let wait = Duration::from_millis(s.poll_ms as u64).min(MAX_POLL);
                    self.dev.sleep(wait).await;
                }
                State::DnloadIdle => return Ok(()),
                state => {
                    return Err(DfuError::State {
                        what: what.into(),
                        state,
                    })
                }
            }
        }
    }

    async fn command(&mut self, payload: &[u8], what: &str) -> Result<()> {
        self.request_out(Request::Dnload, 0, payload).await?;
        self.finish(what).await
    }

    pub async fn set_address(&mut self, address: u32) -> Result<()> {
        self.command(
            &dfuse::set_address(address),
            &crate::tf!(
                "the address {address}",
                address = format!("0x{address:08X}")
            ),
        )
        .await
    }

    pub async fn erase_sector(&mut self, address: u32) -> Result<()> {
        self.command(
            &dfuse::erase_sector(address),
            &crate::tf!(
                "erasing the sector at {address}",
                address = format!("0x{address:08X}")
            ),
        )
        .await
    }

    /// Writes `data` at `address`, one transfer-size block at a time (address set before each).
    pub async fn write(
        &mut self,
        address: u32,
        data: &[u8],
        mut progress: impl FnMut(usize),
    ) -> Result<()> {
        let step = self.transfer_size as usize;
        for (i, chunk) in data.chunks(step).enumerate() {
            let at = address + (i * step) as u32;
            self.set_address(at).await?;
            self.request_out(Request::Dnload, dfuse::FIRST_DATA_BLOCK, chunk)
                .await?;
            self.finish(&crate::tf!(
                "writing at {address}",
                address = format!("0x{at:08X}")
            ))
            .await?;
            progress(chunk.len());
        }
        Ok(())
    }

    /// Reads `len` bytes from `address` (DfuSe UPLOAD from the address pointer).
    pub async fn read(&mut self, address: u32, len: usize) -> Result<Vec<u8>> {
        let step = self.transfer_size as usize;
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let at = address + out.len() as u32;
            self.set_address(at).await?;
            // UPLOAD is taken in dfuIDLE; a command leaves dfuDNLOAD-IDLE.
            self.request_out(Request::Abort, 0, &[]).await?;
            let n = (len - out.len()).min(step) as u16;
            let setup = self.setup(false, Request::Upload, dfuse::FIRST_DATA_BLOCK);
            let chunk = self.dev.control_in(setup, n).await?;
            if chunk.is_empty() {
                return Err(DfuError::Usb(UsbError::Other(crate::tf!(
                    "no data read at {address}",
                    address = format!("0x{at:08X}")
                ))));
            }
            out.extend_from_slice(&chunk[..chunk.len().min(len - out.len())]);
            self.request_out(Request::Abort, 0, &[]).await?;
        }
        Ok(out)
    }

    /// Installs `file` into the memory `layout` describes: checks it fits (nothing written
    /// otherwise), erases the sectors it covers (or everything with `mass_erase`), writes,
    /// reads every element back and compares its SHA-256. Does not leave DFU ([`Dfu::leave`]).
    pub async fn install(
        &mut self,
        file: &DfuFile,
        layout: &Layout,
        mass_erase: bool,
        mut progress: impl FnMut(&str, usize, usize),
    ) -> Result<Installed> {
        let sectors = layout.sectors_to_erase(file).map_err(DfuError::Fit)?;
        self.to_idle().await?;
        if mass_erase {
            progress("erase", 0, 1);
            self.command(&dfuse::mass_erase(), t("erasing the whole flash"))
                .await?;
        } else {
            for (i, &sector) in sectors.iter().enumerate() {
                progress("erase", i, sectors.len());
                self.erase_sector(sector).await?;
            }
        }
        let total: usize = file.elements().map(|(_, e)| e.data.len()).sum();
        let mut done = 0;
        for (_, e) in file.elements() {
            self.write(e.address, &e.data, |n| {
                done += n;
                progress("write", done, total);
            })
            .await?;
        }
        let mut read = 0;
        for (_, e) in file.elements() {
            let back = self.read(e.address, e.data.len()).await?;
            read += back.len();
            progress("verify", read, total);
            if Sha256::digest(&back) != Sha256::digest(&e.data) {
                return Err(DfuError::Verify { address: e.address });
            }
        }
        Ok(Installed {
            sectors_erased: if mass_erase { 0 } else { sectors.len() },
            bytes_written: total,
            verified: true,
        })
    }

    /// Leaves DFU and starts the firmware at `address` (the flash start): address, then a
    /// zero-length DNLOAD; the board then resets and this USB device goes away, so a failing
    /// last status request is expected and ignored (as pydfu and dfu-util do).
    pub async fn leave(&mut self, address: u32) -> Result<()> {
        self.to_idle().await?;
        self.set_address(address).await?;
        self.request_out(Request::Dnload, 0, &[]).await?;
        let _ = self.status().await;
        Ok(())
    }
}
