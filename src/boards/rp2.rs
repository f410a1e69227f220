//! Raspberry Pi's RP2040 and RP2350 (Pico, Pico 2): what their BOOTSEL drive says about itself
//! (`INFO_UF2.TXT`), and whether a UF2 file is one their boot ROM writes (`boards.md` §2.5–2.7).
//! Pure: the page reads the drive and the file; this decides, before anything is written.

use super::uf2::{self, family, Uf2};
use crate::i18n::{number, t};

/// Where the flash appears in the address space (XIP).
pub const FLASH_BASE: u32 = 0x1000_0000;
/// The XIP window: 16 MiB.
pub const FLASH_WINDOW: u32 = 16 << 20;

/// Which chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rp2Chip {
    Rp2040,
    Rp2350,
}

impl Rp2Chip {
    pub fn name(self) -> &'static str {
        match self {
            Rp2Chip::Rp2040 => "RP2040 (Raspberry Pi Pico)",
            Rp2Chip::Rp2350 => "RP2350 (Raspberry Pi Pico 2)",
        }
    }

    /// The families its boot ROM writes to flash from the drive (RP2350 without a partition
    /// table, as it comes: `varm_nsboot.c`).
    pub fn accepts(self, id: u32) -> bool {
        match self {
            Rp2Chip::Rp2040 => id == family::RP2040,
            Rp2Chip::Rp2350 => matches!(
                id,
                family::RP2XXX_ABSOLUTE | family::RP2350_ARM_S | family::RP2350_RISCV
            ),
        }
    }

    /// From the MCU name MicroPython reports (`… with RP2040`).
    pub fn from_mcu(mcu: &str) -> Option<Rp2Chip> {
        let m = mcu.to_ascii_uppercase();
        if m.contains("RP2040") {
            Some(Rp2Chip::Rp2040)
        } else if m.contains("RP2350") {
            Some(Rp2Chip::Rp2350)
        } else {
            None
        }
    }
}

/// `INFO_UF2.TXT` of a UF2 drive: its `Model:` and `Board-ID:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveInfo {
    pub model: String,
    pub board_id: String,
}

impl DriveInfo {
    pub fn parse(text: &str) -> Option<DriveInfo> {
        let field = |name: &str| {
            text.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().to_string())
            })
        };
        Some(DriveInfo {
            model: field("Model").unwrap_or_default(),
            board_id: field("Board-ID")?,
        })
    }

    /// The RP2 chip whose BOOTSEL drive this is (Board-ID `RPI-RP2…` or `RP2350`).
    pub fn rp2(&self) -> Option<Rp2Chip> {
        let id = self.board_id.to_ascii_uppercase();
        if id.starts_with("RPI-RP2") {
            Some(Rp2Chip::Rp2040)
        } else if id.starts_with("RP2350") {
            Some(Rp2Chip::Rp2350)
        } else {
            None
        }
    }
}

/// Why a UF2 file will not be written to this chip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Damaged(uf2::Uf2Error),
    /// No blocks this chip's ROM takes; `families` are what the file is for.
    WrongFamily {
        chip: Rp2Chip,
        families: Vec<Option<u32>>,
    },
    /// Blocks the ROM would ignore: not 256-byte pages at 256-byte-aligned addresses.
    NotPages,
    /// Blocks outside the flash the board has.
    OutsideFlash {
        start: u32,
        end: u32,
        flash_size: u32,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Damaged(e) => e.fmt(f),
            Refusal::WrongFamily { chip, families } => {
                let names: Vec<&str> = families
                    .iter()
                    .map(|id| id.and_then(family::name).unwrap_or(t("an unknown board")))
                    .collect();
                let boards = names
                    .iter()
                    .skip(1)
                    .fold(names.first().copied().unwrap_or_default().to_string(), |list, next| {
                        crate::tf!("{list} and {next}", list = list, next = next)
                    });
                f.write_str(&crate::tf!("This UF2 is for {boards}, but the board is an {chip}: its bootloader would ignore it. Download the .uf2 made for your board.", boards = boards, chip = chip.name()))
            }
            Refusal::NotPages => f.write_str(t("This UF2's blocks are not the 256-byte pages the Pico's bootloader writes: it would ignore them. Use the .uf2 from the MicroPython download page.")),
            Refusal::OutsideFlash { start, end, flash_size } => f.write_str(&crate::tf!("This UF2 writes {start}–{end}, outside the board's {size} MB of flash. Download the .uf2 made for your board.", start = format!("0x{start:08x}"), end = format!("0x{end:08x}"), size = number((flash_size >> 20) as u64))),
        }
    }
}

/// What will be written, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    pub family: u32,
    pub blocks: usize,
    pub bytes: u64,
}

/// Checks a UF2 file for `chip` with `flash_size` bytes of flash (`None`: not known yet,
/// checked against the 16 MiB window).
pub fn check(bytes: &[u8], chip: Rp2Chip, flash_size: Option<u32>) -> Result<Install, Refusal> {
    let file: Uf2 = uf2::parse(bytes).map_err(Refusal::Damaged)?;
    let run = file
        .runs
        .iter()
        .find(|r| r.family.is_some_and(|f| chip.accepts(f)))
        .ok_or_else(|| Refusal::WrongFamily {
            chip,
            families: file.runs.iter().map(|r| r.family).collect(),
        })?;
    if !run.rp2_pages {
        return Err(Refusal::NotPages);
    }
    let size = flash_size.unwrap_or(FLASH_WINDOW);
    if run.start < FLASH_BASE || run.end > FLASH_BASE + size {
        return Err(Refusal::OutsideFlash {
            start: run.start,
            end: run.end,
            flash_size: size,
        });
    }
    Ok(Install {
        family: run.family.unwrap_or_default(),
        blocks: run.blocks,
        bytes: run.bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boards::uf2::build;

    #[test]
    fn the_drive_says_which_chip() {
        let rp2040 = DriveInfo::parse(
            "UF2 Bootloader v3.0\r\nModel: Raspberry Pi RP2\r\nBoard-ID: RPI-RP2\r\n",
        )
        .unwrap();
        assert_eq!(rp2040.rp2(), Some(Rp2Chip::Rp2040));
        assert_eq!(rp2040.model, "Raspberry Pi RP2");
        let rp2350 =
            DriveInfo::parse("UF2 Bootloader v1.0\nModel: Raspberry Pi RP2350\nBoard-ID: RP2350\n")
                .unwrap();
        assert_eq!(rp2350.rp2(), Some(Rp2Chip::Rp2350));
        let samd = DriveInfo::parse(
            "UF2 Bootloader v3.14\nModel: Adafruit Feather M0\nBoard-ID: SAMD21G18A-Feather-v0\n",
        )
        .unwrap();
        assert_eq!(samd.rp2(), None);
        assert_eq!(DriveInfo::parse("just a text file"), None);
    }

    #[test]
    fn each_chip_takes_only_its_families() {
        let pico = build(&[1; 4096], FLASH_BASE, family::RP2040);
        let pico2 = build(&[1; 4096], FLASH_BASE, family::RP2350_ARM_S);
        assert_eq!(
            check(&pico, Rp2Chip::Rp2040, Some(2 << 20)).unwrap().blocks,
            16
        );
        assert!(check(&pico2, Rp2Chip::Rp2350, Some(4 << 20)).is_ok());
        let wrong = check(&pico2, Rp2Chip::Rp2040, Some(2 << 20)).unwrap_err();
        assert_eq!(wrong.to_string(), "This UF2 is for RP2350 (Raspberry Pi Pico 2), but the board is an RP2040 (Raspberry Pi Pico): its bootloader would ignore it. Download the .uf2 made for your board.");
        let esp = build(&[1; 4096], 0, family::ESP32S3);
        assert!(matches!(
            check(&esp, Rp2Chip::Rp2040, None),
            Err(Refusal::WrongFamily { .. })
        ));
        assert!(
            check(&pico, Rp2Chip::Rp2350, None).is_err(),
            "the RP2350 ignores RP2040 files"
        );
    }

    #[test]
    fn blocks_must_fit_the_flash() {
        let big = build(&[1; 4096], FLASH_BASE + (2 << 20) - 1024, family::RP2040);
        assert!(matches!(
            check(&big, Rp2Chip::Rp2040, Some(2 << 20)),
            Err(Refusal::OutsideFlash { .. })
        ));
        let ram = build(&[1; 256], 0x2000_0000, family::RP2040);
        assert!(matches!(
            check(&ram, Rp2Chip::Rp2040, None),
            Err(Refusal::OutsideFlash { .. })
        ));
    }
}

/// The 256-byte flash pages a UF2 puts on `chip`, as the boot ROM takes them: blocks of a family
/// the chip accepts, not marked "ignore" or "not main flash", 256 bytes at a page-aligned
/// address. For a file [`check`] has passed.
pub fn pages(bytes: &[u8], chip: Rp2Chip) -> Vec<(u32, Vec<u8>)> {
    bytes
        .chunks_exact(uf2::BLOCK)
        .filter_map(uf2::block)
        .filter(|b| {
            b.family.is_some_and(|f| chip.accepts(f))
                && !b.ignore
                && b.flags & uf2::FLAG_NOT_MAIN_FLASH == 0
                && b.payload.len() == 256
                && b.target % 256 == 0
                && b.target >= FLASH_BASE
        })
        .map(|b| (b.target, b.payload.to_vec()))
        .collect()
}
