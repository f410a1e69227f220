//! Open files: a private copy of the contents that reaches the filesystem on flush/close.

use super::{Fs, EEXIST, ENOENT};

/// A file opened by `open()`. Writes reach the filesystem on `flush()`/`close()`.
#[derive(Debug, Clone)]
pub struct OpenFile {
    pub path: String,
    pub data: Vec<u8>,
    pub pos: usize,
    pub readable: bool,
    pub writable: bool,
    pub binary: bool,
    pub closed: bool,
}

impl OpenFile {
    /// Opens `path` with a Python mode string (`r`, `w`, `a`, `r+`, with `b`/`t`).
    pub fn open(fs: &mut Fs, path: &str, mode: &str) -> Result<OpenFile, i64> {
        let binary = mode.contains('b');
        let plus = mode.contains('+');
        let key = fs.resolve(path);
        let (data, readable, writable) =
            match mode.chars().find(|c| "rwax".contains(*c)).unwrap_or('r') {
                'r' => (fs.read(path)?, true, plus),
                'w' => {
                    fs.write(path, Vec::new())?;
                    (Vec::new(), plus, true)
                }
                'a' => {
                    let old = match fs.read(path) {
                        Err(ENOENT) => Vec::new(),
                        other => other?,
                    };
                    fs.write(path, old.clone())?;
                    (old, plus, true)
                }
                _ => {
                    if fs.stat(path).is_ok() {
                        return Err(EEXIST);
                    }
                    fs.write(path, Vec::new())?;
                    (Vec::new(), plus, true)
                }
            };
        let pos = if mode.contains('a') { data.len() } else { 0 };
        Ok(OpenFile {
            path: format!("/{key}"),
            data,
            pos,
            readable,
            writable,
            binary,
            closed: false,
        })
    }

    pub fn read(&mut self, n: Option<usize>) -> Vec<u8> {
        let end = n
            .map_or(self.data.len(), |n| (self.pos + n).min(self.data.len()))
            .max(self.pos);
        let out = self.data[self.pos.min(end)..end].to_vec();
        self.pos = end;
        out
    }

    pub fn readline(&mut self) -> Vec<u8> {
        let rest = &self.data[self.pos.min(self.data.len())..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        self.read(Some(n))
    }

    pub fn write(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        self.data[self.pos..end].copy_from_slice(bytes);
        self.pos = end;
    }

    /// Puts the contents into the filesystem.
    pub fn flush(&self, fs: &mut Fs) -> Result<(), i64> {
        if self.writable && !self.closed {
            fs.write(&self.path, self.data.clone())?;
        }
        Ok(())
    }
}
