//! Skipping what is already on the board: the chip hashes a region (SPI_FLASH_MD5, reading
//! flash at ~20 MB/s) far faster than the link can carry it, so comparing digests before
//! writing costs milliseconds and can save the whole transfer.
//!
//! First the whole region: equal means nothing to write (and the comparison is itself the
//! verification). Otherwise each 64 KiB flash block it covers, and only the runs of blocks that
//! differ are written; if the first four blocks all differ, the rest is not compared. Block
//! boundaries are absolute 64 KiB boundaries, so a run starts either where the region starts or
//! on an erase-block boundary and never makes the stub erase a sector holding bytes we skipped.

use std::ops::Range;

use md5::{Digest, Md5};

use super::{Event, Loader, Result, Stage};
use crate::port::Port;

/// The unit compared and rewritten.
pub const DIFF_BLOCK: u32 = 0x10000;

/// When this many leading blocks all differ, the board holds other firmware: the rest is
/// written without comparing (each comparison costs a round trip and ~3 ms of hashing, and
/// firmware that differs at its start almost never matches later, as code moves).
const GIVE_UP: usize = 4;

/// `data` placed at `offset`, cut at absolute 64 KiB boundaries; ranges index `data`.
#[cfg(test)]
fn block_spans(offset: u32, len: usize) -> Vec<Range<usize>> {
    spans_of(offset, len, DIFF_BLOCK)
}

/// `data` placed at `offset`, cut at absolute boundaries of `unit` bytes.
fn spans_of(offset: u32, len: usize, unit: u32) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut start = 0usize;
    while start < len {
        let abs = offset as usize + start;
        let next_boundary = (abs / unit as usize + 1) * unit as usize;
        let end = (next_boundary - offset as usize).min(len);
        spans.push(start..end);
        start = end;
    }
    spans
}

/// Joins adjacent ranges.
fn merge(ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match runs.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ => runs.push(r),
        }
    }
    runs
}

impl<P: Port> Loader<P> {
    /// The parts of `data` (to go at `offset`) that differ from the flash, compared in units of
    /// `unit` bytes (a power of two, at least a 4 KiB sector); empty if the flash already holds
    /// exactly `data`. `give_up`: stop comparing when the first blocks all differ.
    pub(super) async fn changed_runs_by(
        &mut self,
        offset: u32,
        data: &[u8],
        unit: u32,
        give_up: bool,
    ) -> Result<Vec<Range<usize>>> {
        self.emit(Event::Stage(Stage::Verifying));
        let whole: [u8; 16] = Md5::digest(data).into();
        if self.flash_md5(offset, data.len() as u32).await? == whole {
            return Ok(Vec::new());
        }
        let spans = spans_of(offset, data.len(), unit);
        if spans.len() == 1 {
            return Ok(spans);
        }
        let mut differ = Vec::new();
        for (i, span) in spans.iter().enumerate() {
            self.check_cancel()?;
            if give_up && i == GIVE_UP && differ.len() == GIVE_UP {
                // Different firmware (or none): comparing the rest would only cost time.
                differ.extend(spans[i..].iter().cloned());
                break;
            }
            let want: [u8; 16] = Md5::digest(&data[span.clone()]).into();
            let have = self
                .flash_md5(offset + span.start as u32, span.len() as u32)
                .await?;
            if have != want {
                differ.push(span.clone());
            }
        }
        Ok(merge(differ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_follow_absolute_block_boundaries() {
        assert_eq!(block_spans(0x1000, 0x100), vec![0..0x100]);
        assert_eq!(
            block_spans(0x1000, 0x20000),
            vec![0..0xF000, 0xF000..0x1F000, 0x1F000..0x20000]
        );
        assert_eq!(
            block_spans(0x10000, 0x20000),
            vec![0..0x10000, 0x10000..0x20000]
        );
        assert!(block_spans(0, 0).is_empty());
    }

    #[test]
    fn adjacent_runs_merge() {
        assert_eq!(merge(vec![0..4, 4..8, 12..16]), vec![0..8, 12..16]);
    }
}
