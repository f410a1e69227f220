//! USB DFU 1.1 class requests with ST's DfuSe commands (`boards.md` §4.1–4.4): what goes in
//! each control transfer and what GETSTATUS answers mean. Pure; the client sends these over the
//! USB control-transfer trait.

/// DFU class requests (bRequest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Request {
    Detach = 0,
    Dnload = 1,
    Upload = 2,
    GetStatus = 3,
    ClrStatus = 4,
    GetState = 5,
    Abort = 6,
}

/// bmRequestType for host-to-device (OUT) and device-to-host (IN) class requests to an interface.
pub const OUT: u8 = 0x21;
pub const IN: u8 = 0xA1;

/// DFU states (bState).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    AppIdle,
    AppDetach,
    DfuIdle,
    DnloadSync,
    DnBusy,
    DnloadIdle,
    ManifestSync,
    Manifest,
    ManifestWaitReset,
    UploadIdle,
    Error,
    Other(u8),
}

impl State {
    pub fn from_byte(b: u8) -> State {
        use State::*;
        match b {
            0 => AppIdle,
            1 => AppDetach,
            2 => DfuIdle,
            3 => DnloadSync,
            4 => DnBusy,
            5 => DnloadIdle,
            6 => ManifestSync,
            7 => Manifest,
            8 => ManifestWaitReset,
            9 => UploadIdle,
            10 => Error,
            other => Other(other),
        }
    }
}

/// The names of status codes (bStatus), for messages.
pub fn status_name(code: u8) -> &'static str {
    match code {
        0x00 => "OK",
        0x01 => crate::i18n::t("errTARGET (the address is not in this memory)"),
        0x02 => "errFILE",
        0x03 => crate::i18n::t("errWRITE (writing the flash failed)"),
        0x04 => crate::i18n::t("errERASE (erasing the flash failed)"),
        0x05 => "errCHECK_ERASED",
        0x06 => crate::i18n::t("errPROG (programming the flash failed)"),
        0x07 => "errVERIFY",
        0x08 => crate::i18n::t("errADDRESS (the address is out of range)"),
        0x09 => "errNOTDONE",
        0x0A => "errFIRMWARE",
        0x0B => crate::i18n::t("errVENDOR (the flash is read-protected)"),
        0x0C => "errUSBR",
        0x0D => "errPOR",
        0x0E => "errUNKNOWN",
        0x0F => crate::i18n::t("errSTALLEDPKT (the device refused the request)"),
        _ => crate::i18n::t("an unknown status"),
    }
}

/// A GETSTATUS answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub status: u8,
    /// How long the host must wait before the next request, in milliseconds.
    pub poll_ms: u32,
    pub state: State,
    pub string: u8,
}

impl Status {
    /// Reads the 6 bytes of a GETSTATUS answer.
    pub fn parse(b: &[u8]) -> Option<Status> {
        (b.len() >= 6).then(|| Status {
            status: b[0],
            poll_ms: u32::from_le_bytes([b[1], b[2], b[3], 0]),
            state: State::from_byte(b[4]),
            string: b[5],
        })
    }

    pub fn to_bytes(self, state: u8) -> [u8; 6] {
        let p = self.poll_ms.to_le_bytes();
        [self.status, p[0], p[1], p[2], state, self.string]
    }
}

/// GET_DESCRIPTOR(CONFIGURATION), a standard request to the device (USB 2.0 §9.4.3).
pub const GET_CONFIGURATION_DESCRIPTOR: (u8, u8, u16) = (0x80, 6, 0x0200);
/// The DFU functional descriptor's type (DFU 1.1 §4.1.3).
pub const DFU_FUNCTIONAL: u8 = 0x21;

/// The device's `wTransferSize`: from the DFU functional descriptor inside a configuration
/// descriptor (bLength, type 0x21, bmAttributes, wDetachTimeOut, wTransferSize, bcdDFUVersion).
pub fn transfer_size(config: &[u8]) -> Option<u16> {
    let mut i = 0;
    while i + 2 <= config.len() {
        let len = config[i] as usize;
        if len < 2 {
            return None;
        }
        if config[i + 1] == DFU_FUNCTIONAL && len >= 7 {
            let d = config.get(i..i + 7)?;
            return Some(u16::from_le_bytes([d[5], d[6]])).filter(|&n| n > 0);
        }
        i += len;
    }
    None
}

/// A configuration descriptor with one DFU interface (class 0xFE, subclass 1, protocol 2:
/// DFU mode) whose alternate 0 is string `interface_string`, and its functional descriptor.
pub fn dfu_configuration(transfer_size: u16, interface_string: u8) -> Vec<u8> {
    let t = transfer_size.to_le_bytes();
    let mut d = vec![9, 2, 0, 0, 1, 1, 0, 0x80, 50];
    d.extend_from_slice(&[9, 4, 0, 0, 0, 0xFE, 0x01, 0x02, interface_string]);
    // bmAttributes: will detach, manifestation tolerant, can upload, can download.
    d.extend_from_slice(&[9, DFU_FUNCTIONAL, 0x0B, 0xFF, 0x00, t[0], t[1], 0x1A, 0x01]);
    let total = (d.len() as u16).to_le_bytes();
    d[2] = total[0];
    d[3] = total[1];
    d
}

/// DfuSe commands: DNLOAD payloads with wBlockNum 0.
pub mod dfuse {
    pub const SET_ADDRESS: u8 = 0x21;
    pub const ERASE: u8 = 0x41;

    pub fn set_address(address: u32) -> Vec<u8> {
        let mut v = vec![SET_ADDRESS];
        v.extend_from_slice(&address.to_le_bytes());
        v
    }

    /// Erases the sector holding `address`.
    pub fn erase_sector(address: u32) -> Vec<u8> {
        let mut v = vec![ERASE];
        v.extend_from_slice(&address.to_le_bytes());
        v
    }

    pub fn mass_erase() -> Vec<u8> {
        vec![ERASE]
    }

    /// Data blocks are numbered from 2: block n moves data at the address pointer plus
    /// (n − 2) × transfer size.
    pub const FIRST_DATA_BLOCK: u16 = 2;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getstatus_reads_the_poll_timeout_as_24_bits() {
        let s = Status::parse(&[0, 0x10, 0x27, 0x00, 4, 0]).unwrap();
        assert_eq!((s.poll_ms, s.state), (10_000, State::DnBusy));
        assert_eq!(s.to_bytes(4), [0, 0x10, 0x27, 0, 4, 0]);
        assert!(Status::parse(&[0, 0, 0]).is_none());
        assert_eq!(State::from_byte(10), State::Error);
    }

    #[test]
    fn the_transfer_size_comes_from_the_functional_descriptor() {
        let config = dfu_configuration(2048, 4);
        assert_eq!(config.len(), 27);
        assert_eq!(u16::from_le_bytes([config[2], config[3]]), 27);
        assert_eq!(transfer_size(&config), Some(2048));
        // Without one (or cut short, or a zero-length descriptor): unknown.
        assert_eq!(transfer_size(&config[..18]), None);
        assert_eq!(transfer_size(&config[..22]), None);
        assert_eq!(transfer_size(&[0, 2, 9]), None);
    }

    #[test]
    fn dfuse_commands_carry_little_endian_addresses() {
        assert_eq!(
            dfuse::set_address(0x0800_4000),
            [0x21, 0x00, 0x40, 0x00, 0x08]
        );
        assert_eq!(
            dfuse::erase_sector(0x0802_0000),
            [0x41, 0x00, 0x00, 0x02, 0x08]
        );
        assert_eq!(dfuse::mass_erase(), [0x41]);
    }
}
