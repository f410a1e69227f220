//! Where a chip has RAM that a program uploaded over MEM_BEGIN/MEM_DATA can land and run:
//! the internal instruction and data RAM (and RTC RAM), from the chips' memory maps (esptool
//! `targets/*.py` `MEMORY_MAP`; the ESP8266's whole 64 KB of IRAM, since the cache is off in
//! download mode). A write anywhere else faults on the silicon; the simulated chip crashes
//! and reboots, so a stub built for another chip never says hello.

use crate::protocol::chip::Chip;

type Range = (u32, u32);

/// The RAM ranges `[start, end)` of `chip`.
pub fn ram(chip: Chip) -> &'static [Range] {
    match chip {
        Chip::Esp8266 => &[(0x3FFE_8000, 0x4000_0000), (0x4010_0000, 0x4011_0000)],
        Chip::Esp32 => &[
            (0x3FFA_E000, 0x4000_0000),
            (0x4008_0000, 0x400C_2000),
            (0x3FF8_0000, 0x3FF8_2000),
            (0x5000_0000, 0x5000_2000),
        ],
        Chip::Esp32S2 => &[
            (0x3FF9_E000, 0x4000_0000),
            (0x4002_0000, 0x4007_2000),
            (0x5000_0000, 0x5000_2000),
        ],
        Chip::Esp32S3 => &[
            (0x3FC8_8000, 0x3FD0_0000),
            (0x4037_0000, 0x403E_0000),
            (0x600F_E000, 0x6010_0000),
            (0x5000_0000, 0x5000_2000),
        ],
        Chip::Esp32C3 => &[
            (0x3FC8_0000, 0x3FCE_0000),
            (0x4037_C000, 0x403E_0000),
            (0x5000_0000, 0x5000_2000),
        ],
        Chip::Esp32C2 => &[(0x3FCA_0000, 0x3FCE_0000), (0x4037_C000, 0x403C_0000)],
        Chip::Esp32C6 | Chip::Esp32H2 => &[(0x4080_0000, 0x4088_0000), (0x5000_0000, 0x5000_4000)],
        Chip::Esp32C5 => &[(0x4080_0000, 0x4086_0000), (0x5000_0000, 0x5000_4000)],
        Chip::Esp32P4 => &[(0x4FF0_0000, 0x4FFA_0000), (0x5010_8000, 0x5011_0000)],
    }
}

/// Whether `len` bytes from `addr` all lie in one RAM range of `chip`.
pub fn in_ram(chip: Chip, addr: u32, len: u32) -> bool {
    let end = addr as u64 + len as u64;
    ram(chip)
        .iter()
        .any(|&(start, stop)| addr >= start && end <= stop as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_chips_stub_region_fits_only_its_own_chip() {
        // Text start and length of the esp-flasher-stub 1.4.1 builds (esptool 5.6.0).
        let stubs = [
            (Chip::Esp8266, 0x4010_C500, 0x2CC0),
            (Chip::Esp32, 0x400A_8000, 0x1938),
            (Chip::Esp32S2, 0x4002_8000, 0x19C8),
            (Chip::Esp32S3, 0x4037_8000, 0x21DC),
            (Chip::Esp32C3, 0x4038_0000, 0x16F8),
            (Chip::Esp32C6, 0x4080_0000, 0x1CF4),
            (Chip::Esp32P4, 0x4FF1_0000, 0x2010),
        ];
        for (chip, addr, len) in stubs {
            assert!(in_ram(chip, addr, len), "{chip}");
        }
        assert!(
            !in_ram(Chip::Esp32, 0x4038_0000, 0x16F8),
            "a C3 stub on an ESP32"
        );
        assert!(
            !in_ram(Chip::Esp32C3, 0x400A_8000, 0x1938),
            "an ESP32 stub on a C3"
        );
        assert!(
            !in_ram(Chip::Esp32S3, 0x4080_0000, 0x1CF4),
            "a C6 stub on an S3"
        );
    }
}
