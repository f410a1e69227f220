//! The whole jobs the app runs, built from the loader's operations: getting a board ready
//! (connect, detect, stub, flash size) and flashing it (baud, erase, write + verify, reset).
//! Kept here rather than in the UI so they are tested natively against the simulator.

use std::time::Duration;

use super::{
    DeviceInfo, Error, Event, Loader, Region, Responder, Result, Stage, SyncReport, WriteOptions,
    WriteReport,
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
}

/// What flashing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashOutcome {
    pub report: WriteReport,
    /// The baud rate the data went over.
    pub baud: u32,
}

impl<P: Port> Loader<P> {
    /// Resets the board into its loader and learns what it is; starts the stub if one is given.
    pub async fn prepare(
        &mut self,
        wiring: Option<ResetWiring>,
        stub: Option<&StubImage>,
    ) -> Result<Prepared> {
        let sync = self.connect(wiring, 7).await?;
        let info = self.detect().await?;
        if let Some(stub) = stub {
            self.run_stub(stub, wiring == Some(ResetWiring::UsbOtg))
                .await?;
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

    /// Chooses the link speed. With Auto, a rate that fails is dropped for the next one down
    /// after reconnecting at the ROM's rate (the chip may have switched while we could not).
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
        let can_change = self.responder() == Responder::Stub
            || self.chip().is_some_and(|s| s.rom_can_change_baud);
        if !can_change {
            return Ok(self.port.baud());
        }
        let mut last = None;
        for rate in rates {
            match self.change_baud(rate).await {
                Ok(()) => return Ok(rate),
                Err(e @ (Error::Timeout(_) | Error::Device(_))) => {
                    self.emit(Event::Note(format!(
                        "{rate} baud did not work ({e}); trying slower."
                    )));
                    last = Some(e);
                    self.port.set_baud(ROM_BAUD).await?;
                    self.prepare(wiring, stub).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::Invalid("no baud rate to try".into())))
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
        let report = self.write_flash(regions, WriteOptions::default()).await?;
        if job.reset_after {
            self.hard_reset(wiring).await?;
            // Back to the app's console speed for whoever reads the port next.
            self.port.set_baud(ROM_BAUD).await?;
            self.port.sleep(Duration::from_millis(10)).await;
        }
        self.emit(Event::Stage(Stage::Resetting));
        Ok(FlashOutcome { report, baud })
    }
}
