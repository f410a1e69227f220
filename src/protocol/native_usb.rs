//! The registers that matter on chips with their own USB (USB-Serial-JTAG or USB-OTG): the RTC
//! watchdog and the super watchdog, the ROM's "force download boot" flag, the boot-strap
//! latch, and the ROM variable that says which console it uses. Facts from
//! `esp-protocol.md` §5.7, §5.8 and §10.4 (esptool 5.6 `targets/*.py`).

use super::chip::Chip;

/// The key that unlocks the RTC watchdog's registers on every chip.
pub const WDT_KEY: u32 = 0x50D8_3AA1;

/// CONFIG0 bit that enables the RTC watchdog.
pub const WDT_ENABLE: u32 = 1 << 31;

/// A register and one bit in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegBit {
    pub addr: u32,
    pub bit: u32,
}

impl RegBit {
    pub fn mask(&self) -> u32 {
        1 << self.bit
    }
}

/// The RTC watchdog: enabled by CONFIG0 bit 31, stage-0 timeout in CONFIG1 (slow-clock
/// cycles), writable only while WPROTECT holds [`WDT_KEY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcWdt {
    pub config0: u32,
    pub config1: u32,
    pub wprotect: u32,
}

/// The super watchdog: resets the chip unless fed or set to feed itself (the auto-feed bit
/// in CONF), writable only while its WPROTECT holds its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuperWdt {
    pub conf: u32,
    pub wprotect: u32,
    pub key: u32,
    pub auto_feed: u32,
}

/// The ROM variable `UARTDEV_BUF_NO` and the values that mean "console on USB".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleReg {
    pub addr: u32,
    pub usb_otg: Option<u8>,
    pub usb_jtag: Option<u8>,
}

/// What a chip with native USB has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeUsb {
    pub rtc_wdt: RtcWdt,
    /// Only chips with USB-Serial-JTAG have one the host must tame.
    pub swd: Option<SuperWdt>,
    /// RTC_CNTL_OPTION1's "force download boot": set by MicroPython's `machine.bootloader()`,
    /// kept across every reset but power-on, so the chip returns to the ROM until cleared.
    pub force_download: Option<RegBit>,
    /// GPIO_STRAP_REG's SPI-boot bit: 0 when GPIO0 was held low at the last chip reset.
    pub strap: Option<RegBit>,
    pub console: Option<ConsoleReg>,
    pub usb_jtag: bool,
    /// The ROM serves its own USB-OTG CDC port (USB id 303A:<this>) in download mode.
    pub rom_otg_pid: Option<u16>,
}

const fn wdt(config0: u32, config1: u32, wprotect: u32) -> RtcWdt {
    RtcWdt {
        config0,
        config1,
        wprotect,
    }
}

const fn swd(conf: u32, wprotect: u32, key: u32, bit: u32) -> Option<SuperWdt> {
    Some(SuperWdt {
        conf,
        wprotect,
        key,
        auto_feed: 1 << bit,
    })
}

const fn console(addr: u32, usb_otg: Option<u8>, usb_jtag: Option<u8>) -> Option<ConsoleReg> {
    Some(ConsoleReg {
        addr,
        usb_otg,
        usb_jtag,
    })
}

const fn bit(addr: u32, bit: u32) -> Option<RegBit> {
    Some(RegBit { addr, bit })
}

/// The LP watchdog block of the C6 generation: CONFIG0, CONFIG1, then WPROTECT, SWD CONF and
/// SWD WPROTECT at `protect`, `protect + 4`, `protect + 8`.
const fn lp_wdt(base: u32, protect: u32) -> (RtcWdt, Option<SuperWdt>) {
    (
        wdt(base, base + 4, base + protect),
        swd(base + protect + 4, base + protect + 8, WDT_KEY, 18),
    )
}

const C3_SWD_KEY: u32 = 0x8F1D_312A;

impl Chip {
    /// The chip's native-USB facts; `None` for chips without native USB.
    pub fn native_usb(self) -> Option<NativeUsb> {
        let n = |rtc_wdt, swd, force_download, strap, console, usb_jtag, rom_otg_pid| {
            Some(NativeUsb {
                rtc_wdt,
                swd,
                force_download,
                strap,
                console,
                usb_jtag,
                rom_otg_pid,
            })
        };
        match self {
            Chip::Esp8266 | Chip::Esp32 | Chip::Esp32C2 => None,
            Chip::Esp32S2 => n(
                wdt(0x3F40_8094, 0x3F40_8098, 0x3F40_80AC),
                None,
                bit(0x3F40_8128, 0),
                bit(0x3F40_4038, 3),
                console(0x3FFF_FD14, Some(2), None),
                false,
                Some(0x0002),
            ),
            Chip::Esp32S3 => n(
                wdt(0x6000_8098, 0x6000_809C, 0x6000_80B0),
                swd(0x6000_80B4, 0x6000_80B8, C3_SWD_KEY, 31),
                bit(0x6000_812C, 0),
                bit(0x6000_4038, 3),
                console(0x3FCE_F14C, Some(3), Some(4)),
                true,
                Some(0x0009),
            ),
            Chip::Esp32C3 => n(
                wdt(0x6000_8090, 0x6000_8094, 0x6000_80A8),
                swd(0x6000_80AC, 0x6000_80B0, C3_SWD_KEY, 31),
                None,
                None,
                console(0x3FCD_F07C, None, Some(3)),
                true,
                None,
            ),
            Chip::Esp32C5 => {
                let (w, s) = lp_wdt(0x600B_1C00, 0x18);
                n(
                    w,
                    s,
                    None,
                    None,
                    console(0x4085_F51C, None, Some(3)),
                    true,
                    None,
                )
            }
            Chip::Esp32C6 => {
                let (w, s) = lp_wdt(0x600B_1C00, 0x18);
                n(
                    w,
                    s,
                    None,
                    None,
                    console(0x4087_F580, None, Some(3)),
                    true,
                    None,
                )
            }
            Chip::Esp32H2 => {
                let (w, s) = lp_wdt(0x600B_1C00, 0x1C);
                n(
                    w,
                    s,
                    None,
                    None,
                    console(0x4084_FEFC, None, Some(3)),
                    true,
                    None,
                )
            }
            Chip::Esp32P4 => {
                let (w, s) = lp_wdt(0x5011_6000, 0x18);
                n(w, s, bit(0x5011_0008, 2), None, None, true, Some(0x0012))
            }
        }
    }
}

/// The CONFIG1 and CONFIG0 values esptool writes for a watchdog reset (§5.8): stage 0 resets
/// the system after 2000 slow-clock cycles.
pub const WDT_RESET_CONFIG1: u32 = 2000;
pub const WDT_RESET_CONFIG0: u32 = WDT_ENABLE | 5 << 28 | 1 << 8 | 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_blocks_match_the_reference_table() {
        // esp-protocol.md §5.8, row by row.
        let c3 = Chip::Esp32C3.native_usb().unwrap();
        assert_eq!(c3.rtc_wdt, wdt(0x6000_8090, 0x6000_8094, 0x6000_80A8));
        assert_eq!(c3.swd.unwrap().conf, 0x6000_80AC);
        assert_eq!(c3.swd.unwrap().auto_feed, 1 << 31);
        let c6 = Chip::Esp32C6.native_usb().unwrap();
        assert_eq!(c6.rtc_wdt.wprotect, 0x600B_1C18);
        assert_eq!(c6.swd.unwrap().conf, 0x600B_1C1C);
        assert_eq!(c6.swd.unwrap().wprotect, 0x600B_1C20);
        assert_eq!(c6.swd.unwrap().key, WDT_KEY);
        let h2 = Chip::Esp32H2.native_usb().unwrap();
        assert_eq!(h2.rtc_wdt.wprotect, 0x600B_1C1C);
        assert_eq!(h2.swd.unwrap().wprotect, 0x600B_1C24);
        assert_eq!(h2.swd.unwrap().auto_feed, 1 << 18);
        let p4 = Chip::Esp32P4.native_usb().unwrap();
        assert_eq!(p4.rtc_wdt.config0, 0x5011_6000);
        assert_eq!(p4.force_download.unwrap().mask(), 1 << 2);
        assert_eq!(WDT_RESET_CONFIG0, 0xD000_0102);
    }

    #[test]
    fn only_native_usb_chips_have_them() {
        assert!(Chip::Esp32.native_usb().is_none());
        assert!(Chip::Esp8266.native_usb().is_none());
        let s2 = Chip::Esp32S2.native_usb().unwrap();
        assert!(!s2.usb_jtag && s2.swd.is_none() && s2.rom_otg_pid == Some(2));
        for chip in [Chip::Esp32C3, Chip::Esp32S3, Chip::Esp32C6, Chip::Esp32H2] {
            assert!(chip.native_usb().unwrap().usb_jtag, "{chip}");
        }
    }
}
