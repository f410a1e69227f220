//! PICOBOOT, the RP2040/RP2350 BOOTSEL mode's vendor USB interface (`boards.md` §2.11, from the
//! RP2040 and RP2350 datasheets' USB boot sections and pico-sdk's `boot/picoboot.h`): the
//! 32-byte command block, the command ids and their exact sizes, the status block, the
//! interface's control requests and status codes. Pure: no I/O.

/// `dMagic` of every command block.
pub const MAGIC: u32 = 0x431F_D10B;
pub const COMMAND_LEN: usize = 32;
/// The PICOBOOT interface's bulk endpoints (OUT 0x03, IN 0x84), as WebUSB numbers them.
pub const EP_OUT: u8 = 3;
pub const EP_IN: u8 = 4;
/// The ROM processes data in chunks of this size; flash reads and writes start on one.
pub const PAGE: u32 = 256;
/// Flash erases are whole sectors.
pub const SECTOR: u32 = 4096;
/// Where flash is in the address map.
pub const FLASH_BASE: u32 = 0x1000_0000;
/// RP2040's REBOOT: the stack pointer picotool gives (the top of SRAM).
pub const RP2040_STACK_TOP: u32 = 0x2004_2000;

/// Control requests to the interface (vendor, interface recipient).
pub const INTERFACE_RESET: u8 = 0x41;
pub const GET_COMMAND_STATUS: u8 = 0x42;
pub const REQUEST_OUT: u8 = 0x41;
pub const REQUEST_IN: u8 = 0xC1;

/// A command the host sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// 0 not exclusive, 1 exclusive (the drive stops taking writes), 2 exclusive and eject.
    ExclusiveAccess(u8),
    /// RP2040 only: reboot after `delay_ms` to `pc` (0: a normal boot) with stack `sp`.
    Reboot {
        pc: u32,
        sp: u32,
        delay_ms: u32,
    },
    FlashErase {
        address: u32,
        size: u32,
    },
    Read {
        address: u32,
        size: u32,
    },
    Write {
        address: u32,
        size: u32,
    },
    ExitXip,
    EnterCmdXip,
    /// RP2350 only: flags (low nibble: 0 normal, 2 BOOTSEL, 3 RAM image, 4 flash update).
    Reboot2 {
        flags: u32,
        delay_ms: u32,
        p0: u32,
        p1: u32,
    },
    /// RP2350 only: `kind` 1 SYS (with `flags` in dParams[0]); the reply is at most 256 bytes.
    GetInfo {
        kind: u8,
        flags: u32,
        length: u32,
    },
}

impl Command {
    /// `bCmdId` (bit 7: the data phase is IN).
    pub fn id(&self) -> u8 {
        match self {
            Command::ExclusiveAccess(_) => 0x01,
            Command::Reboot { .. } => 0x02,
            Command::FlashErase { .. } => 0x03,
            Command::Read { .. } => 0x84,
            Command::Write { .. } => 0x05,
            Command::ExitXip => 0x06,
            Command::EnterCmdXip => 0x07,
            Command::Reboot2 { .. } => 0x0A,
            Command::GetInfo { .. } => 0x8B,
        }
    }

    /// Bytes in the data phase (`dTransferLength`).
    pub fn transfer_length(&self) -> u32 {
        match *self {
            Command::Read { size, .. } | Command::Write { size, .. } => size,
            Command::GetInfo { length, .. } => length,
            _ => 0,
        }
    }

    /// The data phase goes device → host.
    pub fn data_in(&self) -> bool {
        self.id() & 0x80 != 0
    }

    /// `bCmdSize` and the argument bytes.
    fn args(&self) -> (u8, Vec<u8>) {
        let words = |ws: &[u32]| ws.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>();
        match *self {
            Command::ExclusiveAccess(mode) => (1, vec![mode]),
            Command::Reboot { pc, sp, delay_ms } => (12, words(&[pc, sp, delay_ms])),
            Command::FlashErase { address, size }
            | Command::Read { address, size }
            | Command::Write { address, size } => (8, words(&[address, size])),
            Command::ExitXip | Command::EnterCmdXip => (0, Vec::new()),
            Command::Reboot2 {
                flags,
                delay_ms,
                p0,
                p1,
            } => (16, words(&[flags, delay_ms, p0, p1])),
            Command::GetInfo { kind, flags, .. } => {
                let mut a = vec![kind, 0, 0, 0];
                a.extend_from_slice(&flags.to_le_bytes());
                a.extend_from_slice(&[0; 8]);
                (16, a)
            }
        }
    }

    /// The 32-byte command block with `token`.
    pub fn encode(&self, token: u32) -> [u8; COMMAND_LEN] {
        let mut b = [0u8; COMMAND_LEN];
        let (size, args) = self.args();
        b[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        b[4..8].copy_from_slice(&token.to_le_bytes());
        b[8] = self.id();
        b[9] = size;
        b[12..16].copy_from_slice(&self.transfer_length().to_le_bytes());
        b[16..16 + args.len()].copy_from_slice(&args);
        b
    }
}

/// A command block as a device reads it (before it checks sizes against the id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub token: u32,
    pub id: u8,
    pub size: u8,
    pub transfer_length: u32,
    pub args: [u8; 16],
}

impl Block {
    /// `None` unless exactly 32 bytes with the magic (the ROM stalls both endpoints then).
    pub fn parse(packet: &[u8]) -> Option<Block> {
        if packet.len() != COMMAND_LEN || u32_at(packet, 0) != MAGIC {
            return None;
        }
        Some(Block {
            token: u32_at(packet, 4),
            id: packet[8],
            size: packet[9],
            transfer_length: u32_at(packet, 12),
            args: packet[16..32].try_into().unwrap(),
        })
    }

    /// Argument word `i` (little-endian, from offset 16 + 4i).
    pub fn word(&self, i: usize) -> u32 {
        u32_at(&self.args, i * 4)
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// GET_COMMAND_STATUS's 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub token: u32,
    pub code: u32,
    pub id: u8,
    pub in_progress: bool,
}

impl Status {
    pub fn parse(b: &[u8]) -> Option<Status> {
        (b.len() == 16).then(|| Status {
            token: u32_at(b, 0),
            code: u32_at(b, 4),
            id: b[8],
            in_progress: b[9] != 0,
        })
    }

    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&self.token.to_le_bytes());
        b[4..8].copy_from_slice(&self.code.to_le_bytes());
        b[8] = self.id;
        b[9] = self.in_progress as u8;
        b
    }
}

/// Status codes.
pub mod code {
    pub const OK: u32 = 0;
    pub const UNKNOWN_CMD: u32 = 1;
    pub const INVALID_CMD_LENGTH: u32 = 2;
    pub const INVALID_TRANSFER_LENGTH: u32 = 3;
    pub const INVALID_ADDRESS: u32 = 4;
    pub const BAD_ALIGNMENT: u32 = 5;
    pub const INTERLEAVED_WRITE: u32 = 6;
    pub const REBOOTING: u32 = 7;
    pub const UNKNOWN_ERROR: u32 = 8;
    pub const NOT_PERMITTED: u32 = 10;
    pub const INVALID_ARG: u32 = 11;
}

/// A status code's name.
pub fn code_name(code: u32) -> &'static str {
    match code {
        0 => "OK",
        1 => "UNKNOWN_CMD",
        2 => "INVALID_CMD_LENGTH",
        3 => "INVALID_TRANSFER_LENGTH",
        4 => "INVALID_ADDRESS",
        5 => "BAD_ALIGNMENT",
        6 => "INTERLEAVED_WRITE",
        7 => "REBOOTING",
        8 => "UNKNOWN_ERROR",
        9 => "INVALID_STATE",
        10 => "NOT_PERMITTED",
        11 => "INVALID_ARG",
        12 => "BUFFER_TOO_SMALL",
        13 => "PRECONDITION_NOT_MET",
        14 => "MODIFIED_DATA",
        15 => "INVALID_DATA",
        16 => "NOT_FOUND",
        17 => "UNSUPPORTED_MODIFICATION",
        _ => crate::i18n::t("an unknown status"),
    }
}

/// The exact `bCmdSize` for command id `id` (`None`: not a command).
pub fn expected_size(id: u8) -> Option<u8> {
    Some(match id & 0x7F {
        0x01 => 1,
        0x02 => 12,
        0x03 | 0x04 | 0x05 => 8,
        0x06 | 0x07 => 0,
        0x08 | 0x09 => 4,
        0x0A | 0x0B => 16,
        0x0C | 0x0D => 5,
        _ => return None,
    })
}

/// The byte ranges a set of 256-byte pages covers, merged where they touch: (address, bytes).
pub fn ranges(pages: &[(u32, Vec<u8>)]) -> Vec<(u32, Vec<u8>)> {
    let mut sorted: Vec<&(u32, Vec<u8>)> = pages.iter().collect();
    sorted.sort_by_key(|(a, _)| *a);
    let mut out: Vec<(u32, Vec<u8>)> = Vec::new();
    for (address, data) in sorted {
        match out.last_mut() {
            Some((start, bytes)) if *start as u64 + bytes.len() as u64 == *address as u64 => {
                bytes.extend_from_slice(data)
            }
            _ => out.push((*address, data.clone())),
        }
    }
    out
}

/// The 4 KiB sectors `ranges` touch, in order.
pub fn sectors(ranges: &[(u32, Vec<u8>)]) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for (address, data) in ranges {
        let first = address / SECTOR * SECTOR;
        let end = (*address as u64 + data.len() as u64).div_ceil(SECTOR as u64) * SECTOR as u64;
        let mut s = first as u64;
        while s < end {
            if out.last() != Some(&(s as u32)) {
                out.push(s as u32);
            }
            s += SECTOR as u64;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_block_is_magic_token_id_size_length_args() {
        let b = Command::Write {
            address: 0x1000_0100,
            size: 512,
        }
        .encode(7);
        assert_eq!(&b[0..4], &[0x0B, 0xD1, 0x1F, 0x43]);
        assert_eq!(u32_at(&b, 4), 7);
        assert_eq!((b[8], b[9]), (0x05, 8));
        assert_eq!(u32_at(&b, 12), 512);
        assert_eq!(u32_at(&b, 16), 0x1000_0100);
        assert_eq!(u32_at(&b, 20), 512);
        let read = Command::Read {
            address: 0x1000_0000,
            size: 256,
        };
        assert!(read.data_in());
        let parsed = Block::parse(&read.encode(9)).unwrap();
        assert_eq!(
            (parsed.id, parsed.size, parsed.transfer_length),
            (0x84, 8, 256)
        );
        assert_eq!(expected_size(parsed.id), Some(parsed.size));
        // Every command's size is the one the ROM expects.
        for c in [
            Command::ExclusiveAccess(1),
            Command::Reboot {
                pc: 0,
                sp: RP2040_STACK_TOP,
                delay_ms: 500,
            },
            Command::FlashErase {
                address: 0x1000_0000,
                size: 4096,
            },
            Command::ExitXip,
            Command::EnterCmdXip,
            Command::Reboot2 {
                flags: 0,
                delay_ms: 500,
                p0: 0,
                p1: 0,
            },
            Command::GetInfo {
                kind: 1,
                flags: 1,
                length: 256,
            },
        ] {
            assert_eq!(expected_size(c.id()), Some(c.encode(1)[9]), "{c:?}");
        }
        assert!(Block::parse(&[0u8; 32]).is_none());
        assert!(Block::parse(&read.encode(1)[..31]).is_none());
    }

    #[test]
    fn status_blocks_round_trip() {
        let s = Status {
            token: 3,
            code: code::BAD_ALIGNMENT,
            id: 0x03,
            in_progress: false,
        };
        assert_eq!(Status::parse(&s.to_bytes()), Some(s));
        assert_eq!(code_name(s.code), "BAD_ALIGNMENT");
        assert!(Status::parse(&[0; 15]).is_none());
    }

    #[test]
    fn pages_merge_into_ranges_and_the_sectors_they_touch() {
        let page = |a: u32| (a, vec![a as u8; 256]);
        let r = ranges(&[page(0x1000_0100), page(0x1000_0000), page(0x1000_2000)]);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].0, r[0].1.len()), (0x1000_0000, 512));
        assert_eq!(sectors(&r), vec![0x1000_0000, 0x1000_2000]);
        let long = ranges(&[(0x1000_0F00, vec![0; 512])]);
        assert_eq!(sectors(&long), vec![0x1000_0000, 0x1000_1000]);
    }
}
