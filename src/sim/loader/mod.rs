//! The serial loader running on the simulated chip: the mask ROM's, or the flasher stub's after
//! one was uploaded and started. Both share most commands; the differences are the ones real
//! chips show (status length and codes, stale ROM reply fields, which commands exist, erase
//! timing, MD5 format, READ_FLASH only on the stub).

mod flash_write;
mod stub_commands;

use std::time::Duration;

use md5::{Digest, Md5};

use super::flash::NorFlash;
use super::regs::Registers;
use super::timing::Timing;
use super::write::WriteSession;
use crate::protocol::chip::{Chip, ChipSpec};
use crate::protocol::command::{checksum, op, Request};
use crate::protocol::response::encode_response;

/// ROM failure reasons (second status byte) and stub codes used here.
mod code {
    pub const ROM_OP_FAILED: u8 = 0x06;
    pub const ROM_INVALID: u8 = 0x05;
    pub const ROM_CHECKSUM: u8 = 0x07;
    pub const ROM_WRITE: u8 = 0x08;
    pub const ROM_READ: u8 = 0x09;
    pub const ROM_READ_LEN: u8 = 0x0A;
    pub const ROM_DEFLATE: u8 = 0x0B;
    pub const STUB_BAD_LEN: u8 = 0xC0;
    pub const STUB_CHECKSUM: u8 = 0xC1;
    pub const STUB_BLOCKSIZE: u8 = 0xC2;
    pub const STUB_INVALID: u8 = 0xC3;
    pub const STUB_SPI: u8 = 0xC4;
    pub const STUB_NOT_IN_FLASH_MODE: u8 = 0xC6;
    pub const STUB_INFLATE: u8 = 0xC7;
    pub const STUB_TOO_MUCH: u8 = 0xC9;
}

/// What the chip does after answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    Stay,
    /// The uploaded stub starts (after MEM_END with an entry point): send `OHAI`.
    StartStub,
    /// The UART switches to this baud once the reply is out.
    ChangeBaud(u32),
    /// The loader exits and the chip runs the firmware in flash.
    RunApp,
    /// The chip wrote or jumped outside its RAM: it faults and reboots (no reply).
    Crash,
    /// Stub READ_FLASH: stream packets of this region next.
    StreamRead {
        addr: usize,
        len: usize,
        packet: usize,
    },
}

/// Frames the loader sends for one request, the time it worked, and what happens next.
pub struct Outcome {
    pub frames: Vec<Vec<u8>>,
    pub work: Duration,
    pub after: After,
}

impl Outcome {
    /// One reply after `work` of the chip's time, then waiting for the next command.
    fn reply(frame: Vec<u8>, work: Duration) -> Outcome {
        Outcome {
            frames: vec![frame],
            work,
            after: After::Stay,
        }
    }
}

/// The loader's state between commands.
pub struct SimLoader {
    spec: &'static ChipSpec,
    pub stub: bool,
    write: Option<WriteSession>,
    mem_loaded: usize,
    /// MEM_BEGIN's (size, block size, address).
    mem_expect: Option<(u32, u32, u32)>,
    attached: bool,
    /// ROM replies repeat the last value and opcode (observed on real ROMs).
    last_value: u32,
    last_op: u8,
    last_was_sync: bool,
    stale_error: u8,
    /// Limit set by SPI_SET_PARAMS (the stub refuses writes beyond it).
    flash_limit: usize,
}

impl SimLoader {
    pub fn new(spec: &'static ChipSpec, stub: bool, flash_size: usize) -> Self {
        SimLoader {
            spec,
            stub,
            write: None,
            mem_loaded: 0,
            mem_expect: None,
            // The ESP8266 ROM attaches on FLASH_BEGIN; stubs attach at start-up.
            attached: stub || !spec.rom_has_spi_attach,
            last_value: 0,
            last_op: 0,
            last_was_sync: false,
            stale_error: 0,
            flash_limit: if stub {
                flash_size.max(16 << 20)
            } else {
                flash_size
            },
        }
    }

    /// A reply frame with status: `Ok` or a failure code (ROM reason or stub code).
    fn reply(&mut self, opcode: u8, value: u32, data: &[u8], status: Result<(), u8>) -> Vec<u8> {
        let mut body = data.to_vec();
        if self.stub {
            body.extend_from_slice(&match status {
                Ok(()) => [0, 0],
                Err(c) => [c, 0],
            });
        } else {
            let (s, e) = match status {
                Ok(()) => (0, self.stale_error),
                Err(c) => (1, c),
            };
            self.stale_error = e;
            body.extend_from_slice(&[s, e]);
            if self.spec.rom_status_len == 4 {
                body.extend_from_slice(&[0, 0]);
            }
            self.last_value = value;
            self.last_op = opcode;
        }
        encode_response(opcode, value, &body)
    }

    fn fail(&self, rom: u8, stub: u8) -> u8 {
        if self.stub {
            stub
        } else {
            rom
        }
    }

    /// The ROM's answer to something it does not understand: `01 05` under the previous reply's
    /// opcode and value, eight times right after a SYNC.
    fn invalid(&mut self, req_op: u8) -> Outcome {
        if self.stub {
            let frame = self.reply(req_op, 0, &[], Err(code::STUB_INVALID));
            return Outcome::reply(frame, Duration::ZERO);
        }
        let (op, value) = (self.last_op, self.last_value);
        let times = if self.last_was_sync { 8 } else { 1 };
        let frame = self.reply(op, value, &[], Err(code::ROM_INVALID));
        Outcome {
            frames: vec![frame; times],
            work: Duration::ZERO,
            after: After::Stay,
        }
    }

    /// Handles one request frame.
    pub fn handle(
        &mut self,
        req: &Request,
        regs: &mut Registers,
        flash: &mut NorFlash,
        timing: &Timing,
        baud: u32,
    ) -> Outcome {
        let out = self.dispatch(req, regs, flash, timing, baud);
        self.last_was_sync = req.opcode == op::SYNC && req.direction == 0;
        out
    }

    fn dispatch(
        &mut self,
        req: &Request,
        regs: &mut Registers,
        flash: &mut NorFlash,
        timing: &Timing,
        baud: u32,
    ) -> Outcome {
        let rom = !self.stub;
        let spec = self.spec;
        let one = |frame| Outcome::reply(frame, Duration::ZERO);
        if req.direction != 0 {
            return self.invalid(req.opcode);
        }
        let w = |n| req.word(n).unwrap_or(0);
        let value = if rom { self.last_value } else { 0 };
        match req.opcode {
            op::SYNC => {
                let v = if rom { 0x2012_0707 } else { 0 };
                let frame = self.reply(op::SYNC, v, &[], Ok(()));
                Outcome {
                    frames: vec![frame; 8],
                    work: Duration::ZERO,
                    after: After::Stay,
                }
            }
            op::READ_REG => {
                let v = regs.read(w(0), baud);
                one(self.reply(op::READ_REG, v, &[], Ok(())))
            }
            op::WRITE_REG => {
                for group in req.data.chunks_exact(16) {
                    let word =
                        |i: usize| u32::from_le_bytes(group[i * 4..i * 4 + 4].try_into().unwrap());
                    regs.write(word(0), word(1), word(2));
                }
                // The ESP8266 ROM returns junk in the value field here.
                let v = if spec.chip == Chip::Esp8266 && rom {
                    0x0016_400B
                } else {
                    value
                };
                one(self.reply(op::WRITE_REG, v, &[], Ok(())))
            }
            op::SPI_ATTACH if rom && !spec.rom_has_spi_attach => self.invalid(req.opcode),
            op::SPI_ATTACH => {
                if self.stub && req.data.len() != 4 {
                    return one(self.reply(op::SPI_ATTACH, 0, &[], Err(code::STUB_BAD_LEN)));
                }
                self.attached = true;
                one(self.reply(op::SPI_ATTACH, value, &[], Ok(())))
            }
            op::SPI_SET_PARAMS if rom && spec.chip == Chip::Esp8266 => self.invalid(req.opcode),
            op::SPI_SET_PARAMS => {
                self.flash_limit = w(1) as usize;
                one(self.reply(op::SPI_SET_PARAMS, value, &[], Ok(())))
            }
            op::CHANGE_BAUDRATE if rom && !spec.rom_can_change_baud => self.invalid(req.opcode),
            op::CHANGE_BAUDRATE => {
                let frame = self.reply(op::CHANGE_BAUDRATE, value, &[], Ok(()));
                // The stub knows the crystal; the ROM sets its divider from its own estimate.
                let baud = if rom { regs.rom_uart_baud(w(0)) } else { w(0) };
                Outcome {
                    frames: vec![frame],
                    work: Duration::ZERO,
                    after: After::ChangeBaud(baud),
                }
            }
            op::FLASH_BEGIN | op::FLASH_DEFL_BEGIN => self.begin(req, flash, timing),
            op::FLASH_DATA | op::FLASH_DEFL_DATA => self.data(req, flash, timing),
            op::FLASH_END | op::FLASH_DEFL_END => {
                let status = match (&self.write, self.stub) {
                    (None, _) => Err(self.fail(code::ROM_OP_FAILED, code::STUB_NOT_IN_FLASH_MODE)),
                    (Some(s), true) if !s.complete() => Err(code::STUB_BAD_LEN),
                    _ => Ok(()),
                };
                self.write = None;
                let frame = self.reply(req.opcode, value, &[], status);
                // The ROM leaves the loader with either flag; the stub just closes the write.
                let after = if rom { After::RunApp } else { After::Stay };
                Outcome {
                    frames: vec![frame],
                    work: Duration::ZERO,
                    after,
                }
            }
            op::MEM_BEGIN => {
                self.mem_expect = Some((w(0), w(2), w(3)));
                self.mem_loaded = 0;
                one(self.reply(op::MEM_BEGIN, value, &[], Ok(())))
            }
            op::MEM_DATA => {
                let len = w(0) as usize;
                let block = req.data.get(16..).unwrap_or(&[]);
                if let Some((_, block_size, addr)) = self.mem_expect {
                    let at = addr.wrapping_add(w(1).wrapping_mul(block_size));
                    if !super::memory::in_ram(spec.chip, at, len as u32) {
                        return Outcome {
                            frames: vec![],
                            work: Duration::ZERO,
                            after: After::Crash,
                        };
                    }
                }
                let status = if self.mem_expect.is_none() {
                    Err(self.fail(code::ROM_INVALID, code::STUB_NOT_IN_FLASH_MODE))
                } else if len > block.len() || checksum(&block[..len]) as u32 != req.checksum {
                    Err(self.fail(code::ROM_CHECKSUM, code::STUB_CHECKSUM))
                } else {
                    self.mem_loaded += len;
                    Ok(())
                };
                one(self.reply(op::MEM_DATA, value, &[], status))
            }
            op::MEM_END => {
                let entry = w(1);
                let frame = self.reply(op::MEM_END, value, &[], Ok(()));
                let after = if w(0) == 0 && entry != 0 && self.mem_loaded > 0 && rom {
                    if super::memory::in_ram(spec.chip, entry, 2) {
                        After::StartStub
                    } else {
                        After::Crash
                    }
                } else {
                    After::Stay
                };
                Outcome {
                    frames: vec![frame],
                    work: Duration::ZERO,
                    after,
                }
            }
            op::SPI_FLASH_MD5 if rom && !spec.rom_has_md5 => self.invalid(req.opcode),
            op::SPI_FLASH_MD5 => {
                let (addr, len) = (w(0) as usize, w(1) as usize);
                let work = timing.read(len);
                match flash.read(addr, len) {
                    Some(bytes) => {
                        let digest = Md5::digest(bytes);
                        let data = if rom {
                            digest
                                .iter()
                                .map(|b| format!("{b:02x}"))
                                .collect::<String>()
                                .into_bytes()
                        } else {
                            digest.to_vec()
                        };
                        Outcome {
                            frames: vec![self.reply(op::SPI_FLASH_MD5, value, &data, Ok(()))],
                            work,
                            after: After::Stay,
                        }
                    }
                    None => {
                        let pad = vec![b'0'; if rom { 32 } else { 16 }];
                        let frame = self.reply(
                            op::SPI_FLASH_MD5,
                            value,
                            &pad,
                            Err(self.fail(code::ROM_READ, code::STUB_SPI)),
                        );
                        one(frame)
                    }
                }
            }
            op::GET_SECURITY_INFO if rom && !spec.rom_has_security_info => self.invalid(req.opcode),
            op::GET_SECURITY_INFO => {
                let mut data = vec![0u8; 12];
                if spec.chip != Chip::Esp32S2 {
                    data.extend_from_slice(&(spec.image_chip_id.unwrap_or(0) as u32).to_le_bytes());
                    data.extend_from_slice(&3u32.to_le_bytes());
                }
                one(self.reply(op::GET_SECURITY_INFO, value, &data, Ok(())))
            }
            op::READ_FLASH_SLOW if rom && spec.chip != Chip::Esp8266 => {
                let (addr, len) = (w(0) as usize, w(1) as usize);
                let mut data = vec![0u8; 64];
                let status = if len > 64 {
                    Err(code::ROM_READ_LEN)
                } else if let Some(bytes) = flash.read(addr, len) {
                    data[..len].copy_from_slice(bytes);
                    Ok(())
                } else {
                    Err(code::ROM_READ)
                };
                let work = timing.read(64);
                Outcome {
                    frames: vec![self.reply(op::READ_FLASH_SLOW, value, &data, status)],
                    work,
                    after: After::Stay,
                }
            }
            op::ERASE_FLASH | op::ERASE_REGION | op::READ_FLASH | op::RUN_USER_CODE
                if self.stub =>
            {
                self.stub_command(req, flash, timing)
            }
            _ => self.invalid(req.opcode),
        }
    }
}
