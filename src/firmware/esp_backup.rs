//! An ESP board's whole-flash backup file (`.espbackup`): the flash as the stub read it (every
//! segment checked by MD5), and what it came from, so that a restore can refuse a backup of
//! another chip or flash size, and a damaged file. The rollback for a board whose original
//! firmware was not MicroPython. Container: [`crate::boards::backup_file`].
//!
//! ```text
//! "WFESP1\n" {"chip":"ESP32-C3","mac":"24:0a:c4:12:34:56","date":"2026-12-06",
//!             "flash_size":4194304,"sha256":"…"}\n  then the flash.
//! ```

use crate::boards::backup_file::{self, ContainerError};
use crate::i18n::{kb, t};
use crate::protocol::chip::Chip;

pub const MAGIC: &[u8] = b"WFESP1\n";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspBackup {
    pub chip: Chip,
    /// The board's MAC (`aa:bb:…`), which tells boards of one kind apart.
    pub mac: String,
    pub date: String,
    pub flash: Vec<u8>,
}

/// Why a backup cannot be restored onto this board. Every message ends in what was (not) done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EspBackupError {
    NotABackup,
    Damaged,
    OtherChip { backup: Chip, board: Chip },
    OtherSize { backup: usize, board: usize },
}

impl std::fmt::Display for EspBackupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EspBackupError::NotABackup => f.write_str(t("This is not an ESP flash backup made by this page. Choose the .espbackup file you saved. Nothing was written.")),
            EspBackupError::Damaged => f.write_str(t("This backup is damaged (it is cut short, or its bytes do not match its SHA-256). Nothing was written.")),
            EspBackupError::OtherChip { backup, board } => f.write_str(&crate::tf!("This backup is of an {backup}, but the board is an {board}: its firmware would not start here. Choose the backup of this board. Nothing was written.", backup = backup, board = board)),
            EspBackupError::OtherSize { backup, board } => f.write_str(&crate::tf!("This backup holds {backup} of flash, but this board has {board}. Choose the backup of this board. Nothing was written.", backup = kb(*backup as u64), board = kb(*board as u64))),
        }
    }
}

impl From<ContainerError> for EspBackupError {
    fn from(e: ContainerError) -> Self {
        match e {
            ContainerError::NotABackup => EspBackupError::NotABackup,
            ContainerError::Damaged => EspBackupError::Damaged,
        }
    }
}

impl EspBackup {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let fields = [
            ("chip", self.chip.spec().name),
            ("mac", self.mac.as_str()),
            ("date", self.date.as_str()),
        ];
        backup_file::encode(MAGIC, &fields, &self.flash)
    }

    /// Reads a backup file whole, checking its digest.
    pub fn decode(bytes: &[u8]) -> Result<EspBackup, EspBackupError> {
        let d = backup_file::decode(MAGIC, bytes)?;
        let chip = crate::protocol::chip::CHIPS
            .iter()
            .find(|s| s.name == d.text("chip"))
            .map(|s| s.chip)
            .ok_or(EspBackupError::Damaged)?;
        Ok(EspBackup {
            chip,
            mac: d.text("mac"),
            date: d.text("date"),
            flash: d.flash,
        })
    }

    /// Whether it may be restored onto a `chip` with `flash_size` bytes of flash.
    pub fn fits(&self, chip: Chip, flash_size: usize) -> Result<(), EspBackupError> {
        if self.chip != chip {
            return Err(EspBackupError::OtherChip {
                backup: self.chip,
                board: chip,
            });
        }
        if self.flash.len() != flash_size {
            return Err(EspBackupError::OtherSize {
                backup: self.flash.len(),
                board: flash_size,
            });
        }
        Ok(())
    }

    /// A file name that says which board and when: `esp32-c3-240ac4123456-2026-12-06.espbackup`.
    pub fn file_name(&self) -> String {
        let mac: String = self.mac.chars().filter(char::is_ascii_hexdigit).collect();
        format!(
            "{}-{mac}-{}.espbackup",
            self.chip.spec().name.to_ascii_lowercase(),
            self.date
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(chip: Chip, size: usize) -> EspBackup {
        EspBackup {
            chip,
            mac: "24:0a:c4:12:34:56".into(),
            date: "2026-12-06".into(),
            flash: (0..size).map(|i| (i * 7 + 1) as u8).collect(),
        }
    }

    #[test]
    fn a_backup_round_trips_and_names_its_board() {
        let b = backup(Chip::Esp32C3, 64 << 10);
        let file = b.encode();
        assert!(file.starts_with(MAGIC));
        assert_eq!(EspBackup::decode(&file), Ok(b.clone()));
        assert_eq!(b.file_name(), "esp32-c3-240ac4123456-2026-12-06.espbackup");
        assert_eq!(b.fits(Chip::Esp32C3, 64 << 10), Ok(()));
    }

    #[test]
    fn another_chip_size_kind_or_damage_is_refused_with_nothing_written() {
        let b = backup(Chip::Esp32S3, 64 << 10);
        let said = |e: EspBackupError| {
            let text = e.to_string();
            assert!(text.ends_with("Nothing was written."), "{text}");
            text
        };
        let other = b.fits(Chip::Esp32, 64 << 10).unwrap_err();
        assert!(said(other).contains("backup is of an ESP32-S3, but the board is an ESP32"));
        let size = b.fits(Chip::Esp32S3, 4 << 20).unwrap_err();
        assert!(said(size).contains("holds 64 KB of flash, but this board has 4096 KB"));
        let mut file = b.encode();
        file.truncate(file.len() - 1);
        assert_eq!(EspBackup::decode(&file), Err(EspBackupError::Damaged));
        let pico = crate::boards::rp2_backup::MAGIC;
        assert_eq!(EspBackup::decode(pico), Err(EspBackupError::NotABackup));
        said(EspBackupError::NotABackup);
        said(EspBackupError::Damaged);
    }
}
