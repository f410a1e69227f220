//! Why a flash plan was refused. Every message says what is wrong *and* what to do, in words
//! a student understands: "Failed" teaches nothing, "use the ESP32-C3 build" fixes the board.

use super::role::{chips_booting_at, APP_OFFSET};
use super::sniff::FileKind;
use crate::i18n::t;
use crate::protocol::chip::{format_size, Chip};
use crate::protocol::image::ImageError;

/// The chip an image was built for, as far as its header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageChip {
    Known(Chip),
    /// A chip id this table does not know (a newer chip, or a beta part).
    Unknown(u16),
}

impl core::fmt::Display for ImageChip {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ImageChip::Known(c) => write!(f, "{c}"),
            ImageChip::Unknown(id) => f.write_str(&crate::tf!(
                "a chip this page does not know (chip id {id})",
                id = id
            )),
        }
    }
}

/// One reason not to write. Checks marked *overridable* can be bypassed by the expert
/// override; the others protect the flash itself and never can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NoParts,
    EmptyPart {
        name: String,
    },
    /// Offsets must be 4 KiB aligned: flash erases whole sectors, so a part starting mid-sector
    /// would wipe the bytes before it in that sector.
    Misaligned {
        name: String,
        offset: u32,
        suggestion: u32,
    },
    TooLarge {
        name: String,
        offset: u32,
        len: usize,
        flash_size: u32,
    },
    /// HTML, UF2, ELF, ZIP, gzip, Intel HEX, JSON: never raw flash contents.
    NotFirmware {
        name: String,
        kind: FileKind,
        chip: Chip,
    },
    /// Starts like an ESP image but does not verify (truncated, bad checksum or digest).
    DamagedImage {
        name: String,
        error: ImageError,
    },
    Overlap {
        first: String,
        first_range: (u32, u64),
        second: String,
        second_range: (u32, u64),
    },
    /// Overridable.
    WrongChip {
        name: String,
        image: ImageChip,
        board: Chip,
    },
    /// Overridable. `max` is `None` when the image sets no upper limit.
    Revision {
        name: String,
        chip: Chip,
        revision: u16,
        min: u16,
        max: Option<u16>,
    },
    /// Overridable: a bootloader or merged image away from the chip's bootloader offset.
    BootImageOffset {
        name: String,
        offset: u32,
        chip: Chip,
    },
    /// Overridable: an application image outside an app partition (e.g. at the bootloader offset).
    AppImageOffset {
        name: String,
        offset: u32,
    },
    /// Overridable: raw data where the ROM expects its bootloader.
    NotBootable {
        name: String,
        offset: u32,
        chip: Chip,
        first_byte: u8,
    },
}

impl Refusal {
    /// Whether the expert override may bypass this check (chip, revision and offset checks:
    /// things an expert may know better). Size, overlap, alignment and content never.
    pub fn overridable(&self) -> bool {
        matches!(
            self,
            Refusal::WrongChip { .. }
                | Refusal::Revision { .. }
                | Refusal::BootImageOffset { .. }
                | Refusal::AppImageOffset { .. }
                | Refusal::NotBootable { .. }
        )
    }
}

fn rev(r: u16) -> String {
    format!("v{}.{}", r / 100, r % 100)
}

fn not_firmware(
    f: &mut core::fmt::Formatter<'_>,
    name: &str,
    kind: FileKind,
    chip: Chip,
) -> core::fmt::Result {
    let text = match kind {
        FileKind::Html => crate::tf!("\"{name}\" is a web page (HTML), not firmware: the link pointed at a web page (often a \"404 Not Found\" page or the download page itself) instead of the .bin file. Go back to the download page and use the direct link to the .bin file (on GitHub: the release asset or the \"Raw\" link).", name = name),
        FileKind::Uf2 => crate::tf!("\"{name}\" is a UF2 file, not firmware: UF2 files are for boards that show up as a USB drive (e.g. Raspberry Pi Pico), not for ESP chips. Download the .bin firmware for {chip} instead.", name = name, chip = chip),
        FileKind::Elf => crate::tf!("\"{name}\" is an ELF file, not firmware: an ELF file is the compiler's output with debug information, not what goes into flash. Use the .bin file from the same build folder instead.", name = name),
        FileKind::Zip => crate::tf!("\"{name}\" is a ZIP archive, not firmware: unzip it first, then choose the .bin file inside.", name = name),
        FileKind::Gzip => crate::tf!("\"{name}\" is a gzip-compressed file, not firmware: decompress it first, then choose the .bin file inside.", name = name),
        FileKind::IntelHex => crate::tf!("\"{name}\" is an Intel HEX text file, not firmware: that text format is for other flashers; {chip} boards need the binary .bin file. Download the .bin instead.", name = name, chip = chip),
        FileKind::Json => crate::tf!("\"{name}\" is a JSON text file, not firmware: if it is an ESP Web Tools manifest, load it as a manifest (paste its address into Firmware URL) instead of choosing it as the firmware file.", name = name),
        FileKind::Empty => crate::tf!("\"{name}\" is an empty file, not firmware: the download probably failed: download it again.", name = name),
        FileKind::EspImage => crate::tf!("\"{name}\" is an ESP firmware image, not firmware: choose the firmware .bin file.", name = name),
        FileKind::Unknown => crate::tf!("\"{name}\" is a file of unknown type, not firmware: choose the firmware .bin file.", name = name),
    };
    f.write_str(&text)
}

/// `n` as `0x…` (lower-case hex), for messages.
fn hex(n: impl core::fmt::LowerHex) -> String {
    format!("{n:#x}")
}

impl core::fmt::Display for Refusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Refusal::NoParts => f.write_str(t("There is nothing to flash yet: choose a firmware file, a firmware URL or a manifest first.")),
            Refusal::EmptyPart { name } => f.write_str(&crate::tf!("\"{name}\" is empty (0 bytes): the download probably failed. Download it again or check the link.", name = name)),
            Refusal::Misaligned { name, offset, suggestion } => f.write_str(&crate::tf!("\"{name}\" is set to start at {offset}, which is not a multiple of 0x1000 (4 KB). Flash is erased in 4 KB blocks, so writing there would wipe the bytes just before it. Check the offset: it should probably be {suggestion}.", name = name, offset = hex(*offset), suggestion = hex(*suggestion))),
            Refusal::TooLarge { name, offset, len, flash_size } => {
                let size = format_size(*flash_size);
                if *offset >= *flash_size {
                    f.write_str(&crate::tf!("\"{name}\" is set to start at {offset}, but this board has only {size} of flash (it ends at {end}). Check the offset.", name = name, offset = hex(*offset), size = size, end = hex(*flash_size)))
                } else {
                    let end = *offset as u64 + *len as u64;
                    f.write_str(&crate::tf!("\"{name}\" is {len} bytes and would end at {end}, past the end of this board's {size} flash ({flash_end}). Download the build made for boards with {size} of flash (or less), and check that you chose the right board.", name = name, len = crate::i18n::number(*len as u64), end = hex(end), size = size, flash_end = hex(*flash_size)))
                }
            }
            Refusal::NotFirmware { name, kind, chip } => not_firmware(f, name, *kind, *chip),
            Refusal::DamagedImage { name, error } => f.write_str(&crate::tf!("\"{name}\" looks like ESP firmware but is damaged ({error}). The download was probably interrupted or changed on the way: download it again.", name = name, error = error)),
            Refusal::Overlap { first, first_range, second, second_range } => f.write_str(&crate::tf!("\"{first}\" ({first_start} to {first_end}) and \"{second}\" ({second_start} to {second_end}) overlap, so one would overwrite the other. Check their offsets: each part needs its own region of flash.", first = first, first_start = hex(first_range.0), first_end = hex(first_range.1), second = second, second_start = hex(second_range.0), second_end = hex(second_range.1))),
            Refusal::WrongChip { name, image, board } => f.write_str(&crate::tf!("\"{name}\" is firmware for {image}, but the connected board is an {board}. Download the firmware made for {board} (on micropython.org, choose a board whose page says {board}).", name = name, image = image, board = board)),
            Refusal::Revision { name, chip, revision, min, max } => {
                let text = match max {
                    None => crate::tf!("\"{name}\" runs only on {chip} chip revision {min} or newer, but this chip is revision {revision}. Use a firmware build that supports revision {revision} (usually the generic build for {chip}).", name = name, chip = chip, min = rev(*min), revision = rev(*revision)),
                    Some(max) if *min == 0 => crate::tf!("\"{name}\" runs only on {chip} chip revision {max} or older, but this chip is revision {revision}. Use a firmware build that supports revision {revision} (usually the generic build for {chip}).", name = name, chip = chip, max = rev(*max), revision = rev(*revision)),
                    Some(max) => crate::tf!("\"{name}\" runs only on {chip} chip revision between {min} and {max}, but this chip is revision {revision}. Use a firmware build that supports revision {revision} (usually the generic build for {chip}).", name = name, chip = chip, min = rev(*min), max = rev(*max), revision = rev(*revision)),
                };
                f.write_str(&text)
            }
            Refusal::BootImageOffset { name, offset, chip } => {
                let expected = hex(chip.spec().bootloader_offset);
                f.write_str(&crate::tf!("\"{name}\" is a complete firmware image (it starts with a bootloader), which an {chip} starts from {expected}, but it is set to {offset}: the board would not boot. Set the offset to {expected}.", name = name, chip = chip, expected = expected, offset = hex(*offset)))?;
                let others: Vec<String> =
                    chips_booting_at(*offset).iter().map(|c| c.to_string()).collect();
                if !others.is_empty() {
                    f.write_str(" ")?;
                    f.write_str(&crate::tf!("({offset} is right for {chips}, not for {chip}.)", offset = hex(*offset), chips = others.join(", "), chip = chip))?;
                }
                Ok(())
            }
            Refusal::AppImageOffset { name, offset } => f.write_str(&crate::tf!("\"{name}\" is an application image without a bootloader; it belongs in an app partition, normally at {app}, but it is set to {offset}: the board would not boot. Set the offset to {app} (with the bootloader and partition table already on the board), or use the complete firmware file instead.", name = name, app = hex(APP_OFFSET), offset = hex(*offset))),
            Refusal::NotBootable { name, offset, chip, first_byte } => f.write_str(&crate::tf!("\"{name}\" would go at {offset}, where the {chip} looks for its bootloader, but it is not an ESP firmware image (it starts with {byte}, not 0xE9): the board would not boot. Check that you chose the firmware .bin file, not a data or file-system image.", name = name, offset = hex(*offset), chip = chip, byte = format!("{first_byte:#04x}"))),
        }
    }
}

impl std::error::Error for Refusal {}
