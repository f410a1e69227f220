//! ESP-IDF partition tables: the 32-byte entries at flash 0x8000 that tell the second-stage
//! bootloader where the app is and MicroPython where its filesystem lives. Layout (ESP-IDF
//! `esp_flash_partitions.h`, `gen_esp32part.py`): magic `AA 50`, type, subtype, offset u32 LE,
//! size u32 LE, a 16-byte label, flags u32 LE; an optional MD5 row (`EB EB`, 14 × `FF`, the
//! MD5 of every entry before it); then `FF` padding (the end) up to 0xC00 bytes.

use md5::{Digest, Md5};

/// Where ESP-IDF (and every MicroPython build) puts the table.
pub const TABLE_OFFSET: u32 = 0x8000;
/// The table's room: 96 entries of 32 bytes.
pub const TABLE_LEN: usize = 0xC00;
const ENTRY: usize = 32;
const MAGIC: [u8; 2] = [0xAA, 0x50];
const MD5_MAGIC: [u8; 2] = [0xEB, 0xEB];

/// Partition types and the subtypes that matter here.
pub const TYPE_APP: u8 = 0x00;
pub const TYPE_DATA: u8 = 0x01;
pub const SUBTYPE_FACTORY: u8 = 0x00;
pub const SUBTYPE_OTA_0: u8 = 0x10;
pub const SUBTYPE_OTA_DATA: u8 = 0x00;
pub const SUBTYPE_FAT: u8 = 0x81;

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub ptype: u8,
    pub subtype: u8,
    pub offset: u32,
    pub size: u32,
    pub label: String,
    pub flags: u32,
}

impl Partition {
    pub fn end(&self) -> u32 {
        self.offset.saturating_add(self.size)
    }
    pub fn is_app(&self) -> bool {
        self.ptype == TYPE_APP
    }
}

/// A parsed, verified table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionTable {
    pub entries: Vec<Partition>,
    /// The table carried an MD5 row (and it matched).
    pub has_md5: bool,
}

/// Why bytes are not a valid table (the bootloader then refuses to boot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableError {
    /// Entry `index` starts with neither the magic nor the end padding.
    BadMagic {
        index: usize,
        magic: u16,
    },
    BadMd5,
    TwoMd5,
    /// No end marker within 0xC00 bytes (or the bytes stop first).
    NoEnd,
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TableError::BadMagic { index, magic } => {
                write!(f, "partition {index} invalid magic number 0x{magic:x}")
            }
            TableError::BadMd5 => write!(f, "Incorrect MD5 checksum"),
            TableError::TwoMd5 => write!(f, "Only one MD5 checksum is allowed"),
            TableError::NoEnd => write!(f, "partition table has no terminating entry, not valid"),
        }
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Reads the table at the start of `bytes` (the flash from 0x8000, or a firmware file's).
pub fn parse(bytes: &[u8]) -> Result<PartitionTable, TableError> {
    let mut entries = Vec::new();
    let mut has_md5 = false;
    for (index, row) in bytes[..bytes.len().min(TABLE_LEN)]
        .chunks_exact(ENTRY)
        .enumerate()
    {
        match [row[0], row[1]] {
            MAGIC => {
                let label = &row[12..28];
                let end = label.iter().position(|&b| b == 0).unwrap_or(16);
                entries.push(Partition {
                    ptype: row[2],
                    subtype: row[3],
                    offset: u32_at(row, 4),
                    size: u32_at(row, 8),
                    label: String::from_utf8_lossy(&label[..end]).into_owned(),
                    flags: u32_at(row, 28),
                });
            }
            MD5_MAGIC => {
                if has_md5 {
                    return Err(TableError::TwoMd5);
                }
                let digest = Md5::digest(&bytes[..index * ENTRY]);
                if row[16..] != digest[..] {
                    return Err(TableError::BadMd5);
                }
                has_md5 = true;
            }
            [0xFF, 0xFF] => return Ok(PartitionTable { entries, has_md5 }),
            magic => {
                return Err(TableError::BadMagic {
                    index,
                    magic: u16::from_le_bytes(magic),
                })
            }
        }
    }
    Err(TableError::NoEnd)
}

/// The table's bytes, `FF`-padded to [`TABLE_LEN`], with an MD5 row when `md5`.
pub fn build(entries: &[Partition], md5: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(TABLE_LEN);
    for p in entries {
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&[p.ptype, p.subtype]);
        out.extend_from_slice(&p.offset.to_le_bytes());
        out.extend_from_slice(&p.size.to_le_bytes());
        let mut label = [0u8; 16];
        let n = p.label.len().min(16);
        label[..n].copy_from_slice(&p.label.as_bytes()[..n]);
        out.extend_from_slice(&label);
        out.extend_from_slice(&p.flags.to_le_bytes());
    }
    if md5 {
        let digest = Md5::digest(&out);
        out.extend_from_slice(&MD5_MAGIC);
        out.extend_from_slice(&[0xFF; 14]);
        out.extend_from_slice(&digest);
    }
    out.resize(TABLE_LEN, 0xFF);
    out
}

impl PartitionTable {
    /// The app the bootloader starts when no OTA data says otherwise: the factory app, else
    /// the first OTA slot.
    pub fn boot_app(&self) -> Option<&Partition> {
        let app = |sub| {
            self.entries
                .iter()
                .find(|p| p.ptype == TYPE_APP && p.subtype == sub)
        };
        app(SUBTYPE_FACTORY).or_else(|| app(SUBTYPE_OTA_0))
    }

    /// A data partition by label (MicroPython's filesystem is `vfs`, or `ffat`).
    pub fn data(&self, label: &str) -> Option<&Partition> {
        self.entries
            .iter()
            .find(|p| p.ptype == TYPE_DATA && p.label == label)
    }

    /// Where MicroPython keeps its filesystem on a flash of `flash_size` bytes: the `vfs` (or
    /// `ffat`) partition, or (MicroPython 1.26 and later, whose tables have none) from the end
    /// of the last partition to the end of the flash. `(offset, size)`; `None` if no room.
    pub fn micropython_fs(&self, flash_size: u32) -> Option<(u32, u32)> {
        if let Some(p) = self.data("vfs").or_else(|| self.data("ffat")) {
            return Some((p.offset, p.size));
        }
        let end = self.entries.iter().map(Partition::end).max()?;
        (end < flash_size).then(|| (end, flash_size - end))
    }
}

/// MicroPython's generic ESP32 tables, for tests and the simulator: nvs, phy_init, factory app
/// (1.22–1.25's `partitions-4MiB.csv` also has `vfs`; 1.26+'s `partitions-4MiBplus.csv` not).
pub fn micropython_table(factory_size: u32, vfs: Option<(u32, u32)>) -> Vec<Partition> {
    let p = |ptype, subtype, offset, size, label: &str| Partition {
        ptype,
        subtype,
        offset,
        size,
        label: label.into(),
        flags: 0,
    };
    let mut rows = vec![
        p(TYPE_DATA, 0x02, 0x9000, 0x6000, "nvs"),
        p(TYPE_DATA, 0x01, 0xF000, 0x1000, "phy_init"),
        p(TYPE_APP, SUBTYPE_FACTORY, 0x10000, factory_size, "factory"),
    ];
    if let Some((offset, size)) = vfs {
        rows.push(p(TYPE_DATA, SUBTYPE_FAT, offset, size, "vfs"));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micropython_4mib_table_round_trips_with_its_md5() {
        let rows = micropython_table(0x1F_0000, Some((0x20_0000, 0x20_0000)));
        let bytes = build(&rows, true);
        assert_eq!(bytes.len(), TABLE_LEN);
        // The first row, byte for byte: nvs at 0x9000, 0x6000 long.
        assert_eq!(
            &bytes[..16],
            &[0xAA, 0x50, 1, 2, 0, 0x90, 0, 0, 0, 0x60, 0, 0, b'n', b'v', b's', 0]
        );
        assert_eq!(&bytes[0x80..0x82], &[0xEB, 0xEB]);
        let table = parse(&bytes).unwrap();
        assert!(table.has_md5);
        assert_eq!(table.entries, rows);
        assert_eq!(table.boot_app().unwrap().offset, 0x10000);
        assert_eq!(table.micropython_fs(4 << 20), Some((0x20_0000, 0x20_0000)));
    }

    #[test]
    fn newer_tables_leave_the_filesystem_to_the_end_of_flash() {
        let table = parse(&build(&micropython_table(0x1F_0000, None), true)).unwrap();
        assert_eq!(table.micropython_fs(8 << 20), Some((0x20_0000, 0x60_0000)));
        assert_eq!(table.micropython_fs(2 << 20), None);
    }

    #[test]
    fn damage_is_refused_as_the_bootloader_does() {
        let mut bytes = build(&micropython_table(0x1F_0000, None), true);
        bytes[0x20] = 0xAB;
        assert_eq!(
            parse(&bytes),
            Err(TableError::BadMagic {
                index: 1,
                magic: 0x50AB
            })
        );
        let mut bytes = build(&micropython_table(0x1F_0000, None), true);
        bytes[0x45] ^= 1; // the factory app's offset, covered by the MD5
        assert_eq!(parse(&bytes), Err(TableError::BadMd5));
        // Erased flash is an empty table (the bootloader then finds no app).
        let empty = parse(&[0xFF; TABLE_LEN]).unwrap();
        assert!(empty.entries.is_empty() && empty.boot_app().is_none());
        assert_eq!(parse(&[0xAA, 0x50]), Err(TableError::NoEnd));
    }
}
