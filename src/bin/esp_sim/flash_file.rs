//! `--flash-file`: the flash contents kept in a file, so tests can check what a tool wrote.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file mirroring the simulated flash. Saved whole and atomically, so a reader never sees
/// a half-written image.
pub struct FlashFile {
    path: PathBuf,
    saved_generation: Option<u64>,
}

impl FlashFile {
    pub fn new(path: PathBuf) -> Self {
        FlashFile {
            path,
            saved_generation: None,
        }
    }

    /// The initial contents, if the file exists.
    pub fn load(&self) -> io::Result<Option<Vec<u8>>> {
        match fs::read(&self.path) {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether flash generation `generation` still has to be written out.
    pub fn is_stale(&self, generation: u64) -> bool {
        self.saved_generation != Some(generation)
    }

    /// Writes `flash` (which is at `generation`) unless that generation is already saved.
    pub fn save(&mut self, flash: &[u8], generation: u64) -> io::Result<()> {
        if !self.is_stale(generation) {
            return Ok(());
        }
        write_atomically(&self.path, flash)?;
        self.saved_generation = Some(generation);
        Ok(())
    }
}

/// Writes to a temporary file beside `path`, then renames it over `path` (atomic on POSIX).
fn write_atomically(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = fs::File::create(&tmp)?;
    file.write_all(data)?;
    file.flush()?;
    drop(file);
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_each_generation_once_and_loads_it_back() {
        let dir = std::env::temp_dir().join(format!("esp-sim-ff-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("flash.bin");
        let mut ff = FlashFile::new(path.clone());
        assert_eq!(ff.load().unwrap(), None);
        assert!(ff.is_stale(0));
        ff.save(&[1, 2, 3], 0).unwrap();
        assert!(!ff.is_stale(0));
        assert_eq!(ff.load().unwrap(), Some(vec![1, 2, 3]));
        // The same generation is not written again, even if the bytes passed differ.
        ff.save(&[9], 0).unwrap();
        assert_eq!(fs::read(&path).unwrap(), [1, 2, 3]);
        ff.save(&[4, 5], 1).unwrap();
        assert_eq!(fs::read(&path).unwrap(), [4, 5]);
        assert!(!dir.join("flash.bin.tmp").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
