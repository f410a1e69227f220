//! The board's files as the simulated flash stores them, so they behave like a real board's:
//! they survive resets and `--flash-file` restarts, an erase-all wipes them, and a firmware
//! write that does not touch the filesystem region keeps them.
//!
//! Not littlefs (hosts never read the region directly; they go through the REPL), but a
//! simple table, rewritten whole at the start of the region after every change:
//!
//! ```text
//! 0   8  magic "WFSIMFS1"
//! 8   4  payload length (LE)      12  4  FNV-1a of the payload (LE)
//! 16  .. entries: kind u8 (1 file, 2 dir), name length u16 LE, name (UTF-8, no leading '/'),
//!        files then: size u32 LE, data
//! ```
//! A first sector of all 0xFF is a blank region (MicroPython formats it on first boot); any
//! other content that does not verify is damaged, and MicroPython says so at boot.

use std::collections::BTreeMap;

use crate::sim::flash::{NorFlash, SECTOR};

pub const MAGIC: &[u8; 8] = b"WFSIMFS1";
const HEADER: usize = 16;

/// A path (no leading '/') and its contents; `None` is a directory.
pub type Entry = (String, Option<Vec<u8>>);

/// What the filesystem region held at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mounted {
    /// Our table, read back.
    Ok,
    /// Erased flash: MicroPython formats it ("Performing initial setup").
    Blank,
    /// Something else: MicroPython reports it and runs without a filesystem.
    Corrupt,
}

impl Mounted {
    pub fn name(self) -> &'static str {
        match self {
            Mounted::Ok => "ok",
            Mounted::Blank => "blank",
            Mounted::Corrupt => "corrupt",
        }
    }
}

/// The files in a flash region: read at boot, written back when the board changes them.
#[derive(Debug, Clone)]
pub struct FlashFiles {
    pub entries: BTreeMap<String, Option<Vec<u8>>>,
    region: (usize, usize),
    mounted: Mounted,
    saved_len: usize,
}

impl FlashFiles {
    /// Reads the files in `flash[start..start + len]`.
    pub fn mount(flash: &[u8], (start, len): (usize, usize)) -> FlashFiles {
        let mut files = FlashFiles {
            entries: BTreeMap::new(),
            region: (start, len),
            mounted: Mounted::Corrupt,
            saved_len: 0,
        };
        let region = flash.get(start..start + len).unwrap_or(&[]);
        if region.is_empty() {
            return files;
        }
        if region[..SECTOR.min(region.len())]
            .iter()
            .all(|&b| b == 0xFF)
        {
            files.mounted = Mounted::Blank;
        } else if let Some((entries, used)) = decode(region) {
            files.entries = entries;
            files.saved_len = used;
            files.mounted = Mounted::Ok;
        }
        files
    }

    pub fn mounted(&self) -> Mounted {
        self.mounted
    }

    /// The board's files are now `entries`: written to flash (erase, then program, as a chip
    /// does) unless the region is damaged, which a board never writes.
    pub fn store(&mut self, entries: Vec<Entry>, flash: &mut NorFlash) {
        if self.mounted == Mounted::Corrupt {
            return;
        }
        self.mounted = Mounted::Ok;
        self.entries = entries.into_iter().collect();
        let mut bytes = encode(&self.entries);
        bytes.truncate(self.region.1);
        let (start, _) = self.region;
        flash.erase(start, bytes.len().max(self.saved_len));
        flash.program(start, &bytes);
        self.saved_len = bytes.len();
    }
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811C_9DC5u32, |h, &b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    })
}

pub fn encode(entries: &BTreeMap<String, Option<Vec<u8>>>) -> Vec<u8> {
    let mut payload = Vec::new();
    for (name, node) in entries {
        payload.push(if node.is_some() { 1 } else { 2 });
        payload.extend_from_slice(&(name.len() as u16).to_le_bytes());
        payload.extend_from_slice(name.as_bytes());
        if let Some(data) = node {
            payload.extend_from_slice(&(data.len() as u32).to_le_bytes());
            payload.extend_from_slice(data);
        }
    }
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&fnv1a(&payload).to_le_bytes());
    out.extend(payload);
    out
}

/// The entries and the bytes they occupy, if `region` holds a valid table.
fn decode(region: &[u8]) -> Option<(BTreeMap<String, Option<Vec<u8>>>, usize)> {
    if region.get(..8)? != MAGIC {
        return None;
    }
    let u32_at = |at: usize| {
        region
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let len = u32_at(8)? as usize;
    let payload = region.get(HEADER..HEADER.checked_add(len)?)?;
    if fnv1a(payload) != u32_at(12)? {
        return None;
    }
    let mut entries = BTreeMap::new();
    let mut i = 0;
    while i < payload.len() {
        let kind = payload[i];
        let n = u16::from_le_bytes(payload.get(i + 1..i + 3)?.try_into().unwrap()) as usize;
        let name = std::str::from_utf8(payload.get(i + 3..i + 3 + n)?)
            .ok()?
            .to_string();
        i += 3 + n;
        let node = match kind {
            1 => {
                let size = u32::from_le_bytes(payload.get(i..i + 4)?.try_into().unwrap()) as usize;
                let data = payload.get(i + 4..i.checked_add(4 + size)?)?.to_vec();
                i += 4 + size;
                Some(data)
            }
            2 => None,
            _ => return None,
        };
        entries.insert(name, node);
    }
    Some((entries, HEADER + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGION: (usize, usize) = (2 * SECTOR, 6 * SECTOR);

    #[test]
    fn files_round_trip_through_flash_and_nothing_outside_the_region_changes() {
        let mut flash = NorFlash::new(8 * SECTOR);
        let mut files = FlashFiles::mount(flash.contents(), REGION);
        assert_eq!(files.mounted(), Mounted::Blank);
        let all: Vec<u8> = (0..=255).collect();
        files.store(
            vec![
                ("lib".into(), None),
                ("lib/x.bin".into(), Some(all.clone())),
                ("main.py".into(), Some(b"print(1)\n".to_vec())),
            ],
            &mut flash,
        );
        assert_eq!(&flash.contents()[REGION.0..REGION.0 + 8], MAGIC);
        assert!(flash.is_blank(0, REGION.0));
        let back = FlashFiles::mount(flash.contents(), REGION);
        assert_eq!(back.mounted(), Mounted::Ok);
        assert_eq!(back.entries["lib/x.bin"], Some(all));
        assert_eq!(back.entries["lib"], None);
        // A smaller table leaves no stale tail behind.
        let mut files = back;
        files.store(vec![("a".into(), Some(vec![1]))], &mut flash);
        let back = FlashFiles::mount(flash.contents(), REGION);
        assert_eq!(back.entries.len(), 1);
        assert!(flash.is_blank(REGION.0 + 64, REGION.1 - 64));
    }

    #[test]
    fn a_damaged_region_is_reported_and_never_written() {
        let mut flash = NorFlash::new(8 * SECTOR);
        flash.program(REGION.0 + 100, b"not a filesystem");
        let mut files = FlashFiles::mount(flash.contents(), REGION);
        assert_eq!(files.mounted(), Mounted::Corrupt);
        let before = flash.contents().to_vec();
        files.store(vec![("a".into(), Some(b"x".to_vec()))], &mut flash);
        assert_eq!(flash.contents(), &before[..]);
        // A flipped payload bit fails the checksum.
        let mut flash = NorFlash::new(8 * SECTOR);
        let mut files = FlashFiles::mount(flash.contents(), REGION);
        files.store(vec![("a".into(), Some(b"x".to_vec()))], &mut flash);
        let mut bytes = flash.contents().to_vec();
        bytes[REGION.0 + HEADER + 5] ^= 1;
        assert_eq!(
            FlashFiles::mount(&bytes, REGION).mounted(),
            Mounted::Corrupt
        );
    }
}
