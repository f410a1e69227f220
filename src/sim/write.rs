//! A flash write in progress on the simulated chip: plain or deflated blocks, erased up front
//! (ROM) or lazily as data arrives (stub), with sequence numbers checked the way the ROM does.

use std::time::Duration;

use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZFlush, MZStatus};

use super::flash::{NorFlash, BLOCK, SECTOR};
use super::timing::Timing;

/// Why a block was refused (mapped to ROM or stub status codes by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// Sequence number out of order, block too large, or more blocks than announced.
    BadSequence,
    Checksum,
    /// Programmed data did not read back (flash was not erased).
    ReadBack,
    Inflate,
    /// Past the end of the flash or of the announced size.
    OutOfRange,
}

/// How the region is erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Erase {
    /// Already erased at BEGIN (ROM).
    Done,
    /// Erase as data arrives, the way esp-flasher-stub (1.1 and later) does (stub).
    Ahead(EraseAhead),
}

/// esp-flasher-stub's erase of a write region (its `s_conditional_erase_next` with
/// esp-stub-lib's `start_next_erase`): until the first sector holding data, each sector is
/// read and skipped if blank; from then on everything left is erased, a 64 KiB block where the
/// address is block-aligned and a whole block of the region remains, else a 4 KiB sector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EraseAhead {
    next: usize,
    end: usize,
    dirty_seen: bool,
}

impl EraseAhead {
    /// Erases until `until` is covered; returns the chip's time.
    fn cover(&mut self, flash: &mut NorFlash, timing: &Timing, until: usize) -> Duration {
        let mut took = Duration::ZERO;
        while self.next < until.min(self.end) {
            if !self.dirty_seen {
                took += timing.read(SECTOR);
                if flash.is_blank(self.next, SECTOR) {
                    self.next += SECTOR;
                    continue;
                }
                self.dirty_seen = true;
            }
            let block = self.next % BLOCK == 0 && self.end - self.next >= BLOCK;
            let step = if block { BLOCK } else { SECTOR };
            flash.erase(self.next, step);
            took += if block {
                timing.block_erase
            } else {
                timing.sector_erase
            };
            self.next += step;
        }
        took
    }
}

/// One FLASH_BEGIN / FLASH_DEFL_BEGIN session.
pub struct WriteSession {
    inflater: Option<Box<InflateState>>,
    /// Where the next decoded byte goes.
    ptr: usize,
    /// Where writing must stop (offset + announced size).
    end: usize,
    blocks: u32,
    block_size: u32,
    next_seq: u32,
    erase: Erase,
    /// Compare what was programmed with what was sent (the ROM does, the stub does not).
    read_back: bool,
}

impl WriteSession {
    /// A session writing `size` bytes at `offset`. `deflate` for FLASH_DEFL_*; `rom` erases the
    /// region now (returning how long that took) and checks data by reading it back.
    pub fn begin(
        flash: &mut NorFlash,
        timing: &Timing,
        offset: u32,
        size: u32,
        erase_size: u32,
        blocks: u32,
        block_size: u32,
        deflate: bool,
        rom: bool,
    ) -> (WriteSession, Duration) {
        let offset = offset as usize;
        let mut took = Duration::ZERO;
        let erase = if rom {
            took = erase_range(flash, timing, offset, erase_size as usize);
            Erase::Done
        } else {
            Erase::Ahead(EraseAhead {
                next: offset / SECTOR * SECTOR,
                end: ((offset + size as usize).div_ceil(SECTOR) * SECTOR).min(flash.size()),
                dirty_seen: false,
            })
        };
        let session = WriteSession {
            inflater: deflate.then(|| InflateState::new_boxed(DataFormat::Zlib)),
            ptr: offset,
            end: offset + size as usize,
            blocks,
            block_size,
            next_seq: 0,
            erase,
            read_back: rom,
        };
        (session, took)
    }

    /// Handles one DATA block: checks it, decodes it, erases as needed and programs it.
    /// Returns the time the chip spent. `checksum_ok` and `seq` come from the request header.
    pub fn data(
        &mut self,
        flash: &mut NorFlash,
        timing: &Timing,
        seq: u32,
        block: &[u8],
        checksum_ok: bool,
        check_seq: bool,
    ) -> Result<Duration, WriteError> {
        if check_seq && (seq != self.next_seq || self.next_seq >= self.blocks.max(1)) {
            return Err(WriteError::BadSequence);
        }
        if block.len() > self.block_size as usize {
            return Err(WriteError::BadSequence);
        }
        // A checksum error still uses up the sequence number (observed on the real ROM).
        self.next_seq += 1;
        if !checksum_ok {
            return Err(WriteError::Checksum);
        }
        let decoded = match &mut self.inflater {
            None => block.to_vec(),
            Some(state) => inflate_all(state, block)?,
        };
        // Uncompressed ROM blocks are padded to the block size; keep only what fits.
        let room = self.end.saturating_sub(self.ptr);
        let data = if self.inflater.is_none() && decoded.len() > room {
            &decoded[..room]
        } else {
            &decoded[..]
        };
        if data.len() > room || self.ptr + data.len() > flash.size() {
            return Err(WriteError::OutOfRange);
        }
        let mut took = Duration::ZERO;
        if let Erase::Ahead(ahead) = &mut self.erase {
            took += ahead.cover(flash, timing, self.ptr + data.len());
        }
        flash.program(self.ptr, data);
        took += timing.program(data.len());
        if self.read_back && flash.read(self.ptr, data.len()) != Some(data) {
            self.ptr += data.len();
            return Err(WriteError::ReadBack);
        }
        self.ptr += data.len();
        Ok(took)
    }

    /// True once every announced byte has been written.
    pub fn complete(&self) -> bool {
        self.ptr >= self.end
    }
}

fn inflate_all(state: &mut InflateState, mut input: &[u8]) -> Result<Vec<u8>, WriteError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let r = inflate(state, input, &mut buf, MZFlush::None);
        out.extend_from_slice(&buf[..r.bytes_written]);
        input = &input[r.bytes_consumed..];
        match r.status {
            Ok(MZStatus::StreamEnd) => return Ok(out),
            Ok(_) if input.is_empty() && r.bytes_written < buf.len() => return Ok(out),
            Ok(_) => {}
            Err(miniz_oxide::MZError::Buf) if input.is_empty() => return Ok(out),
            Err(_) => return Err(WriteError::Inflate),
        }
    }
}

/// Erases `[addr, addr+len)` the way SPI flash drivers do: 64 KiB blocks where aligned, sectors
/// elsewhere. Returns the time taken.
pub fn erase_range(flash: &mut NorFlash, timing: &Timing, addr: usize, len: usize) -> Duration {
    let mut at = addr / SECTOR * SECTOR;
    let end = ((addr + len).div_ceil(SECTOR) * SECTOR).min(flash.size());
    let mut took = Duration::ZERO;
    while at < end {
        if at % BLOCK == 0 && at + BLOCK <= end {
            flash.erase(at, BLOCK);
            took += timing.block_erase;
            at += BLOCK;
        } else {
            flash.erase(at, SECTOR);
            took += timing.sector_erase;
            at += SECTOR;
        }
    }
    took
}

/// How much the ESP8266 ROM really erases when asked for `erase_size` at `offset`: its erase
/// routine adds the sectors up to the next 64 KiB boundary once more (the "erase size bug"
/// that esptool's `get_erase_size` compensates for).
pub fn esp8266_rom_erase_len(offset: u32, erase_size: u32) -> u32 {
    let sectors = erase_size.div_ceil(SECTOR as u32);
    let head = 16 - (offset / SECTOR as u32) % 16;
    let erased = if sectors <= head {
        2 * sectors
    } else {
        sectors + head
    };
    erased * SECTOR as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// esptool's correction, restated, must make the buggy ROM erase what is needed.
    fn esptool_erase_size(offset: u32, size: u32) -> u32 {
        let num_sectors = size.div_ceil(4096);
        let start_sector = offset / 4096;
        let head = (16 - start_sector % 16).min(num_sectors);
        if num_sectors < 2 * head {
            num_sectors.div_ceil(2) * 4096
        } else {
            (num_sectors - head) * 4096
        }
    }

    #[test]
    fn esp8266_erase_bug_is_the_inverse_of_esptools_correction() {
        for offset in (0..0x40000).step_by(0x1000) {
            for size in [1, 0x1000, 0x3000, 0x10000, 0x12345, 0x80000] {
                let erased = esp8266_rom_erase_len(offset, esptool_erase_size(offset, size));
                let needed = size.div_ceil(4096) * 4096;
                assert!(
                    erased >= needed && erased <= needed + 4096,
                    "offset {offset:#x} size {size:#x}: {erased:#x}"
                );
            }
        }
    }

    #[test]
    fn rom_write_to_unerased_flash_fails_read_back() {
        let t = Timing::default();
        let mut f = NorFlash::new(0x10000);
        f.program(0, &[0x00; 16]);
        let (mut w, _) = WriteSession::begin(&mut f, &t, 0x1000, 16, 0x1000, 1, 0x400, false, true);
        assert!(w.data(&mut f, &t, 0, &[0x55; 16], true, true).is_ok());
        // A second session that skips the erase (erase_size 0) over programmed data.
        let (mut w, _) = WriteSession::begin(&mut f, &t, 0, 16, 0, 1, 0x400, false, true);
        assert_eq!(
            w.data(&mut f, &t, 0, &[0x55; 16], true, true),
            Err(WriteError::ReadBack)
        );
    }

    #[test]
    fn deflated_blocks_decode_across_block_boundaries() {
        let t = Timing::default();
        let mut f = NorFlash::new(0x40000);
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let z = miniz_oxide::deflate::compress_to_vec_zlib(&data, 9);
        let blocks = z.len().div_ceil(1024) as u32;
        let (mut w, _) = WriteSession::begin(
            &mut f,
            &t,
            0x8000,
            data.len() as u32,
            0,
            blocks,
            1024,
            true,
            false,
        );
        for (i, chunk) in z.chunks(1024).enumerate() {
            w.data(&mut f, &t, i as u32, chunk, true, true).unwrap();
        }
        assert!(w.complete());
        assert_eq!(f.read(0x8000, data.len()).unwrap(), &data[..]);
    }

    #[test]
    fn sequence_errors_and_consumed_seq_after_checksum_error() {
        let t = Timing::default();
        let mut f = NorFlash::new(0x10000);
        let (mut w, _) = WriteSession::begin(&mut f, &t, 0, 0x800, 0x1000, 2, 0x400, false, true);
        assert_eq!(
            w.data(&mut f, &t, 0, &[1; 0x400], false, true),
            Err(WriteError::Checksum)
        );
        assert_eq!(
            w.data(&mut f, &t, 0, &[1; 0x400], true, true),
            Err(WriteError::BadSequence)
        );
        assert!(w.data(&mut f, &t, 1, &[2; 0x400], true, true).is_ok());
        // The block landed where block 0 should have gone: data shifted, as on the real ROM.
        assert_eq!(f.read(0, 4).unwrap(), &[2, 2, 2, 2]);
    }
}
