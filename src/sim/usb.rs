//! What the board's USB connector shows the host, which changes with what runs on a chip with
//! native USB (`boards.md` §1.2, §1.6, §5.1):
//!
//! | board | ROM download mode | MicroPython |
//! |---|---|---|
//! | USB-UART bridge | the bridge (10C4:EA60) | the bridge |
//! | C3/C6/H2/C5 on USB-Serial-JTAG | 303A:1001 | 303A:1001 |
//! | S2 on USB-OTG | the ROM's CDC, 303A:0002 | TinyUSB CDC, 303A:4001 |
//! | S3 on its USB connector | USB-Serial-JTAG, 303A:1001 | TinyUSB CDC, 303A:4001 |
//!
//! A change of function is a re-enumeration: the old USB device goes away and a new one
//! (another VID:PID) appears; a chip in reset, or a firmware without USB, shows nothing.

use crate::port::Signals;
use crate::usb::ESPRESSIF_VID;

/// USB-Serial-JTAG, in ROM and application alike.
pub const USB_JTAG_PID: u16 = 0x1001;
/// MicroPython's TinyUSB CDC on ESP32-S2/S3 (0x4000 | CDC).
pub const TINYUSB_PID: u16 = 0x4001;

/// Which USB function answers on the board's connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsbFunction {
    /// A USB-UART bridge chip on the board, always there; its DTR/RTS drive EN and GPIO0.
    Bridge,
    /// The chip's USB-Serial-JTAG peripheral; it reads DTR/RTS itself (core reset, download).
    UsbJtag,
    /// The ROM's own USB-OTG CDC port in download mode; DTR/RTS do nothing.
    RomCdc { pid: u16 },
    /// MicroPython's TinyUSB CDC port; DTR/RTS in esptool's pattern ask it for the bootloader.
    TinyUsb,
}

/// A USB device as the browser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbId {
    pub vid: u16,
    pub pid: u16,
    /// The USB serial number string, if the device has one (browsers keep a grant only for
    /// devices that have one, matched on VID, PID and serial number).
    pub serial: Option<String>,
}

impl UsbFunction {
    /// The device the host sees for a chip with factory MAC `mac`.
    pub fn id(self, mac: [u8; 6]) -> UsbId {
        let hex: String = mac.iter().map(|b| format!("{b:02X}")).collect();
        let colons: Vec<String> = mac.iter().map(|b| format!("{b:02X}")).collect();
        let (vid, pid, serial) = match self {
            // A CP2102 with the factory serial number most boards keep.
            UsbFunction::Bridge => (0x10C4, 0xEA60, Some("0001".to_string())),
            UsbFunction::UsbJtag => (ESPRESSIF_VID, USB_JTAG_PID, Some(colons.join(":"))),
            UsbFunction::RomCdc { pid } => (ESPRESSIF_VID, pid, Some("0".to_string())),
            UsbFunction::TinyUsb => (ESPRESSIF_VID, TINYUSB_PID, Some(hex)),
        };
        UsbId { vid, pid, serial }
    }
}

/// MicroPython's DTR/RTS trigger on TinyUSB ports (`MICROPY_HW_USB_CDC_DTR_RTS_BOOTLOADER`):
/// going from (RTS on, DTR off) to (DTR on, RTS off), esptool's reset pattern, asks for the
/// bootloader.
pub fn asks_for_bootloader(before: Signals, after: Signals) -> bool {
    before.rts && !before.dtr && after.dtr && !after.rts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_function() {
        let mac = [0x7C, 0xDF, 0xA1, 0x00, 0x01, 0x02];
        assert_eq!(UsbFunction::TinyUsb.id(mac).pid, 0x4001);
        assert_eq!(
            UsbFunction::TinyUsb.id(mac).serial.as_deref(),
            Some("7CDFA1000102")
        );
        assert_eq!(
            UsbFunction::UsbJtag.id(mac).serial.as_deref(),
            Some("7C:DF:A1:00:01:02")
        );
        assert_eq!(UsbFunction::RomCdc { pid: 2 }.id(mac).pid, 2);
    }

    #[test]
    fn only_esptools_pattern_triggers_the_bootloader() {
        let s = |dtr, rts| Signals { dtr, rts };
        assert!(asks_for_bootloader(s(false, true), s(true, false)));
        assert!(!asks_for_bootloader(s(false, false), s(true, false)));
        assert!(!asks_for_bootloader(s(false, true), s(true, true)));
    }
}
