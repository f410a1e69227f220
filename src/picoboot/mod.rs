//! The PICOBOOT client (issue 18): installs a checked UF2 into an RP2040/RP2350 in BOOTSEL mode
//! over any [`UsbDevice`] with bulk transfers — exclusive access, EXIT_XIP before every flash
//! change (as picotool does), erase exactly the 4 KiB sectors the image covers (keeping what a
//! partly covered sector held outside the image), write, **read every written range back and
//! compare SHA-256**, then reboot into the application. Also reads the whole flash for a backup,
//! its size found as picotool finds it. The pure parts are in [`crate::boards::picoboot`].

use sha2::{Digest, Sha256};

use crate::boards::picoboot::{
    self as pb, code_name, Command, Status, EP_IN, EP_OUT, FLASH_BASE, GET_COMMAND_STATUS,
    INTERFACE_RESET, REQUEST_IN, REQUEST_OUT, RP2040_STACK_TOP, SECTOR,
};
use crate::boards::rp2::Rp2Chip;
use crate::i18n::{number, t};
use crate::usb_device::{Setup, UsbDevice, UsbError};

/// Bytes per READ or WRITE command (picotool sends a range in about a hundred batches).
const CHUNK: u32 = 16 * 1024;
/// From REBOOT to the chip restarting.
const REBOOT_DELAY_MS: u32 = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PicobootError {
    Usb(UsbError),
    /// The ROM refused a command (`what` it was), with its status.
    Refused {
        what: String,
        code: u32,
    },
    /// Read back, the flash differs from the image in the range starting at `address`.
    Verify {
        address: u32,
    },
    /// The flash size could not be found (blank flash reads the same everywhere).
    UnknownSize,
    /// The user stopped the install after `written` of `sectors` sectors.
    Cancelled {
        written: usize,
        sectors: usize,
    },
}

impl From<UsbError> for PicobootError {
    fn from(e: UsbError) -> Self {
        PicobootError::Usb(e)
    }
}

impl std::fmt::Display for PicobootError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PicobootError::Usb(UsbError::Disconnected) => f.write_str(t("The Pico disconnected, so MicroPython is NOT verified on it. Plug it back in while holding BOOTSEL and try again.")),
            PicobootError::Usb(e) => write!(f, "{e}."),
            PicobootError::Refused { what, code } => f.write_str(&crate::tf!("The Pico's boot ROM refused {what} ({status}). Unplug it, plug it back in while holding BOOTSEL, and try again.", what = what, status = code_name(*code))),
            PicobootError::Verify { address } => f.write_str(&crate::tf!("Reading the flash back found different bytes in the part written at {address}: the install is NOT verified. Try again; if it repeats, the Pico's flash may be failing.", address = format!("0x{address:08X}"))),
            PicobootError::UnknownSize => f.write_str(t("The flash size could not be found (the flash reads the same everywhere, as a blank one does), so there is nothing to back up.")),
            PicobootError::Cancelled { written, sectors } => f.write_str(&crate::tf!("Stopped after writing {written} of {sectors} sectors: what is on the Pico now is incomplete and NOT verified, so it may not start. The Pico is still in BOOTSEL mode: install again when you are ready.", written = number(*written as u64), sectors = number(*sectors as u64))),
        }
    }
}

impl std::error::Error for PicobootError {}

pub type Result<T> = std::result::Result<T, PicobootError>;

/// What an install did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub sectors_erased: usize,
    pub bytes_written: usize,
    pub verified: bool,
}

pub struct Picoboot<D: UsbDevice> {
    dev: D,
    interface: u16,
    chip: Rp2Chip,
    token: u32,
}

impl<D: UsbDevice> Picoboot<D> {
    /// The PICOBOOT `interface` of a `chip` in BOOTSEL mode.
    pub fn new(dev: D, interface: u16, chip: Rp2Chip) -> Self {
        Picoboot {
            dev,
            interface,
            chip,
            token: 0,
        }
    }

    pub fn device(&self) -> &D {
        &self.dev
    }

    pub fn device_mut(&mut self) -> &mut D {
        &mut self.dev
    }

    pub fn into_device(self) -> D {
        self.dev
    }

    /// Resets the interface (clearing stalls and any earlier exclusive access) and takes
    /// exclusive access, so the drive takes no writes meanwhile.
    pub async fn connect(&mut self) -> Result<()> {
        self.reset().await?;
        self.command(Command::ExclusiveAccess(1), &[], t("exclusive access"))
            .await?;
        Ok(())
    }

    async fn reset(&mut self) -> Result<()> {
        let _ = self.dev.clear_halt(true, EP_IN).await;
        let _ = self.dev.clear_halt(false, EP_OUT).await;
        let setup = Setup {
            request_type: REQUEST_OUT,
            request: INTERFACE_RESET,
            value: 0,
            index: self.interface,
        };
        self.dev.control_out(setup, &[]).await?;
        Ok(())
    }

    /// GET_COMMAND_STATUS.
    pub async fn status(&mut self) -> Result<Status> {
        let setup = Setup {
            request_type: REQUEST_IN,
            request: GET_COMMAND_STATUS,
            value: 0,
            index: self.interface,
        };
        let bytes = self.dev.control_in(setup, 16).await?;
        Status::parse(&bytes).ok_or(PicobootError::Usb(UsbError::Other(
            t("a short command status").into(),
        )))
    }

    /// One command: the block, its data (`data` out, or the reply in), the ack. A stall is
    /// turned into the ROM's status, and the interface is reset so the next command works.
    async fn command(&mut self, cmd: Command, data: &[u8], what: &str) -> Result<Vec<u8>> {
        self.token = self.token.wrapping_add(1);
        match self.phases(cmd, data).await {
            Ok(reply) => Ok(reply),
            Err(UsbError::Stall) => {
                let status = self.status().await?;
                self.reset().await?;
                Err(PicobootError::Refused {
                    what: what.to_string(),
                    code: status.code,
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn phases(
        &mut self,
        cmd: Command,
        data: &[u8],
    ) -> std::result::Result<Vec<u8>, UsbError> {
        self.dev.bulk_out(EP_OUT, &cmd.encode(self.token)).await?;
        let len = cmd.transfer_length() as usize;
        let mut reply = Vec::new();
        if cmd.data_in() {
            while reply.len() < len {
                let got = self.dev.bulk_in(EP_IN, len - reply.len()).await?;
                if got.is_empty() {
                    return Err(UsbError::Other(t("the Pico sent less than asked").into()));
                }
                reply.extend_from_slice(&got);
            }
            // The ack: one packet the other way (picotool sends one byte).
            self.dev.bulk_out(EP_OUT, &[0]).await?;
        } else {
            if len > 0 {
                self.dev.bulk_out(EP_OUT, data).await?;
            }
            self.dev.bulk_in(EP_IN, 64).await?;
        }
        Ok(reply)
    }

    pub async fn read(&mut self, address: u32, len: usize) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let n = (len - out.len()).min(CHUNK as usize) as u32;
            let at = address + out.len() as u32;
            let got = self
                .command(
                    Command::Read {
                        address: at,
                        size: n,
                    },
                    &[],
                    &crate::tf!("reading {address}", address = format!("0x{at:08X}")),
                )
                .await?;
            out.extend_from_slice(&got);
        }
        Ok(out)
    }

    async fn exit_xip(&mut self) -> Result<()> {
        self.command(Command::ExitXip, &[], t("leaving XIP mode"))
            .await?;
        Ok(())
    }

    /// Erases the sector at `address` and writes `data` (one whole sector) there.
    async fn rewrite_sector(&mut self, address: u32, data: &[u8]) -> Result<()> {
        self.exit_xip().await?;
        self.command(
            Command::FlashErase {
                address,
                size: SECTOR,
            },
            &[],
            &crate::tf!(
                "erasing the sector at {address}",
                address = format!("0x{address:08X}")
            ),
        )
        .await?;
        self.exit_xip().await?;
        self.command(
            Command::Write {
                address,
                size: data.len() as u32,
            },
            data,
            &crate::tf!("writing {address}", address = format!("0x{address:08X}")),
        )
        .await?;
        Ok(())
    }

    /// Installs `pages` (from [`crate::boards::rp2::pages`]): every sector they touch is
    /// erased and written once, then every range is read back and its SHA-256 compared.
    pub async fn install(
        &mut self,
        pages: &[(u32, Vec<u8>)],
        progress: impl FnMut(&str, usize, usize),
    ) -> Result<Installed> {
        self.install_unless(pages, progress, || false).await
    }

    /// [`Picoboot::install`] that stops between sectors once `cancelled()` says so. When it
    /// does not end verified, exclusive access is released, so the drive works again for the
    /// next try (the ROM refuses drive writes while a host holds it).
    pub async fn install_unless(
        &mut self,
        pages: &[(u32, Vec<u8>)],
        progress: impl FnMut(&str, usize, usize),
        cancelled: impl Fn() -> bool,
    ) -> Result<Installed> {
        let result = self.install_sectors(pages, progress, cancelled).await;
        if matches!(&result, Err(e) if *e != PicobootError::Usb(UsbError::Disconnected)) {
            let _ = self.release().await;
        }
        result
    }

    async fn install_sectors(
        &mut self,
        pages: &[(u32, Vec<u8>)],
        mut progress: impl FnMut(&str, usize, usize),
        cancelled: impl Fn() -> bool,
    ) -> Result<Installed> {
        let ranges = pb::ranges(pages);
        let sectors = pb::sectors(&ranges);
        let total: usize = ranges.iter().map(|(_, d)| d.len()).sum();
        for (i, &sector) in sectors.iter().enumerate() {
            if cancelled() {
                return Err(PicobootError::Cancelled {
                    written: i,
                    sectors: sectors.len(),
                });
            }
            progress("write", i, sectors.len());
            // What the sector holds outside the image stays: read it when the image does not
            // cover it whole.
            let (s, e) = (sector as u64, sector as u64 + SECTOR as u64);
            let overlaps: Vec<(usize, &[u8])> = ranges
                .iter()
                .filter_map(|(address, data)| {
                    let start = *address as u64;
                    let (from, to) = (start.max(s), (start + data.len() as u64).min(e));
                    (from < to).then(|| {
                        let part = &data[(from - start) as usize..(to - start) as usize];
                        ((from - s) as usize, part)
                    })
                })
                .collect();
            let covered: usize = overlaps.iter().map(|(_, p)| p.len()).sum();
            let mut buf = if covered < SECTOR as usize {
                self.read(sector, SECTOR as usize).await?
            } else {
                vec![0xFF; SECTOR as usize]
            };
            for (at, part) in overlaps {
                buf[at..at + part.len()].copy_from_slice(part);
            }
            self.rewrite_sector(sector, &buf).await?;
        }
        progress("write", sectors.len(), sectors.len());
        let mut read = 0;
        for (address, data) in &ranges {
            let back = self.read(*address, data.len()).await?;
            read += back.len();
            progress("verify", read, total);
            if Sha256::digest(&back) != Sha256::digest(data) {
                return Err(PicobootError::Verify { address: *address });
            }
        }
        Ok(Installed {
            sectors_erased: sectors.len(),
            bytes_written: sectors.len() * SECTOR as usize,
            verified: true,
        })
    }

    /// The flash size as picotool's `guess_flash_size` finds it: the first 512 bytes compared
    /// with what appears 8 MiB, 4 MiB, … further on (the chip's flash repeats past its end).
    /// `None` when the first two pages are equal (blank flash): it cannot be told.
    pub async fn flash_size(&mut self) -> Result<Option<u32>> {
        let head = self.read(FLASH_BASE, 512).await?;
        if head[..256] == head[256..] {
            return Ok(None);
        }
        let mut size = 8 << 20;
        while size >= SECTOR {
            if self.read(FLASH_BASE + size, 512).await? != head {
                return Ok(Some(2 * size));
            }
            size /= 2;
        }
        Ok(None)
    }

    /// The whole flash, for a backup.
    pub async fn read_flash(&mut self, mut progress: impl FnMut(usize, usize)) -> Result<Vec<u8>> {
        let size = self.flash_size().await?.ok_or(PicobootError::UnknownSize)? as usize;
        let mut out = Vec::with_capacity(size);
        while out.len() < size {
            progress(out.len(), size);
            let n = (size - out.len()).min(64 * 1024);
            let chunk = self.read(FLASH_BASE + out.len() as u32, n).await?;
            out.extend_from_slice(&chunk);
        }
        progress(size, size);
        Ok(out)
    }

    /// Gives the drive back (exclusive access released), flash untouched: after a refusal the
    /// Pico stays in BOOTSEL mode for the next try.
    pub async fn release(&mut self) -> Result<()> {
        self.command(Command::ExclusiveAccess(0), &[], t("releasing the drive"))
            .await?;
        Ok(())
    }

    /// Reboots into the flash's application.
    pub async fn reboot(&mut self) -> Result<()> {
        let cmd = match self.chip {
            Rp2Chip::Rp2040 => Command::Reboot {
                pc: 0,
                sp: RP2040_STACK_TOP,
                delay_ms: REBOOT_DELAY_MS,
            },
            Rp2Chip::Rp2350 => Command::Reboot2 {
                flags: 0,
                delay_ms: REBOOT_DELAY_MS,
                p0: u32::MAX,
                p1: 0,
            },
        };
        self.command(cmd, &[], t("rebooting")).await?;
        Ok(())
    }
}
