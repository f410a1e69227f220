//! Reading flash back: its bytes (READ_FLASH on the stub, READ_FLASH_SLOW on ESP32-family
//! ROMs) and the chip's MD5 of a range, which is how every write is verified.
//!
//! The stub streams packets of 4 KiB, each acknowledged with the running total (it sends the
//! next only after the ack), then the MD5 of everything, which is checked. Received bytes are
//! appended to one buffer sized up front, so a 4 MB backup costs linear time.

use md5::{Digest, Md5};

use super::{timeout_per_mb, Error, Event, Loader, Responder, Result, Stage, DEFAULT_TIMEOUT};
use crate::port::Port;
use crate::protocol::chip::Chip;
use crate::protocol::command::Command;

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl<P: Port> Loader<P> {
    /// The chip's MD5 of a flash range.
    pub async fn flash_md5(&mut self, offset: u32, len: u32) -> Result<[u8; 16]> {
        let rom = self.responder == Responder::Rom;
        if !self.can_hash() {
            return Err(Error::Unsupported(
                "check flash contents (the ESP8266 ROM has no MD5; use the flasher stub)",
            ));
        }
        let data_len = if rom { 32 } else { 16 };
        let resp = self
            .command(
                &Command::SpiFlashMd5 {
                    addr: offset,
                    size: len,
                },
                data_len,
                timeout_per_mb(8.0, len as usize),
            )
            .await?;
        let raw = &resp.data[..data_len];
        let mut digest = [0u8; 16];
        if rom {
            let text = std::str::from_utf8(raw)
                .map_err(|_| Error::Invalid("malformed MD5 reply".into()))?;
            for (i, byte) in digest.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
                    .map_err(|_| Error::Invalid("malformed MD5 reply".into()))?;
            }
        } else {
            digest.copy_from_slice(raw);
        }
        Ok(digest)
    }

    /// Compares the flash with `data` by MD5.
    pub async fn verify_region(&mut self, offset: u32, data: &[u8]) -> Result<()> {
        self.emit(Event::Stage(Stage::Verifying));
        let actual = self.flash_md5(offset, data.len() as u32).await?;
        let expected: [u8; 16] = Md5::digest(data).into();
        if actual != expected {
            return Err(Error::Verify {
                offset,
                len: data.len() as u32,
                expected: hex(&expected),
                actual: hex(&actual),
            });
        }
        Ok(())
    }

    /// Reads `len` bytes of flash. With the stub: acknowledged packets and a closing MD5 that
    /// is checked; with an ESP32-family ROM: 64 bytes per request.
    pub async fn read_flash(&mut self, offset: u32, len: u32) -> Result<Vec<u8>> {
        self.emit(Event::Stage(Stage::Reading));
        let mut out = Vec::with_capacity(len as usize);
        if self.responder == Responder::Rom {
            if self.spec.is_some_and(|s| s.chip == Chip::Esp8266) {
                return Err(Error::Unsupported(
                    "read flash (the ESP8266 ROM has no read command; use the flasher stub)",
                ));
            }
            while out.len() < len as usize {
                self.check_cancel()?;
                let n = (len as usize - out.len()).min(64);
                let cmd = Command::ReadFlashSlow {
                    addr: offset + out.len() as u32,
                    size: n as u32,
                };
                let resp = self.command(&cmd, 64, DEFAULT_TIMEOUT).await?;
                out.extend_from_slice(&resp.data[..n]);
                self.emit(Event::Progress {
                    stage: Stage::Reading,
                    done: out.len() as u64,
                    total: len as u64,
                });
            }
            return Ok(out);
        }
        let cmd = Command::ReadFlash {
            addr: offset,
            size: len,
            packet_size: 0x1000,
            in_flight: 64,
        };
        self.command(&cmd, 0, DEFAULT_TIMEOUT).await?;
        while out.len() < len as usize {
            self.check_cancel()?;
            let deadline = self.port.now() + DEFAULT_TIMEOUT;
            let packet = self
                .read_frame(deadline)
                .await?
                .ok_or(Error::Timeout("reading flash"))?;
            if packet.len() < 0x1000 && out.len() + packet.len() < len as usize {
                return Err(Error::Invalid(format!(
                    "short flash read packet ({} bytes)",
                    packet.len()
                )));
            }
            out.extend_from_slice(&packet);
            self.send_raw_frame(&(out.len() as u32).to_le_bytes())
                .await?;
            self.emit(Event::Progress {
                stage: Stage::Reading,
                done: out.len() as u64,
                total: len as u64,
            });
        }
        let deadline = self.port.now() + DEFAULT_TIMEOUT;
        let digest = self
            .read_frame(deadline)
            .await?
            .ok_or(Error::Timeout("reading flash"))?;
        if out.len() != len as usize || digest[..] != Md5::digest(&out)[..] {
            return Err(Error::ReadDigest);
        }
        Ok(out)
    }
}

/// What the board's flash says about what it runs: the partition table region (0x8000, 0xC00
/// bytes) and, when that table names the app the bootloader starts, the start of that app
/// (through its ESP-IDF app descriptor). Read in two short requests before writing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashSummary {
    pub table: Vec<u8>,
    pub app: Option<Vec<u8>>,
}

impl<P: Port> Loader<P> {
    /// Reads the [`FlashSummary`]. Tables are short (MicroPython's have up to 7 rows), so the
    /// first 512 bytes are read, and the rest of the 3 KB region only if the table goes on.
    pub async fn read_summary(&mut self) -> Result<FlashSummary> {
        use crate::protocol::{app_desc, partition};
        const FIRST: u32 = 0x200;
        let mut table = self.read_flash(partition::TABLE_OFFSET, FIRST).await?;
        if partition::parse(&table) == Err(partition::TableError::NoEnd) {
            let rest = partition::TABLE_LEN as u32 - FIRST;
            table.extend(
                self.read_flash(partition::TABLE_OFFSET + FIRST, rest)
                    .await?,
            );
        }
        let app_at = partition::parse(&table)
            .ok()
            .and_then(|t| t.boot_app().map(|p| p.offset));
        let app = match app_at {
            Some(offset) => Some(self.read_flash(offset, app_desc::READ_LEN as u32).await?),
            None => None,
        };
        Ok(FlashSummary { table, app })
    }
}
