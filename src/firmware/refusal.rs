//! Why a flash plan was refused. Every message says what is wrong *and* what to do, in words
//! a student understands: "Failed" teaches nothing, "use the ESP32-C3 build" fixes the board.

use super::role::{chips_booting_at, APP_OFFSET};
use super::sniff::FileKind;
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
            ImageChip::Unknown(id) => write!(f, "a chip this page does not know (chip id {id})"),
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
    let what = kind.describe();
    let fix = match kind {
        FileKind::Html => "the link pointed at a web page (often a \"404 Not Found\" page or the download page itself) instead of the .bin file. Go back to the download page and use the direct link to the .bin file (on GitHub: the release asset or the \"Raw\" link)".to_string(),
        FileKind::Uf2 => format!("UF2 files are for boards that show up as a USB drive (e.g. Raspberry Pi Pico), not for ESP chips. Download the .bin firmware for {chip} instead"),
        FileKind::Elf => "an ELF file is the compiler's output with debug information, not what goes into flash. Use the .bin file from the same build folder instead".to_string(),
        FileKind::Zip => "unzip it first, then choose the .bin file inside".to_string(),
        FileKind::Gzip => "decompress it first, then choose the .bin file inside".to_string(),
        FileKind::IntelHex => format!("that text format is for other flashers; {chip} boards need the binary .bin file. Download the .bin instead"),
        FileKind::Json => "if it is an ESP Web Tools manifest, load it as a manifest (paste its address into Firmware URL) instead of choosing it as the firmware file".to_string(),
        FileKind::Empty => "the download probably failed: download it again".to_string(),
        FileKind::EspImage | FileKind::Unknown => "choose the firmware .bin file".to_string(),
    };
    write!(f, "\"{name}\" is {what}, not firmware: {fix}.")
}

impl core::fmt::Display for Refusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Refusal::NoParts => write!(
                f,
                "There is nothing to flash yet: choose a firmware file, a firmware URL or a manifest first."
            ),
            Refusal::EmptyPart { name } => write!(
                f,
                "\"{name}\" is empty (0 bytes): the download probably failed. Download it again or check the link."
            ),
            Refusal::Misaligned { name, offset, suggestion } => write!(
                f,
                "\"{name}\" is set to start at {offset:#x}, which is not a multiple of 0x1000 (4 KB). \
                 Flash is erased in 4 KB blocks, so writing there would wipe the bytes just before it. \
                 Check the offset: it should probably be {suggestion:#x}."
            ),
            Refusal::TooLarge { name, offset, len, flash_size } => {
                let size = format_size(*flash_size);
                if *offset >= *flash_size {
                    write!(
                        f,
                        "\"{name}\" is set to start at {offset:#x}, but this board has only {size} of flash \
                         (it ends at {flash_size:#x}). Check the offset."
                    )
                } else {
                    let end = *offset as u64 + *len as u64;
                    write!(
                        f,
                        "\"{name}\" is {len} bytes and would end at {end:#x}, past the end of this board's {size} flash \
                         ({flash_size:#x}). Download the build made for boards with {size} of flash (or less), \
                         and check that you chose the right board."
                    )
                }
            }
            Refusal::NotFirmware { name, kind, chip } => not_firmware(f, name, *kind, *chip),
            Refusal::DamagedImage { name, error } => write!(
                f,
                "\"{name}\" looks like ESP firmware but is damaged ({error}). The download was probably \
                 interrupted or changed on the way: download it again."
            ),
            Refusal::Overlap { first, first_range, second, second_range } => write!(
                f,
                "\"{first}\" ({:#x} to {:#x}) and \"{second}\" ({:#x} to {:#x}) overlap, so one would \
                 overwrite the other. Check their offsets: each part needs its own region of flash.",
                first_range.0, first_range.1, second_range.0, second_range.1
            ),
            Refusal::WrongChip { name, image, board } => write!(
                f,
                "\"{name}\" is firmware for {image}, but the connected board is an {board}. \
                 Download the firmware made for {board} (on micropython.org, choose a board whose page says {board})."
            ),
            Refusal::Revision { name, chip, revision, min, max } => {
                let need = match max {
                    None => format!("{} or newer", rev(*min)),
                    Some(max) if *min == 0 => format!("{} or older", rev(*max)),
                    Some(max) => format!("between {} and {}", rev(*min), rev(*max)),
                };
                write!(
                    f,
                    "\"{name}\" runs only on {chip} chip revision {need}, but this chip is revision {}. \
                     Use a firmware build that supports revision {} (usually the generic build for {chip}).",
                    rev(*revision),
                    rev(*revision)
                )
            }
            Refusal::BootImageOffset { name, offset, chip } => {
                let expected = chip.spec().bootloader_offset;
                write!(
                    f,
                    "\"{name}\" is a complete firmware image (it starts with a bootloader), which an {chip} \
                     starts from {expected:#x}, but it is set to {offset:#x}: the board would not boot. \
                     Set the offset to {expected:#x}."
                )?;
                let others: Vec<String> =
                    chips_booting_at(*offset).iter().map(|c| c.to_string()).collect();
                if !others.is_empty() {
                    write!(f, " ({offset:#x} is right for {}, not for {chip}.)", others.join(", "))?;
                }
                Ok(())
            }
            Refusal::AppImageOffset { name, offset } => write!(
                f,
                "\"{name}\" is an application image without a bootloader; it belongs in an app partition, \
                 normally at {APP_OFFSET:#x}, but it is set to {offset:#x}: the board would not boot. \
                 Set the offset to {APP_OFFSET:#x} (with the bootloader and partition table already on the board), \
                 or use the complete firmware file instead."
            ),
            Refusal::NotBootable { name, offset, chip, first_byte } => write!(
                f,
                "\"{name}\" would go at {offset:#x}, where the {chip} looks for its bootloader, but it is not \
                 an ESP firmware image (it starts with {first_byte:#04x}, not 0xE9): the board would not boot. \
                 Check that you chose the firmware .bin file, not a data or file-system image."
            ),
        }
    }
}

impl std::error::Error for Refusal {}
