//! What the port the user picked leads to, decided before anything is sent to it (`boards.md`
//! §1.2–1.3): an ESP's serial bootloader (reset lines and SYNC are welcome there), or a board
//! running MicroPython on its own USB (they are not: a reset sequence can make a native-USB
//! board drop off the bus), or something unknown, which is asked politely first.

use crate::i18n::{mark, t};
use crate::usb::{self, ResetWiring};

/// A family of boards MicroPython runs on; each has its own way to install MicroPython.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// ESP32 family and ESP8266: flashed over the serial bootloader.
    Esp,
    /// Raspberry Pi RP2040/RP2350: a UF2 file onto the BOOTSEL drive.
    Rp2,
    /// STM32 (pyboard): DFU over WebUSB.
    Stm32,
    /// Others MicroPython runs on (SAMD, nRF, i.MX RT, …): the REPL works; no installer here.
    Other,
}

impl Family {
    /// From MicroPython's `sys.platform`.
    pub fn from_platform(platform: &str) -> Family {
        match platform {
            "esp32" | "esp8266" => Family::Esp,
            "rp2" => Family::Rp2,
            "pyboard" | "stm32" => Family::Stm32,
            _ => Family::Other,
        }
    }

    /// From the MCU name in MicroPython's banner (`… with RP2040`, `… with ESP32S3`,
    /// `… with STM32F405RG`).
    pub fn from_mcu(mcu: &str) -> Family {
        let m = mcu.to_ascii_uppercase();
        if m.starts_with("ESP") {
            Family::Esp
        } else if m.starts_with("RP2") {
            Family::Rp2
        } else if m.starts_with("STM32") {
            Family::Stm32
        } else {
            Family::Other
        }
    }
}

/// Where a port leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortKind {
    /// An ESP's serial bootloader, wired as given.
    EspLoader(ResetWiring),
    /// MicroPython running on the board's own USB (family when the USB id tells it).
    MicroPython(Option<Family>),
    /// Not known: probe politely (interrupt, look for the REPL) before any reset.
    Unknown,
}

/// USB ids that MicroPython builds use for their own USB device (`boards.md` §1.2), with the
/// family where the id tells it and the board's name.
const MICROPYTHON_IDS: &[(u16, Option<u16>, Option<Family>, &str)] = &[
    (
        0x2E8A,
        Some(0x0005),
        Some(Family::Rp2),
        "Raspberry Pi Pico / Pico 2",
    ),
    (
        0x2E8A,
        Some(0x1002),
        Some(Family::Rp2),
        "Pimoroni Pico LiPo",
    ),
    (
        0x2E8A,
        Some(0x101F),
        Some(Family::Rp2),
        mark("Waveshare RP2040 board"),
    ),
    (
        0x2E8A,
        Some(0x1020),
        Some(Family::Rp2),
        mark("Waveshare RP2040 board"),
    ),
    (
        0x2E8A,
        Some(0x1021),
        Some(Family::Rp2),
        mark("Waveshare RP2040 board"),
    ),
    (
        0x239A,
        Some(0x80F2),
        Some(Family::Rp2),
        "Adafruit Feather RP2040",
    ),
    (
        0x239A,
        Some(0x80FE),
        Some(Family::Rp2),
        "Adafruit ItsyBitsy RP2040",
    ),
    (
        0x239A,
        Some(0x80F8),
        Some(Family::Rp2),
        "Adafruit QT Py RP2040",
    ),
    (
        0x239A,
        Some(0x814F),
        Some(Family::Rp2),
        "Adafruit Feather RP2350",
    ),
    (
        0x1B4F,
        None,
        Some(Family::Rp2),
        mark("SparkFun RP2040/RP2350 board"),
    ),
    (
        0x16D0,
        Some(0x08C7),
        Some(Family::Rp2),
        "Pimoroni Tiny 2040",
    ),
    (0x1FFB, Some(0x2043), Some(Family::Rp2), "Pololu 3pi+ 2040"),
    (0x1FFB, Some(0x2044), Some(Family::Rp2), "Pololu Zumo 2040"),
    (
        0x2341,
        Some(0x025E),
        Some(Family::Rp2),
        "Arduino Nano RP2040 Connect",
    ),
    (
        0x2341,
        Some(0x056B),
        Some(Family::Esp),
        "Arduino Nano ESP32",
    ),
    (
        0x2341,
        Some(0x025A),
        Some(Family::Other),
        "Arduino Nano 33 BLE Sense (nRF)",
    ),
    (0x2341, Some(0x0566), Some(Family::Stm32), "Arduino Giga"),
    (
        0x2341,
        Some(0x055F),
        Some(Family::Stm32),
        "Arduino Nicla Vision",
    ),
    (
        0x2886,
        Some(0x0045),
        Some(Family::Other),
        "Seeed XIAO nRF52",
    ),
    (0xF055, Some(0x9800), Some(Family::Stm32), "pyboard"),
    (0xF055, Some(0x9801), Some(Family::Stm32), "pyboard"),
    (0xF055, None, None, mark("MicroPython board")),
];

/// Every USB vendor id of a board or bridge this page knows (the chooser's filter when the
/// page asks for a board's new port).
pub fn known_vendors() -> Vec<u16> {
    let all = usb::KNOWN_BRIDGES.iter().map(|b| b.vid);
    let mut vids: Vec<u16> = Vec::new();
    // Each once, in the tables' order (not sorted: a sort weighs 3 KB in the page's wasm).
    for vid in all.chain(MICROPYTHON_IDS.iter().map(|(v, ..)| *v)) {
        if !vids.contains(&vid) {
            vids.push(vid);
        }
    }
    vids
}

/// Where the port with USB ids `vid:pid` leads.
pub fn port_kind(vid: u16, pid: u16) -> PortKind {
    if usb::is_native_firmware_usb(vid, pid) {
        return PortKind::MicroPython(Some(Family::Esp));
    }
    if let Some(bridge) = usb::identify(vid, pid) {
        return PortKind::EspLoader(bridge.wiring);
    }
    micropython_id(vid, pid).map_or(PortKind::Unknown, |(_, _, family, _)| {
        PortKind::MicroPython(*family)
    })
}

fn micropython_id(
    vid: u16,
    pid: u16,
) -> Option<&'static (u16, Option<u16>, Option<Family>, &'static str)> {
    MICROPYTHON_IDS
        .iter()
        .find(|(v, p, ..)| *v == vid && p.is_none_or(|p| p == pid))
}

/// What the page calls the device with these USB ids: a bridge or ESP USB by its name
/// ([`usb::describe`]), a board running MicroPython on its own USB by the board's.
pub fn describe(vid: Option<u16>, pid: Option<u16>) -> String {
    match vid
        .zip(pid)
        .and_then(|(v, p)| micropython_id(v, p).map(|id| (v, p, id.3)))
    {
        Some((v, p, name))
            if usb::identify(v, p).is_none() && !usb::is_native_firmware_usb(v, p) =>
        {
            format!("{} ({v:04X}:{p:04X})", t(name))
        }
        _ => usb::describe(vid, pid),
    }
}

/// The polite probe: what to send to a port nothing is known about. A carriage return and
/// two Ctrl-C interrupt a running program and make MicroPython print its prompt; an ESP ROM
/// loader ignores them (no SLIP frame); nothing resets.
pub const PROBE: &[u8] = b"\r\x03\x03";

/// Whether the reply to [`PROBE`] is MicroPython's REPL.
pub fn probe_found_micropython(reply: &[u8]) -> bool {
    let text = String::from_utf8_lossy(reply);
    text.contains(">>> ") || text.contains("MicroPython") || text.contains("raw REPL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_boards_by_their_own_usb_and_bridges_by_theirs() {
        assert_eq!(
            describe(Some(0x2E8A), Some(0x0005)),
            "Raspberry Pi Pico / Pico 2 (2E8A:0005)"
        );
        assert_eq!(
            describe(Some(0xF055), Some(0x9802)),
            "MicroPython board (F055:9802)"
        );
        assert_eq!(
            describe(Some(0x10C4), Some(0xEA60)),
            "CP210x USB-UART (10C4:EA60)"
        );
        assert_eq!(
            describe(Some(0x1234), Some(0x5678)),
            "Unknown USB serial device (1234:5678)"
        );
        assert!(describe(Some(0x303A), Some(0x4001)).contains("303A:4001"));
    }

    #[test]
    fn usb_ids_say_where_a_port_leads() {
        assert_eq!(
            port_kind(0x10C4, 0xEA60),
            PortKind::EspLoader(ResetWiring::UartBridge)
        );
        assert_eq!(
            port_kind(0x303A, 0x1001),
            PortKind::EspLoader(ResetWiring::UsbJtagSerial)
        );
        assert_eq!(
            port_kind(0x303A, 0x4001),
            PortKind::MicroPython(Some(Family::Esp))
        );
        assert_eq!(
            port_kind(0x2E8A, 0x0005),
            PortKind::MicroPython(Some(Family::Rp2))
        );
        assert_eq!(
            port_kind(0xF055, 0x9800),
            PortKind::MicroPython(Some(Family::Stm32))
        );
        assert_eq!(port_kind(0xF055, 0x9802), PortKind::MicroPython(None));
        assert_eq!(
            port_kind(0x1B4F, 0x0026),
            PortKind::MicroPython(Some(Family::Rp2))
        );
        assert_eq!(port_kind(0x1234, 0x5678), PortKind::Unknown);
        let vendors = known_vendors();
        for vid in [0x303A, 0x2E8A, 0xF055, 0x10C4, 0x1A86] {
            assert!(vendors.contains(&vid), "{vid:04X}");
        }
    }

    #[test]
    fn the_probe_recognises_the_repl() {
        assert!(probe_found_micropython(
            b"\r\nKeyboardInterrupt: \r\n>>> \r\n>>> "
        ));
        assert!(probe_found_micropython(b"\r\n>>> "));
        assert!(!probe_found_micropython(b""));
        assert!(!probe_found_micropython(b"\xc0\x01\x08\xc0"));
        assert_eq!(Family::from_platform("rp2"), Family::Rp2);
        assert_eq!(Family::from_mcu("RP2350"), Family::Rp2);
        assert_eq!(Family::from_mcu("STM32F405RG"), Family::Stm32);
        assert_eq!(Family::from_mcu("ESP32S3"), Family::Esp);
    }
}
