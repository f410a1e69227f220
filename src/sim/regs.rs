//! The chip registers a host reads and writes over READ_REG/WRITE_REG: the magic word, eFuse
//! (MAC, revision), the UART clock divider, the ROM's crystal calibration, and the SPI flash
//! controller, whose "user command" machinery answers JEDEC RDID like a real flash chip.

use std::collections::HashMap;

use crate::protocol::chip::{Chip, ChipSpec, MacLayout, RevisionLayout, MAGIC_REG};
use crate::protocol::native_usb::{NativeUsb, WDT_KEY};

/// ESP32 ROM crystal calibration register. The ROM derives its UART clock from the 8 MHz RC
/// oscillator, which drifts: with eFuse CK8M = 128 this value makes the ROM believe its clock is
/// 840 × 15625 × 128 / 40 = 42 MHz while the crystal is 40 MHz, so a baud rate set in the ROM
/// comes out 5 % slow unless the host scales its request as esptool does (§9).
const ESP32_RTCCALICFG1: u32 = 0x3FF5_F06C;
const ESP32_CALI_VALUE: u32 = 840 << 7;
const ESP32_CK8M: u32 = 128;

/// USR register bit: a MISO (read) phase follows the command.
const USR_MISO: u32 = 1 << 28;
/// CMD register bit that starts a user command; the controller clears it when done.
const CMD_USR: u32 = 1 << 18;

/// The register file of one simulated chip.
#[derive(Debug, Clone)]
pub struct Registers {
    spec: &'static ChipSpec,
    values: HashMap<u32, u32>,
    /// The flash chip's JEDEC id (manufacturer, type, capacity).
    jedec_id: u32,
    /// The UART clock the ROM's divider is derived from, in Hz.
    uart_clock: u32,
    native: Option<NativeUsb>,
    /// A watchdog register took a write (see [`Registers::take_watchdog_write`]).
    watchdog_written: bool,
}

impl Registers {
    /// The registers of a chip with factory MAC `mac`, flash `jedec_id`, and `revision`
    /// (major × 100 + minor; ESP32 knows only major 0 to 3).
    pub fn new(spec: &'static ChipSpec, mac: [u8; 6], jedec_id: u32, revision: u32) -> Self {
        let mut values = HashMap::new();
        values.insert(MAGIC_REG, spec.magic[0]);
        let m = |i: usize| mac[i] as u32;
        match spec.mac {
            MacLayout::Esp8266 { mac0, mac1, mac3 } => {
                values.insert(mac3, m(0) << 16 | m(1) << 8 | m(2));
                values.insert(mac1, m(3) << 8 | m(4));
                values.insert(mac0, m(5) << 24);
            }
            MacLayout::Esp32 { word1, word2 } => {
                values.insert(word1, m(2) << 24 | m(3) << 16 | m(4) << 8 | m(5));
                values.insert(word2, m(0) << 8 | m(1));
            }
            MacLayout::TwoWords { base } => {
                values.insert(base, m(2) << 24 | m(3) << 16 | m(4) << 8 | m(5));
                // C5, C6, H2 keep the EUI-64 extension ff:fe in the upper half.
                let ext = if matches!(spec.chip, Chip::Esp32C5 | Chip::Esp32C6 | Chip::Esp32H2) {
                    0xFFFE << 16
                } else {
                    0
                };
                values.insert(base + 4, ext | m(0) << 8 | m(1));
            }
        }
        let (major, minor) = (revision / 100, revision % 100);
        match spec.revision {
            RevisionLayout::None => {}
            // Major revision bits: 1 → 0b001, 2 → 0b011, 3 → 0b111 (eFuse, eFuse, APB_CTL_DATE).
            RevisionLayout::Esp32 {
                efuse_base,
                apb_ctl_date,
            } => {
                if major >= 1 {
                    *values.entry(efuse_base + 12).or_default() |= 1 << 15;
                }
                if major >= 2 {
                    *values.entry(efuse_base + 20).or_default() |= 1 << 20;
                }
                if major >= 3 {
                    values.insert(apb_ctl_date, 1 << 31);
                }
                *values.entry(efuse_base + 20).or_default() |= (minor & 3) << 24;
                values.insert(efuse_base + 16, ESP32_CK8M);
                values.insert(ESP32_RTCCALICFG1, ESP32_CALI_VALUE);
            }
            RevisionLayout::Fields {
                base,
                major: (maj_word, maj_shift, maj_mask),
                minor: (min_word, min_shift, min_mask),
                minor_hi,
            } => {
                let mut set = |word: u8, bits: u32| {
                    *values.entry(base + 4 * word as u32).or_default() |= bits;
                };
                set(maj_word, (major & maj_mask) << maj_shift);
                set(min_word, (minor & min_mask) << min_shift);
                if let Some((word, shift)) = minor_hi {
                    set(word, ((minor >> 3) & 1) << shift);
                }
            }
        }
        let uart_clock = match spec.chip {
            Chip::Esp8266 => 52_000_000,
            Chip::Esp32C5 => 48_000_000,
            _ => 40_000_000,
        };
        if spec.chip == Chip::Esp32C5 {
            // PCR_SYSCLK_CONF[30:24]: the crystal the ROM assumes (esptool compares it).
            values.insert(0x6009_6110, 48 << 24);
        }
        Registers {
            spec,
            values,
            jedec_id,
            uart_clock,
            native: spec.chip.native_usb(),
            watchdog_written: false,
        }
    }

    /// The rate the ROM's UART really runs at after CHANGE_BAUDRATE asked for `requested`: the
    /// ESP32 ROM computes its divider from its own clock estimate (see [`ESP32_CALI_VALUE`]).
    pub fn rom_uart_baud(&self, requested: u32) -> u32 {
        if self.spec.chip != Chip::Esp32 {
            return requested;
        }
        let cali = (self.read(ESP32_RTCCALICFG1, 0) >> 7) as u64 & 0x01FF_FFFF;
        let ck8m = self.read(0x3FF5_A010, 0) as u64 & 0xFF;
        let rom_clock = cali * 15625 * ck8m / 40;
        if rom_clock == 0 {
            return requested;
        }
        (requested as u64 * self.uart_clock as u64 / rom_clock) as u32
    }

    /// Sets a register as the hardware does (no write protection, no side effects).
    pub fn set(&mut self, addr: u32, value: u32) {
        self.values.insert(addr, value);
    }

    /// True once after a write reached a watchdog's configuration.
    pub fn take_watchdog_write(&mut self) -> bool {
        std::mem::take(&mut self.watchdog_written)
    }

    /// Whether `addr` is a watchdog configuration register, and if so whether its write
    /// protection is open (WPROTECT holds the key).
    fn watchdog_register(&self, addr: u32) -> Option<bool> {
        let usb = self.native?;
        let get = |a| self.values.get(&a).copied().unwrap_or(0);
        if addr == usb.rtc_wdt.config0 || addr == usb.rtc_wdt.config1 {
            return Some(get(usb.rtc_wdt.wprotect) == WDT_KEY);
        }
        let swd = usb.swd?;
        (addr == swd.conf).then(|| get(swd.wprotect) == swd.key)
    }

    /// Reads a register. `baud` is the UART's current rate (the divider register depends on it).
    pub fn read(&self, addr: u32, baud: u32) -> u32 {
        if Some(addr) == self.spec.uart_clkdiv {
            return self.uart_clock / baud.max(1);
        }
        self.values.get(&addr).copied().unwrap_or(0)
    }

    /// Writes a register under `mask`, running an SPI user command if CMD's start bit is set.
    pub fn write(&mut self, addr: u32, value: u32, mask: u32) {
        match self.watchdog_register(addr) {
            Some(false) => return, // write-protected: the hardware ignores it
            Some(true) => self.watchdog_written = true,
            None => {}
        }
        let old = self.values.get(&addr).copied().unwrap_or(0);
        let new = (old & !mask) | (value & mask);
        self.values.insert(addr, new);
        if addr == self.spec.spi.cmd() && new & CMD_USR != 0 {
            self.run_spi_user_command();
            self.values.insert(addr, new & !CMD_USR);
        }
    }

    /// Executes the command byte in USR2 against the flash model; results land in W0.
    fn run_spi_user_command(&mut self) {
        let spi = self.spec.spi;
        let usr = self.values.get(&spi.reg(spi.usr)).copied().unwrap_or(0);
        let opcode = self.values.get(&spi.reg(spi.usr2)).copied().unwrap_or(0) & 0xFF;
        let result = match opcode {
            0x9F => self.jedec_id,   // RDID
            0x05 | 0x35 | 0x15 => 0, // status registers: idle, no protection
            0x5A => 0x5044_4653,     // SFDP signature "SFDP"
            _ => 0,
        };
        if usr & USR_MISO != 0 {
            self.values.insert(spi.reg(spi.w0), result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdid_through_the_c3_register_dance() {
        let spec = Chip::Esp32C3.spec();
        let mut r = Registers::new(spec, [1, 2, 3, 4, 5, 6], 0x0016_40EF, 4);
        r.write(0x6000_2018, 0x9000_0000, 0xFFFF_FFFF);
        r.write(0x6000_2020, 0x7000_009F, 0xFFFF_FFFF);
        r.write(0x6000_2058, 0, 0xFFFF_FFFF);
        r.write(0x6000_2000, 1 << 18, 0xFFFF_FFFF);
        assert_eq!(r.read(0x6000_2000, 115_200) & (1 << 18), 0);
        assert_eq!(r.read(0x6000_2058, 115_200), 0x0016_40EF);
    }

    #[test]
    fn mac_words_follow_each_layout() {
        let mac = [0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF];
        let r = Registers::new(Chip::Esp32.spec(), mac, 0, 300);
        assert_eq!(r.read(0x3FF5_A004, 1), 0xCCDD_EEFF);
        assert_eq!(r.read(0x3FF5_A008, 1), 0xAABB);
        let r = Registers::new(Chip::Esp8266.spec(), mac, 0, 0);
        assert_eq!(r.read(0x3FF0_005C, 1), 0xAABBCC);
        assert_eq!(r.read(0x3FF0_0054, 1), 0xDDEE);
        assert_eq!(r.read(0x3FF0_0050, 1), 0xFF00_0000);
    }

    #[test]
    fn crystal_estimate_from_divider() {
        let r = Registers::new(Chip::Esp32.spec(), [0; 6], 0, 300);
        let est = 115_200.0 * r.read(0x3FF4_0014, 115_200) as f64 / 1e6;
        assert!((est - 40.0).abs() < 0.5, "{est}");
    }
}
