//! A Pico's whole-flash backup file: what was read by PICOBOOT, and what it came from, so a
//! restore can refuse a backup of another chip or flash size and a damaged file.
//!
//! ```text
//! "WFPICO1\n"  then one line of JSON: {"chip":"RP2040","unique_id":"E661…","date":"2026-12-06",
//!              "flash_size":2097152,"sha256":"…"}  then "\n", then flash_size bytes of flash.
//! ```
//! The container is [`super::backup_file`], shared with the ESP's backup.

use super::backup_file::{self, ContainerError};
use super::rp2::Rp2Chip;
use crate::i18n::{kb, t};

pub const MAGIC: &[u8] = b"WFPICO1\n";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub chip: Rp2Chip,
    /// The board's unique id (hex), when it was known.
    pub unique_id: String,
    pub date: String,
    pub flash: Vec<u8>,
}

/// Why a backup cannot be restored here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupError {
    /// Not a backup made by this page.
    NotABackup,
    /// Cut short, or its bytes do not match its SHA-256.
    Damaged,
    OtherChip {
        backup: Rp2Chip,
        board: Rp2Chip,
    },
    OtherSize {
        backup: usize,
        board: usize,
    },
}

impl std::fmt::Display for BackupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackupError::NotABackup => f.write_str(t("This is not a Pico flash backup made by this page. Choose the .picobackup file you saved. Nothing was written.")),
            BackupError::Damaged => f.write_str(t("This backup is damaged (it is cut short, or its bytes do not match its SHA-256). Nothing was written.")),
            BackupError::OtherChip { backup, board } => f.write_str(&crate::tf!("This backup is of an {backup}, but the board is an {board}. Nothing was written.", backup = backup.name(), board = board.name())),
            BackupError::OtherSize { backup, board } => f.write_str(&crate::tf!("This backup holds {backup} of flash, but this board has {board}. Nothing was written.", backup = kb(*backup as u64), board = kb(*board as u64))),
        }
    }
}

/// The chip as the file names it.
fn chip_id(chip: Rp2Chip) -> &'static str {
    match chip {
        Rp2Chip::Rp2040 => "RP2040",
        Rp2Chip::Rp2350 => "RP2350",
    }
}

impl Backup {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let fields = [
            ("chip", chip_id(self.chip)),
            ("unique_id", self.unique_id.as_str()),
            ("date", self.date.as_str()),
        ];
        backup_file::encode(MAGIC, &fields, &self.flash)
    }

    /// Reads a backup file whole, checking its digest.
    pub fn decode(bytes: &[u8]) -> Result<Backup, BackupError> {
        let d = backup_file::decode(MAGIC, bytes).map_err(|e| match e {
            ContainerError::NotABackup => BackupError::NotABackup,
            ContainerError::Damaged => BackupError::Damaged,
        })?;
        let chip = match d.text("chip").as_str() {
            "RP2040" => Rp2Chip::Rp2040,
            "RP2350" => Rp2Chip::Rp2350,
            _ => return Err(BackupError::Damaged),
        };
        Ok(Backup {
            chip,
            unique_id: d.text("unique_id"),
            date: d.text("date"),
            flash: d.flash,
        })
    }

    /// Whether it may be restored onto a `chip` with `flash_size` bytes (`None`: unknown, as
    /// on blank flash; the backup's size is then trusted, the chip still checked).
    pub fn fits(&self, chip: Rp2Chip, flash_size: Option<usize>) -> Result<(), BackupError> {
        if self.chip != chip {
            return Err(BackupError::OtherChip {
                backup: self.chip,
                board: chip,
            });
        }
        match flash_size {
            Some(size) if size != self.flash.len() => Err(BackupError::OtherSize {
                backup: self.flash.len(),
                board: size,
            }),
            _ => Ok(()),
        }
    }

    /// The whole flash as 256-byte pages to install: every sector is erased and written, so
    /// what the board held since the backup is gone, and the read-back covers all of it.
    pub fn pages(&self) -> Vec<(u32, Vec<u8>)> {
        self.flash
            .chunks(256)
            .enumerate()
            .map(|(i, p)| (super::rp2::FLASH_BASE + (i * 256) as u32, p.to_vec()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup() -> Backup {
        let mut flash = vec![0xFF; 64 * 1024];
        flash[..5].copy_from_slice(b"hello");
        Backup {
            chip: Rp2Chip::Rp2350,
            unique_id: "E6613852834A202C".into(),
            date: "2026-12-06".into(),
            flash,
        }
    }

    #[test]
    fn a_backup_round_trips_and_says_what_it_came_from() {
        let b = backup();
        let bytes = b.encode();
        assert!(bytes.starts_with(b"WFPICO1\n{\"chip\":\"RP2350\",\"unique_id\":\"E6613852834A202C\",\"date\":\"2026-12-06\",\"flash_size\":65536,"));
        // A file written before the fields were reordered (flash_size before date) still reads.
        let header_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        let header_end = header_end
            + bytes[header_end..]
                .iter()
                .position(|&b| b == b'\n')
                .unwrap();
        let header = std::str::from_utf8(&bytes[8..header_end]).unwrap();
        let older = header.replace(
            ",\"date\":\"2026-12-06\",\"flash_size\":65536,",
            ",\"flash_size\":65536,\"date\":\"2026-12-06\",",
        );
        assert_ne!(older, header);
        let mut old_file = b"WFPICO1\n".to_vec();
        old_file.extend_from_slice(older.as_bytes());
        old_file.extend_from_slice(&bytes[header_end..]);
        assert_eq!(Backup::decode(&old_file).unwrap(), b);
        assert_eq!(Backup::decode(&bytes).unwrap(), b);
        assert_eq!(b.pages().len(), 256, "every page, blank ones too");
    }

    #[test]
    fn a_damaged_or_foreign_file_and_another_board_are_refused() {
        let bytes = backup().encode();
        assert_eq!(
            Backup::decode(&bytes[..bytes.len() - 1]),
            Err(BackupError::Damaged)
        );
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(Backup::decode(&flipped), Err(BackupError::Damaged));
        assert_eq!(Backup::decode(b"UF2\n..."), Err(BackupError::NotABackup));
        let b = backup();
        let err = b.fits(Rp2Chip::Rp2040, Some(64 * 1024)).unwrap_err();
        assert!(
            err.to_string()
                .contains("RP2350 (Raspberry Pi Pico 2), but the board is an RP2040"),
            "{err}"
        );
        assert!(matches!(
            b.fits(Rp2Chip::Rp2350, Some(4 << 20)),
            Err(BackupError::OtherSize { .. })
        ));
        assert!(b.fits(Rp2Chip::Rp2350, None).is_ok());
    }
}
