//! The whole jobs the app runs, built from the loader's operations: getting a board ready
//! (connect, detect, stub, flash size) and flashing it (baud, erase, write + verify, reset).
//! Kept here rather than in the UI so they are tested natively against the simulator.

use std::time::Duration;

use super::{
    DeviceInfo, Error, Event, Loader, Region, Responder, Restart, Result, Stage, SyncReport,
    WriteOptions, WriteReport,
};
use crate::port::Port;
use crate::protocol::stub::StubImage;
use crate::usb::ResetWiring;

/// The baud rate the ROM starts at.
pub const ROM_BAUD: u32 = 115_200;

/// Which baud rate to flash at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baud {
    /// The fastest rate the bridge is known to sustain, stepping down by itself on errors.
    Auto {
        max: u32,
    },
    Fixed(u32),
}

/// The rates Auto tries, fastest first.
const STEPS: [u32; 4] = [921_600, 460_800, 230_400, ROM_BAUD];

/// What the app needs to flash a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub sync: SyncReport,
    pub info: DeviceInfo,
    /// The flasher stub runs (faster, can erase/read); otherwise the ROM answers.
    pub stub: bool,
}

/// How to flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlashJob {
    pub baud: Baud,
    pub erase_all: bool,
    /// Reset into the new firmware after a verified write.
    pub reset_after: bool,
    /// A region (offset, length) to clear after writing: the new filesystem's, when it moved.
    pub clear: Option<(u32, u32)>,
}

/// What flashing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashOutcome {
    pub report: WriteReport,
    /// The baud rate the data went over.
    pub baud: u32,
    /// How the chip was restarted into the new firmware, if it was asked to be.
    pub restart: Option<Restart>,
}

impl<P: Port> Loader<P> {
    /// Resets the board into its loader and learns what it is; starts the stub if one is given.
    pub async fn prepare(
        &mut self,
        wiring: Option<ResetWiring>,
        stub: Option<&StubImage>,
    ) -> Result<Prepared> {
        self.prepare_with(wiring, stub, None).await
    }

    /// Like [`Loader::prepare`], and with a `baud` to flash at, switches to it while the ROM
    /// still answers (where the ROM can), so the stub goes over the fast link too. If the stub
    /// then fails to arrive, it is uploaded again at the ROM's rate.
    pub async fn prepare_with(
        &mut self,
        wiring: Option<ResetWiring>,
        stub: Option<&StubImage>,
        baud: Option<Baud>,
    ) -> Result<Prepared> {
        let sync = self.connect(wiring, 7).await?;
        let info = self.detect().await?;
        if let Some(stub) = stub {
            self.start_stub(stub, wiring, baud).await?;
        }
        if let Some(size) = info.flash_size {
            self.set_flash_size(size).await?;
        }
        Ok(Prepared {
            sync,
            info,
            stub: self.responder() == Responder::Stub,
        })
    }

    /// Uploads and starts the stub on a detected chip. With a `baud`, switches to it first
    /// while the ROM still answers (where the ROM can), so the stub goes over the fast link; if
    /// the stub then fails to arrive, it is uploaded again at the ROM's rate.
    pub async fn start_stub(
        &mut self,
        stub: &StubImage,
        wiring: Option<ResetWiring>,
        baud: Option<Baud>,
    ) -> Result<()> {
        let usb_otg = wiring == Some(ResetWiring::UsbOtg);
        let rom_can = self.chip().is_some_and(|s| s.rom_can_change_baud);
        let early = match baud {
            Some(baud) if rom_can && !usb_otg => {
                self.settle_baud(baud, wiring, None).await?;
                self.port.baud() != ROM_BAUD
            }
            _ => false,
        };
        match self.run_stub(stub, usb_otg).await {
            Err(e @ (Error::Timeout(_) | Error::Device(_) | Error::StubDidNotStart)) if early => {
                let rate = self.port.baud();
                self.emit(Event::Note(crate::tf!(
                    "The flasher stub did not arrive at {rate} baud ({error}); sending it slower.",
                    rate = rate,
                    error = e
                )));
                self.port.set_baud(ROM_BAUD).await?;
                self.connect(wiring, 7).await?;
                self.detect().await?;
                self.run_stub(stub, usb_otg).await
            }
            other => other,
        }
    }

    /// Resets and reconnects after a failed rate, restarting the stub if it ran before.
    async fn reconnect(
        &mut self,
        wiring: Option<ResetWiring>,
        stub: Option<&StubImage>,
    ) -> Result<()> {
        self.port.set_baud(ROM_BAUD).await?;
        self.connect(wiring, 7).await?;
        let info = self.detect().await?;
        if let Some(stub) = stub {
            self.run_stub(stub, wiring == Some(ResetWiring::UsbOtg))
                .await?;
        }
        if let Some(size) = info.flash_size {
            self.set_flash_size(size).await?;
        }
        Ok(())
    }

    /// Chooses the link speed. With Auto, a rate that fails is dropped for the next one down
    /// after reconnecting at the ROM's rate (the chip may have switched while we could not).
    /// A rate already in use that the job allows (set in the ROM by `prepare_with`) is kept.
    async fn settle_baud(
        &mut self,
        baud: Baud,
        wiring: Option<ResetWiring>,
        stub: Option<&StubImage>,
    ) -> Result<u32> {
        let rates: Vec<u32> = match baud {
            Baud::Fixed(rate) => vec![rate],
            Baud::Auto { max } => STEPS.iter().copied().filter(|r| *r <= max).collect(),
        };
        let current = self.port.baud();
        if current != ROM_BAUD && rates.contains(&current) {
            return Ok(current);
        }
        let can_change = self.responder() == Responder::Stub
            || self.chip().is_some_and(|s| s.rom_can_change_baud);
        if !can_change {
            return Ok(current);
        }
        let restart_stub = if self.responder() == Responder::Stub {
            stub
        } else {
            None
        };
        let mut last = None;
        for rate in rates {
            match self.change_baud(rate).await {
                Ok(()) => return Ok(rate),
                Err(e @ (Error::Timeout(_) | Error::Device(_))) => {
                    self.emit(Event::Note(crate::tf!(
                        "{rate} baud did not work ({error}); trying slower.",
                        rate = rate,
                        error = e
                    )));
                    last = Some(e);
                    self.reconnect(wiring, restart_stub).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::Invalid(crate::i18n::t("no baud rate to try").into())))
    }

    /// Flashes prepared `regions`: baud, optional erase of everything, write with MD5 verify
    /// of every region, then (if asked) a hard reset. Nothing is reported as done unless verified.
    pub async fn flash(
        &mut self,
        regions: &[Region<'_>],
        job: FlashJob,
        wiring: Option<ResetWiring>,
        stub: Option<&StubImage>,
        flash_size: u32,
    ) -> Result<FlashOutcome> {
        let baud = self.settle_baud(job.baud, wiring, stub).await?;
        if job.erase_all {
            self.erase_flash(flash_size).await?;
        }
        // After erasing everything there is nothing to compare with.
        let options = WriteOptions {
            skip_unchanged: !job.erase_all,
            ..WriteOptions::default()
        };
        let report = self.write_flash(regions, options).await?;
        if let Some((offset, len)) = job.clear {
            self.erase_region(offset, len).await?;
        }
        let restart = if job.reset_after {
            Some(self.restart_after_write(wiring).await?)
        } else {
            None
        };
        self.emit(Event::Stage(Stage::Resetting));
        Ok(FlashOutcome {
            report,
            baud,
            restart,
        })
    }

    /// Puts a whole-flash backup back (`image` from address 0): every 64 KiB block is
    /// compared by MD5 and only those that differ are sent, then the whole flash is checked by
    /// MD5 and the board restarted into what it held.
    pub async fn restore_flash(
        &mut self,
        image: &[u8],
        baud: Baud,
        wiring: Option<ResetWiring>,
        stub: Option<&StubImage>,
    ) -> Result<FlashOutcome> {
        let baud = self.settle_baud(baud, wiring, stub).await?;
        let options = WriteOptions {
            compare_every_block: true,
            ..WriteOptions::default()
        };
        let region = Region {
            offset: 0,
            data: image,
        };
        let report = self.write_flash(&[region], options).await?;
        let restart = self.restart_after_write(wiring).await?;
        self.emit(Event::Stage(Stage::Resetting));
        Ok(FlashOutcome {
            report,
            baud,
            restart: Some(restart),
        })
    }

    /// Restarts the board into what its flash now holds; after a reset over the line, puts the
    /// port back to the app's console speed for whoever reads it next. (After a watchdog reset
    /// this port is gone: the firmware's USB device is another one; a firmware with its own USB
    /// may replace it after a reset, too.)
    async fn restart_after_write(&mut self, wiring: Option<ResetWiring>) -> Result<Restart> {
        let how = self.restart_into_firmware(wiring).await?;
        if how == Restart::ResetLine {
            match self.port.set_baud(ROM_BAUD).await {
                Ok(()) | Err(crate::port::PortError::Disconnected) => {}
                Err(e) => return Err(e.into()),
            }
            self.port.sleep(Duration::from_millis(10)).await;
        }
        Ok(how)
    }
}
