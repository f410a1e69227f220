//! Writing flash: each region padded, compared with what the flash holds (see [`super::diff`]),
//! the differing runs sent as deflated (or plain) blocks, and every region verified by MD5
//! before success is reported. A block the chip refuses (checksum, sequence) or does not
//! acknowledge ends the pass (the ROM cannot retry a single block, since a failed block still
//! uses up its sequence number); the region is then compared again by 64 KiB blocks and only
//! what still differs is sent, with a fresh BEGIN.

use std::collections::VecDeque;

use md5::{Digest, Md5};

use super::deflate::{bound, BlockDeflater};
use super::erase::{esp8266_erase_size, ROM_BLOCK, SECTOR};
use super::{timeout_per_mb, Error, Event, Loader, Responder, Result, Stage, DEFAULT_TIMEOUT};
use crate::port::Port;
use crate::protocol::chip::Chip;
use crate::protocol::command::Command;

/// The stub's DATA block size.
const STUB_BLOCK: usize = 0x4000;
/// Attempts per run before giving up, where the flash cannot be compared (no MD5).
const REGION_ATTEMPTS: u32 = 3;
/// Passes in a row that leave as much to write as before, then the write gives up.
const STALLED_PASSES: u32 = 6;
/// Passes over a region in all.
const MAX_PASSES: u32 = 40;

/// The flash's large erase unit (block erase, 0xD8).
const ERASE_BLOCK: u32 = 0x10000;

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
    /// Compare MD5s with the flash first and send only the 64 KiB blocks that differ
    /// (default true; needs a loader that can hash).
    pub skip_unchanged: bool,
    /// Compare every block, even when the first ones all differ (default false: firmware that
    /// differs at its start rarely matches later). For a whole-flash restore, where most of
    /// the flash is usually as it was.
    pub compare_every_block: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compress: true,
            verify: true,
            skip_unchanged: true,
            compare_every_block: false,
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
    /// Bytes not written because the flash already held them.
    pub skipped: u64,
    /// Region restarts after refused or lost blocks.
    pub restarts: u32,
    /// Every region's MD5 matched.
    pub verified: bool,
}

impl<P: Port> Loader<P> {
    fn block_size(&self) -> usize {
        match self.responder {
            Responder::Rom => ROM_BLOCK,
            Responder::Stub => STUB_BLOCK,
        }
    }

    pub(super) fn can_hash(&self) -> bool {
        self.responder == Responder::Stub || self.spec.is_some_and(|s| s.rom_has_md5)
    }

    fn can_inflate(&self) -> bool {
        self.responder == Responder::Stub || self.spec.is_some_and(|s| s.rom_has_deflate)
    }

    /// The BEGIN's 5th word: sent to the stub and to ROMs newer than ESP32.
    pub(super) fn encrypt_word(&self) -> Option<bool> {
        match self.responder {
            Responder::Stub => Some(false),
            Responder::Rom if self.spec.is_some_and(|s| s.rom_begin_has_encrypt_word) => {
                Some(false)
            }
            Responder::Rom => None,
        }
    }

    /// Writes every region and verifies each by MD5. With `skip_unchanged`, only the 64 KiB
    /// blocks whose MD5 differs from the flash are sent (see [`super::diff`]).
    pub async fn write_flash(
        &mut self,
        regions: &[Region<'_>],
        options: WriteOptions,
    ) -> Result<WriteReport> {
        if options.verify && !self.can_hash() {
            return Err(Error::Unsupported(crate::i18n::mark(
                "check flash contents (the ESP8266 ROM has no MD5; use the flasher stub)",
            )));
        }
        let mut report = WriteReport {
            written: 0,
            sent: 0,
            skipped: 0,
            restarts: 0,
            verified: options.verify,
        };
        let total: u64 = regions.iter().map(|r| r.data.len() as u64).sum();
        let mut done = 0;
        for (index, region) in regions.iter().enumerate() {
            self.emit(Event::Part {
                index,
                count: regions.len(),
                offset: region.offset,
                len: region.data.len(),
            });
            let (offset, data) = self.pad_region(region);
            let runs = if options.skip_unchanged && self.can_hash() {
                let give_up = !options.compare_every_block;
                self.changed_runs_by(offset, &data, super::diff::DIFF_BLOCK, give_up)
                    .await?
            } else {
                vec![0..data.len()]
            };
            let changed: usize = runs.iter().map(|r| r.len()).sum();
            report.skipped += (data.len() - changed) as u64;
            if runs.is_empty() {
                self.emit(Event::Note(crate::tf!(
                    "{address}: already on the board (MD5 matches), nothing to write.",
                    address = format!("0x{offset:x}")
                )));
            } else if options.verify {
                self.write_resuming(
                    offset,
                    &data,
                    runs,
                    options.compress,
                    (done, total),
                    &mut report,
                )
                .await?;
            } else {
                for run in runs {
                    let at = offset + run.start as u32;
                    self.erase_head_block(at, run.len()).await?;
                    self.emit(Event::Stage(Stage::Writing));
                    let progress = (done + run.start as u64, total);
                    let (sent, restarts) = self
                        .write_run(at, &data[run], options.compress, progress)
                        .await?;
                    report.sent += sent;
                    report.restarts += restarts;
                }
            }
            report.written += changed as u64;
            done += region.data.len() as u64;
            self.emit(Event::Progress {
                stage: Stage::Writing,
                done,
                total,
            });
        }
        Ok(report)
    }

    /// Writes `runs` of a padded region, then verifies the whole region by MD5. When a block is
    /// refused or lost, or the region does not verify, the flash is compared again block by
    /// block (64 KiB) and only what still differs is written: a bad line costs the blocks it
    /// hit, not the whole image. Gives up after [`STALLED_PASSES`] passes in a row that did
    /// not shrink what is left, or [`MAX_PASSES`] in all.
    async fn write_resuming(
        &mut self,
        offset: u32,
        data: &[u8],
        mut runs: Vec<std::ops::Range<usize>>,
        compress: bool,
        (done, total): (u64, u64),
        report: &mut WriteReport,
    ) -> Result<()> {
        let mut left = usize::MAX;
        let (mut stalled, mut passes) = (0, 0);
        let mut unit = super::diff::DIFF_BLOCK;
        loop {
            passes += 1;
            let mut failure = None;
            for run in runs.iter().cloned() {
                let at = offset + run.start as u32;
                self.erase_head_block(at, run.len()).await?;
                self.emit(Event::Stage(Stage::Writing));
                let progress = (done + run.start as u64, total);
                match self
                    .write_blocks(at, &data[run], compress && self.can_inflate(), progress)
                    .await
                {
                    Ok(sent) => report.sent += sent,
                    // Each run has its own BEGIN: after a lost one, the next can still land.
                    Err(e @ (Error::Device(_) | Error::Timeout(_))) => {
                        failure.get_or_insert(e);
                        self.flush_input().await?;
                    }
                    Err(e) => return Err(e),
                }
            }
            if failure.is_none() {
                match self.verify_region(offset, data).await {
                    Ok(()) => return Ok(()),
                    Err(e @ (Error::Verify { .. } | Error::Timeout(_) | Error::Device(_))) => {
                        failure = Some(e)
                    }
                    Err(e) => return Err(e),
                }
            }
            let e = failure.expect("a failed pass");
            self.flush_input().await?;
            self.check_cancel()?;
            // What is still to write, compared and sent in smaller units after each failed
            // pass (a noisy line hits most 64 KiB blocks; at 4 KiB most get through). Nothing
            // left means the last answer was what got lost: the comparison that says so is
            // the verification.
            unit = (unit / 4).max(super::erase::SECTOR);
            runs = self.changed_runs_by(offset, data, unit, false).await?;
            if runs.is_empty() {
                return Ok(());
            }
            let now_left: usize = runs.iter().map(|r| r.len()).sum();
            stalled = if now_left < left { 0 } else { stalled + 1 };
            left = now_left;
            if stalled >= STALLED_PASSES || passes >= MAX_PASSES {
                return Err(e);
            }
            runs = split(offset, runs, unit);
            report.restarts += 1;
            self.emit(Event::Note(crate::tf!(
                "Part of the write was lost ({error}); writing the {size} that still differ.",
                error = e,
                size = crate::i18n::kb(now_left as u64)
            )));
        }
    }

    /// Writes one run, restarting it from a fresh BEGIN when a block is refused or lost.
    /// Returns the bytes sent and the restarts used.
    async fn write_run(
        &mut self,
        offset: u32,
        data: &[u8],
        compress: bool,
        progress: (u64, u64),
    ) -> Result<(u64, u32)> {
        let compress = compress && self.can_inflate();
        let mut attempt = 0;
        loop {
            self.check_cancel()?;
            match self.write_blocks(offset, data, compress, progress).await {
                Ok(sent) => return Ok((sent, attempt)),
                Err(e @ (Error::Device(_) | Error::Timeout(_)))
                    if attempt + 1 < REGION_ATTEMPTS =>
                {
                    attempt += 1;
                    self.emit(Event::Note(crate::tf!(
                        "Block refused ({error}); restarting this part from its beginning.",
                        error = e
                    )));
                    self.flush_input().await?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Pads to 4 bytes; for the ROM, also moves the start down to a sector boundary (it can
    /// only erase whole sectors), filling the gap with 0xFF.
    /// Before a run that starts just inside a 64 KiB erase block and covers the rest of it,
    /// erases that whole block at once when the gap before the run reads blank (MD5 of 0xFF).
    /// The stub would otherwise skip the blank first sector and erase the other 15 one by one
    /// (esp-flasher-stub erases a block only from a block-aligned address), 15 × 45 ms that
    /// outrun the wire at the start of MicroPython's ESP32 image (0x1000); one block erase
    /// takes about 150 ms. The gap is blank before and after, so nothing else changes.
    async fn erase_head_block(&mut self, at: u32, len: usize) -> Result<()> {
        let gap = at % ERASE_BLOCK;
        let covers_rest = len as u64 >= (ERASE_BLOCK - gap) as u64;
        if self.responder != Responder::Stub || gap == 0 || gap > ERASE_BLOCK / 4 || !covers_rest {
            return Ok(());
        }
        let blank: [u8; 16] = Md5::digest(vec![0xFFu8; gap as usize]).into();
        if self.flash_md5(at - gap, gap).await? == blank {
            self.erase_region_unchecked(at - gap, ERASE_BLOCK).await?;
        }
        Ok(())
    }

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

    /// One BEGIN, its DATA blocks and (stub) END. Deflated data is compressed as it is sent;
    /// the ROM checks the announced block count, so for it the blocks are counted first.
    async fn write_blocks(
        &mut self,
        offset: u32,
        data: &[u8],
        compress: bool,
        (base, total): (u64, u64),
    ) -> Result<u64> {
        let block = self.block_size();
        let rom = self.responder == Responder::Rom;
        let esp8266_rom = rom && self.spec.is_some_and(|s| s.chip == Chip::Esp8266);
        let encrypted = self.encrypt_word();
        let mut deflater = BlockDeflater::new(data);
        let mut counted: VecDeque<(Vec<u8>, usize)> = VecDeque::new();
        let blocks = match (compress, rom) {
            (true, true) => {
                while let Some(b) = deflater.next_block(block) {
                    counted.push_back(b);
                }
                counted.len() as u32
            }
            (true, false) => bound(data.len()).div_ceil(block) as u32,
            (false, _) => data.len().div_ceil(block) as u32,
        };
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
        let (mut seq, mut sent, mut written, mut last_span) = (0u32, 0u64, 0usize, 0usize);
        loop {
            self.check_cancel()?;
            let (chunk, span) = if compress {
                let next = if rom {
                    counted.pop_front()
                } else {
                    deflater.next_block(block)
                };
                match next {
                    Some(b) => b,
                    None => break,
                }
            } else {
                let start = seq as usize * block;
                if start >= data.len() {
                    break;
                }
                let mut chunk = data[start..data.len().min(start + block)].to_vec();
                let span = chunk.len();
                chunk.resize(block, 0xFF);
                (chunk, span)
            };
            // The stub acknowledges a block before writing it, so this ack may wait for the
            // previous block's erase + write: cover both, plus a 64 KiB erase on each side.
            let timeout = timeout_per_mb(40.0, span.max(last_span) + 2 * 0x10000);
            let cmd = if compress {
                Command::FlashDeflData { seq, data: &chunk }
            } else {
                Command::FlashData { seq, data: &chunk }
            };
            self.command(&cmd, 0, timeout).await?;
            seq += 1;
            sent += chunk.len() as u64;
            written = (written + span).min(data.len());
            last_span = span;
            self.emit(Event::Progress {
                stage: Stage::Writing,
                done: base + written as u64,
                total,
            });
        }
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
        Ok(sent)
    }
}

/// `runs` (indexes into data placed at `offset`) cut at absolute boundaries of `unit` bytes,
/// so that one lost piece costs only itself.
fn split(offset: u32, runs: Vec<std::ops::Range<usize>>, unit: u32) -> Vec<std::ops::Range<usize>> {
    let unit = unit as usize;
    let mut out = Vec::new();
    for run in runs {
        let mut start = run.start;
        while start < run.end {
            let abs = offset as usize + start;
            let end = ((abs / unit + 1) * unit - offset as usize).min(run.end);
            out.push(start..end);
            start = end;
        }
    }
    out
}

#[cfg(test)]
mod split_tests {
    #[test]
    fn runs_are_cut_at_absolute_unit_boundaries() {
        assert_eq!(
            super::split(0x1000, vec![0..0x3000, 0x5000..0x5800], 0x2000),
            vec![0..0x1000, 0x1000..0x3000, 0x5000..0x5800]
        );
    }
}
