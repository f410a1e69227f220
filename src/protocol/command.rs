//! Requests to the ROM loader and the flasher stub, encoded as the unframed bytes of one
//! SLIP frame: `00 | opcode | size (u16) | checksum (u32) | data`.

/// Opcodes (see `esp-protocol.md` §2).
pub mod op {
    pub const FLASH_BEGIN: u8 = 0x02;
    pub const FLASH_DATA: u8 = 0x03;
    pub const FLASH_END: u8 = 0x04;
    pub const MEM_BEGIN: u8 = 0x05;
    pub const MEM_END: u8 = 0x06;
    pub const MEM_DATA: u8 = 0x07;
    pub const SYNC: u8 = 0x08;
    pub const WRITE_REG: u8 = 0x09;
    pub const READ_REG: u8 = 0x0A;
    pub const SPI_SET_PARAMS: u8 = 0x0B;
    pub const SPI_ATTACH: u8 = 0x0D;
    pub const READ_FLASH_SLOW: u8 = 0x0E;
    pub const CHANGE_BAUDRATE: u8 = 0x0F;
    pub const FLASH_DEFL_BEGIN: u8 = 0x10;
    pub const FLASH_DEFL_DATA: u8 = 0x11;
    pub const FLASH_DEFL_END: u8 = 0x12;
    pub const SPI_FLASH_MD5: u8 = 0x13;
    pub const GET_SECURITY_INFO: u8 = 0x14;
    pub const ERASE_FLASH: u8 = 0xD0;
    pub const ERASE_REGION: u8 = 0xD1;
    pub const READ_FLASH: u8 = 0xD2;
    pub const RUN_USER_CODE: u8 = 0xD3;
}

/// The XOR checksum of `*_DATA` payloads (seed `0xEF`), also used by firmware images.
pub fn checksum(data: &[u8]) -> u8 {
    data.iter().fold(0xEF, |acc, b| acc ^ b)
}

/// One request. Data-carrying variants borrow their block so large writes are not copied twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    Sync,
    ReadReg {
        addr: u32,
    },
    WriteReg {
        addr: u32,
        value: u32,
        mask: u32,
        delay_us: u32,
    },
    /// ROM: argument word + 4 zero bytes; stub: argument word only.
    SpiAttach {
        arg: u32,
        rom: bool,
    },
    SpiSetParams {
        total_size: u32,
    },
    /// `old_baud` is 0 for the ROM, the current baud for the stub.
    ChangeBaud {
        new_baud: u32,
        old_baud: u32,
    },
    /// `encrypted` adds the 5th word that newer ROMs and the stub expect.
    FlashBegin {
        erase_size: u32,
        blocks: u32,
        block_size: u32,
        offset: u32,
        encrypted: Option<bool>,
    },
    FlashData {
        seq: u32,
        data: &'a [u8],
    },
    /// `reboot: false` just finishes the write (value 1 on the wire).
    FlashEnd {
        reboot: bool,
    },
    FlashDeflBegin {
        size: u32,
        blocks: u32,
        block_size: u32,
        offset: u32,
        encrypted: Option<bool>,
    },
    FlashDeflData {
        seq: u32,
        data: &'a [u8],
    },
    FlashDeflEnd {
        reboot: bool,
    },
    MemBegin {
        size: u32,
        blocks: u32,
        block_size: u32,
        addr: u32,
    },
    MemData {
        seq: u32,
        data: &'a [u8],
    },
    /// Jumps to `entry` (flag 0), or just ends the upload when `entry` is 0.
    MemEnd {
        entry: u32,
    },
    SpiFlashMd5 {
        addr: u32,
        size: u32,
    },
    GetSecurityInfo,
    ReadFlashSlow {
        addr: u32,
        size: u32,
    },
    EraseFlash,
    EraseRegion {
        addr: u32,
        size: u32,
    },
    ReadFlash {
        addr: u32,
        size: u32,
        packet_size: u32,
        in_flight: u32,
    },
    RunUserCode,
}

fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn data_block(seq: u32, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(16 + data.len());
    v.extend_from_slice(&words(&[data.len() as u32, seq, 0, 0]));
    v.extend_from_slice(data);
    v
}

fn begin(first: &[u32], encrypted: Option<bool>) -> Vec<u8> {
    let mut ws = first.to_vec();
    if let Some(e) = encrypted {
        ws.push(e as u32);
    }
    words(&ws)
}

/// The 36-byte SYNC payload: `07 07 12 20` then 32 × `0x55` (lets the ROM measure the baud).
pub const SYNC_PAYLOAD: [u8; 36] = {
    let mut p = [0x55u8; 36];
    p[0] = 0x07;
    p[1] = 0x07;
    p[2] = 0x12;
    p[3] = 0x20;
    p
};

impl Command<'_> {
    /// The opcode byte.
    pub fn opcode(&self) -> u8 {
        use Command::*;
        match self {
            Sync => op::SYNC,
            ReadReg { .. } => op::READ_REG,
            WriteReg { .. } => op::WRITE_REG,
            SpiAttach { .. } => op::SPI_ATTACH,
            SpiSetParams { .. } => op::SPI_SET_PARAMS,
            ChangeBaud { .. } => op::CHANGE_BAUDRATE,
            FlashBegin { .. } => op::FLASH_BEGIN,
            FlashData { .. } => op::FLASH_DATA,
            FlashEnd { .. } => op::FLASH_END,
            FlashDeflBegin { .. } => op::FLASH_DEFL_BEGIN,
            FlashDeflData { .. } => op::FLASH_DEFL_DATA,
            FlashDeflEnd { .. } => op::FLASH_DEFL_END,
            MemBegin { .. } => op::MEM_BEGIN,
            MemData { .. } => op::MEM_DATA,
            MemEnd { .. } => op::MEM_END,
            SpiFlashMd5 { .. } => op::SPI_FLASH_MD5,
            GetSecurityInfo => op::GET_SECURITY_INFO,
            ReadFlashSlow { .. } => op::READ_FLASH_SLOW,
            EraseFlash => op::ERASE_FLASH,
            EraseRegion { .. } => op::ERASE_REGION,
            ReadFlash { .. } => op::READ_FLASH,
            RunUserCode => op::RUN_USER_CODE,
        }
    }

    /// The data field and the checksum word.
    fn payload(&self) -> (Vec<u8>, u32) {
        use Command::*;
        match *self {
            Sync => (SYNC_PAYLOAD.to_vec(), 0),
            ReadReg { addr } => (words(&[addr]), 0),
            WriteReg {
                addr,
                value,
                mask,
                delay_us,
            } => (words(&[addr, value, mask, delay_us]), 0),
            SpiAttach { arg, rom: true } => (words(&[arg, 0]), 0),
            SpiAttach { arg, rom: false } => (words(&[arg]), 0),
            SpiSetParams { total_size } => {
                (words(&[0, total_size, 0x10000, 0x1000, 0x100, 0xFFFF]), 0)
            }
            ChangeBaud { new_baud, old_baud } => (words(&[new_baud, old_baud]), 0),
            FlashBegin {
                erase_size,
                blocks,
                block_size,
                offset,
                encrypted,
            } => (
                begin(&[erase_size, blocks, block_size, offset], encrypted),
                0,
            ),
            FlashDeflBegin {
                size,
                blocks,
                block_size,
                offset,
                encrypted,
            } => (begin(&[size, blocks, block_size, offset], encrypted), 0),
            FlashData { seq, data } | FlashDeflData { seq, data } | MemData { seq, data } => {
                (data_block(seq, data), checksum(data) as u32)
            }
            FlashEnd { reboot } | FlashDeflEnd { reboot } => (words(&[!reboot as u32]), 0),
            MemBegin {
                size,
                blocks,
                block_size,
                addr,
            } => (words(&[size, blocks, block_size, addr]), 0),
            MemEnd { entry } => (words(&[(entry == 0) as u32, entry]), 0),
            SpiFlashMd5 { addr, size } => (words(&[addr, size, 0, 0]), 0),
            ReadFlashSlow { addr, size } => (words(&[addr, size]), 0),
            EraseRegion { addr, size } => (words(&[addr, size]), 0),
            ReadFlash {
                addr,
                size,
                packet_size,
                in_flight,
            } => (words(&[addr, size, packet_size, in_flight]), 0),
            GetSecurityInfo | EraseFlash | RunUserCode => (Vec::new(), 0),
        }
    }

    /// The request as the unframed bytes of one SLIP frame.
    pub fn encode(&self) -> Vec<u8> {
        let (data, checksum) = self.payload();
        let mut out = Vec::with_capacity(8 + data.len());
        out.push(0x00);
        out.push(self.opcode());
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        out.extend_from_slice(&checksum.to_le_bytes());
        out.extend_from_slice(&data);
        out
    }
}

/// A request as received by a device: the header fields and the raw data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub direction: u8,
    pub opcode: u8,
    pub size: u16,
    pub checksum: u32,
    pub data: Vec<u8>,
}

impl Request {
    /// Splits a frame into header and data; `None` if shorter than the 8-byte header.
    pub fn parse(frame: &[u8]) -> Option<Request> {
        if frame.len() < 8 {
            return None;
        }
        Some(Request {
            direction: frame[0],
            opcode: frame[1],
            size: u16::from_le_bytes([frame[2], frame[3]]),
            checksum: u32::from_le_bytes(frame[4..8].try_into().ok()?),
            data: frame[8..].to_vec(),
        })
    }

    /// The `n`th little-endian word of the data, if present.
    pub fn word(&self, n: usize) -> Option<u32> {
        self.data
            .get(n * 4..n * 4 + 4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_matches_the_documented_wire_bytes() {
        let framed = crate::protocol::slip::encode(&Command::Sync.encode());
        let mut expected = vec![
            0xC0, 0x00, 0x08, 0x24, 0x00, 0, 0, 0, 0, 0x07, 0x07, 0x12, 0x20,
        ];
        expected.extend([0x55; 32]);
        expected.push(0xC0);
        assert_eq!(framed, expected);
        assert_eq!(framed.len(), 46);
    }

    #[test]
    fn read_reg_is_one_word() {
        assert_eq!(
            Command::ReadReg { addr: 0x4000_1000 }.encode(),
            vec![0x00, 0x0A, 0x04, 0x00, 0, 0, 0, 0, 0x00, 0x10, 0x00, 0x40]
        );
    }

    #[test]
    fn data_blocks_carry_length_seq_and_checksum() {
        let enc = Command::FlashData {
            seq: 3,
            data: &[1, 2, 3, 4],
        }
        .encode();
        assert_eq!(
            &enc[..8],
            &[0x00, 0x03, 20, 0, 0xEF ^ 1 ^ 2 ^ 3 ^ 4, 0, 0, 0]
        );
        assert_eq!(
            &enc[8..24],
            &[4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(&enc[24..], &[1, 2, 3, 4]);
    }

    #[test]
    fn begin_has_four_or_five_words() {
        let four = Command::FlashBegin {
            erase_size: 1,
            blocks: 2,
            block_size: 3,
            offset: 4,
            encrypted: None,
        };
        let five = Command::FlashBegin {
            erase_size: 1,
            blocks: 2,
            block_size: 3,
            offset: 4,
            encrypted: Some(false),
        };
        assert_eq!(four.encode().len(), 8 + 16);
        assert_eq!(five.encode().len(), 8 + 20);
    }

    #[test]
    fn end_flag_is_inverted_reboot_and_mem_end_flag_follows_entry() {
        assert_eq!(
            &Command::FlashEnd { reboot: false }.encode()[8..],
            &[1, 0, 0, 0]
        );
        assert_eq!(
            &Command::FlashEnd { reboot: true }.encode()[8..],
            &[0, 0, 0, 0]
        );
        assert_eq!(
            &Command::MemEnd { entry: 0x4010_0000 }.encode()[8..12],
            &[0, 0, 0, 0]
        );
        assert_eq!(&Command::MemEnd { entry: 0 }.encode()[8..12], &[1, 0, 0, 0]);
    }

    #[test]
    fn stub_and_rom_spi_attach_differ_in_length() {
        assert_eq!(Command::SpiAttach { arg: 0, rom: true }.encode().len(), 16);
        assert_eq!(Command::SpiAttach { arg: 0, rom: false }.encode().len(), 12);
    }

    #[test]
    fn request_parse_round_trips() {
        let enc = Command::EraseRegion {
            addr: 0x1000,
            size: 0x2000,
        }
        .encode();
        let req = Request::parse(&enc).unwrap();
        assert_eq!(
            (req.direction, req.opcode, req.size),
            (0, op::ERASE_REGION, 8)
        );
        assert_eq!(
            (req.word(0), req.word(1), req.word(2)),
            (Some(0x1000), Some(0x2000), None)
        );
    }
}
