//! What a USB serial device is, from its vendor and product id. The browser tells us the
//! VID:PID of the port the user picked; this names it for the user ("CP210x USB-UART") and
//! tells the loader which reset circuit to expect.

/// How the board's reset and boot strap are wired to the serial port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetWiring {
    /// A USB-UART bridge with the classic two-transistor auto-reset circuit (RTS→EN, DTR→GPIO0).
    UartBridge,
    /// Espressif's built-in USB-Serial-JTAG peripheral, which reads the line states itself.
    UsbJtagSerial,
    /// The ROM's USB-OTG CDC port (ESP32-S2/S3/P4): line states do not reset the chip.
    UsbOtg,
}

/// A short name for `wiring` ("uart", "jtag", "otg", or "" when unknown), and back: for the
/// page's bridge to the organisers' tools.
pub fn wiring_name(wiring: Option<ResetWiring>) -> &'static str {
    match wiring {
        Some(ResetWiring::UartBridge) => "uart",
        Some(ResetWiring::UsbJtagSerial) => "jtag",
        Some(ResetWiring::UsbOtg) => "otg",
        None => "",
    }
}

/// The wiring [`wiring_name`] named.
pub fn wiring_from_name(name: &str) -> Option<ResetWiring> {
    [
        ResetWiring::UartBridge,
        ResetWiring::UsbJtagSerial,
        ResetWiring::UsbOtg,
    ]
    .into_iter()
    .find(|w| wiring_name(Some(*w)) == name)
}

/// A known USB serial device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbBridge {
    /// USB vendor id.
    pub vid: u16,
    /// USB product id.
    pub pid: u16,
    /// What a person would call it (language words marked for translation; shown through
    /// [`crate::i18n::t`]).
    pub name: &'static str,
    /// How reset and boot mode are controlled through it.
    pub wiring: ResetWiring,
    /// The fastest baud rate this bridge is known to sustain with ESP chips.
    pub max_baud: u32,
}

const fn b(
    vid: u16,
    pid: u16,
    name: &'static str,
    wiring: ResetWiring,
    max_baud: u32,
) -> UsbBridge {
    UsbBridge {
        vid,
        pid,
        name,
        wiring,
        max_baud,
    }
}

use crate::i18n::{mark, t};
use ResetWiring::*;

/// VID:PID facts from Espressif's and the community's published filter lists.
pub const KNOWN_BRIDGES: &[UsbBridge] = &[
    b(
        0x303A,
        0x1001,
        "Espressif USB-JTAG-Serial",
        UsbJtagSerial,
        921_600,
    ),
    b(
        0x303A,
        0x1002,
        mark("Espressif USB bridge"),
        UartBridge,
        921_600,
    ),
    b(
        0x303A,
        0x0002,
        mark("ESP32-S2 native USB (ROM)"),
        UsbOtg,
        921_600,
    ),
    b(
        0x303A,
        0x0009,
        mark("ESP32-S3 native USB (ROM)"),
        UsbOtg,
        921_600,
    ),
    b(
        0x303A,
        0x0012,
        mark("ESP32-P4 native USB (ROM)"),
        UsbOtg,
        921_600,
    ),
    b(0x10C4, 0xEA60, "CP210x USB-UART", UartBridge, 921_600),
    b(0x10C4, 0xEA64, "CP2102C USB-UART", UartBridge, 921_600),
    b(0x1A86, 0x7523, "CH340 USB-UART", UartBridge, 460_800),
    b(0x1A86, 0x55D4, "CH9102 USB-UART", UartBridge, 921_600),
    b(0x1A86, 0x55D3, "CH343 USB-UART", UartBridge, 921_600),
    b(0x0403, 0x6001, "FTDI FT232R USB-UART", UartBridge, 921_600),
    b(0x0403, 0x6010, "FTDI FT2232 USB-UART", UartBridge, 921_600),
    b(0x0403, 0x6011, "FTDI FT4232 USB-UART", UartBridge, 921_600),
    b(0x0403, 0x6014, "FTDI FT232H USB-UART", UartBridge, 921_600),
    b(0x0403, 0x6015, "FTDI FT-X USB-UART", UartBridge, 921_600),
];

/// Looks up a VID:PID. Unknown devices get `None`; callers treat them as a UART bridge.
pub fn identify(vid: u16, pid: u16) -> Option<&'static UsbBridge> {
    KNOWN_BRIDGES
        .iter()
        .find(|bridge| bridge.vid == vid && bridge.pid == pid)
}

/// Espressif's USB vendor id.
pub const ESPRESSIF_VID: u16 = 0x303A;

/// Whether 303A:`pid` is a firmware's own USB device on a chip with native USB (MicroPython's
/// TinyUSB CDC is 0x4000 | classes; boards registered their own ids from 0x8000), not a ROM or
/// USB-Serial-JTAG: its DTR/RTS reset nothing, and the ROM is another USB device.
pub fn is_native_firmware_usb(vid: u16, pid: u16) -> bool {
    vid == ESPRESSIF_VID && ((0x4000..0x4100).contains(&pid) || pid >= 0x8000)
}

/// Whether the device is an ESP ROM's download port (USB-OTG CDC or USB-Serial-JTAG).
pub fn is_esp_rom_usb(vid: u16, pid: u16) -> bool {
    identify(vid, pid).is_some_and(|b| {
        b.vid == ESPRESSIF_VID
            && matches!(b.wiring, ResetWiring::UsbOtg | ResetWiring::UsbJtagSerial)
    })
}

/// A one-line description for the device card, e.g. `CP210x USB-UART (10C4:EA60)`.
pub fn describe(vid: Option<u16>, pid: Option<u16>) -> String {
    match (vid, pid) {
        (Some(vid), Some(pid)) => match identify(vid, pid) {
            Some(bridge) => format!("{} ({vid:04X}:{pid:04X})", t(bridge.name)),
            None => crate::tf!(
                "Unknown USB serial device ({usb_id})",
                usb_id = format!("{vid:04X}:{pid:04X}")
            ),
        },
        _ => t("Serial port (not USB, or the browser did not say which device)").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_common_bridges_with_their_ids() {
        assert_eq!(
            describe(Some(0x10C4), Some(0xEA60)),
            "CP210x USB-UART (10C4:EA60)"
        );
        assert_eq!(
            describe(Some(0x1A86), Some(0x7523)),
            "CH340 USB-UART (1A86:7523)"
        );
        assert_eq!(
            describe(Some(0x303A), Some(0x1001)),
            "Espressif USB-JTAG-Serial (303A:1001)"
        );
    }

    #[test]
    fn unknown_and_missing_ids_are_said_plainly() {
        assert_eq!(
            describe(Some(0x1234), Some(0x5678)),
            "Unknown USB serial device (1234:5678)"
        );
        assert!(describe(None, None).starts_with("Serial port"));
    }

    #[test]
    fn firmware_and_rom_usb_devices_are_told_apart() {
        assert!(is_native_firmware_usb(0x303A, 0x4001));
        assert!(is_native_firmware_usb(0x303A, 0x80D1)); // a vendor board's MicroPython
        assert!(!is_native_firmware_usb(0x303A, 0x1001));
        assert!(!is_native_firmware_usb(0x303A, 0x0002));
        assert!(!is_native_firmware_usb(0x10C4, 0xEA60));
        assert!(is_esp_rom_usb(0x303A, 0x0002));
        assert!(is_esp_rom_usb(0x303A, 0x1001));
        assert!(!is_esp_rom_usb(0x303A, 0x4001));
    }

    #[test]
    fn wiring_decides_reset_strategy() {
        assert_eq!(
            identify(0x303A, 0x1001).unwrap().wiring,
            ResetWiring::UsbJtagSerial
        );
        assert_eq!(
            identify(0x10C4, 0xEA60).unwrap().wiring,
            ResetWiring::UartBridge
        );
        assert_eq!(
            identify(0x303A, 0x0009).unwrap().wiring,
            ResetWiring::UsbOtg
        );
        assert!(identify(0xFFFF, 0xFFFF).is_none());
    }
}
