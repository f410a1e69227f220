//! The board's filesystem, kept IN the simulated flash so it behaves like the real one: it
//! survives resets and `--flash-file` restarts, an erase-all wipes it, and a firmware write
//! that does not touch the region keeps it.
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
//! other content that does not verify is "corrupted", as MicroPython reports it.

use std::collections::BTreeMap;

use super::super::flash::{NorFlash, SECTOR};

mod file;
pub use file::OpenFile;

pub const MAGIC: &[u8; 8] = b"WFSIMFS1";
const HEADER: usize = 16;

pub const ENOENT: i64 = 2;
pub const EEXIST: i64 = 17;
pub const ENOTDIR: i64 = 20;
pub const EISDIR: i64 = 21;
pub const EINVAL: i64 = 22;
pub const ENOSPC: i64 = 28;
pub const ENOTEMPTY: i64 = 39;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    File(Vec<u8>),
    Dir,
}

/// What the filesystem region held at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mounted {
    /// Our table, read back.
    Ok,
    /// Erased flash: formatted now ("Performing initial setup").
    Blank,
    /// Something else: MicroPython prints its corruption notice and runs without it.
    Corrupt,
}

#[derive(Debug, Clone)]
pub struct Fs {
    /// Keys are paths without the leading '/'; the root is implicit.
    entries: BTreeMap<String, Node>,
    cwd: String,
    region: (usize, usize),
    /// Changed since last saved to flash.
    pub dirty: bool,
    /// False for the stand-in used when the region is corrupt: never written back.
    persistent: bool,
    saved_len: usize,
}

impl Fs {
    /// Reads the filesystem in `flash[start..start + len]`.
    pub fn mount(flash: &[u8], start: usize, len: usize) -> (Fs, Mounted) {
        let mut fs = Fs {
            entries: BTreeMap::new(),
            cwd: String::new(),
            region: (start, len),
            dirty: false,
            persistent: true,
            saved_len: 0,
        };
        let region = flash.get(start..start + len).unwrap_or(&[]);
        if region.is_empty() {
            fs.persistent = false;
            return (fs, Mounted::Corrupt);
        }
        if region[..SECTOR.min(region.len())]
            .iter()
            .all(|&b| b == 0xFF)
        {
            fs.dirty = true;
            return (fs, Mounted::Blank);
        }
        match decode(region) {
            Some((entries, used)) => {
                fs.entries = entries;
                fs.saved_len = used;
                (fs, Mounted::Ok)
            }
            None => {
                fs.persistent = false;
                (fs, Mounted::Corrupt)
            }
        }
    }

    /// Writes the table back into flash if it changed (erase, then program, as a chip would).
    pub fn save(&mut self, flash: &mut NorFlash) {
        if !self.dirty || !self.persistent {
            self.dirty = false;
            return;
        }
        self.dirty = false;
        let bytes = encode(&self.entries);
        let (start, _) = self.region;
        flash.erase(start, bytes.len().max(self.saved_len));
        flash.program(start, &bytes);
        self.saved_len = bytes.len();
    }

    fn capacity(&self) -> usize {
        self.region.1
    }

    fn used(&self) -> usize {
        HEADER
            + self
                .entries
                .iter()
                .map(|(k, n)| {
                    3 + k.len()
                        + if let Node::File(d) = n {
                            4 + d.len()
                        } else {
                            0
                        }
                })
                .sum::<usize>()
    }

    /// `path` made absolute (without the leading '/'), with `.` and `..` resolved.
    pub fn resolve(&self, path: &str) -> String {
        let mut parts: Vec<&str> = if path.starts_with('/') {
            Vec::new()
        } else {
            self.cwd.split('/').filter(|p| !p.is_empty()).collect()
        };
        for p in path.split('/') {
            match p {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p),
            }
        }
        parts.join("/")
    }

    fn is_dir(&self, key: &str) -> bool {
        key.is_empty() || self.entries.get(key) == Some(&Node::Dir)
    }

    fn parent_ok(&self, key: &str) -> Result<(), i64> {
        let parent = key.rsplit_once('/').map_or("", |(p, _)| p);
        match self.is_dir(parent) {
            true => Ok(()),
            false if self.entries.contains_key(parent) => Err(ENOTDIR),
            false => Err(ENOENT),
        }
    }

    pub fn getcwd(&self) -> String {
        format!("/{}", self.cwd)
    }

    pub fn chdir(&mut self, path: &str) -> Result<(), i64> {
        let key = self.resolve(path);
        if !self.is_dir(&key) {
            return Err(if self.entries.contains_key(&key) {
                ENOTDIR
            } else {
                ENOENT
            });
        }
        self.cwd = key;
        Ok(())
    }

    /// Entries of a directory: (name, is_dir, size).
    pub fn listdir(&self, path: &str) -> Result<Vec<(String, bool, usize)>, i64> {
        let key = self.resolve(path);
        if !self.is_dir(&key) {
            return Err(if self.entries.contains_key(&key) {
                ENOTDIR
            } else {
                ENOENT
            });
        }
        let prefix = if key.is_empty() {
            String::new()
        } else {
            format!("{key}/")
        };
        Ok(self
            .entries
            .iter()
            .filter_map(|(k, n)| {
                let name = k.strip_prefix(&prefix)?;
                if name.contains('/') {
                    return None;
                }
                Some(match n {
                    Node::File(d) => (name.to_string(), false, d.len()),
                    Node::Dir => (name.to_string(), true, 0),
                })
            })
            .collect())
    }

    /// (is_dir, size).
    pub fn stat(&self, path: &str) -> Result<(bool, usize), i64> {
        let key = self.resolve(path);
        match self.entries.get(&key) {
            _ if key.is_empty() => Ok((true, 0)),
            Some(Node::Dir) => Ok((true, 0)),
            Some(Node::File(d)) => Ok((false, d.len())),
            None => Err(ENOENT),
        }
    }

    pub fn read(&self, path: &str) -> Result<Vec<u8>, i64> {
        let key = self.resolve(path);
        match self.entries.get(&key) {
            Some(Node::File(d)) => Ok(d.clone()),
            _ if self.is_dir(&key) => Err(EISDIR),
            _ => Err(ENOENT),
        }
    }

    pub fn write(&mut self, path: &str, data: Vec<u8>) -> Result<(), i64> {
        let key = self.resolve(path);
        if self.is_dir(&key) {
            return Err(EISDIR);
        }
        self.parent_ok(&key)?;
        let old = match self.entries.get(&key) {
            Some(Node::File(d)) => d.len(),
            _ => 0,
        };
        if self.used() - old + data.len() + 7 + key.len() > self.capacity() {
            return Err(ENOSPC);
        }
        self.entries.insert(key, Node::File(data));
        self.dirty = true;
        Ok(())
    }

    pub fn mkdir(&mut self, path: &str) -> Result<(), i64> {
        let key = self.resolve(path);
        if self.is_dir(&key) || self.entries.contains_key(&key) {
            return Err(EEXIST);
        }
        self.parent_ok(&key)?;
        self.entries.insert(key, Node::Dir);
        self.dirty = true;
        Ok(())
    }

    pub fn remove(&mut self, path: &str) -> Result<(), i64> {
        let key = self.resolve(path);
        match self.entries.get(&key) {
            Some(Node::File(_)) => {
                self.entries.remove(&key);
                self.dirty = true;
                Ok(())
            }
            _ if self.is_dir(&key) => Err(EISDIR),
            _ => Err(ENOENT),
        }
    }

    pub fn rmdir(&mut self, path: &str) -> Result<(), i64> {
        let key = self.resolve(path);
        match self.entries.get(&key) {
            Some(Node::Dir) => {
                let prefix = format!("{key}/");
                if self.entries.keys().any(|k| k.starts_with(&prefix)) {
                    return Err(ENOTEMPTY);
                }
                self.entries.remove(&key);
                self.dirty = true;
                Ok(())
            }
            Some(Node::File(_)) => Err(ENOTDIR),
            None if key.is_empty() => Err(EINVAL),
            None => Err(ENOENT),
        }
    }

    /// Moves a file or a directory with everything in it; replaces an existing file.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), i64> {
        let (from, to) = (self.resolve(from), self.resolve(to));
        if !self.entries.contains_key(&from) {
            return Err(ENOENT);
        }
        self.parent_ok(&to)?;
        if self.entries.get(&to) == Some(&Node::Dir) || to.starts_with(&format!("{from}/")) {
            return Err(EINVAL);
        }
        let prefix = format!("{from}/");
        let moved: Vec<String> = self
            .entries
            .keys()
            .filter(|k| **k == from || k.starts_with(&prefix))
            .cloned()
            .collect();
        for k in moved {
            let node = self.entries.remove(&k).unwrap();
            self.entries
                .insert(format!("{to}{}", &k[from.len()..]), node);
        }
        self.dirty = true;
        Ok(())
    }

    /// (block size, total blocks, free blocks), as `os.statvfs` reports them.
    pub fn blocks(&self) -> (usize, usize, usize) {
        let total = self.capacity() / SECTOR;
        (
            SECTOR,
            total,
            total.saturating_sub(self.used().div_ceil(SECTOR)),
        )
    }
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811C_9DC5u32, |h, &b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    })
}

fn encode(entries: &BTreeMap<String, Node>) -> Vec<u8> {
    let mut payload = Vec::new();
    for (name, node) in entries {
        payload.push(if matches!(node, Node::File(_)) { 1 } else { 2 });
        payload.extend_from_slice(&(name.len() as u16).to_le_bytes());
        payload.extend_from_slice(name.as_bytes());
        if let Node::File(data) = node {
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
fn decode(region: &[u8]) -> Option<(BTreeMap<String, Node>, usize)> {
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
                let data = payload.get(i + 4..i + 4 + size)?.to_vec();
                i += 4 + size;
                Node::File(data)
            }
            2 => Node::Dir,
            _ => return None,
        };
        entries.insert(name, node);
    }
    Some((entries, HEADER + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: usize = 2 * SECTOR;

    fn blank() -> NorFlash {
        NorFlash::new(8 * SECTOR)
    }

    #[test]
    fn round_trips_through_flash() {
        let mut flash = blank();
        let (mut fs, m) = Fs::mount(flash.contents(), START, 6 * SECTOR);
        assert_eq!(m, Mounted::Blank);
        fs.mkdir("lib").unwrap();
        let all: Vec<u8> = (0..=255).collect();
        fs.write("/lib/x.bin", all.clone()).unwrap();
        fs.write("main.py", b"print(1)\n".to_vec()).unwrap();
        fs.save(&mut flash);
        assert_eq!(&flash.contents()[START..START + 8], MAGIC);
        assert!(flash.is_blank(0, START), "nothing outside the region");
        let (back, m) = Fs::mount(flash.contents(), START, 6 * SECTOR);
        assert_eq!(m, Mounted::Ok);
        assert_eq!(back.read("lib/x.bin").unwrap(), all);
        assert_eq!(
            back.listdir("/").unwrap(),
            vec![("lib".into(), true, 0), ("main.py".into(), false, 9)]
        );
        // A smaller table after a delete leaves no stale tail that could confuse a reader.
        let mut fs = back;
        fs.remove("lib/x.bin").unwrap();
        fs.save(&mut flash);
        let (back, _) = Fs::mount(flash.contents(), START, 6 * SECTOR);
        assert_eq!(back.listdir("lib").unwrap(), vec![]);
    }

    #[test]
    fn garbage_is_corrupt_and_never_written() {
        let mut flash = blank();
        flash.program(START + 100, b"not a filesystem");
        let (mut fs, m) = Fs::mount(flash.contents(), START, 6 * SECTOR);
        assert_eq!(m, Mounted::Corrupt);
        fs.write("a", b"x".to_vec()).unwrap();
        let before = flash.contents().to_vec();
        fs.save(&mut flash);
        assert_eq!(flash.contents(), &before[..]);
        // A flipped payload bit fails the checksum.
        let mut flash = blank();
        let (mut fs, _) = Fs::mount(flash.contents(), START, 6 * SECTOR);
        fs.write("a", b"x".to_vec()).unwrap();
        fs.save(&mut flash);
        let mut bytes = flash.contents().to_vec();
        bytes[START + HEADER + 5] ^= 1;
        assert_eq!(Fs::mount(&bytes, START, 6 * SECTOR).1, Mounted::Corrupt);
    }

    #[test]
    fn errors_are_posix_errnos() {
        let (mut fs, _) = Fs::mount(blank().contents(), START, 6 * SECTOR);
        assert_eq!(fs.read("nope"), Err(ENOENT));
        assert_eq!(fs.write("d/x", vec![]), Err(ENOENT));
        fs.mkdir("d").unwrap();
        assert_eq!(fs.mkdir("d"), Err(EEXIST));
        fs.write("d/x", vec![1]).unwrap();
        assert_eq!(fs.rmdir("d"), Err(ENOTEMPTY));
        assert_eq!(fs.remove("d"), Err(EISDIR));
        fs.rename("d", "e").unwrap();
        assert_eq!(fs.read("/e/x").unwrap(), vec![1]);
        fs.chdir("e").unwrap();
        assert_eq!(fs.read("x").unwrap(), vec![1]);
        assert_eq!(fs.getcwd(), "/e");
        assert_eq!(fs.write("big", vec![0; 6 * SECTOR]), Err(ENOSPC));
    }
}
