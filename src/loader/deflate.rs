//! Compressing a region while it is sent: one zlib stream (level 9, like esptool) cut into
//! DATA blocks as the output grows, so the first block leaves before the image is deflated and
//! the host never holds a second, compressed copy of a 4 MB image.
//!
//! The stub is told the number of blocks up front (FLASH_DEFL_BEGIN). It only uses that count
//! to know whether more compressed input follows (esp-flasher-stub and the legacy stub both set
//! `TINFL_FLAG_HAS_MORE_INPUT` while `num_blocks × block_size` exceeds what they received), so
//! an upper bound is safe where an exact count is not known yet; the ROM checks sequence
//! numbers against the count, so for the ROM the blocks are counted before sending.

use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
use miniz_oxide::deflate::stream::deflate;
use miniz_oxide::{MZFlush, MZStatus};

/// Input fed to the compressor per step: small enough that a block is ready soon.
const STEP: usize = 16 * 1024;

/// The largest zlib stream miniz can make of `len` bytes (its `mz_compressBound`).
pub fn bound(len: usize) -> usize {
    (128 + len * 110 / 100).max(128 + len + (len / (31 * 1024) + 1) * 5)
}

/// Hands out the compressed stream of one input in blocks of a fixed size.
pub struct BlockDeflater<'a> {
    compressor: Box<CompressorOxide>,
    input: &'a [u8],
    /// Compressed bytes not yet handed out.
    pending: Vec<u8>,
    scratch: Vec<u8>,
    done: bool,
    /// Input consumed since the last block was handed out.
    consumed: usize,
}

impl<'a> BlockDeflater<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        BlockDeflater {
            compressor: Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
                9, 15, 0,
            ))),
            input,
            pending: Vec::new(),
            scratch: vec![0u8; 2 * STEP],
            done: false,
            consumed: 0,
        }
    }

    /// The next block of `size` compressed bytes (the last one shorter), with the number of
    /// input bytes it stands for (roughly: what the compressor consumed meanwhile).
    pub fn next_block(&mut self, size: usize) -> Option<(Vec<u8>, usize)> {
        while self.pending.len() < size && !self.done {
            self.step();
        }
        if self.pending.is_empty() {
            return None;
        }
        let take = self.pending.len().min(size);
        let block: Vec<u8> = self.pending.drain(..take).collect();
        Some((block, std::mem::take(&mut self.consumed)))
    }

    /// Feeds one step of input (or finishes the stream once the input is used up).
    fn step(&mut self) {
        let take = self.input.len().min(STEP);
        let flush = if take == self.input.len() {
            MZFlush::Finish
        } else {
            MZFlush::None
        };
        let r = deflate(
            &mut self.compressor,
            &self.input[..take],
            &mut self.scratch,
            flush,
        );
        self.pending
            .extend_from_slice(&self.scratch[..r.bytes_written]);
        self.input = &self.input[r.bytes_consumed..];
        self.consumed += r.bytes_consumed;
        if matches!(r.status, Ok(MZStatus::StreamEnd)) || r.status.is_err() {
            self.done = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_join_to_one_zlib_stream_within_the_bound() {
        let data: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> (i % 13)) as u8)
            .collect();
        let mut d = BlockDeflater::new(&data);
        let mut stream = Vec::new();
        let mut consumed = 0;
        while let Some((block, used)) = d.next_block(0x4000) {
            assert!(block.len() <= 0x4000);
            stream.extend(block);
            consumed += used;
        }
        assert_eq!(consumed, data.len());
        assert!(stream.len() <= bound(data.len()));
        let back = miniz_oxide::inflate::decompress_to_vec_zlib(&stream).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn empty_input_is_one_short_block() {
        let mut d = BlockDeflater::new(&[]);
        let (block, _) = d.next_block(0x4000).unwrap();
        assert!(!block.is_empty() && block.len() < 16);
        assert!(d.next_block(0x4000).is_none());
    }
}
