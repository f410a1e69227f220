//! Backing up a board's files as one tar archive before flashing, and putting them back
//! afterwards. The archive holds paths relative to the filesystem root.

use super::{Repl, ReplError, Result};
use crate::port::Port;

/// Packs `(path, bytes)` pairs into a tar archive.
pub fn pack(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        let name = path.trim_start_matches('/');
        // Names that do not fit the header are refused by the crate; they cannot occur on
        // MicroPython's filesystems in practice, so they are skipped rather than fatal.
        let _ = builder.append_data(&mut header, name, &data[..]);
    }
    builder.into_inner().unwrap_or_default()
}

/// Unpacks a tar archive into `(path, bytes)` pairs (regular files only).
pub fn unpack(archive: &[u8]) -> std::result::Result<Vec<(String, Vec<u8>)>, String> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut ar = tar::Archive::new(archive);
    let entries = ar
        .entries()
        .map_err(|e| crate::tf!("not a backup archive: {error}", error = e))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| crate::tf!("damaged backup archive: {error}", error = e))?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| crate::tf!("bad name in backup: {error}", error = e))?
            .to_string_lossy()
            .into_owned();
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| crate::tf!("damaged backup archive: {error}", error = e))?;
        out.push((format!("/{}", path.trim_start_matches('/')), data));
    }
    Ok(out)
}

impl<P: Port> Repl<P> {
    /// Reads every file on the board into an archive; `progress(files_done, files_total)`.
    pub async fn backup(
        &mut self,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<(Vec<u8>, usize)> {
        let paths = self.walk("").await?;
        let mut files = Vec::with_capacity(paths.len());
        for (i, (path, _)) in paths.iter().enumerate() {
            let data = self.read_file(path, |_| {}).await?;
            files.push((path.clone(), data));
            progress(i + 1, paths.len());
        }
        Ok((pack(&files), files.len()))
    }

    /// Writes every file of an archive back, creating folders as needed. Returns the count.
    pub async fn restore(
        &mut self,
        archive: &[u8],
        mut progress: impl FnMut(usize, usize),
    ) -> Result<usize> {
        let files = unpack(archive).map_err(ReplError::Protocol)?;
        for (i, (path, data)) in files.iter().enumerate() {
            let mut dir = String::new();
            let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            for part in &parts[..parts.len().saturating_sub(1)] {
                dir = format!("{dir}/{part}");
                // Already there is fine; anything else shows up when the file is written.
                let _ = self.make_dir(&dir).await;
            }
            self.write_file(path, data, |_| {}).await?;
            progress(i + 1, files.len());
        }
        Ok(files.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_round_trip_binary_files_and_folders() {
        let files = vec![
            ("/main.py".to_string(), b"print('hi')\n".to_vec()),
            ("/lib/data.bin".to_string(), (0..=255u8).collect::<Vec<_>>()),
            ("/empty.txt".to_string(), Vec::new()),
        ];
        let archive = pack(&files);
        assert_eq!(unpack(&archive).unwrap(), files);
    }

    #[test]
    fn garbage_is_not_an_archive() {
        let err = unpack(&[0x42; 1024]).unwrap_err();
        assert!(err.contains("backup archive"), "{err}");
    }
}
