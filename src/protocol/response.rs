//! Responses from the ROM loader and the stub: `01 | opcode | size | value (u32) | data`,
//! where the data ends in status bytes (ROM: 4, ESP8266 ROM and every stub: 2).
//!
//! Status rule shared by both: the two bytes right after the command's expected data decide.
//! Byte 0 is 0 on success. On failure a ROM puts 1 there and the reason in byte 1; a stub puts
//! its own error code (0xC0..) in byte 0. The ROM does not clear byte 1 after a success, so it
//! is only read on failure.

use core::fmt;

use crate::i18n::t;

/// A parsed response frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub opcode: u8,
    /// READ_REG result; SYNC echo on a ROM; otherwise whatever the device left there.
    pub value: u32,
    pub data: Vec<u8>,
}

impl Response {
    /// `None` for frames that are not responses (too short, wrong direction byte).
    pub fn parse(frame: &[u8]) -> Option<Response> {
        if frame.len() < 8 || frame[0] != 0x01 {
            return None;
        }
        Some(Response {
            opcode: frame[1],
            value: u32::from_le_bytes(frame[4..8].try_into().ok()?),
            data: frame[8..].to_vec(),
        })
    }

    /// The status pair following `data_len` bytes of command-specific data.
    pub fn status(&self, data_len: usize) -> Option<[u8; 2]> {
        Some([*self.data.get(data_len)?, *self.data.get(data_len + 1)?])
    }

    /// True for the ROM's "invalid message" reply (`01 05`), which it also sends for commands
    /// it does not know, under the previous reply's opcode.
    pub fn is_unsupported_reply(&self) -> bool {
        matches!(self.data.len(), 2 | 4) && self.data[0] == 1 && self.data[1] == 5
    }

    /// Checks the status after `data_len` bytes of data; returns the data on success.
    pub fn check(&self, data_len: usize) -> Result<&[u8], DeviceError> {
        match self.status(data_len) {
            None => Err(DeviceError {
                opcode: self.opcode,
                code: ErrorCode::Truncated,
            }),
            Some([0, _]) => Ok(&self.data[..data_len]),
            Some([1, reason]) => Err(DeviceError {
                opcode: self.opcode,
                code: ErrorCode::Rom(reason),
            }),
            Some([code, _]) => Err(DeviceError {
                opcode: self.opcode,
                code: ErrorCode::Stub(code),
            }),
        }
    }
}

/// What went wrong, as the device said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// ROM failure with its reason byte.
    Rom(u8),
    /// Stub error code (0xC0..0xCB, 0xFF).
    Stub(u8),
    /// The reply was too short to carry a status.
    Truncated,
}

/// A command the device refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceError {
    pub opcode: u8,
    pub code: ErrorCode,
}

impl ErrorCode {
    /// The device's reason in plain words (in the page's language).
    pub fn meaning(&self) -> &'static str {
        match *self {
            ErrorCode::Rom(r) => match r {
                0x01 => t("input parameter invalid"),
                0x02 => t("out of memory"),
                0x03 => t("failed to send message"),
                0x04 => t("failed to receive message"),
                0x05 => t("invalid or unsupported command"),
                0x06 => t("operation failed"),
                0x07 => t("checksum error"),
                0x08 => t("flash write error"),
                0x09 => t("flash read error"),
                0x0A => t("flash read length error"),
                0x0B => t("deflate failed"),
                0x0C => t("deflate checksum error"),
                0x0D => t("deflate parameter error"),
                0x0E => t("invalid RAM binary size"),
                0x0F => t("invalid RAM binary address"),
                0x64 => t("invalid parameter"),
                0x65 => t("invalid format"),
                0x66 => t("description too long"),
                0x67 => t("bad encoding description"),
                0x69 => t("insufficient storage"),
                _ => t("undefined error"),
            },
            ErrorCode::Stub(c) => match c {
                0xC0 => t("bad data length"),
                0xC1 => t("bad data checksum"),
                0xC2 => t("bad block size"),
                0xC3 => t("invalid command"),
                0xC4 => t("SPI flash operation failed"),
                0xC5 => t("SPI flash unlock failed"),
                0xC6 => t("not in flash mode"),
                0xC7 => t("inflate error"),
                0xC8 => t("not enough data"),
                0xC9 => t("too much data"),
                0xCA => t("NAND program failed"),
                0xCB => t("NAND erase failed"),
                0xFF => t("command not implemented"),
                _ => t("unknown stub error"),
            },
            ErrorCode::Truncated => t("reply too short"),
        }
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = match self.code {
            ErrorCode::Rom(r) => format!("0x1{r:02x}"),
            ErrorCode::Stub(c) => format!("0x{c:02x}"),
            ErrorCode::Truncated => "-".into(),
        };
        f.write_str(&crate::tf!(
            "command {opcode} failed: {reason} ({code})",
            opcode = format!("0x{:02x}", self.opcode),
            reason = self.code.meaning(),
            code = code
        ))
    }
}

impl std::error::Error for DeviceError {}

/// Builds a response frame (used by the simulator, and by tests).
pub fn encode_response(opcode: u8, value: u32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + data.len());
    out.push(0x01);
    out.push(opcode);
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(&value.to_le_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esp32_rom_read_reg_reply() {
        let frame = [0x01, 0x0A, 0x04, 0x00, 0x83, 0x1D, 0xF0, 0x00, 0, 0, 0, 0];
        let r = Response::parse(&frame).unwrap();
        assert_eq!((r.opcode, r.value), (0x0A, 0x00F0_1D83));
        assert_eq!(r.check(0), Ok(&[][..]));
    }

    #[test]
    fn stale_rom_error_byte_after_success_is_ignored() {
        // Observed on real ROMs: byte 1 keeps an earlier error, bytes 2-3 are junk.
        let r =
            Response::parse(&[0x01, 0x02, 0x04, 0x00, 0, 0, 0, 0, 0x00, 0x05, 0x37, 0x39]).unwrap();
        assert!(r.check(0).is_ok());
    }

    #[test]
    fn rom_and_stub_failures_are_told_apart() {
        let rom = Response::parse(&[0x01, 0x02, 0x04, 0, 0, 0, 0, 0, 0x01, 0x64, 0, 0]).unwrap();
        let err = rom.check(0).unwrap_err();
        assert_eq!(err.code, ErrorCode::Rom(0x64));
        assert_eq!(
            err.to_string(),
            "command 0x02 failed: invalid parameter (0x164)"
        );
        let stub = Response::parse(&[0x01, 0x03, 0x02, 0, 0, 0, 0, 0, 0xC1, 0x00]).unwrap();
        assert_eq!(stub.check(0).unwrap_err().code, ErrorCode::Stub(0xC1));
    }

    #[test]
    fn md5_reply_data_precedes_status() {
        let mut data = b"0123456789abcdef0123456789abcdef".to_vec();
        data.extend([0, 0, 0, 0]);
        let r = Response::parse(&encode_response(0x13, 0, &data)).unwrap();
        assert_eq!(r.check(32).unwrap(), b"0123456789abcdef0123456789abcdef");
        assert_eq!(r.check(40).unwrap_err().code, ErrorCode::Truncated);
    }

    #[test]
    fn non_responses_are_rejected() {
        assert_eq!(Response::parse(&[0x00, 0x08, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(Response::parse(b"OHAI"), None);
    }
}
