//! Uploading the flasher stub to RAM and starting it, and changing the baud rate.

use std::time::Duration;

use super::{Error, Event, Loader, Responder, Result, Stage, DEFAULT_TIMEOUT};
use crate::port::Port;
use crate::protocol::chip::Chip;
use crate::protocol::command::Command;
use crate::protocol::stub::StubImage;

/// MEM_DATA block size (the ROM's RAM buffer).
const RAM_BLOCK: usize = 0x1800;
/// Smaller blocks for the ROM's USB-OTG CDC port.
const RAM_BLOCK_USB_OTG: usize = 0x800;
/// Tries of the whole upload.
const STUB_ATTEMPTS: u32 = 6;

impl<P: Port> Loader<P> {
    /// Uploads `stub` and waits for its `OHAI` greeting. `usb_otg` caps the block size.
    pub async fn run_stub(&mut self, stub: &StubImage, usb_otg: bool) -> Result<()> {
        if self.responder == Responder::Stub {
            return Ok(());
        }
        self.emit(Event::Stage(Stage::UploadingStub));
        let block = if usb_otg {
            RAM_BLOCK_USB_OTG
        } else {
            RAM_BLOCK
        };
        // A block the ROM refuses (a checksum the line broke) or does not answer: the upload
        // starts again from its first segment (MEM_BEGIN starts afresh).
        let mut tries = 1;
        loop {
            match self.upload_stub(stub, block).await {
                Err(Error::Device(_) | Error::Timeout(_)) if tries < STUB_ATTEMPTS => {
                    tries += 1;
                    self.flush_input().await?;
                }
                Err(e) => return Err(e),
                Ok(()) => break,
            }
        }
        // The ROM jumps to the stub right after replying, so the reply may be cut short.
        let _ = self
            .command(
                &Command::MemEnd { entry: stub.entry },
                0,
                Duration::from_millis(200),
            )
            .await;
        let deadline = self.port.now() + DEFAULT_TIMEOUT;
        while let Some(frame) = self.read_frame(deadline).await? {
            if frame == b"OHAI" {
                self.responder = Responder::Stub;
                return Ok(());
            }
        }
        Err(Error::StubDidNotStart)
    }

    /// Every segment of `stub` into RAM, in MEM_DATA blocks of `block` bytes.
    async fn upload_stub(&mut self, stub: &StubImage, block: usize) -> Result<()> {
        let total: usize = stub.segments.iter().map(|s| s.data.len()).sum();
        let mut done = 0;
        for seg in &stub.segments {
            let blocks = seg.data.len().div_ceil(block) as u32;
            let begin = Command::MemBegin {
                size: seg.data.len() as u32,
                blocks,
                block_size: block as u32,
                addr: seg.addr,
            };
            self.command(&begin, 0, DEFAULT_TIMEOUT).await?;
            for (seq, chunk) in seg.data.chunks(block).enumerate() {
                self.command(
                    &Command::MemData {
                        seq: seq as u32,
                        data: chunk,
                    },
                    0,
                    DEFAULT_TIMEOUT,
                )
                .await?;
                done += chunk.len();
                self.emit(Event::Progress {
                    stage: Stage::UploadingStub,
                    done: done as u64,
                    total: total as u64,
                });
            }
        }
        Ok(())
    }

    /// Switches both ends to `baud`, then checks the link with a register read.
    pub async fn change_baud(&mut self, baud: u32) -> Result<()> {
        let spec = self.spec.ok_or(Error::Invalid(
            crate::i18n::t("detect the chip first").into(),
        ))?;
        let current = self.port.baud();
        if baud == current {
            return Ok(());
        }
        if self.responder == Responder::Rom && !spec.rom_can_change_baud {
            return Err(Error::Unsupported(crate::i18n::mark(
                "change the baud rate (the ESP8266 ROM keeps 115200)",
            )));
        }
        self.emit(Event::Stage(Stage::ChangingBaud));
        let (sent, old) = match self.responder {
            Responder::Stub => (baud, current),
            // The ESP32 ROM sets its divider from its own crystal estimate; scale the request
            // by that estimate as esptool does, so the real rate is what we asked for.
            Responder::Rom if spec.chip == Chip::Esp32 => {
                let cali = (self.read_reg(0x3FF5_F06C).await? >> 7) & 0x01FF_FFFF;
                let ck8m = self.read_reg(0x3FF5_A010).await? & 0xFF;
                let rom_freq = cali as f64 * 15625.0 * ck8m as f64 / 40.0;
                let valid = if rom_freq > 33e6 { 40e6 } else { 26e6 };
                let scaled = if rom_freq > 0.0 {
                    (baud as f64 * rom_freq / valid) as u32
                } else {
                    baud
                };
                (scaled, 0)
            }
            Responder::Rom => (baud, 0),
        };
        self.command(
            &Command::ChangeBaud {
                new_baud: sent,
                old_baud: old,
            },
            0,
            DEFAULT_TIMEOUT,
        )
        .await?;
        self.port.set_baud(baud).await?;
        // The chip may send a little garbage while its UART switches.
        self.port.sleep(Duration::from_millis(50)).await;
        self.flush_input().await?;
        self.take_noise();
        // One try: a rate the link cannot carry should fail fast, so a slower one is tried.
        let addr = crate::protocol::chip::MAGIC_REG;
        self.command(&Command::ReadReg { addr }, 0, DEFAULT_TIMEOUT)
            .await?;
        Ok(())
    }
}
