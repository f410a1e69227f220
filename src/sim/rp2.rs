//! A Raspberry Pi RP2040 or RP2350 in BOOTSEL mode, as its boot ROM treats what the host writes
//! to the USB drive it shows (`boards.md` §2.5, §2.6, §5.3): any written sector that is a UF2
//! block for a family it takes, a 256-byte page at a page-aligned flash address, counts, others
//! are ignored silently (FAT and directory writes included; the RP2040 resets the transfer on a
//! block number past the count or a changed count, the RP2350 on a changed count or family).
//! Once every block of the transfer is in, the chip reboots after 1 s (RP2040) or 500 ms
//! (RP2350), and boots the flash only if it holds a bootable image: on the RP2040 a second-stage
//! boot loader whose CRC-32/MPEG-2 over bytes 0..252 matches the word at 252, on the RP2350 an
//! image block (its start and end markers in the first 4 KB). Otherwise it stays in BOOTSEL.
//!
//! This is the ROM's own logic, written apart from the page's UF2 checks ([`crate::boards`]).

use std::time::Duration;

use crate::boards::rp2::{Rp2Chip, FLASH_BASE};

const BLOCK: usize = 512;
const FAMILY_RP2040: u32 = 0xE48B_FF56;
const FAMILY_ABSOLUTE: u32 = 0xE48B_FF57;
const FAMILY_RP2350_ARM_S: u32 = 0xE48B_FF59;
const FAMILY_RP2350_RISCV: u32 = 0xE48B_FF5A;
/// RP2350 image block markers (`PICOBIN_BLOCK_MARKER_START`/`_END`).
pub const PICOBIN_START: u32 = 0xFFFF_DED3;
pub const PICOBIN_END: u32 = 0xAB12_3579;

/// What a written sector did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Not a block the ROM takes (other data, another family, a bad page).
    Ignored,
    /// A block of the transfer, programmed into flash.
    Taken,
    /// The last block of the transfer: the chip reboots after [`Bootsel::reboot_delay`].
    Complete,
}

/// What the chip does after its reboot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterReboot {
    /// Runs the image in flash.
    RunsFlash,
    /// No bootable image: back in BOOTSEL (the drive appears again).
    StaysInBootsel,
}

struct Transfer {
    family: u32,
    count: u32,
    seen: Vec<bool>,
    left: u32,
}

/// The chip's ROM in BOOTSEL mode, and its flash.
pub struct Bootsel {
    chip: Rp2Chip,
    flash: Vec<u8>,
    transfer: Option<Transfer>,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// CRC-32/MPEG-2: polynomial 0x04C11DB7, initial 0xFFFFFFFF, not reflected, no final XOR.
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= (byte as u32) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                crc << 1 ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

impl Bootsel {
    /// A chip with `flash_size` bytes of flash holding `contents` (the rest erased).
    pub fn new(chip: Rp2Chip, flash_size: usize, contents: &[u8]) -> Bootsel {
        let mut flash = vec![0xFF; flash_size];
        let n = contents.len().min(flash_size);
        flash[..n].copy_from_slice(&contents[..n]);
        Bootsel {
            chip,
            flash,
            transfer: None,
        }
    }

    pub fn chip(&self) -> Rp2Chip {
        self.chip
    }

    pub fn flash(&self) -> &[u8] {
        &self.flash
    }

    /// The flash, for the PICOBOOT interface ([`crate::sim::picoboot`]), which shares it.
    pub fn flash_mut(&mut self) -> &mut [u8] {
        &mut self.flash
    }

    /// The drive's volume label.
    pub fn volume_label(&self) -> &'static str {
        match self.chip {
            Rp2Chip::Rp2040 => "RPI-RP2",
            Rp2Chip::Rp2350 => "RP2350",
        }
    }

    /// `INFO_UF2.TXT` as the ROM serves it.
    pub fn info_uf2(&self) -> &'static str {
        match self.chip {
            Rp2Chip::Rp2040 => {
                "UF2 Bootloader v3.0\r\nModel: Raspberry Pi RP2\r\nBoard-ID: RPI-RP2\r\n"
            }
            Rp2Chip::Rp2350 => {
                "UF2 Bootloader v1.0\r\nModel: Raspberry Pi RP2350\r\nBoard-ID: RP2350\r\n"
            }
        }
    }

    /// `INDEX.HTM`: a redirect to Raspberry Pi's page for the chip.
    pub fn index_htm(&self) -> &'static str {
        "<html><head><meta http-equiv=\"refresh\" content=\"0;URL='https://raspberrypi.com/device/RP2?version=E0C9125B0D9B'\"/></head><body>Redirecting to <a href='https://raspberrypi.com/device/RP2?version=E0C9125B0D9B'>raspberrypi.com</a></body></html>"
    }

    /// How long after the last block the chip reboots.
    pub fn reboot_delay(&self) -> Duration {
        match self.chip {
            Rp2Chip::Rp2040 => Duration::from_millis(1000),
            Rp2Chip::Rp2350 => Duration::from_millis(500),
        }
    }

    fn accepts(&self, family: u32) -> bool {
        match self.chip {
            Rp2Chip::Rp2040 => family == FAMILY_RP2040,
            Rp2Chip::Rp2350 => matches!(
                family,
                FAMILY_ABSOLUTE | FAMILY_RP2350_ARM_S | FAMILY_RP2350_RISCV
            ),
        }
    }

    /// A 512-byte sector the host wrote to the drive.
    pub fn write_sector(&mut self, sector: &[u8]) -> Written {
        if sector.len() != BLOCK
            || u32_at(sector, 0) != 0x0A32_4655
            || u32_at(sector, 4) != 0x9E5D_5157
            || u32_at(sector, 508) != 0x0AB1_6F30
        {
            return Written::Ignored;
        }
        let flags = u32_at(sector, 8);
        let (target, size) = (u32_at(sector, 12), u32_at(sector, 16));
        let (block_no, count, family) =
            (u32_at(sector, 20), u32_at(sector, 24), u32_at(sector, 28));
        if flags & 0x2000 == 0 || flags & 0x1 != 0 || size != 256 || !self.accepts(family) {
            return Written::Ignored;
        }
        // RP2350-E10's leading absolute block is marked to be ignored by the ROM itself.
        if self.chip == Rp2Chip::Rp2350 && target == 0x10FF_FF00 && flags & 0x8000 != 0 {
            return Written::Ignored;
        }
        let at = target.wrapping_sub(FLASH_BASE) as usize;
        if target % 256 != 0 || target < FLASH_BASE || at + 256 > self.flash.len() || count == 0 {
            if self.chip == Rp2Chip::Rp2040 {
                self.transfer = None;
            }
            return Written::Ignored;
        }
        let restart = match &self.transfer {
            None => true,
            Some(t) => t.count != count || (self.chip == Rp2Chip::Rp2350 && t.family != family),
        };
        if restart {
            self.transfer = Some(Transfer {
                family,
                count,
                seen: vec![false; count as usize],
                left: count,
            });
        }
        let t = self.transfer.as_mut().unwrap();
        let Some(seen) = t.seen.get_mut(block_no as usize) else {
            if self.chip == Rp2Chip::Rp2040 {
                self.transfer = None;
            }
            return Written::Ignored;
        };
        // The ROM erases a 4 KB sector the first time the transfer touches it, then programs.
        self.flash[at..at + 256].copy_from_slice(&sector[32..32 + 256]);
        if !*seen {
            *seen = true;
            t.left -= 1;
        }
        if t.left == 0 {
            self.transfer = None;
            Written::Complete
        } else {
            Written::Taken
        }
    }

    /// What the chip does when it reboots now.
    pub fn after_reboot(&self) -> AfterReboot {
        let bootable = match self.chip {
            Rp2Chip::Rp2040 => crc32_mpeg2(&self.flash[..252]) == u32_at(&self.flash, 252),
            Rp2Chip::Rp2350 => {
                let head = &self.flash[..4096];
                let words: Vec<u32> = head.chunks_exact(4).map(|w| u32_at(w, 0)).collect();
                words
                    .iter()
                    .position(|&w| w == PICOBIN_START)
                    .is_some_and(|s| words[s..].contains(&PICOBIN_END))
            }
        };
        if bootable {
            AfterReboot::RunsFlash
        } else {
            AfterReboot::StaysInBootsel
        }
    }

    /// The MicroPython banner in the flash (`MicroPython v1.24.1 on 2024-11-29; …`), if any.
    pub fn micropython_banner(&self) -> Option<String> {
        const NEEDLE: &[u8] = b"MicroPython v";
        let at = self.flash.windows(NEEDLE.len()).position(|w| w == NEEDLE)?;
        let end = self.flash[at..]
            .iter()
            .position(|&b| b == 0 || b == b'\r' || b == b'\n')
            .map_or(self.flash.len(), |n| at + n);
        Some(String::from_utf8_lossy(&self.flash[at..end.min(at + 120)]).into_owned())
    }
}

/// A flash image the chip boots, with `banner` in it (for tests and the demo Pico).
pub fn bootable_image(chip: Rp2Chip, banner: &str, len: usize) -> Vec<u8> {
    let mut image = vec![0u8; len.max(4096)];
    for (i, b) in image.iter_mut().enumerate().skip(256) {
        *b = (i * 31 % 253) as u8;
    }
    match chip {
        Rp2Chip::Rp2040 => {
            let crc = crc32_mpeg2(&image[..252]);
            image[252..256].copy_from_slice(&crc.to_le_bytes());
        }
        Rp2Chip::Rp2350 => {
            image[0x100..0x104].copy_from_slice(&PICOBIN_START.to_le_bytes());
            image[0x110..0x114].copy_from_slice(&PICOBIN_END.to_le_bytes());
        }
    }
    let at = 0x200;
    image[at..at + banner.len()].copy_from_slice(banner.as_bytes());
    image[at + banner.len()] = 0;
    image
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boards::uf2::{build, family};

    const PICO: &str = "MicroPython v1.24.1 on 2024-11-29; Raspberry Pi Pico with RP2040";

    fn write_all(b: &mut Bootsel, file: &[u8]) -> Vec<Written> {
        file.chunks(BLOCK).map(|s| b.write_sector(s)).collect()
    }

    #[test]
    fn crc_is_mpeg2() {
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_E6E7);
    }

    #[test]
    fn a_pico_takes_its_uf2_and_boots_it() {
        let mut b = Bootsel::new(Rp2Chip::Rp2040, 2 << 20, &[]);
        assert_eq!(b.after_reboot(), AfterReboot::StaysInBootsel, "blank flash");
        let image = bootable_image(Rp2Chip::Rp2040, PICO, 8192);
        let file = build(&image, FLASH_BASE, family::RP2040);
        // The OS writes other sectors too (FAT, directory): ignored.
        assert_eq!(b.write_sector(&[0u8; 512]), Written::Ignored);
        let written = write_all(&mut b, &file);
        assert_eq!(written.last(), Some(&Written::Complete));
        assert!(written[..written.len() - 1]
            .iter()
            .all(|w| *w == Written::Taken));
        assert_eq!(&b.flash()[..image.len()], &image[..]);
        assert_eq!(b.after_reboot(), AfterReboot::RunsFlash);
        assert_eq!(b.micropython_banner().as_deref(), Some(PICO));
        assert_eq!(b.reboot_delay(), Duration::from_millis(1000));
    }

    #[test]
    fn the_other_chips_files_are_ignored_silently() {
        let image = bootable_image(Rp2Chip::Rp2350, PICO, 4096);
        let mut pico = Bootsel::new(Rp2Chip::Rp2040, 2 << 20, &[]);
        let file = build(&image, FLASH_BASE, family::RP2350_ARM_S);
        assert!(write_all(&mut pico, &file)
            .iter()
            .all(|w| *w == Written::Ignored));
        assert!(pico.flash().iter().all(|&x| x == 0xFF), "nothing written");
        let mut pico2 = Bootsel::new(Rp2Chip::Rp2350, 4 << 20, &[]);
        let rp2040_file = build(&image, FLASH_BASE, family::RP2040);
        assert!(write_all(&mut pico2, &rp2040_file)
            .iter()
            .all(|w| *w == Written::Ignored));
        assert_eq!(
            write_all(&mut pico2, &file).last(),
            Some(&Written::Complete)
        );
        assert_eq!(pico2.after_reboot(), AfterReboot::RunsFlash);
        assert_eq!(pico2.reboot_delay(), Duration::from_millis(500));
    }

    #[test]
    fn a_broken_boot2_stays_in_bootsel() {
        let mut image = bootable_image(Rp2Chip::Rp2040, PICO, 4096);
        image[10] ^= 1;
        let mut b = Bootsel::new(Rp2Chip::Rp2040, 2 << 20, &[]);
        write_all(&mut b, &build(&image, FLASH_BASE, family::RP2040));
        assert_eq!(b.after_reboot(), AfterReboot::StaysInBootsel);
    }

    #[test]
    fn an_incomplete_transfer_never_reboots() {
        let image = bootable_image(Rp2Chip::Rp2040, PICO, 4096);
        let file = build(&image, FLASH_BASE, family::RP2040);
        let mut b = Bootsel::new(Rp2Chip::Rp2040, 2 << 20, &[]);
        let written = write_all(&mut b, &file[..file.len() - BLOCK]);
        assert!(!written.contains(&Written::Complete));
    }
}
