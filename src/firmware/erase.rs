//! Whether to erase before writing, decided by what the board holds and what the new firmware
//! brings. Erasing everything is right for a board that runs something else (stale settings
//! and filesystems cause trouble) and wrong for an update of the same MicroPython: it costs a
//! chip erase, turns a re-flash that skips unchanged blocks into a full write, and destroys
//! the student's files. In between, a new MicroPython whose filesystem lives elsewhere gets
//! that region cleared (and the files carried over), so it never mounts leftovers as damaged.

use std::fmt;

use super::plan::PlannedPart;
use crate::i18n::t;
use crate::protocol::app_desc::{self, AppDescriptor};
use crate::protocol::partition::{self, PartitionTable, TABLE_LEN, TABLE_OFFSET};

/// What the board's flash holds, read in its bootloader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardFlash {
    /// The partition table at 0x8000, if it is a valid one.
    pub table: Option<PartitionTable>,
    /// The descriptor of the app the bootloader would start.
    pub app: Option<AppDescriptor>,
}

impl BoardFlash {
    /// From the bytes read at 0x8000 (the table) and, if the table names an app, at its start
    /// (see `loader::FlashSummary`).
    pub fn from_reads(table: &[u8], app: Option<&[u8]>) -> BoardFlash {
        let table = partition::parse(table)
            .ok()
            .filter(|t| !t.entries.is_empty());
        BoardFlash {
            app: app.and_then(AppDescriptor::parse),
            table,
        }
    }

    pub fn runs_micropython(&self) -> bool {
        self.app.as_ref().is_some_and(AppDescriptor::is_micropython)
    }
}

/// The bytes at flash address `addr` in the planned parts, if one holds `len` of them.
fn at(parts: &[(u32, &[u8])], addr: u32, len: usize) -> Option<Vec<u8>> {
    parts.iter().find_map(|(offset, data)| {
        let start = addr.checked_sub(*offset)? as usize;
        let end = (start + len).min(data.len());
        (start < end).then(|| data[start..end].to_vec())
    })
}

/// What the new firmware brings: its partition table and its app's descriptor, where its
/// parts include them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewFirmware {
    pub table: Option<PartitionTable>,
    pub app: Option<AppDescriptor>,
}

impl NewFirmware {
    /// Reads the planned parts (after header patching: the bytes that will be written).
    pub fn from_parts(parts: &[PlannedPart]) -> NewFirmware {
        let parts: Vec<(u32, &[u8])> = parts.iter().map(|p| (p.offset, &p.data[..])).collect();
        Self::from_bytes(&parts)
    }

    /// The same from `(offset, bytes)` pairs.
    pub fn from_bytes(parts: &[(u32, &[u8])]) -> NewFirmware {
        let table = at(parts, TABLE_OFFSET, TABLE_LEN)
            .and_then(|b| partition::parse(&b).ok())
            .filter(|t| !t.entries.is_empty());
        // The app where the new table says, else any part that is an app image.
        let app = table
            .as_ref()
            .and_then(|t| t.boot_app())
            .and_then(|a| at(parts, a.offset, app_desc::READ_LEN))
            .and_then(|b| AppDescriptor::parse(&b))
            .or_else(|| {
                parts
                    .iter()
                    .find_map(|(_, data)| AppDescriptor::parse(data))
            });
        NewFirmware { table, app }
    }
}

/// What to do about erasing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erase {
    /// Erase the whole flash first.
    All,
    /// Write only the blocks that change; the filesystem stays where it is, untouched.
    KeepFiles,
    /// Write only what changes, then clear the filesystem's new region (`to`, offset and
    /// length); the files are carried over from `from` by a backup and a restore.
    MoveFiles { from: (u32, u32), to: (u32, u32) },
}

/// Why, in one line for the student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The board's flash could not be read (the ESP8266's ROM, a read that failed).
    Unknown,
    /// No partition table or no app the bootloader would start: a blank or broken board.
    NoFirmware,
    OtherFirmware {
        project: String,
    },
    /// The new firmware is not MicroPython.
    NewNotMicroPython {
        project: String,
    },
    SameLayout {
        version: String,
    },
    FilesystemMoves {
        version: String,
        to: u32,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Unknown => f.write_str(t("What this board runs could not be read, so everything is erased first for a clean start.")),
            Reason::NoFirmware => f.write_str(t("The board holds no firmware this page recognises: everything is erased first for a clean start.")),
            Reason::OtherFirmware { project } => f.write_str(&crate::tf!("The board runs other firmware (\"{project}\"): everything is erased first, so its settings and files cannot confuse MicroPython.", project = project)),
            Reason::NewNotMicroPython { project } => f.write_str(&crate::tf!("The new firmware is not MicroPython (\"{project}\"): everything is erased first.", project = project)),
            Reason::SameLayout { version } => f.write_str(&crate::tf!("The board runs MicroPython {version} with the same layout: only what changed is written, and its files stay.", version = version)),
            Reason::FilesystemMoves { version, to } => f.write_str(&crate::tf!("The board runs MicroPython {version}, but the new firmware keeps its files at {address}: the files are backed up, that area is cleared, and the files are put back.", version = version, address = format!("0x{to:x}"))),
        }
    }
}

/// The page's default, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub erase: Erase,
    pub reason: Reason,
}

/// Decides from what the board holds (`None`: it could not be read) and what the new firmware
/// brings, on a flash of `flash_size` bytes.
pub fn decide(board: Option<&BoardFlash>, new: &NewFirmware, flash_size: u32) -> Decision {
    let all = |reason| Decision {
        erase: Erase::All,
        reason,
    };
    let Some(board) = board else {
        return all(Reason::Unknown);
    };
    let (Some(table), Some(app)) = (&board.table, &board.app) else {
        return all(Reason::NoFirmware);
    };
    if !app.is_micropython() {
        return all(Reason::OtherFirmware {
            project: app.project.clone(),
        });
    }
    if let Some(new_app) = new.app.as_ref().filter(|a| !a.is_micropython()) {
        return all(Reason::NewNotMicroPython {
            project: new_app.project.clone(),
        });
    }
    let version = app.version.clone();
    // Without a table of its own, the new firmware keeps the board's.
    let new_table = new.table.as_ref().unwrap_or(table);
    let from = table.micropython_fs(flash_size);
    let to = new_table.micropython_fs(flash_size);
    match (from, to) {
        (Some(from), Some(to)) if from != to => Decision {
            erase: Erase::MoveFiles { from, to },
            reason: Reason::FilesystemMoves { version, to: to.0 },
        },
        _ => Decision {
            erase: Erase::KeepFiles,
            reason: Reason::SameLayout { version },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::image::APP_DESC_MAGIC;
    use crate::protocol::partition::{build, micropython_table, Partition};

    const MB: u32 = 1 << 20;

    fn app(project: &str, version: &str) -> Vec<u8> {
        let mut img = vec![0u8; 0x200];
        img[0] = 0xE9;
        img[0x20..0x24].copy_from_slice(&APP_DESC_MAGIC.to_le_bytes());
        img[0x30..0x30 + version.len()].copy_from_slice(version.as_bytes());
        img[0x50..0x50 + project.len()].copy_from_slice(project.as_bytes());
        img
    }

    fn board(rows: &[Partition], project: &str, version: &str) -> BoardFlash {
        BoardFlash::from_reads(&build(rows, true), Some(&app(project, version)))
    }

    fn new(rows: &[Partition], project: &str, version: &str) -> NewFirmware {
        let table = build(rows, true);
        let app = app(project, version);
        NewFirmware::from_bytes(&[(0x8000, &table), (0x10000, &app)])
    }

    #[test]
    fn an_update_of_the_same_micropython_keeps_the_files() {
        let rows = micropython_table(0x1F_0000, Some((0x20_0000, 0x20_0000)));
        let d = decide(
            Some(&board(&rows, "micropython", "v1.24.1")),
            &new(&rows, "micropython", "v1.25.0"),
            4 * MB,
        );
        assert_eq!(d.erase, Erase::KeepFiles);
        assert!(d
            .reason
            .to_string()
            .contains("MicroPython v1.24.1 with the same layout"));
        // 1.26 dropped the vfs row; on 4 MB the filesystem is still 0x200000 to the end.
        let newer = micropython_table(0x1F_0000, None);
        let d = decide(
            Some(&board(&rows, "micropython", "v1.25.0")),
            &new(&newer, "micropython", "v1.26.0"),
            4 * MB,
        );
        assert_eq!(d.erase, Erase::KeepFiles);
    }

    #[test]
    fn a_filesystem_that_moves_is_cleared_and_carried_over() {
        let old = micropython_table(0x1F_0000, None);
        let bigger_app = micropython_table(0x25_0000, None);
        let d = decide(
            Some(&board(&old, "micropython", "v1.24.1")),
            &new(&bigger_app, "micropython", "v1.26.0"),
            4 * MB,
        );
        assert_eq!(
            d.erase,
            Erase::MoveFiles {
                from: (0x20_0000, 0x20_0000),
                to: (0x26_0000, 0x1A_0000)
            }
        );
        assert!(d.reason.to_string().contains("keeps its files at 0x260000"));
    }

    #[test]
    fn anything_else_is_erased_first() {
        let rows = micropython_table(0x1F_0000, None);
        let mp = new(&rows, "micropython", "v1.24.1");
        let other = decide(Some(&board(&rows, "blink", "1.0")), &mp, 4 * MB);
        assert_eq!(other.erase, Erase::All);
        assert!(other
            .reason
            .to_string()
            .contains("other firmware (\"blink\")"));
        let blank = BoardFlash::from_reads(&[0xFF; TABLE_LEN], None);
        assert_eq!(decide(Some(&blank), &mp, 4 * MB).reason, Reason::NoFirmware);
        assert_eq!(decide(None, &mp, 4 * MB).reason, Reason::Unknown);
        let not_mp = new(&rows, "hello_world", "1");
        let d = decide(Some(&board(&rows, "micropython", "v1")), &not_mp, 4 * MB);
        assert_eq!(d.erase, Erase::All);
    }

    #[test]
    fn a_merged_image_is_read_through_its_offsets() {
        // MicroPython's firmware.bin at 0x1000: the table at file offset 0x7000.
        let rows = micropython_table(0x1F_0000, None);
        let mut merged = vec![0xFF; 0xF000 + 0x200];
        merged[0x7000..0x7000 + TABLE_LEN].copy_from_slice(&build(&rows, true));
        merged[0xF000..].copy_from_slice(&app("micropython", "v1.27.0"));
        let n = NewFirmware::from_bytes(&[(0x1000, &merged)]);
        assert_eq!(n.table.unwrap().entries, rows);
        assert_eq!(n.app.unwrap().version, "v1.27.0");
    }
}
