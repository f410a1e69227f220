//! The chip table: what distinguishes each ESP chip on the serial protocol, as data.
//! Facts from `esp-protocol.md` §5, §6, §7, §11 (esptool 5.6 and the observed mask ROMs).

/// Every chip family webflash knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chip {
    Esp8266,
    Esp32,
    Esp32S2,
    Esp32S3,
    Esp32C2,
    Esp32C3,
    Esp32C5,
    Esp32C6,
    Esp32H2,
    Esp32P4,
}

/// Where the factory MAC lives in eFuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacLayout {
    /// ESP8266 OTP words MAC0, MAC1, MAC3.
    Esp8266 { mac0: u32, mac1: u32, mac3: u32 },
    /// ESP32: efuse word1 and word2; big-endian (word2, word1) without the CRC byte pair.
    Esp32 { word1: u32, word2: u32 },
    /// Later chips: two words at `base`; MAC = m1[15:0] ++ m0[31:0].
    TwoWords { base: u32 },
}

/// How the chip revision is encoded in eFuse (esptool `get_chip_revision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionLayout {
    /// ESP8266 has no revision field.
    None,
    /// ESP32: bits in efuse words 3 and 5 plus APB_CTL_DATE.
    Esp32 { efuse_base: u32, apb_ctl_date: u32 },
    /// `major = (w[maj_word] >> maj_shift) & maj_mask`, `minor` likewise, with an optional high
    /// bit (`hi_word`, `hi_shift`) that becomes bit 3 of minor (S3, C3).
    Fields {
        base: u32,
        major: (u8, u8, u32),
        minor: (u8, u8, u32),
        minor_hi: Option<(u8, u8)>,
    },
}

/// The SPI flash controller registers used to run a flash command (e.g. JEDEC RDID).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpiRegs {
    pub base: u32,
    pub usr: u32,
    pub usr1: u32,
    pub usr2: u32,
    /// `None` on ESP8266, which encodes data lengths in USR1.
    pub mosi_dlen: Option<u32>,
    pub miso_dlen: Option<u32>,
    pub w0: u32,
}

impl SpiRegs {
    const fn s2(base: u32) -> SpiRegs {
        SpiRegs {
            base,
            usr: 0x18,
            usr1: 0x1C,
            usr2: 0x20,
            mosi_dlen: Some(0x24),
            miso_dlen: Some(0x28),
            w0: 0x58,
        }
    }
    /// The CMD register (offset 0); bit 18 starts a user command and clears when done.
    pub fn cmd(&self) -> u32 {
        self.base
    }
    pub fn reg(&self, offset: u32) -> u32 {
        self.base + offset
    }
}

/// Everything the loader and the simulator need to know about one chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChipSpec {
    pub chip: Chip,
    /// Display name, e.g. "ESP32-C3".
    pub name: &'static str,
    /// Short id used by esptool and for stub file names, e.g. "esp32c3".
    pub id: &'static str,
    /// Values of the word at 0x40001000 (the first is what the simulator answers).
    pub magic: &'static [u32],
    /// Chip id in image headers and GET_SECURITY_INFO (`None`: ESP8266, no extended header).
    pub image_chip_id: Option<u16>,
    /// Detected by GET_SECURITY_INFO's chip id rather than the magic word (S3 and later).
    pub detect_by_security_info: bool,
    pub bootloader_offset: u32,
    /// Status bytes in a ROM reply (2 on ESP8266, 4 elsewhere). The stub always sends 2.
    pub rom_status_len: usize,
    /// FLASH_BEGIN / FLASH_DEFL_BEGIN sent to the ROM carries a 5th ("encrypted") word.
    pub rom_begin_has_encrypt_word: bool,
    /// The ROM can inflate (FLASH_DEFL_*), hash (SPI_FLASH_MD5), change baud, attach flash.
    pub rom_has_deflate: bool,
    pub rom_has_md5: bool,
    pub rom_can_change_baud: bool,
    pub rom_has_spi_attach: bool,
    pub rom_has_security_info: bool,
    /// Baud of the ROM's boot messages (ESP8266 with 26 MHz crystal: 74880).
    pub boot_log_baud: u32,
    pub mac: MacLayout,
    pub revision: RevisionLayout,
    pub spi: SpiRegs,
    /// UART clock divider register (crystal estimate), if the crystal is not fixed.
    pub uart_clkdiv: Option<u32>,
    /// Crystal frequency when it is fixed for the family, in MHz.
    pub xtal_mhz: Option<u32>,
    /// High nibble of header byte 3 for each flash size: `(size_bytes, code)`.
    pub flash_size_codes: &'static [(u32, u8)],
}

const MB: u32 = 1024 * 1024;
const KB: u32 = 1024;

/// Flash size codes for ESP8266 (header byte 3, high nibble, already shifted).
pub const ESP8266_FLASH_SIZES: &[(u32, u8)] = &[
    (256 * KB, 0x10),
    (512 * KB, 0x00),
    (MB, 0x20),
    (2 * MB, 0x30),
    (4 * MB, 0x40),
    (8 * MB, 0x80),
    (16 * MB, 0x90),
];
/// Flash size codes for the ESP32 family.
pub const ESP32_FLASH_SIZES: &[(u32, u8)] = &[
    (MB, 0x00),
    (2 * MB, 0x10),
    (4 * MB, 0x20),
    (8 * MB, 0x30),
    (16 * MB, 0x40),
    (32 * MB, 0x50),
    (64 * MB, 0x60),
    (128 * MB, 0x70),
];

const fn later(
    chip: Chip,
    name: &'static str,
    id: &'static str,
    magic: &'static [u32],
    image_chip_id: u16,
    bootloader_offset: u32,
    mac_base: u32,
    revision: RevisionLayout,
    spi_base: u32,
    uart_clkdiv: Option<u32>,
    xtal_mhz: Option<u32>,
) -> ChipSpec {
    ChipSpec {
        chip,
        name,
        id,
        magic,
        image_chip_id: Some(image_chip_id),
        detect_by_security_info: !matches!(chip, Chip::Esp32S2),
        bootloader_offset,
        rom_status_len: 4,
        rom_begin_has_encrypt_word: true,
        rom_has_deflate: true,
        rom_has_md5: true,
        rom_can_change_baud: true,
        rom_has_spi_attach: true,
        rom_has_security_info: true,
        boot_log_baud: 115_200,
        mac: MacLayout::TwoWords { base: mac_base },
        revision,
        spi: SpiRegs::s2(spi_base),
        uart_clkdiv,
        xtal_mhz,
        flash_size_codes: ESP32_FLASH_SIZES,
    }
}

const fn fields(
    base: u32,
    major: (u8, u8, u32),
    minor: (u8, u8, u32),
    minor_hi: Option<(u8, u8)>,
) -> RevisionLayout {
    RevisionLayout::Fields {
        base,
        major,
        minor,
        minor_hi,
    }
}

/// The table, one entry per chip.
pub const CHIPS: &[ChipSpec] = &[
    ChipSpec {
        chip: Chip::Esp8266,
        name: "ESP8266",
        id: "esp8266",
        magic: &[0xFFF0_C101],
        image_chip_id: None,
        detect_by_security_info: false,
        bootloader_offset: 0x0,
        rom_status_len: 2,
        rom_begin_has_encrypt_word: false,
        rom_has_deflate: false,
        rom_has_md5: false,
        rom_can_change_baud: false,
        rom_has_spi_attach: false,
        rom_has_security_info: false,
        boot_log_baud: 74_880,
        mac: MacLayout::Esp8266 {
            mac0: 0x3FF0_0050,
            mac1: 0x3FF0_0054,
            mac3: 0x3FF0_005C,
        },
        revision: RevisionLayout::None,
        spi: SpiRegs {
            base: 0x6000_0200,
            usr: 0x1C,
            usr1: 0x20,
            usr2: 0x24,
            mosi_dlen: None,
            miso_dlen: None,
            w0: 0x40,
        },
        uart_clkdiv: Some(0x6000_0014),
        xtal_mhz: None,
        flash_size_codes: ESP8266_FLASH_SIZES,
    },
    ChipSpec {
        chip: Chip::Esp32,
        name: "ESP32",
        id: "esp32",
        magic: &[0x00F0_1D83],
        image_chip_id: Some(0),
        detect_by_security_info: false,
        bootloader_offset: 0x1000,
        rom_status_len: 4,
        rom_begin_has_encrypt_word: false,
        rom_has_deflate: true,
        rom_has_md5: true,
        rom_can_change_baud: true,
        rom_has_spi_attach: true,
        rom_has_security_info: false,
        boot_log_baud: 115_200,
        mac: MacLayout::Esp32 {
            word1: 0x3FF5_A004,
            word2: 0x3FF5_A008,
        },
        revision: RevisionLayout::Esp32 {
            efuse_base: 0x3FF5_A000,
            apb_ctl_date: 0x3FF6_607C,
        },
        spi: SpiRegs {
            base: 0x3FF4_2000,
            usr: 0x1C,
            usr1: 0x20,
            usr2: 0x24,
            mosi_dlen: Some(0x28),
            miso_dlen: Some(0x2C),
            w0: 0x80,
        },
        uart_clkdiv: Some(0x3FF4_0014),
        xtal_mhz: None,
        flash_size_codes: ESP32_FLASH_SIZES,
    },
    later(
        Chip::Esp32S2,
        "ESP32-S2",
        "esp32s2",
        &[0x0000_07C6],
        2,
        0x1000,
        0x3F41_A044,
        fields(0x3F41_A044, (3, 18, 3), (4, 4, 7), Some((3, 20))),
        0x3F40_2000,
        Some(0x3F40_0014),
        Some(40),
    ),
    later(
        Chip::Esp32S3,
        "ESP32-S3",
        "esp32s3",
        &[0x0000_0009],
        9,
        0x0,
        0x6000_7044,
        fields(0x6000_7044, (5, 24, 3), (3, 18, 7), Some((5, 23))),
        0x6000_2000,
        Some(0x6000_0014),
        Some(40),
    ),
    later(
        Chip::Esp32C2,
        "ESP32-C2",
        "esp32c2",
        &[0x6F51_306F, 0x7C41_A06F, 0x0C21_E06F],
        12,
        0x0,
        0x6000_8840,
        fields(0x6000_8840, (1, 20, 3), (1, 16, 0xF), None),
        0x6000_2000,
        Some(0x6000_0014),
        None,
    ),
    later(
        Chip::Esp32C3,
        "ESP32-C3",
        "esp32c3",
        &[0x1B31_506F, 0x6921_506F, 0x4881_606F, 0x4361_606F],
        5,
        0x0,
        0x6000_8844,
        fields(0x6000_8844, (5, 24, 3), (3, 18, 7), Some((5, 23))),
        0x6000_2000,
        Some(0x6000_0014),
        Some(40),
    ),
    later(
        Chip::Esp32C5,
        "ESP32-C5",
        "esp32c5",
        &[0x1101_406F],
        23,
        0x2000,
        0x600B_4844,
        fields(0x600B_4844, (2, 4, 3), (2, 0, 0xF), None),
        0x6000_3000,
        // 40 or 48 MHz: esptool estimates it from the UART divider.
        Some(0x6000_0014),
        None,
    ),
    later(
        Chip::Esp32C6,
        "ESP32-C6",
        "esp32c6",
        &[0x2CE0_806F],
        13,
        0x0,
        0x600B_0844,
        fields(0x600B_0844, (3, 22, 3), (3, 18, 0xF), None),
        0x6000_3000,
        None,
        Some(40),
    ),
    later(
        Chip::Esp32H2,
        "ESP32-H2",
        "esp32h2",
        &[0xD7B7_3E80],
        16,
        0x0,
        0x600B_0844,
        fields(0x600B_0844, (3, 21, 3), (3, 18, 7), None),
        0x6000_3000,
        None,
        Some(32),
    ),
    later(
        Chip::Esp32P4,
        "ESP32-P4",
        "esp32p4",
        &[0x0ADD_BAD0],
        18,
        0x2000,
        0x5012_D044,
        fields(0x5012_D044, (2, 4, 3), (2, 0, 0xF), None),
        0x5008_D000,
        None,
        Some(40),
    ),
];

impl Chip {
    /// This chip's table entry.
    pub fn spec(self) -> &'static ChipSpec {
        CHIPS
            .iter()
            .find(|s| s.chip == self)
            .expect("every chip has a table entry")
    }

    /// Finds a chip by its short id ("esp32c3") or display name ("ESP32-C3"), any case.
    pub fn from_name(name: &str) -> Option<Chip> {
        let n = name.trim().to_ascii_lowercase().replace('-', "");
        CHIPS.iter().find(|s| s.id == n).map(|s| s.chip)
    }

    /// The chip whose magic word at 0x40001000 is `magic` (legacy detection).
    pub fn from_magic(magic: u32) -> Option<Chip> {
        CHIPS
            .iter()
            .find(|s| s.magic.contains(&magic))
            .map(|s| s.chip)
    }

    /// The chip with this image / security-info chip id.
    pub fn from_image_chip_id(id: u16) -> Option<Chip> {
        CHIPS
            .iter()
            .find(|s| s.image_chip_id == Some(id))
            .map(|s| s.chip)
    }
}

impl core::fmt::Display for Chip {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.spec().name)
    }
}

/// The register holding the chip magic word on every family.
pub const MAGIC_REG: u32 = 0x4000_1000;

/// Flash size in bytes from a JEDEC RDID result (byte0 manufacturer, byte2 capacity).
pub fn flash_size_from_jedec(id: u32) -> Option<u32> {
    let manufacturer = id & 0xFF;
    if manufacturer == 0x1F {
        // Adesto encodes the size in the memory-type byte.
        return match (id >> 8) & 0x1F {
            0x04 => Some(512 * KB),
            0x05 => Some(MB),
            0x06 => Some(2 * MB),
            0x07 => Some(4 * MB),
            0x08 => Some(8 * MB),
            0x09 => Some(16 * MB),
            _ => None,
        };
    }
    match (id >> 16) & 0xFF {
        0x12 | 0x32 => Some(256 * KB),
        0x13 | 0x33 => Some(512 * KB),
        0x14 | 0x34 => Some(MB),
        0x15 | 0x35 => Some(2 * MB),
        0x16 | 0x36 => Some(4 * MB),
        0x17 | 0x37 => Some(8 * MB),
        0x18 | 0x38 => Some(16 * MB),
        0x19 | 0x39 => Some(32 * MB),
        0x1A | 0x20 | 0x3A => Some(64 * MB),
        0x1B | 0x21 => Some(128 * MB),
        0x1C | 0x22 => Some(256 * MB),
        _ => None,
    }
}

/// A human size: "4MB", "512KB".
pub fn format_size(bytes: u32) -> String {
    if bytes >= MB && bytes % MB == 0 {
        format!("{}MB", bytes / MB)
    } else {
        format!("{}KB", bytes / KB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chip_is_in_the_table_once_and_found_by_name() {
        for spec in CHIPS {
            assert_eq!(Chip::from_name(spec.id), Some(spec.chip));
            assert_eq!(Chip::from_name(spec.name), Some(spec.chip));
            assert_eq!(spec.chip.spec().id, spec.id);
        }
        assert_eq!(CHIPS.len(), 10);
    }

    #[test]
    fn magic_and_image_ids_identify_chips() {
        assert_eq!(Chip::from_magic(0x00F0_1D83), Some(Chip::Esp32));
        assert_eq!(Chip::from_magic(0xFFF0_C101), Some(Chip::Esp8266));
        assert_eq!(Chip::from_magic(0x1B31_506F), Some(Chip::Esp32C3));
        assert_eq!(Chip::from_image_chip_id(9), Some(Chip::Esp32S3));
        assert_eq!(Chip::from_image_chip_id(23), Some(Chip::Esp32C5));
        assert_eq!(Chip::from_magic(0x1234_5678), None);
    }

    #[test]
    fn bootloader_offsets_follow_the_family() {
        assert_eq!(Chip::Esp32.spec().bootloader_offset, 0x1000);
        assert_eq!(Chip::Esp32S2.spec().bootloader_offset, 0x1000);
        assert_eq!(Chip::Esp32C3.spec().bootloader_offset, 0);
        assert_eq!(Chip::Esp32C5.spec().bootloader_offset, 0x2000);
        assert_eq!(Chip::Esp8266.spec().bootloader_offset, 0);
    }

    #[test]
    fn jedec_capacity_byte_gives_size() {
        assert_eq!(flash_size_from_jedec(0x0016_40EF), Some(4 * MB)); // Winbond W25Q32
        assert_eq!(flash_size_from_jedec(0x0018_4068), Some(16 * MB));
        assert_eq!(flash_size_from_jedec(0x0000_471F), Some(4 * MB)); // Adesto
        assert_eq!(flash_size_from_jedec(0x00FF_FFFF), None);
        assert_eq!(format_size(4 * MB), "4MB");
        assert_eq!(format_size(512 * KB), "512KB");
    }
}
