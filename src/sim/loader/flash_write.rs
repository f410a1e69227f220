//! FLASH_BEGIN / FLASH_DATA, plain and deflated: the session checks, erases and programs as
//! the ROM or the stub does (see [`crate::sim::write`]).

use std::time::Duration;

use super::{code, After, Outcome, SimLoader};
use crate::protocol::chip::Chip;
use crate::protocol::command::{checksum, op, Request};
use crate::sim::flash::{NorFlash, SECTOR};
use crate::sim::timing::Timing;
use crate::sim::write::{esp8266_rom_erase_len, WriteError, WriteSession};

impl SimLoader {
    pub(super) fn begin(
        &mut self,
        req: &Request,
        flash: &mut NorFlash,
        timing: &Timing,
    ) -> Outcome {
        let spec = self.spec;
        let rom = !self.stub;
        let deflate = req.opcode == op::FLASH_DEFL_BEGIN;
        let words = req.data.len() / 4;
        let one = |s: &mut Self, status, work| Outcome {
            frames: vec![s.reply(req.opcode, s.last_value, &[], status)],
            work,
            after: After::Stay,
        };
        if rom && deflate && !spec.rom_has_deflate {
            return self.invalid(req.opcode);
        }
        // ESP8266 and ESP32 ROMs take exactly 4 words; later ROMs need the 5th.
        let words_ok = if rom {
            words == 4 + spec.rom_begin_has_encrypt_word as usize
        } else {
            words == 4 || words == 5
        };
        if !words_ok {
            return one(
                self,
                Err(self.fail(code::ROM_INVALID, code::STUB_BAD_LEN)),
                Duration::ZERO,
            );
        }
        if !self.attached {
            return one(self, Err(code::ROM_OP_FAILED), Duration::ZERO);
        }
        let w = |n| req.word(n).unwrap_or(0);
        let (size, blocks, block_size, offset) = (w(0), w(1), w(2), w(3));
        let max_block = if rom { 0x800 } else { 0x4000 };
        if block_size > max_block {
            return one(
                self,
                Err(self.fail(code::ROM_INVALID, code::STUB_BLOCKSIZE)),
                Duration::ZERO,
            );
        }
        if offset as usize + size as usize > self.flash_limit.min(flash.size()) {
            return one(
                self,
                Err(self.fail(code::ROM_OP_FAILED, code::STUB_SPI)),
                Duration::ZERO,
            );
        }
        let erase_size = match (rom, spec.chip) {
            (true, Chip::Esp8266) => esp8266_rom_erase_len(offset, size),
            _ => size,
        };
        // The ROM writes every (padded) block it is sent; its first word is only the erase size.
        // The stub and FLASH_DEFL_BEGIN take the first word as the byte count to write.
        let write_size = if rom && !deflate {
            blocks.saturating_mul(block_size)
        } else {
            size
        };
        let (session, work) = WriteSession::begin(
            flash, timing, offset, write_size, erase_size, blocks, block_size, deflate, rom,
        );
        self.write = Some(session);
        // An unaligned ROM BEGIN reports failure but arms the write anyway (observed).
        let status = if rom && offset % SECTOR as u32 != 0 {
            Err(code::ROM_OP_FAILED)
        } else {
            Ok(())
        };
        one(self, status, work)
    }

    pub(super) fn data(&mut self, req: &Request, flash: &mut NorFlash, timing: &Timing) -> Outcome {
        let rom = !self.stub;
        let declared = req.word(0).unwrap_or(0) as usize;
        let seq = req.word(1).unwrap_or(0);
        let block = req.data.get(16..).unwrap_or(&[]);
        let reply = |s: &mut Self, status, work| Outcome {
            frames: vec![s.reply(req.opcode, s.last_value, &[], status)],
            work,
            after: After::Stay,
        };
        if !rom && declared != block.len() {
            return reply(self, Err(code::STUB_TOO_MUCH), Duration::ZERO);
        }
        let Some(session) = self.write.as_mut() else {
            return reply(
                self,
                Err(self.fail(code::ROM_INVALID, code::STUB_NOT_IN_FLASH_MODE)),
                Duration::ZERO,
            );
        };
        // The ROM checks the checksum over the declared length.
        let body = &block[..declared.min(block.len())];
        let checksum_ok = checksum(body) as u32 == req.checksum;
        match session.data(flash, timing, seq, body, checksum_ok, rom) {
            Ok(work) => reply(self, Ok(()), work),
            Err(e) => {
                let status = match e {
                    WriteError::BadSequence => self.fail(code::ROM_INVALID, code::STUB_BAD_LEN),
                    WriteError::Checksum => self.fail(code::ROM_CHECKSUM, code::STUB_CHECKSUM),
                    WriteError::ReadBack => self.fail(code::ROM_WRITE, code::STUB_SPI),
                    WriteError::Inflate => self.fail(code::ROM_DEFLATE, code::STUB_INFLATE),
                    WriteError::OutOfRange => self.fail(code::ROM_OP_FAILED, code::STUB_SPI),
                };
                reply(self, Err(status), Duration::ZERO)
            }
        }
    }
}
