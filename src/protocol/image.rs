//! ESP firmware images: parse and validate the header, segments, checksum and appended
//! SHA-256; patch the flash mode/size/frequency bytes and re-digest. Facts: `esp-protocol.md` §11.
//!
//! Validation is strict because a wrong answer here bricks nothing but wastes a student's
//! afternoon: a truncated download or an HTML page must be caught before the first byte is written.

use super::command::checksum;
use crate::i18n::{mark, number, t};
use sha2::{Digest, Sha256};

/// First byte of every image (and of the second header of an ESP8266 v2 image).
pub const MAGIC: u8 = 0xE9;
/// First byte of an ESP8266 "v2" image (IROM segment first, then a normal image).
pub const MAGIC_ESP8266_V2: u8 = 0xEA;
/// esptool refuses more; more usually means a broken linker script or not an image at all.
pub const MAX_SEGMENTS: usize = 16;
/// Segment lengths must stay below this (esptool).
pub const MAX_SEGMENT_LEN: u32 = 16 * 1024 * 1024;
/// Where an ESP-IDF app descriptor's magic sits: the first segment's data (file byte 0x20).
pub const APP_DESC_OFFSET: usize = HEADER_LEN + EXT_HEADER_LEN + SEGMENT_HEADER_LEN;
/// `esp_app_desc_t.magic_word`.
pub const APP_DESC_MAGIC: u32 = 0xABCD_5432;

const HEADER_LEN: usize = 8;
const EXT_HEADER_LEN: usize = 16;
const SEGMENT_HEADER_LEN: usize = 8;
const DIGEST_LEN: usize = 32;

/// Which header layout to read. The bytes alone cannot say: ESP8266 images simply lack the
/// extended header, so the caller (who knows the chip) chooses, or [`parse_any`] guesses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Esp8266,
    /// Every chip after the ESP8266: a 16-byte extended header follows the 8-byte header.
    Esp32,
}

/// The image variant that was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Esp8266,
    /// ESP8266 v2 (`0xEA`): an IROM segment of `irom_len` bytes precedes a normal image.
    Esp8266V2 {
        irom_len: u32,
    },
    Esp32,
}

/// The 16-byte extended header (all chips but the ESP8266).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtHeader {
    /// `0xEE` = SPI pins not taken from eFuse.
    pub wp_pin: u8,
    /// SPI pin drive strengths, two 4-bit values per byte.
    pub drive: [u8; 3],
    /// Chip id, see `ChipSpec::image_chip_id`.
    pub chip_id: u16,
    /// Deprecated single-byte minimum revision (C3: minor, others: major).
    pub min_rev: u8,
    /// major×100+minor.
    pub min_rev_full: u16,
    /// major×100+minor; `0xFFFF` = no limit, `0` = field absent (old images).
    pub max_rev_full: u16,
    pub hash_appended: bool,
}

/// One loadable segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub load_addr: u32,
    pub len: u32,
    /// Where the segment's data starts in the file.
    pub data_offset: usize,
}

/// A parsed, verified image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub format: Format,
    /// Header byte 2: 0 QIO, 1 QOUT, 2 DIO, 3 DOUT.
    pub flash_mode: u8,
    /// Header byte 3: high nibble size code, low nibble frequency code.
    pub flash_size_freq: u8,
    pub entry: u32,
    pub ext: Option<ExtHeader>,
    pub segments: Vec<Segment>,
    pub checksum: u8,
    /// Bytes from the start through the checksum byte (what the appended SHA-256 covers).
    pub data_length: usize,
    /// The appended digest (verified).
    pub sha256: Option<[u8; 32]>,
}

impl Image {
    /// End of the image proper; bytes after it (a merged binary's other parts) are not ours.
    pub fn end(&self) -> usize {
        self.data_length + if self.sha256.is_some() { DIGEST_LEN } else { 0 }
    }
    /// High nibble of byte 3, already shifted (as in `ChipSpec::flash_size_codes`).
    pub fn flash_size_code(&self) -> u8 {
        self.flash_size_freq & 0xF0
    }
    pub fn flash_freq_code(&self) -> u8 {
        self.flash_size_freq & 0x0F
    }
}

/// Why bytes are not a valid image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    /// The file ends at `len` bytes but reading `what` needs `needed`.
    Truncated {
        what: &'static str,
        needed: usize,
        len: usize,
    },
    BadMagic(u8),
    TooManySegments(usize),
    /// Not a multiple of 4, or 16 MB or more.
    BadSegmentLength {
        index: usize,
        len: u32,
    },
    /// Extended header byte 15 must be 0 or 1.
    BadHashFlag(u8),
    BadChecksum {
        at: usize,
        stored: u8,
        computed: u8,
    },
    BadSha256 {
        at: usize,
    },
}

impl core::fmt::Display for ImageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ImageError::Truncated { what, needed, len } => f.write_str(&crate::tf!("the image is cut short: it ends at byte {len} but its {what} needs {needed} bytes", len = number(*len as u64), what = t(what), needed = number(*needed as u64))),
            ImageError::BadMagic(b) => f.write_str(&crate::tf!("the file does not start with the ESP image magic byte 0xE9 (it starts with {byte})", byte = format!("{b:#04x}"))),
            ImageError::TooManySegments(n) => f.write_str(&crate::tf!("the header claims {n} segments (at most {max} are valid)", n = number(*n as u64), max = MAX_SEGMENTS)),
            ImageError::BadSegmentLength { index, len } => f.write_str(&crate::tf!("segment {index} has an invalid length {len} (must be a multiple of 4 and below 16 MB)", index = index, len = format!("{len:#x}"))),
            ImageError::BadHashFlag(b) => f.write_str(&crate::tf!("the extended header's hash flag is {byte} (must be 0 or 1)", byte = format!("{b:#04x}"))),
            ImageError::BadChecksum { at, stored, computed } => f.write_str(&crate::tf!("checksum byte at {at} is {stored} but the segments give {computed}: the file is corrupted", at = format!("{at:#x}"), stored = format!("{stored:#04x}"), computed = format!("{computed:#04x}"))),
            ImageError::BadSha256 { at } => f.write_str(&crate::tf!("the SHA-256 stored at {at} does not match the image: the file is corrupted", at = format!("{at:#x}"))),
        }
    }
}

impl std::error::Error for ImageError {}

/// A bounds-checked little-endian reader that names what it was reading when it ran out.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ImageError> {
        let end = self.pos.saturating_add(n);
        let out = self.bytes.get(self.pos..end).ok_or(ImageError::Truncated {
            what,
            needed: end,
            len: self.bytes.len(),
        })?;
        self.pos = end;
        Ok(out)
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, ImageError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

/// The 8-byte common header: (segment count, mode, size/freq, entry).
fn common_header(c: &mut Cursor, magic: u8) -> Result<(usize, u8, u8, u32), ImageError> {
    let h = c.take(HEADER_LEN, mark("header"))?;
    if h[0] != magic {
        return Err(ImageError::BadMagic(h[0]));
    }
    let entry = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    Ok((h[1] as usize, h[2], h[3], entry))
}

/// Parses and verifies `bytes` as an image of `layout`. Bytes after the image are allowed
/// (a merged binary carries the partition table and app after its bootloader).
pub fn parse(bytes: &[u8], layout: Layout) -> Result<Image, ImageError> {
    let mut c = Cursor { bytes, pos: 0 };
    let first = *bytes.first().ok_or(ImageError::Truncated {
        what: mark("header"),
        needed: HEADER_LEN,
        len: 0,
    })?;
    let mut format = match layout {
        Layout::Esp32 => Format::Esp32,
        Layout::Esp8266 => Format::Esp8266,
    };
    if layout == Layout::Esp8266 && first == MAGIC_ESP8266_V2 {
        common_header(&mut c, MAGIC_ESP8266_V2)?;
        c.take(4, mark("IROM segment header"))?;
        let irom_len = c.u32(mark("IROM segment header"))?;
        c.take(irom_len as usize, mark("IROM segment"))?;
        format = Format::Esp8266V2 { irom_len };
    }
    let (count, flash_mode, flash_size_freq, entry) = common_header(&mut c, MAGIC)?;
    if count > MAX_SEGMENTS {
        return Err(ImageError::TooManySegments(count));
    }
    let ext = match layout {
        Layout::Esp8266 => None,
        Layout::Esp32 => Some(ext_header(
            c.take(EXT_HEADER_LEN, mark("extended header"))?,
        )?),
    };
    let mut segments = Vec::with_capacity(count);
    let mut sum = checksum(&[]);
    for index in 0..count {
        let load_addr = c.u32(mark("segment header"))?;
        let len = c.u32(mark("segment header"))?;
        if !len.is_multiple_of(4) || len >= MAX_SEGMENT_LEN {
            return Err(ImageError::BadSegmentLength { index, len });
        }
        let data_offset = c.pos;
        let data = c.take(len as usize, mark("segment data"))?;
        sum = data.iter().fold(sum, |acc, b| acc ^ b);
        segments.push(Segment {
            load_addr,
            len,
            data_offset,
        });
    }
    let at = c.pos | 0xF;
    c.pos = at;
    let stored = c.take(1, mark("checksum"))?[0];
    if stored != sum {
        return Err(ImageError::BadChecksum {
            at,
            stored,
            computed: sum,
        });
    }
    let data_length = c.pos;
    let sha256 = match ext {
        Some(e) if e.hash_appended => {
            let stored = c.take(DIGEST_LEN, "SHA-256")?;
            if Sha256::digest(&bytes[..data_length]).as_slice() != stored {
                return Err(ImageError::BadSha256 { at: data_length });
            }
            let mut d = [0; 32];
            d.copy_from_slice(stored);
            Some(d)
        }
        _ => None,
    };
    Ok(Image {
        format,
        flash_mode,
        flash_size_freq,
        entry,
        ext,
        segments,
        checksum: stored,
        data_length,
        sha256,
    })
}

fn ext_header(e: &[u8]) -> Result<ExtHeader, ImageError> {
    let hash_appended = match e[15] {
        0 => false,
        1 => true,
        b => return Err(ImageError::BadHashFlag(b)),
    };
    Ok(ExtHeader {
        wp_pin: e[0],
        drive: [e[1], e[2], e[3]],
        chip_id: u16_at(e, 4),
        min_rev: e[6],
        min_rev_full: u16_at(e, 7),
        max_rev_full: u16_at(e, 9),
        hash_appended,
    })
}

/// Parses without knowing the chip: ESP32-family layout first, then ESP8266. When both
/// layouts happen to verify, a verified SHA-256 or the usual `0xEE` WP-pin byte decides.
pub fn parse_any(bytes: &[u8]) -> Result<Image, ImageError> {
    if bytes.first() == Some(&MAGIC_ESP8266_V2) {
        return parse(bytes, Layout::Esp8266);
    }
    let wide = parse(bytes, Layout::Esp32);
    let narrow = parse(bytes, Layout::Esp8266);
    let looks_wide = bytes.get(HEADER_LEN) == Some(&0xEE);
    match (wide, narrow) {
        (Ok(w), Ok(n)) => Ok(if w.sha256.is_some() || looks_wide {
            w
        } else {
            n
        }),
        (Ok(w), Err(_)) => Ok(w),
        (Err(_), Ok(n)) => Ok(n),
        (Err(w), Err(n)) => Err(if looks_wide { w } else { n }),
    }
}

/// True when the first segment starts with an ESP-IDF app descriptor: an application image
/// (goes in an app partition, typically 0x10000), not a bootloader or merged image.
pub fn is_app_image(bytes: &[u8], image: &Image) -> bool {
    let Some(first) = image.segments.first() else {
        return false;
    };
    image.ext.is_some()
        && first.data_offset == APP_DESC_OFFSET
        && first.len >= 4
        && bytes
            .get(APP_DESC_OFFSET..APP_DESC_OFFSET + 4)
            .is_some_and(|m| u32::from_le_bytes([m[0], m[1], m[2], m[3]]) == APP_DESC_MAGIC)
}

/// New values for header bytes 2 and 3; `None` keeps what the image has (esptool's `keep`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlashParams {
    /// 0 QIO, 1 QOUT, 2 DIO, 3 DOUT.
    pub mode: Option<u8>,
    /// Size code as in `ChipSpec::flash_size_codes` (high nibble, already shifted).
    pub size: Option<u8>,
    /// Frequency code (low nibble).
    pub freq: Option<u8>,
}

/// Rewrites the flash parameters in place (§11.4) and, when a digest is appended, recomputes
/// it so the bootloader still accepts the image; bytes after the digest are untouched.
/// Refuses (and leaves `image` unchanged) anything that does not verify as an image first.
/// Returns whether any byte changed.
pub fn patch_flash_params(
    image: &mut [u8],
    layout: Layout,
    params: FlashParams,
) -> Result<bool, ImageError> {
    let parsed = parse(image, layout)?;
    if parsed.format != Format::Esp8266 && parsed.format != Format::Esp32 {
        // A v2 image's first header is not what the ROM reads; leave it as esptool does.
        return Ok(false);
    }
    let mode = params.mode.unwrap_or(parsed.flash_mode);
    let size = params.size.map_or(parsed.flash_size_code(), |s| s & 0xF0);
    let freq = params.freq.map_or(parsed.flash_freq_code(), |f| f & 0x0F);
    let new = [mode, size | freq];
    if image[2..4] == new {
        return Ok(false);
    }
    image[2..4].copy_from_slice(&new);
    if parsed.sha256.is_some() {
        let n = parsed.data_length;
        let digest = Sha256::digest(&image[..n]);
        image[n..n + DIGEST_LEN].copy_from_slice(&digest);
    }
    Ok(true)
}

/// What to build with [`build`]: header fields and, for ESP32-family images, the extended header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildSpec {
    pub flash_mode: u8,
    pub flash_size_freq: u8,
    pub entry: u32,
    /// `None` builds an ESP8266 image.
    pub ext: Option<ExtHeader>,
}

/// Encodes a valid image (the inverse of [`parse`]): used by tests and the simulator to make
/// fixtures. Segment lengths must be multiples of 4.
pub fn build(spec: &BuildSpec, segments: &[(u32, &[u8])]) -> Vec<u8> {
    let mut out = vec![
        MAGIC,
        segments.len() as u8,
        spec.flash_mode,
        spec.flash_size_freq,
    ];
    out.extend_from_slice(&spec.entry.to_le_bytes());
    if let Some(e) = spec.ext {
        out.extend_from_slice(&[e.wp_pin, e.drive[0], e.drive[1], e.drive[2]]);
        out.extend_from_slice(&e.chip_id.to_le_bytes());
        out.push(e.min_rev);
        out.extend_from_slice(&e.min_rev_full.to_le_bytes());
        out.extend_from_slice(&e.max_rev_full.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, e.hash_appended as u8]);
    }
    let mut sum = checksum(&[]);
    for (addr, data) in segments {
        assert!(
            data.len().is_multiple_of(4),
            "segment length must be a multiple of 4"
        );
        out.extend_from_slice(&addr.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        sum = data.iter().fold(sum, |acc, b| acc ^ b);
    }
    out.resize(out.len() | 0xF, 0);
    out.push(sum);
    if spec.ext.is_some_and(|e| e.hash_appended) {
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
    }
    out
}

#[cfg(test)]
mod tests;
