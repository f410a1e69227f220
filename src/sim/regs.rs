//! The chip registers a host reads and writes over READ_REG/WRITE_REG: the magic word, eFuse
//! (MAC, revision), the UART clock divider, the ROM's crystal calibration, and the SPI flash
//! controller, whose "user command" machinery answers JEDEC RDID like a real flash chip.

use std::collections::HashMap;

use crate::protocol::chip::{ChipSpec, MacLayout, RevisionLayout, MAGIC_REG};

/// ESP32 ROM crystal calibration register and the value that makes the ROM's estimate 40 MHz
/// (with eFuse CK8M = 128): 800 × 15625 × 128 / 40 = 40 000 000.
const ESP32_RTCCALICFG1: u32 = 0x3FF5_F06C;
const ESP32_CALI_VALUE: u32 = 800 << 7;
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
}

impl Registers {
    pub fn new(spec: &'static ChipSpec, mac: [u8; 6], jedec_id: u32) -> Self {
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
                values.insert(base + 4, m(0) << 8 | m(1));
            }
        }
        match spec.revision {
            RevisionLayout::None => {}
            // v3.0: all three revision bits set.
            RevisionLayout::Esp32 {
                efuse_base,
                apb_ctl_date,
            } => {
                *values.entry(efuse_base + 12).or_default() |= 1 << 15;
                *values.entry(efuse_base + 20).or_default() |= 1 << 20;
                values.insert(apb_ctl_date, 1 << 31);
                values.insert(efuse_base + 16, ESP32_CK8M);
                values.insert(ESP32_RTCCALICFG1, ESP32_CALI_VALUE);
            }
            // v0.1 (major 0, minor 1) on every later chip.
            RevisionLayout::Fields {
                base,
                minor: (word, shift, _),
                ..
            } => {
                *values.entry(base + 4 * word as u32).or_default() |= 1 << shift;
            }
        }
        let uart_clock = match spec.chip {
            crate::protocol::chip::Chip::Esp8266 => 52_000_000,
            _ => 40_000_000,
        };
        Registers {
            spec,
            values,
            jedec_id,
            uart_clock,
        }
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
    use crate::protocol::chip::Chip;

    #[test]
    fn rdid_through_the_c3_register_dance() {
        let spec = Chip::Esp32C3.spec();
        let mut r = Registers::new(spec, [1, 2, 3, 4, 5, 6], 0x0016_40EF);
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
        let r = Registers::new(Chip::Esp32.spec(), mac, 0);
        assert_eq!(r.read(0x3FF5_A004, 1), 0xCCDD_EEFF);
        assert_eq!(r.read(0x3FF5_A008, 1), 0xAABB);
        let r = Registers::new(Chip::Esp8266.spec(), mac, 0);
        assert_eq!(r.read(0x3FF0_005C, 1), 0xAABBCC);
        assert_eq!(r.read(0x3FF0_0054, 1), 0xDDEE);
        assert_eq!(r.read(0x3FF0_0050, 1), 0xFF00_0000);
    }

    #[test]
    fn crystal_estimate_from_divider() {
        let r = Registers::new(Chip::Esp32.spec(), [0; 6], 0);
        let est = 115_200.0 * r.read(0x3FF4_0014, 115_200) as f64 / 1e6;
        assert!((est - 40.0).abs() < 0.5, "{est}");
    }
}
