//! Writing, verifying, reading and erasing flash, and resetting into the new firmware.
//!
//! Every region written is verified by MD5 before success is reported. A block the chip
//! refuses (checksum, sequence) or does not acknowledge restarts the region with a fresh BEGIN:
//! the ROM cannot retry a single block, since a failed block still uses up its sequence number.

use std::time::Duration;

use md5::{Digest, Md5};
use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
use miniz_oxide::deflate::stream::deflate;
use miniz_oxide::{MZFlush, MZStatus};

use super::{timeout_per_mb, Error, Event, Loader, Responder, Result, Stage, DEFAULT_TIMEOUT};
use crate::port::{Port, Signals};
use crate::protocol::chip::Chip;
use crate::protocol::command::Command;
use crate::usb::ResetWiring;

const SECTOR: u32 = 0x1000;
/// Block sizes: the ROM's FLASH_DATA buffer and the stub's.
const ROM_BLOCK: usize = 0x400;
const STUB_BLOCK: usize = 0x4000;
/// Attempts per region before giving up.
const REGION_ATTEMPTS: u32 = 3;

/// Bytes to put at a flash offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region<'a> {
    pub offset: u32,
    pub data: &'a [u8],
}

/// How to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// Send deflated blocks when the loader can inflate (default true).
    pub compress: bool,
    /// Check every region by MD5 (default true). When the loader cannot hash (ESP8266 ROM),
    /// a verified write is refused before anything is written.
    pub verify: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compress: true,
            verify: true,
        }
    }
}

/// What a successful write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// Bytes written, over all regions (after padding).
    pub written: u64,
    /// Bytes sent in DATA blocks (compressed or not).
    pub sent: u64,
    /// Region restarts after refused or lost blocks.
    pub restarts: u32,
    /// Every region's MD5 matched.
    pub verified: bool,
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl<P: Port> Loader<P> {
    fn block_size(&self) -> usize {
        match self.responder {
            Responder::Rom => ROM_BLOCK,
            Responder::Stub => STUB_BLOCK,
        }
    }

    fn can_hash(&self) -> bool {
        self.responder == Responder::Stub || self.spec.is_some_and(|s| s.rom_has_md5)
    }

    fn can_inflate(&self) -> bool {
        self.responder == Responder::Stub || self.spec.is_some_and(|s| s.rom_has_deflate)
    }

    /// The BEGIN's 5th word: sent to the stub and to ROMs newer than ESP32.
    fn encrypt_word(&self) -> Option<bool> {
        match self.responder {
            Responder::Stub => Some(false),
            Responder::Rom if self.spec.is_some_and(|s| s.rom_begin_has_encrypt_word) => {
                Some(false)
            }
            Responder::Rom => None,
        }
    }

    /// Writes every region and verifies each by MD5.
    pub async fn write_flash(
        &mut self,
        regions: &[Region<'_>],
        options: WriteOptions,
    ) -> Result<WriteReport> {
        if options.verify && !self.can_hash() {
            return Err(Error::Unsupported(
                "check flash contents (the ESP8266 ROM has no MD5; use the flasher stub)",
            ));
        }
        let mut report = WriteReport {
            written: 0,
            sent: 0,
            restarts: 0,
            verified: options.verify,
        };
        let total: u64 = regions.iter().map(|r| r.data.len() as u64).sum();
        self.emit(Event::Stage(Stage::Writing));
        let mut done_before = 0;
        for region in regions {
            let (offset, data) = self.pad_region(region);
            let compress = options.compress && self.can_inflate();
            let payload = if compress {
                self.compress(&data).await
            } else {
                data.clone()
            };
            let mut attempt = 0;
            loop {
                self.check_cancel()?;
                match self
                    .write_region(offset, &data, &payload, compress, done_before, total)
                    .await
                {
                    Ok(()) => break,
                    Err(e @ (Error::Device(_) | Error::Timeout(_)))
                        if attempt + 1 < REGION_ATTEMPTS =>
                    {
                        attempt += 1;
                        report.restarts += 1;
                        self.emit(Event::Note(format!(
                            "Block refused ({e}); restarting this part from its beginning."
                        )));
                        self.flush_input().await?;
                    }
                    Err(e) => return Err(e),
                }
            }
            report.written += data.len() as u64;
            report.sent += payload.len() as u64;
            done_before += region.data.len() as u64;
            if options.verify {
                self.verify_region(offset, &data).await?;
            }
        }
        Ok(report)
    }

    /// Pads to 4 bytes; for the ROM, also moves the start down to a sector boundary (it can
    /// only erase whole sectors), filling the gap with 0xFF.
    fn pad_region(&self, region: &Region<'_>) -> (u32, Vec<u8>) {
        let mut offset = region.offset;
        let mut data = Vec::with_capacity(region.data.len() + SECTOR as usize);
        if self.responder == Responder::Rom && offset % SECTOR != 0 {
            let gap = offset % SECTOR;
            data.resize(gap as usize, 0xFF);
            offset -= gap;
        }
        data.extend_from_slice(region.data);
        data.resize(data.len().div_ceil(4) * 4, 0xFF);
        (offset, data)
    }

    async fn write_region(
        &mut self,
        offset: u32,
        data: &[u8],
        payload: &[u8],
        compress: bool,
        done_before: u64,
        total: u64,
    ) -> Result<()> {
        let block = self.block_size();
        let blocks = payload.len().div_ceil(block) as u32;
        let rom = self.responder == Responder::Rom;
        let esp8266_rom = rom && self.spec.is_some_and(|s| s.chip == Chip::Esp8266);
        let encrypted = self.encrypt_word();
        // The ROM erases during BEGIN; the stub erases as it goes.
        let begin_timeout = if rom {
            timeout_per_mb(40.0, data.len())
        } else {
            DEFAULT_TIMEOUT
        };
        let begin = if compress {
            let size = if rom {
                (data.len().div_ceil(ROM_BLOCK) * ROM_BLOCK) as u32
            } else {
                data.len() as u32
            };
            Command::FlashDeflBegin {
                size,
                blocks,
                block_size: block as u32,
                offset,
                encrypted,
            }
        } else {
            let erase_size = if esp8266_rom {
                esp8266_erase_size(offset, data.len() as u32)
            } else {
                data.len() as u32
            };
            Command::FlashBegin {
                erase_size,
                blocks,
                block_size: block as u32,
                offset,
                encrypted,
            }
        };
        self.command(&begin, 0, begin_timeout).await?;
        // Per block: worst-case erase + write of the data it carries (inflated for deflate).
        let per_block_bytes = if compress {
            data.len() / blocks.max(1) as usize + 2 * 0x10000
        } else {
            block
        };
        let block_timeout = timeout_per_mb(40.0, per_block_bytes);
        let mut written = 0u64;
        for (seq, chunk) in payload.chunks(block).enumerate() {
            self.check_cancel()?;
            let padded;
            let chunk = if !compress && chunk.len() < block {
                padded = [chunk, &vec![0xFF; block - chunk.len()][..]].concat();
                &padded[..]
            } else {
                chunk
            };
            let cmd = if compress {
                Command::FlashDeflData {
                    seq: seq as u32,
                    data: chunk,
                }
            } else {
                Command::FlashData {
                    seq: seq as u32,
                    data: chunk,
                }
            };
            self.command(&cmd, 0, block_timeout).await?;
            written = ((seq as u64 + 1) * data.len() as u64 / blocks.max(1) as u64)
                .min(data.len() as u64);
            self.emit(Event::Progress {
                stage: Stage::Writing,
                done: done_before + written,
                total,
            });
        }
        let _ = written;
        // The stub acknowledges blocks before writing them; END collects the last status.
        if !rom {
            let end = if compress {
                Command::FlashDeflEnd { reboot: false }
            } else {
                Command::FlashEnd { reboot: false }
            };
            self.command(&end, 0, timeout_per_mb(40.0, 2 * 0x10000))
                .await?;
        }
        Ok(())
    }

    /// zlib-compresses `data` (level 9, like esptool) in slices, letting the host breathe
    /// between them: in the browser `sleep(0)` yields to the page, so a 4 MB image does not
    /// freeze it.
    async fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        const SLICE: usize = 64 * 1024;
        let mut compressor = CompressorOxide::new(create_comp_flags_from_zip_params(9, 15, 0));
        let mut out = Vec::with_capacity(data.len() / 2);
        let mut buf = vec![0u8; SLICE];
        let mut input = data;
        loop {
            let take = input.len().min(SLICE);
            let flush = if take == input.len() {
                MZFlush::Finish
            } else {
                MZFlush::None
            };
            let r = deflate(&mut compressor, &input[..take], &mut buf, flush);
            out.extend_from_slice(&buf[..r.bytes_written]);
            input = &input[r.bytes_consumed..];
            if matches!(r.status, Ok(MZStatus::StreamEnd)) || r.status.is_err() {
                break;
            }
            self.port.sleep(Duration::ZERO).await;
        }
        out
    }

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

    /// Erases the whole flash. `flash_size` is needed in ROM mode, which erases by region.
    pub async fn erase_flash(&mut self, flash_size: u32) -> Result<()> {
        if self.responder == Responder::Rom {
            return self.erase_region(0, flash_size).await;
        }
        self.emit(Event::Stage(Stage::Erasing));
        self.command(&Command::EraseFlash, 0, Duration::from_secs(120))
            .await?;
        Ok(())
    }

    /// Erases `[offset, offset + len)`; both must be multiples of 4 KiB. The stub has a command
    /// for it; the ROM erases the region when a write begins, so a BEGIN with no data does it.
    pub async fn erase_region(&mut self, offset: u32, len: u32) -> Result<()> {
        if offset % SECTOR != 0 || len % SECTOR != 0 {
            return Err(Error::Invalid(format!(
                "erase offset and size must be multiples of 4 KiB (got 0x{offset:x}, 0x{len:x})"
            )));
        }
        self.emit(Event::Stage(Stage::Erasing));
        let timeout = timeout_per_mb(40.0, len as usize);
        if self.responder == Responder::Stub {
            self.command(
                &Command::EraseRegion {
                    addr: offset,
                    size: len,
                },
                0,
                timeout,
            )
            .await?;
            return Ok(());
        }
        let esp8266 = self.spec.is_some_and(|s| s.chip == Chip::Esp8266);
        let erase_size = if esp8266 {
            esp8266_erase_size(offset, len)
        } else {
            len
        };
        let begin = Command::FlashBegin {
            erase_size,
            blocks: 0,
            block_size: ROM_BLOCK as u32,
            offset,
            encrypted: self.encrypt_word(),
        };
        self.command(&begin, 0, timeout).await?;
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

    /// Resets the chip into its firmware (RTS pulse; USB-JTAG-Serial reads the same lines).
    pub async fn hard_reset(&mut self, wiring: Option<ResetWiring>) -> Result<()> {
        self.emit(Event::Stage(Stage::Resetting));
        let hold = if wiring == Some(ResetWiring::UsbJtagSerial) {
            200
        } else {
            100
        };
        self.port
            .set_signals(Signals {
                dtr: false,
                rts: true,
            })
            .await?;
        self.port.sleep(Duration::from_millis(hold)).await;
        self.port
            .set_signals(Signals {
                dtr: false,
                rts: false,
            })
            .await?;
        self.responder = Responder::Rom;
        self.decoder.clear();
        Ok(())
    }
}

/// The erase size to send to the ESP8266 ROM so that its erase bug erases what is needed.
fn esp8266_erase_size(offset: u32, size: u32) -> u32 {
    let sectors = size.div_ceil(SECTOR);
    let start = offset / SECTOR;
    let head = (16 - start % 16).min(sectors);
    if sectors < 2 * head {
        sectors.div_ceil(2) * SECTOR
    } else {
        (sectors - head) * SECTOR
    }
}
