//! Reading flash back: its bytes (READ_FLASH on the stub, READ_FLASH_SLOW on ESP32-family
//! ROMs) and the chip's MD5 of a range, which is how every write is verified.
//!
//! The stub streams packets of 4 KiB, each acknowledged with the running total (it sends the
//! next only after the ack), then the MD5 of everything, which is checked. Received bytes are
//! appended to one buffer sized up front, so a 4 MB backup costs linear time.

use std::time::Duration;

use md5::{Digest, Md5};

use super::{timeout_per_mb, Error, Event, Loader, Responder, Result, Stage, DEFAULT_TIMEOUT};
use crate::port::Port;
use crate::protocol::chip::Chip;
use crate::protocol::command::Command;

/// What one stub READ_FLASH asks for: a damaged segment is read again whole.
pub const READ_SEGMENT: u32 = 0x20000;
/// The stub's packet size (esptool's).
const READ_PACKET: u32 = 0x1000;
/// What the ROM's reads are checked in.
const ROM_PIECE: u32 = 0x1000;
/// Tries of an MD5 whose hex text (ROM) came back garbled.
const QUERY_PARSES: u32 = 3;
/// Tries of a segment or piece.
const READ_ATTEMPTS: u32 = 6;

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl<P: Port> Loader<P> {
    /// The chip's MD5 of a flash range.
    pub async fn flash_md5(&mut self, offset: u32, len: u32) -> Result<[u8; 16]> {
        let rom = self.responder == Responder::Rom;
        if !self.can_hash() {
            return Err(Error::Unsupported(crate::i18n::mark(
                "check flash contents (the ESP8266 ROM has no MD5; use the flasher stub)",
            )));
        }
        let data_len = if rom { 32 } else { 16 };
        for _ in 1..QUERY_PARSES {
            match self.flash_md5_once(offset, len, rom, data_len).await {
                Err(Error::Invalid(_)) => self.flush_input().await?,
                result => return result,
            }
        }
        self.flash_md5_once(offset, len, rom, data_len).await
    }

    async fn flash_md5_once(
        &mut self,
        offset: u32,
        len: u32,
        rom: bool,
        data_len: usize,
    ) -> Result<[u8; 16]> {
        let resp = self
            .query(
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
                .map_err(|_| Error::Invalid(crate::i18n::t("malformed MD5 reply").into()))?;
            for (i, byte) in digest.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
                    .map_err(|_| Error::Invalid(crate::i18n::t("malformed MD5 reply").into()))?;
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

    /// Reads `len` bytes of flash, every piece checked by the chip's MD5 of it and read again
    /// when the line damaged it. With the stub: segments of [`READ_SEGMENT`], each streamed in
    /// acknowledged packets and closed by its MD5; with an ESP32-family ROM: 64 bytes per
    /// request, then the ROM's MD5 of every 4 KiB.
    pub async fn read_flash(&mut self, offset: u32, len: u32) -> Result<Vec<u8>> {
        self.emit(Event::Stage(Stage::Reading));
        let rom = self.responder == Responder::Rom;
        if rom && self.spec.is_some_and(|s| s.chip == Chip::Esp8266) {
            return Err(Error::Unsupported(crate::i18n::mark(
                "read flash (the ESP8266 ROM has no read command; use the flasher stub)",
            )));
        }
        // A segment the line damaged is read again in quarters (down to one packet), so a
        // noisy line costs small pieces, and the size grows back after each clean one.
        let mut piece = if rom { ROM_PIECE } else { READ_SEGMENT };
        let mut out = Vec::with_capacity(len as usize);
        let mut tries = 1;
        let mut retried = false;
        while out.len() < len as usize {
            self.check_cancel()?;
            let at = offset + out.len() as u32;
            let n = (len - out.len() as u32).min(piece);
            let mark = out.len();
            let mut acked = 0;
            let read = if rom {
                self.read_rom_piece(at, n, &mut out, len).await
            } else {
                self.read_stub_segment(at, n, &mut out, len, &mut acked)
                    .await
            };
            match read {
                Ok(()) => {
                    tries = 1;
                    if !rom {
                        piece = (piece * 2).min(READ_SEGMENT);
                    }
                }
                Err(
                    e @ (Error::ReadDigest
                    | Error::Timeout(_)
                    | Error::Device(_)
                    | Error::Invalid(_)),
                ) if tries < READ_ATTEMPTS => {
                    tries += 1;
                    retried = true;
                    out.truncate(mark);
                    self.emit(Event::Note(crate::tf!(
                        "{address}: a read was damaged on the way ({error}); reading it again.",
                        address = format!("0x{at:x}"),
                        error = e
                    )));
                    if !rom {
                        self.end_read_stream(n, acked).await?;
                        piece = (piece / 4).max(READ_PACKET);
                    }
                    self.flush_input().await?;
                }
                Err(Error::Cancelled) if !rom => {
                    // The stub waits mid-segment for an ack: walk it out, so the next command
                    // (another backup, a flash) finds it listening.
                    self.end_read_stream(n, acked).await?;
                    self.flush_input().await?;
                    return Err(Error::Cancelled);
                }
                Err(e) => return Err(e),
            }
        }
        // Each segment's MD5 came from the stub's stream; after a retry, one digest of the whole
        // range, taken by address, also proves that no segment came from a stream left over
        // from an earlier try.
        if !rom && retried && self.flash_md5(offset, len).await?[..] != Md5::digest(&out)[..] {
            return Err(Error::ReadDigest);
        }
        Ok(out)
    }

    /// READ_FLASH_SLOW, 64 bytes a request, then the ROM's MD5 of the piece.
    async fn read_rom_piece(
        &mut self,
        at: u32,
        n: u32,
        out: &mut Vec<u8>,
        total: u32,
    ) -> Result<()> {
        let start = out.len();
        let mut got = 0;
        while got < n {
            self.check_cancel()?;
            let size = (n - got).min(64);
            let cmd = Command::ReadFlashSlow {
                addr: at + got,
                size,
            };
            let resp = self.query(&cmd, 64, DEFAULT_TIMEOUT).await?;
            out.extend_from_slice(&resp.data[..size as usize]);
            got += size;
            self.emit(Event::Progress {
                stage: Stage::Reading,
                done: out.len() as u64,
                total: total as u64,
            });
        }
        if self.flash_md5(at, n).await?[..] != Md5::digest(&out[start..])[..] {
            return Err(Error::ReadDigest);
        }
        Ok(())
    }

    /// One stub READ_FLASH of `n` bytes: packets acknowledged with the running total, then the
    /// MD5 of the segment, which is checked. `acked`: the bytes acknowledged so far.
    async fn read_stub_segment(
        &mut self,
        at: u32,
        n: u32,
        out: &mut Vec<u8>,
        total: u32,
        acked: &mut u32,
    ) -> Result<()> {
        let cmd = Command::ReadFlash {
            addr: at,
            size: n,
            packet_size: READ_PACKET,
            in_flight: 64,
        };
        self.command(&cmd, 0, DEFAULT_TIMEOUT).await?;
        let start = out.len();
        let mut got = 0usize;
        while got < n as usize {
            self.check_cancel()?;
            let deadline = self.port.now() + DEFAULT_TIMEOUT;
            let packet = self
                .read_frame(deadline)
                .await?
                .ok_or(Error::Timeout(crate::i18n::mark("reading flash")))?;
            let expected = (n as usize - got).min(READ_PACKET as usize);
            if packet.len() != expected {
                return Err(Error::ReadDigest);
            }
            out.extend_from_slice(&packet);
            got += packet.len();
            *acked = got as u32;
            self.send_raw_frame(&(got as u32).to_le_bytes()).await?;
            self.emit(Event::Progress {
                stage: Stage::Reading,
                done: out.len() as u64,
                total: total as u64,
            });
        }
        let deadline = self.port.now() + DEFAULT_TIMEOUT;
        let digest = self
            .read_frame(deadline)
            .await?
            .ok_or(Error::Timeout(crate::i18n::mark("reading flash")))?;
        if digest[..] != Md5::digest(&out[start..])[..] {
            return Err(Error::ReadDigest);
        }
        Ok(())
    }

    /// After a damaged segment the stub may still be in it, waiting for the ack of what it
    /// has sent: `acked` (our last ack was lost) or one packet more (the packet was damaged).
    /// Each try waits for quiet, sends one ack and waits for the one frame it releases: a
    /// packet (then the next total is acked) or, after the last, the MD5. A total the stub is
    /// not waiting for releases nothing; two such in a row mean it has left the segment.
    async fn end_read_stream(&mut self, n: u32, acked: u32) -> Result<()> {
        let mut total = acked;
        let mut misses = 0;
        while misses < 2 && total <= n {
            self.drain_until_quiet().await?;
            if total == 0 {
                total = n.min(READ_PACKET);
            }
            self.send_raw_frame(&total.to_le_bytes()).await?;
            let deadline = self.port.now() + Duration::from_secs(1);
            match self.read_frame(deadline).await? {
                Some(_) if total == n => break, // The segment's MD5: the stub is done.
                Some(_) => misses = 0,
                None if total == n => break,
                None => misses += 1,
            }
            total = n.min(total + READ_PACKET);
        }
        self.drain_until_quiet().await
    }

    /// Discards what arrives until the line has been quiet for 100 ms (at most 10 s).
    async fn drain_until_quiet(&mut self) -> Result<()> {
        let mut sink = Vec::new();
        let give_up = self.port.now() + Duration::from_secs(10);
        while self.port.now() < give_up {
            sink.clear();
            let deadline = self.port.now() + Duration::from_millis(100);
            if self.port.read(&mut sink, deadline).await? == 0 {
                break;
            }
        }
        self.decoder.clear();
        Ok(())
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
