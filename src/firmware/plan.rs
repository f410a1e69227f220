//! The flash plan: parts checked against the detected board before anything is written, with
//! the bootloader header patched to the real flash size. The plan holds the final bytes, so the
//! MD5 verified after writing is the MD5 of exactly what was sent.

use super::refusal::{ImageChip, Refusal};
use super::role::{self, ImageRole, APP_ALIGN};
use super::sniff::{sniff, FileKind};
use crate::protocol::chip::Chip;
use crate::protocol::image::{
    self, patch_flash_params, ExtHeader, FlashParams, Format, Image, Layout,
};

/// Flash is erased in sectors of this size; parts must start on one.
pub const SECTOR: u32 = 0x1000;

/// The board as detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub chip: Chip,
    /// major×100+minor (esptool's `get_chip_revision`).
    pub revision: u16,
    /// Bytes.
    pub flash_size: u32,
}

/// One file to write, as the user or a manifest gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// File name or URL, shown in messages.
    pub name: String,
    pub offset: u32,
    pub data: Vec<u8>,
}

/// How strict to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOptions {
    /// Expert override: bypass the chip, revision and offset checks (never size, overlap,
    /// alignment or content). Off by default.
    pub expert_override: bool,
    /// Write the detected flash size into the bootloader header (esptool `--flash-size detect`).
    /// Turn off when secure boot is enabled: the ROM would reject a changed signed image.
    pub patch_flash_size: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            expert_override: false,
            patch_flash_size: true,
        }
    }
}

/// Header byte 3 before and after patching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderPatch {
    pub before: u8,
    pub after: u8,
}

/// A part that passed every check, with its final bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPart {
    pub name: String,
    pub offset: u32,
    /// Exactly what will be written and verified.
    pub data: Vec<u8>,
    pub kind: FileKind,
    /// The image header as parsed (before patching), if the part is an image for this layout.
    pub image: Option<Image>,
    pub patched: Option<HeaderPatch>,
}

/// Parts ready to write, in offset order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashPlan {
    pub target: Target,
    pub parts: Vec<PlannedPart>,
    /// Checks the expert override bypassed (shown to the user and recorded).
    pub overridden: Vec<Refusal>,
}

impl FlashPlan {
    /// Checks every part against `target`; refuses with every reason found, or returns the plan.
    pub fn build(
        target: Target,
        parts: Vec<Part>,
        options: PlanOptions,
    ) -> Result<FlashPlan, Vec<Refusal>> {
        let mut refusals = Vec::new();
        if parts.is_empty() {
            refusals.push(Refusal::NoParts);
        }
        let mut checked = Vec::with_capacity(parts.len());
        for part in parts {
            let (kind, image) = check_part(&target, &part, &mut refusals);
            checked.push((part, kind, image));
        }
        check_overlaps(&checked, &mut refusals);

        let (overridden, blocking): (Vec<_>, Vec<_>) = refusals
            .into_iter()
            .partition(|r| options.expert_override && r.overridable());
        if !blocking.is_empty() {
            return Err(blocking);
        }
        let mut planned: Vec<PlannedPart> = checked
            .into_iter()
            .map(|(part, kind, image)| finish(&target, part, kind, image, options))
            .collect();
        sort_by_offset(&mut planned, |p| p.offset);
        Ok(FlashPlan {
            target,
            parts: planned,
            overridden,
        })
    }

    /// Bytes to write over all parts.
    pub fn total_bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.data.len() as u64).sum()
    }
}

/// Runs the per-part checks; returns what the part is.
fn check_part(t: &Target, part: &Part, out: &mut Vec<Refusal>) -> (FileKind, Option<Image>) {
    let name = || part.name.clone();
    let kind = sniff(&part.data);
    if kind == FileKind::Empty {
        out.push(Refusal::EmptyPart { name: name() });
        return (kind, None);
    }
    if !part.offset.is_multiple_of(SECTOR) {
        let suggestion =
            role::suggest_offset(&part.data, t.chip).unwrap_or(part.offset - part.offset % SECTOR);
        out.push(Refusal::Misaligned {
            name: name(),
            offset: part.offset,
            suggestion,
        });
    }
    if part.offset as u64 + part.data.len() as u64 > t.flash_size as u64 {
        out.push(Refusal::TooLarge {
            name: name(),
            offset: part.offset,
            len: part.data.len(),
            flash_size: t.flash_size,
        });
    }
    if kind.is_never_flashable() {
        out.push(Refusal::NotFirmware {
            name: name(),
            kind,
            chip: t.chip,
        });
        return (kind, None);
    }
    let boot_offset = t.chip.spec().bootloader_offset;
    if kind == FileKind::Unknown {
        if part.offset == boot_offset {
            out.push(Refusal::NotBootable {
                name: name(),
                offset: part.offset,
                chip: t.chip,
                first_byte: part.data[0],
            });
        }
        return (kind, None);
    }
    let image = match role::parse_for(&part.data, t.chip) {
        Ok(image) => image,
        Err(error) => {
            out.push(match other_layout_chip(&part.data, t.chip) {
                Some(image) => Refusal::WrongChip {
                    name: name(),
                    image,
                    board: t.chip,
                },
                None => Refusal::DamagedImage {
                    name: name(),
                    error,
                },
            });
            return (kind, None);
        }
    };
    if let Some(ext) = image.ext {
        if Some(ext.chip_id) != t.chip.spec().image_chip_id {
            let image = Chip::from_image_chip_id(ext.chip_id)
                .map_or(ImageChip::Unknown(ext.chip_id), ImageChip::Known);
            out.push(Refusal::WrongChip {
                name: name(),
                image,
                board: t.chip,
            });
        } else if let Some((min, max)) = revision_misfit(&ext, t) {
            out.push(Refusal::Revision {
                name: name(),
                chip: t.chip,
                revision: t.revision,
                min,
                max,
            });
        }
    }
    match role::role(&part.data, &image) {
        ImageRole::Boot if part.offset != boot_offset => out.push(Refusal::BootImageOffset {
            name: name(),
            offset: part.offset,
            chip: t.chip,
        }),
        ImageRole::App if part.offset == 0 || !part.offset.is_multiple_of(APP_ALIGN) => {
            out.push(Refusal::AppImageOffset {
                name: name(),
                offset: part.offset,
            })
        }
        _ => {}
    }
    (kind, Some(image))
}

/// When bytes fail the board's layout but verify as the other one, they were built for
/// another family (ESP8266 vs the rest): name the chip they were built for.
fn other_layout_chip(bytes: &[u8], board: Chip) -> Option<ImageChip> {
    match role::layout_for(board) {
        Layout::Esp32 => image::parse(bytes, Layout::Esp8266)
            .ok()
            .map(|_| ImageChip::Known(Chip::Esp8266)),
        Layout::Esp8266 => image::parse(bytes, Layout::Esp32).ok().map(|i| {
            let id = i.ext.map_or(0, |e| e.chip_id);
            Chip::from_image_chip_id(id).map_or(ImageChip::Unknown(id), ImageChip::Known)
        }),
    }
}

/// The image's revision range as (min, max) when the target's revision is outside it;
/// follows esptool's reading of the old and new header fields.
fn revision_misfit(ext: &ExtHeader, t: &Target) -> Option<(u16, Option<u16>)> {
    let legacy = ext.max_rev_full == 0
        || (ext.max_rev_full == 0xFFFF && ext.min_rev_full == 0 && ext.min_rev != 0);
    if legacy {
        // The deprecated byte is the minor revision on the C3, the major elsewhere.
        let (have, min_full) = if t.chip == Chip::Esp32C3 {
            (t.revision % 100, ext.min_rev as u16)
        } else {
            (t.revision / 100, ext.min_rev as u16 * 100)
        };
        return (have < ext.min_rev as u16).then_some((min_full, None));
    }
    let max = (ext.max_rev_full != 0xFFFF).then_some(ext.max_rev_full);
    let fits = t.revision >= ext.min_rev_full && max.is_none_or(|m| t.revision <= m);
    (!fits).then_some((ext.min_rev_full, max))
}

fn check_overlaps(parts: &[(Part, FileKind, Option<Image>)], out: &mut Vec<Refusal>) {
    let mut ranges: Vec<(&str, u32, u64)> = parts
        .iter()
        .filter(|(p, _, _)| !p.data.is_empty())
        .map(|(p, _, _)| {
            (
                p.name.as_str(),
                p.offset,
                p.offset as u64 + p.data.len() as u64,
            )
        })
        .collect();
    sort_by_offset(&mut ranges, |r| r.1);
    for (i, a) in ranges.iter().enumerate() {
        for b in ranges[i + 1..].iter().take_while(|b| (b.1 as u64) < a.2) {
            out.push(Refusal::Overlap {
                first: a.0.to_string(),
                first_range: (a.1, a.2),
                second: b.0.to_string(),
                second_range: (b.1, b.2),
            });
        }
    }
}

/// Applies the header patch to a part that passed.
fn finish(
    t: &Target,
    part: Part,
    kind: FileKind,
    image: Option<Image>,
    options: PlanOptions,
) -> PlannedPart {
    let Part {
        name,
        offset,
        mut data,
    } = part;
    let mut patched = None;
    let size_code = t
        .chip
        .spec()
        .flash_size_codes
        .iter()
        .find(|(size, _)| *size == t.flash_size)
        .map(|(_, code)| *code);
    let is_plain_image = image
        .as_ref()
        .is_some_and(|i| matches!(i.format, Format::Esp32 | Format::Esp8266));
    if let (true, true, Some(size)) = (
        options.patch_flash_size && offset == t.chip.spec().bootloader_offset,
        is_plain_image,
        size_code,
    ) {
        let before = data[3];
        let params = FlashParams {
            size: Some(size),
            ..FlashParams::default()
        };
        if patch_flash_params(&mut data, role::layout_for(t.chip), params) == Ok(true) {
            patched = Some(HeaderPatch {
                before,
                after: data[3],
            });
        }
    }
    PlannedPart {
        name,
        offset,
        data,
        kind,
        image,
        patched,
    }
}

/// Sorts a handful of parts by offset, keeping the order of equal ones: an insertion sort,
/// as the standard library's sorts weigh about 9 KB in the page's wasm for lists this short.
fn sort_by_offset<T>(items: &mut [T], offset: impl Fn(&T) -> u32) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && offset(&items[j - 1]) > offset(&items[j]) {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
}
