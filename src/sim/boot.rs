//! Booting from flash the way the mask ROM and ESP-IDF's second-stage bootloader do: what
//! they check, what they print, and what runs in the end (`esp-protocol.md` §11; the messages
//! are ESP-IDF 5.x's, at MicroPython's bootloader log level WARN, so only errors show).
//!
//! The image checks here are the bootloader's own rules (`esp_image_format.c`), written
//! apart from the product's [`crate::protocol::image`] on purpose: a mistake in the product's
//! header patching or re-digesting must not be repeated by the board that judges it. They
//! also differ where the bootloader differs: any non-zero "hash appended" byte means a digest
//! follows, the legacy revision byte is ignored, and the bootloader's own digest is never
//! checked.

use sha2::{Digest, Sha256};

use super::micropython::firmware::{identify_app, Firmware};
use crate::protocol::chip::{Chip, ChipSpec};
use crate::protocol::partition::{self, TABLE_OFFSET};

/// What booting found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boot {
    /// Everything printed on the UART from the ROM's banner on.
    pub log: String,
    pub firmware: Firmware,
    /// MicroPython's filesystem region (offset, length), from the partition table.
    pub fs: Option<(usize, usize)>,
}

/// One image as the boot code reads it.
struct Image {
    entry: u32,
    mode: u8,
    size_freq: u8,
    /// (load address, length) per segment.
    segments: Vec<(u32, u32)>,
}

/// Why the boot code refuses an image.
enum Fault {
    Magic(u32),
    ChipId { expected: u16, found: u16 },
    RevMin { need: u16, have: u32 },
    RevMax { limit: u16, have: u32 },
    SegmentCount(usize),
    SegmentLength(u32),
    Truncated,
    Checksum { computed: u8, stored: u8 },
    Hash,
    TooBig { len: usize, room: usize },
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Reads and checks an image at the start of `bytes`. `app` adds the checks only apps get
/// (the appended digest, the maximum revision, the partition's room).
fn check(
    bytes: &[u8],
    spec: &ChipSpec,
    revision: u32,
    app: bool,
    room: usize,
) -> Result<Image, Fault> {
    let word = u32_at(bytes, 0).unwrap_or(u32::MAX);
    if bytes.first() != Some(&0xE9) {
        return Err(Fault::Magic(word));
    }
    let header = bytes.get(..24).ok_or(Fault::Truncated)?;
    let expected = spec.image_chip_id.unwrap_or(0);
    let found = u16::from_le_bytes([header[12], header[13]]);
    if found != expected {
        return Err(Fault::ChipId { expected, found });
    }
    let min = u16::from_le_bytes([header[15], header[16]]);
    if revision < min as u32 {
        return Err(Fault::RevMin {
            need: min,
            have: revision,
        });
    }
    let max = u16::from_le_bytes([header[17], header[18]]);
    if app && max != 0 && max != 0xFFFF && revision > max as u32 {
        return Err(Fault::RevMax {
            limit: max,
            have: revision,
        });
    }
    let count = header[1] as usize;
    if count > 16 {
        return Err(Fault::SegmentCount(count));
    }
    let mut pos = 24;
    let mut sum = 0xEFu8;
    let mut segments = Vec::with_capacity(count);
    for _ in 0..count {
        let (addr, len) = (
            u32_at(bytes, pos).ok_or(Fault::Truncated)?,
            u32_at(bytes, pos + 4).ok_or(Fault::Truncated)?,
        );
        if len % 4 != 0 || len >= 16 << 20 {
            return Err(Fault::SegmentLength(len));
        }
        let data = bytes
            .get(pos + 8..pos + 8 + len as usize)
            .ok_or(Fault::Truncated)?;
        sum = data.iter().fold(sum, |s, b| s ^ b);
        segments.push((addr, len));
        pos += 8 + len as usize;
    }
    let checksum_at = pos | 0xF;
    let stored = *bytes.get(checksum_at).ok_or(Fault::Truncated)?;
    if stored != sum {
        return Err(Fault::Checksum {
            computed: sum,
            stored,
        });
    }
    let mut len = checksum_at + 1;
    if app && header[23] != 0 {
        let digest = bytes.get(len..len + 32).ok_or(Fault::Truncated)?;
        if Sha256::digest(&bytes[..len]).as_slice() != digest {
            return Err(Fault::Hash);
        }
        len += 32;
    }
    if app && len > room {
        return Err(Fault::TooBig { len, room });
    }
    Ok(Image {
        entry: u32_at(bytes, 4).unwrap_or(0),
        mode: header[2],
        size_freq: header[3],
        segments,
    })
}

/// The ROM's first lines after any reset.
pub fn rom_banner(chip: Chip) -> &'static str {
    match chip {
        Chip::Esp8266 => "",
        Chip::Esp32 => "ets Jul 29 2019 12:21:46\r\n\r\n",
        Chip::Esp32C3 => "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n",
        Chip::Esp32S3 => "ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\n",
        Chip::Esp32S2 => "ESP-ROM:esp32s2-rc4-20191025\r\nBuild:Oct 25 2019\r\n",
        Chip::Esp32C2 => "ESP-ROM:esp8684-api2-20220127\r\nBuild:Jan 27 2022\r\n",
        Chip::Esp32C6 => "ESP-ROM:esp32c6-20220919\r\nBuild:Sep 19 2022\r\n",
        Chip::Esp32C5 => "ESP-ROM:esp32c5-eco2-20250121\r\nBuild:Jan 21 2025\r\n",
        Chip::Esp32H2 => "ESP-ROM:esp32h2-20221101\r\nBuild:Nov  1 2022\r\n",
        Chip::Esp32P4 => "ESP-ROM:esp32p4-eco2-20240710\r\nBuild:Jul 10 2024\r\n",
    }
}

/// The ROM's greeting up to the reset line (`rst:…,boot:…`), as printed on a flash boot.
pub fn rom_greeting(chip: Chip) -> String {
    let rst = match chip {
        Chip::Esp32 => "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)",
        Chip::Esp32S3 => "rst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)",
        _ => "rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)",
    };
    format!("{}{rst}\r\n", rom_banner(chip))
}

fn mode_name(mode: u8) -> &'static str {
    ["QIO", "QOUT", "DIO", "DOUT"]
        .get(mode as usize)
        .copied()
        .unwrap_or("DIO")
}

/// The ROM's lines for a bootloader it loads and jumps to.
fn rom_loads(chip: Chip, image: &Image) -> String {
    let div = match image.size_freq & 0x0F {
        0xF => 1,
        0x0 => 2,
        0x1 => 3,
        _ => 4,
    };
    let mut text = String::new();
    if chip == Chip::Esp32 {
        text.push_str("configsip: 0, SPIWP:0xee\r\n");
        text.push_str(
            "clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n",
        );
    } else {
        text.push_str("SPIWP:0xee\r\n");
    }
    text.push_str(&format!(
        "mode:{}, clock div:{div}\r\n",
        mode_name(image.mode)
    ));
    for (addr, len) in &image.segments {
        if chip == Chip::Esp32 {
            text.push_str(&format!("load:0x{addr:08x},len:{len}\r\n"));
        } else {
            text.push_str(&format!("load:0x{addr:08x},len:0x{len:x}\r\n"));
        }
    }
    text.push_str(&format!("entry 0x{:08x}\r\n", image.entry));
    text
}

/// What the ROM prints when it refuses the bootloader (then its watchdog resets the chip,
/// and the same happens again; the simulated chip stays quiet after one round).
fn rom_refusal(chip: Chip, fault: &Fault) -> String {
    let line = if chip == Chip::Esp32 { 371 } else { 333 };
    match fault {
        Fault::Magic(word) => format!("invalid header: 0x{word:08x}\r\n").repeat(3),
        Fault::ChipId { expected, found } => format!(
            "Invalid chip id. Expected {expected} read {found}. Bootloader for wrong chip?\r\nets_main.c {line} \r\n"
        ),
        Fault::Checksum { computed, stored } if chip == Chip::Esp32 => {
            format!("csum err:0x{stored:02x}!=0x{computed:02x}\r\nets_main.c {line} \r\n")
        }
        Fault::Checksum { computed, stored } => format!(
            "Checksum failure. Calculated 0x{computed:02x} stored 0x{stored:02x}\r\nets_main.c {line} \r\n"
        ),
        // Anything else unreadable: the ROM reads a header it cannot use.
        _ => "invalid header: 0xffffffff\r\n".repeat(3),
    }
}

/// The second-stage bootloader's error line for an app it refuses.
fn app_refusal(offset: u32, fault: &Fault) -> String {
    let rev = |r: u32| format!("v{}.{}", r / 100, r % 100);
    let line = match fault {
        Fault::Magic(_) => format!(
            "E (67) esp_image: image at 0x{offset:x} has invalid magic byte (nothing flashed here?)"
        ),
        Fault::ChipId { expected, found } => {
            format!("E (67) boot_comm: mismatch chip ID, expected {expected}, found {found}")
        }
        Fault::RevMin { need, have } => format!(
            "E (67) boot_comm: Image requires chip rev >= {}, but chip is {}",
            rev(*need as u32),
            rev(*have)
        ),
        Fault::RevMax { limit, have } => format!(
            "E (67) boot_comm: Image requires chip rev <= {}, but chip is {}",
            rev(*limit as u32),
            rev(*have)
        ),
        Fault::SegmentCount(n) => {
            format!("E (67) esp_image: image at 0x{offset:x} segment count {n} exceeds max 16")
        }
        Fault::SegmentLength(len) => format!("E (67) esp_image: invalid segment length 0x{len:x}"),
        Fault::Truncated => format!("E (67) esp_image: image at 0x{offset:x} has invalid magic byte (nothing flashed here?)"),
        Fault::Checksum { computed, stored } => {
            format!("E (70) esp_image: Checksum failed. Calculated 0x{computed:x} read 0x{stored:x}")
        }
        Fault::Hash => "E (71) esp_image: Image hash failed - image is corrupt".into(),
        Fault::TooBig { len, room } => {
            format!("E (70) esp_image: Image length {len} doesn't fit in partition length {room}")
        }
    };
    format!("{line}\r\nE (75) boot: Factory app partition is not bootable\r\n{NO_APP}")
}

const NO_APP: &str = "E (79) boot: No bootable app partitions in the partition table\r\n";

/// Flash size from a header's size nibble (ESP32 family codes).
fn header_flash_size(size_freq: u8) -> u32 {
    (1u32 << 20) << (size_freq >> 4).min(7)
}

/// Boots from `flash` on a chip of `revision` (major × 100 + minor).
pub fn from_flash(spec: &ChipSpec, flash: &[u8], revision: u32) -> Boot {
    let chip = spec.chip;
    let mut log = rom_greeting(chip);
    let fail = |log: String| Boot {
        log,
        firmware: Firmware::Invalid,
        fs: None,
    };
    let at = spec.bootloader_offset as usize;
    let bootloader = match check(flash.get(at..).unwrap_or(&[]), spec, revision, false, 0) {
        Ok(image) => image,
        Err(fault) => return fail(log + &rom_refusal(chip, &fault)),
    };
    log.push_str(&rom_loads(chip, &bootloader));
    let table_at = TABLE_OFFSET as usize;
    let table = match partition::parse(flash.get(table_at..).unwrap_or(&[])) {
        Ok(table) => table,
        Err(e) => {
            return fail(log
                + &format!(
                    "E (62) flash_parts: {e}\r\nE (66) boot: Failed to verify partition table\r\nE (71) boot: load partition table error!\r\n"
                ))
        }
    };
    let Some(app) = table.boot_app().cloned() else {
        return fail(log + NO_APP);
    };
    let app_bytes = flash
        .get(app.offset as usize..app.end().min(flash.len() as u32) as usize)
        .unwrap_or(&[]);
    if let Err(fault) = check(app_bytes, spec, revision, true, app.size as usize) {
        return fail(log + &app_refusal(app.offset, &fault));
    }
    // ESP-IDF's flash driver refuses a header that promises more flash than the chip has,
    // and the app aborts (then the chip resets, and again).
    let declared = header_flash_size(bootloader.size_freq);
    if declared > flash.len() as u32 {
        return fail(log + &format!(
            "E (103) spi_flash: Detected size({}k) smaller than the size in the binary image header({}k). Probe failed.\r\nassert failed: do_core_init startup.c:328 (flash_ret == ESP_OK)\r\n",
            flash.len() / 1024,
            declared / 1024
        ));
    }
    let firmware = identify_app(app_bytes);
    if firmware == Firmware::Other {
        // Other ESP-IDF projects usually keep the default log level, INFO.
        log.push_str("I (29) boot: ESP-IDF v5.2.2 2nd stage bootloader\r\n");
        log.push_str(
            "I (312) cpu_start: Starting scheduler.\r\nI (325) main_task: Calling app_main()\r\n",
        );
    }
    let fs = table
        .micropython_fs(flash.len() as u32)
        .map(|(o, l)| (o as usize, l as usize));
    Boot { log, firmware, fs }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::micropython::firmware::micropython_image;

    const REV: u32 = 300;

    fn flash(chip: Chip) -> Vec<u8> {
        let mut flash = vec![0xFF; 4 << 20];
        for (at, bytes) in micropython_image(chip.spec()) {
            flash[at..at + bytes.len()].copy_from_slice(&bytes);
        }
        flash
    }

    fn boot(flash: &[u8]) -> Boot {
        from_flash(Chip::Esp32.spec(), flash, REV)
    }

    /// Where the app image's checksum byte is (after its one segment).
    fn app_checksum_at(flash: &[u8]) -> usize {
        let len = u32::from_le_bytes(flash[0x10000 + 28..0x10000 + 32].try_into().unwrap());
        0x10000 + ((24 + 8 + len as usize) | 0xF)
    }

    #[test]
    fn a_good_image_boots_with_the_roms_load_lines() {
        let b = boot(&flash(Chip::Esp32));
        assert!(matches!(b.firmware, Firmware::MicroPython { .. }));
        assert!(
            b.log.contains("configsip: 0, SPIWP:0xee\r\nclk_drv:0x00"),
            "{}",
            b.log
        );
        assert!(
            b.log.contains(
                "mode:DIO, clock div:2\r\nload:0x3fff0030,len:32\r\nentry 0x40080000\r\n"
            ),
            "{}",
            b.log
        );
        assert_eq!(
            b.fs,
            Some((0x20_0000, 0x20_0000)),
            "the filesystem after the factory app"
        );
        let c3 = from_flash(Chip::Esp32C3.spec(), &flash(Chip::Esp32C3), 4);
        assert!(
            c3.log
                .contains("boot:0xc (SPI_FAST_FLASH_BOOT)\r\nSPIWP:0xee\r\n"),
            "{}",
            c3.log
        );
        assert!(
            c3.log.contains("load:0x3fff0030,len:0x20\r\n"),
            "{}",
            c3.log
        );
    }

    #[test]
    fn the_rom_refuses_a_bad_bootloader() {
        let mut f = flash(Chip::Esp32);
        f[0x1000] = 0xFF;
        let b = boot(&f);
        assert_eq!(b.firmware, Firmware::Invalid);
        assert!(
            b.log.ends_with("invalid header: 0x200201ff\r\n"),
            "{}",
            b.log
        );
        let mut f = flash(Chip::Esp32C3);
        f[12] = 9; // an S3's bootloader
        let b = from_flash(Chip::Esp32C3.spec(), &f, 4);
        assert!(
            b.log
                .contains("Invalid chip id. Expected 5 read 9. Bootloader for wrong chip?"),
            "{}",
            b.log
        );
        let mut f = flash(Chip::Esp32C3);
        f[24 + 8] ^= 1; // a byte of the bootloader's segment
        let b = from_flash(Chip::Esp32C3.spec(), &f, 4);
        assert!(
            b.log.contains("Checksum failure. Calculated 0x"),
            "{}",
            b.log
        );
    }

    #[test]
    fn the_second_stage_refuses_a_bad_app_with_its_own_words() {
        let good = flash(Chip::Esp32);
        let refused = |f: &[u8], line: &str| {
            let b = boot(f);
            assert_eq!(b.firmware, Firmware::Invalid, "{}", b.log);
            assert!(b.log.contains(line), "{line:?} in {}", b.log);
            assert!(b.log.ends_with(NO_APP), "{}", b.log);
        };
        let mut f = good.clone();
        f[0x10000] = 0xFF;
        refused(
            &f,
            "E (67) esp_image: image at 0x10000 has invalid magic byte (nothing flashed here?)",
        );
        let mut f = good.clone();
        f[0x10000 + 12] = 5;
        refused(
            &f,
            "E (67) boot_comm: mismatch chip ID, expected 0, found 5",
        );
        let mut f = good.clone();
        f[0x10000 + 15] = 0x2D; // min v3.01
        f[0x10000 + 16] = 0x01;
        refused(
            &f,
            "E (67) boot_comm: Image requires chip rev >= v3.1, but chip is v3.0",
        );
        let mut f = good.clone();
        f[0x10000 + 1] = 17;
        refused(
            &f,
            "E (67) esp_image: image at 0x10000 segment count 17 exceeds max 16",
        );
        let mut f = good.clone();
        let at = app_checksum_at(&f);
        f[at] ^= 0x55;
        refused(&f, "E (70) esp_image: Checksum failed. Calculated 0x");
        let mut f = good.clone();
        f[at + 1] ^= 1; // the appended SHA-256
        refused(&f, "E (71) esp_image: Image hash failed - image is corrupt");
    }

    #[test]
    fn the_partition_table_decides_where_the_app_is() {
        let mut f = flash(Chip::Esp32);
        f[0x8000..0x8C00].fill(0xFF);
        let b = boot(&f);
        assert_eq!(b.firmware, Firmware::Invalid);
        assert!(
            b.log.ends_with(&format!("entry 0x40080000\r\n{NO_APP}")),
            "{}",
            b.log
        );
        let mut f = flash(Chip::Esp32);
        f[0x8000] = 0xAB;
        let b = boot(&f);
        assert!(b.log.contains("E (62) flash_parts: partition 0 invalid magic number 0x50ab\r\nE (66) boot: Failed to verify partition table\r\nE (71) boot: load partition table error!\r\n"), "{}", b.log);
    }

    #[test]
    fn a_header_promising_more_flash_than_the_chip_has_crashes_the_app() {
        let mut f = flash(Chip::Esp32);
        // The bootloader's header says 8 MB on a 4 MB chip (its checksum does not cover it).
        f[0x1000 + 3] = 0x30;
        let b = boot(&f);
        assert_eq!(b.firmware, Firmware::Invalid);
        assert!(b.log.contains("E (103) spi_flash: Detected size(4096k) smaller than the size in the binary image header(8192k). Probe failed."), "{}", b.log);
    }
}
