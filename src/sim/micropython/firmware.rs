//! What firmware the simulated flash holds, and the board it makes: MicroPython (with its
//! version, build date, board and MCU names), other firmware, or nothing bootable.
//!
//! Recognition (see the module docs of [`super`] for the why):
//! - ESP32 family: the app the bootloader starts ([`crate::sim::boot`] checks it and finds it
//!   through the partition table) is an ESP-IDF app image whose `esp_app_desc_t` (magic
//!   0xABCD5432 at image byte 0x20) names the project `micropython`. The version comes from
//!   the banner string in the image (`MicroPython v1.24.1 on 2024-11-29`) when present, else
//!   from the descriptor's `version` and `date` fields.
//! - ESP8266 (no app descriptor): a valid header at 0 and the banner string
//!   `MicroPython v…` within the first 1 MB.

use crate::protocol::chip::{Chip, ChipSpec};
use crate::protocol::image::{self, BuildSpec, ExtHeader, APP_DESC_MAGIC};
use crate::protocol::partition::{self, TABLE_OFFSET};

/// Where ESP-IDF's default partition tables put the (first) app.
pub const APP_OFFSET: usize = 0x10000;
pub const DEFAULT_VERSION: &str = "v1.24.1";
pub const DEFAULT_DATE: &str = "2024-11-29";

/// What boots from this flash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Firmware {
    MicroPython {
        version: String,
        date: String,
    },
    Other,
    /// No valid image at the bootloader offset: the ROM prints `invalid header`.
    Invalid,
}

/// The facts the REPL, `sys` and `os.uname()` report.
#[derive(Debug, Clone)]
pub struct Board {
    pub version: String,
    pub date: String,
    pub name: &'static str,
    pub mcu: &'static str,
    /// `sys.platform` and `os.uname().sysname`.
    pub platform: &'static str,
    pub mpy: i64,
    pub cpu_hz: i64,
    pub heap: i64,
    pub mac: [u8; 6],
    pub flash_size: usize,
    /// The filesystem's region of the flash: (offset, length).
    pub fs: (usize, usize),
}

impl Board {
    pub fn new(
        chip: Chip,
        version: &str,
        date: &str,
        mac: [u8; 6],
        flash_size: usize,
        fs: Option<(usize, usize)>,
    ) -> Board {
        let (name, mcu) = names(chip);
        let esp8266 = chip == Chip::Esp8266;
        // sys.implementation._mpy: bytecode version 6, sub-version 3, native arch (xtensa 9, xtensawin 10, rv32imc 11).
        let arch = match chip {
            Chip::Esp8266 => 9,
            Chip::Esp32 | Chip::Esp32S2 | Chip::Esp32S3 => 10,
            _ => 11,
        };
        Board {
            version: version.into(),
            date: date.into(),
            name,
            mcu,
            platform: if esp8266 { "esp8266" } else { "esp32" },
            mpy: 6 | 3 << 8 | arch << 10,
            cpu_hz: if esp8266 { 80_000_000 } else { 160_000_000 },
            heap: if esp8266 { 37_000 } else { 110_000 },
            mac,
            flash_size,
            fs: fs.unwrap_or_else(|| fs_region(chip, flash_size)),
        }
    }

    /// `Generic ESP32 module with ESP32`.
    pub fn machine(&self) -> String {
        format!("{} with {}", self.name, self.mcu)
    }

    /// The friendly REPL's greeting, ending in the first prompt's line.
    pub fn banner(&self) -> String {
        format!(
            "MicroPython {} on {}; {}\r\nType \"help()\" for more information.\r\n",
            self.version,
            self.date,
            self.machine()
        )
    }
}

/// `MICROPY_HW_BOARD_NAME` and `MICROPY_HW_MCU_NAME` of the generic board for each chip.
fn names(chip: Chip) -> (&'static str, &'static str) {
    match chip {
        Chip::Esp8266 => ("ESP module", "ESP8266"),
        Chip::Esp32 => ("Generic ESP32 module", "ESP32"),
        Chip::Esp32S2 => ("Generic ESP32S2 module", "ESP32S2"),
        Chip::Esp32S3 => ("Generic ESP32S3 module", "ESP32S3"),
        Chip::Esp32C2 => ("ESP32C2 module", "ESP32C2"),
        Chip::Esp32C3 => ("ESP32C3 module", "ESP32C3"),
        Chip::Esp32C5 => ("ESP32C5 module", "ESP32C5"),
        Chip::Esp32C6 => ("ESP32C6 module", "ESP32C6"),
        Chip::Esp32H2 => ("ESP32H2 module", "ESP32H2"),
        Chip::Esp32P4 => ("Generic ESP32P4 module", "ESP32P4"),
    }
}

/// Where the filesystem is when no partition table says: `(start, length)`. ESP8266 2 MB and
/// up: 0x100000 to the end; ESP32 family 4 MB: 0x200000 to the end; smaller flash: its
/// second half.
pub fn fs_region(chip: Chip, flash_size: usize) -> (usize, usize) {
    let usual = if chip == Chip::Esp8266 {
        0x10_0000
    } else {
        0x20_0000
    };
    let start = if flash_size >= 2 * usual {
        usual
    } else {
        flash_size / 2
    };
    (start, flash_size - start)
}

fn cstr(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// `MicroPython v1.24.1 on 2024-11-29` somewhere in `bytes`: (version, date).
fn banner_in(bytes: &[u8]) -> Option<(String, String)> {
    const NEEDLE: &[u8] = b"MicroPython v";
    let at = bytes.windows(NEEDLE.len()).position(|w| w == NEEDLE)? + NEEDLE.len() - 1;
    let rest = &bytes[at..bytes.len().min(at + 64)];
    let version_len = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || b"._-+".contains(b)))?;
    let version = String::from_utf8_lossy(&rest[..version_len]).into_owned();
    let date = rest[version_len..]
        .strip_prefix(b" on ")
        .and_then(|d| d.get(..10))
        .map(|d| String::from_utf8_lossy(d).into_owned());
    Some((
        version,
        date.filter(|d| d.as_bytes()[4] == b'-')
            .unwrap_or_else(|| DEFAULT_DATE.into()),
    ))
}

/// `Nov 29 2024` (C's `__DATE__`, the descriptor's `date`) as `2024-11-29`.
fn iso_date(date: &str) -> Option<String> {
    let mut parts = date.split_whitespace();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| Some(*m) == parts.next())?
        + 1;
    let day: u32 = parts.next()?.parse().ok()?;
    let year: u32 = parts.next()?.parse().ok()?;
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// What an ESP8266's flash boots: its one image, MicroPython if it carries the banner.
pub fn identify_esp8266(flash: &[u8]) -> Firmware {
    if flash.first() != Some(&image::MAGIC) {
        return Firmware::Invalid;
    }
    match banner_in(&flash[..flash.len().min(1 << 20)]) {
        Some((version, date)) => Firmware::MicroPython { version, date },
        None => Firmware::Other,
    }
}

/// What a bootable ESP-IDF app image is: MicroPython (by its app descriptor), or other.
pub fn identify_app(app: &[u8]) -> Firmware {
    let desc = image::APP_DESC_OFFSET;
    let is_app = app.first() == Some(&image::MAGIC)
        && app.len() >= desc + 112
        && app
            .get(desc..desc + 4)
            .is_some_and(|m| u32::from_le_bytes(m.try_into().unwrap()) == APP_DESC_MAGIC);
    if !is_app || cstr(&app[desc + 48..desc + 80]) != "micropython" {
        return Firmware::Other;
    }
    let (version, date) = banner_in(&app[..app.len().min(2 << 20)]).unwrap_or_else(|| {
        let v = cstr(&app[desc + 16..desc + 48]);
        let v = if v.starts_with('v') {
            v
        } else {
            DEFAULT_VERSION.into()
        };
        (
            v,
            iso_date(&cstr(&app[desc + 96..desc + 112])).unwrap_or_else(|| DEFAULT_DATE.into()),
        )
    });
    Firmware::MicroPython { version, date }
}

/// A small image set that boots as MicroPython `DEFAULT_VERSION`: `(offset, bytes)` parts
/// to write (bootloader, partition table, app). Used by `esp-sim --app micropython` and tests.
pub fn micropython_image(spec: &ChipSpec) -> Vec<(usize, Vec<u8>)> {
    let board = Board::new(spec.chip, DEFAULT_VERSION, DEFAULT_DATE, [0; 6], 0, None);
    let mut banner = format!(
        "MicroPython {} on {}; {}",
        board.version,
        board.date,
        board.machine()
    )
    .into_bytes();
    banner.resize(banner.len().next_multiple_of(4) + 4, 0);
    let Some(chip_id) = spec.image_chip_id else {
        let spec = BuildSpec {
            flash_mode: 2,
            flash_size_freq: 0x20,
            entry: 0x4010_0000,
            ext: None,
        };
        return vec![(0, image::build(&spec, &[(0x4010_0000, &banner)]))];
    };
    let ext = ExtHeader {
        wp_pin: 0xEE,
        drive: [0; 3],
        chip_id,
        min_rev: 0,
        min_rev_full: 0,
        max_rev_full: 0xFFFF,
        hash_appended: true,
    };
    let build = BuildSpec {
        flash_mode: 2,
        flash_size_freq: 0x20,
        entry: 0x4008_0000,
        ext: Some(ext),
    };
    let bootloader = image::build(&build, &[(0x3FFF_0030, &[0u8; 32])]);
    // esp_app_desc_t: magic, secure_version, reserved, version, project_name, time, date, idf_ver, ...
    let mut desc = vec![0u8; 256];
    desc[..4].copy_from_slice(&APP_DESC_MAGIC.to_le_bytes());
    let mut put = |at: usize, s: &str| desc[at..at + s.len()].copy_from_slice(s.as_bytes());
    put(16, DEFAULT_VERSION);
    put(48, "micropython");
    put(80, "12:00:00");
    put(96, "Nov 29 2024");
    put(112, "v5.2.2");
    desc.extend_from_slice(&banner);
    let app = image::build(&build, &[(0x3F40_0020, &desc)]);
    // MicroPython 1.26 and later: nvs, phy_init, factory; the filesystem takes the rest.
    let table = partition::build(&partition::micropython_table(0x1F_0000, None), true);
    vec![
        (spec.bootloader_offset as usize, bootloader),
        (TABLE_OFFSET as usize, table),
        (APP_OFFSET, app),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::bootlog::flash_boot;

    fn identify(spec: &ChipSpec, flash: &[u8]) -> Firmware {
        flash_boot(spec, flash, crate::sim::usual_revision(spec.chip)).firmware
    }

    fn flash_with(parts: &[(usize, Vec<u8>)]) -> Vec<u8> {
        let mut flash = vec![0xFF; 4 << 20];
        for (at, bytes) in parts {
            flash[*at..*at + bytes.len()].copy_from_slice(bytes);
        }
        flash
    }

    #[test]
    fn recognises_its_own_image_on_every_family() {
        for chip in [Chip::Esp32, Chip::Esp32C3, Chip::Esp32S3, Chip::Esp8266] {
            let flash = flash_with(&micropython_image(chip.spec()));
            assert_eq!(
                identify(chip.spec(), &flash),
                Firmware::MicroPython {
                    version: "v1.24.1".into(),
                    date: "2024-11-29".into()
                },
                "{chip:?}"
            );
        }
    }

    #[test]
    fn descriptor_fields_without_a_banner_string() {
        let spec = Chip::Esp32.spec();
        let mut parts = micropython_image(spec);
        let app = &mut parts[2].1;
        let banner = app.windows(13).position(|w| w == b"MicroPython v").unwrap();
        app[banner] = b'X';
        app[0x20 + 16..0x20 + 24].copy_from_slice(b"v1.22.0\0");
        app[0x20 + 96..0x20 + 107].copy_from_slice(b"Jan  5 2024");
        reseal(app);
        let fw = identify(spec, &flash_with(&parts));
        assert_eq!(
            fw,
            Firmware::MicroPython {
                version: "v1.22.0".into(),
                date: "2024-01-05".into()
            }
        );
    }

    #[test]
    fn other_and_invalid() {
        let spec = Chip::Esp32.spec();
        let mut parts = micropython_image(spec);
        parts[2].1[0x20 + 48..0x20 + 59].copy_from_slice(b"hello_world");
        reseal(&mut parts[2].1);
        assert_eq!(identify(spec, &flash_with(&parts)), Firmware::Other);
        assert_eq!(identify(spec, &flash_with(&parts[1..])), Firmware::Invalid);
        assert_eq!(
            identify(
                Chip::Esp8266.spec(),
                &flash_with(&[(0, vec![0xE9, 1, 2, 0x20])])
            ),
            Firmware::Other
        );
        assert_eq!(fs_region(Chip::Esp32, 4 << 20), (0x200000, 0x200000));
        assert_eq!(fs_region(Chip::Esp8266, 1 << 20), (0x80000, 0x80000));
    }
}

/// Fixes checksum and digest after a test edited an image's segment data.
#[cfg(test)]
pub(crate) fn reseal(app: &mut [u8]) {
    let parsed = image::parse(app, image::Layout::Esp32);
    let Err(image::ImageError::BadChecksum { at, computed, .. }) = parsed else {
        panic!("expected a stale checksum: {parsed:?}");
    };
    app[at] = computed;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(&app[..at + 1]);
    app[at + 1..at + 33].copy_from_slice(&digest);
}
