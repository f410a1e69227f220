//! Files on the board, through the raw REPL: list, read, write (to a temporary name, then
//! renamed, so a failed upload never destroys the old file), delete, make directories, run.
//! The code sent is what mpremote sends, so any board mpremote works with works here.

use std::time::Duration;

use super::pylit::{self, bytes_repr, str_repr, Lit};
use super::{Output, Repl, ReplError, Result};
use crate::port::Port;

/// Bytes per write call, as mpremote: the code line must fit a small board's input buffer.
const CHUNK: usize = 256;
/// Bytes per read call: only the answer grows, so reads can take bigger steps.
const READ_CHUNK: usize = 1024;
const STEP: Duration = Duration::from_secs(5);

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub is_dir: bool,
    pub size: u64,
}

fn join(dir: &str, name: &str) -> String {
    match dir {
        "" | "/" => format!("/{name}"),
        d => format!("{}/{name}", d.trim_end_matches('/')),
    }
}

impl<P: Port> Repl<P> {
    /// Lists `dir` ("" for the current directory), directories first, by name.
    pub async fn list(&mut self, dir: &str) -> Result<Vec<Entry>> {
        let arg = if dir.is_empty() {
            String::new()
        } else {
            str_repr(dir)
        };
        let code = format!("import os\nfor f in os.ilistdir({arg}):\n print(repr(f), end=',')");
        let out = self.exec(&code, STEP).await?.ok()?;
        let items = pylit::parse_seq(&out.stdout_text()).map_err(ReplError::Protocol)?;
        let mut entries = Vec::new();
        for item in items {
            let Lit::Tuple(fields) = item else {
                return Err(ReplError::Protocol("listing entry is not a tuple".into()));
            };
            let name = match fields.first() {
                Some(Lit::Str(n)) => n.clone(),
                _ => return Err(ReplError::Protocol("listing entry has no name".into())),
            };
            let kind = match fields.get(1) {
                Some(Lit::Int(k)) => *k,
                _ => 0,
            };
            let is_dir = kind & 0x4000 != 0;
            let size = match fields.get(3) {
                Some(Lit::Int(s)) => *s as u64,
                // Some ports list no size: ask for it.
                _ if !is_dir => self.size_of(&join(dir, &name)).await?,
                _ => 0,
            };
            entries.push(Entry { name, is_dir, size });
        }
        entries.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then(a.name.cmp(&b.name)));
        Ok(entries)
    }

    /// A file's size from `os.stat`.
    pub async fn size_of(&mut self, path: &str) -> Result<u64> {
        let out = self
            .exec(
                &format!("import os\nprint(os.stat({})[6])", str_repr(path)),
                STEP,
            )
            .await?
            .ok()?;
        out.stdout_text()
            .trim()
            .parse()
            .map_err(|_| ReplError::Protocol(format!("bad size for {path}")))
    }

    /// Every file below `dir` (recursively), as full paths.
    pub async fn walk(&mut self, dir: &str) -> Result<Vec<(String, u64)>> {
        let mut out = Vec::new();
        let mut todo = vec![dir.to_string()];
        while let Some(d) = todo.pop() {
            for e in self.list(&d).await? {
                let path = join(&d, &e.name);
                if e.is_dir {
                    todo.push(path);
                } else {
                    out.push((path, e.size));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Reads a whole file.
    pub async fn read_file(
        &mut self,
        path: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<u8>> {
        self.exec(&format!("f=open({},'rb')\nr=f.read", str_repr(path)), STEP)
            .await?
            .ok()?;
        let mut data = Vec::new();
        loop {
            let out = self
                .exec(&format!("print(repr(r({READ_CHUNK})))"), STEP)
                .await?
                .ok()?;
            match pylit::parse(out.stdout_text().trim()).map_err(ReplError::Protocol)? {
                Lit::Bytes(chunk) if chunk.is_empty() => break,
                Lit::Bytes(chunk) => data.extend_from_slice(&chunk),
                other => {
                    return Err(ReplError::Protocol(format!(
                        "expected bytes, got {other:?}"
                    )))
                }
            }
            progress(data.len());
        }
        self.exec("f.close()", STEP).await?.ok()?;
        Ok(data)
    }

    /// Writes a whole file: to `<path>.tmp` first, renamed over `path` only when complete.
    pub async fn write_file(
        &mut self,
        path: &str,
        data: &[u8],
        mut progress: impl FnMut(usize),
    ) -> Result<()> {
        let tmp = format!("{path}.tmp");
        self.exec(&format!("f=open({},'wb')\nw=f.write", str_repr(&tmp)), STEP)
            .await?
            .ok()?;
        for (i, chunk) in data.chunks(CHUNK).enumerate() {
            if let Err(e) = self
                .exec(&format!("w({})", bytes_repr(chunk)), STEP)
                .await
                .and_then(Output::ok)
            {
                let _ = self
                    .exec(
                        &format!("f.close()\nimport os\nos.remove({})", str_repr(&tmp)),
                        STEP,
                    )
                    .await;
                return Err(e);
            }
            progress((i * CHUNK + chunk.len()).min(data.len()));
        }
        self.exec("f.close()", STEP).await?.ok()?;
        // Some filesystems will not rename over an existing file: remove it only now.
        let rename = format!(
            "import os\nos.rename({},{})",
            str_repr(&tmp),
            str_repr(path)
        );
        if self.exec(&rename, STEP).await?.ok().is_err() {
            self.exec(&format!("import os\nos.remove({})", str_repr(path)), STEP)
                .await?
                .ok()?;
            self.exec(&rename, STEP).await?.ok()?;
        }
        Ok(())
    }

    pub async fn remove(&mut self, path: &str) -> Result<()> {
        self.exec(&format!("import os\nos.remove({})", str_repr(path)), STEP)
            .await?
            .ok()?;
        Ok(())
    }

    pub async fn make_dir(&mut self, path: &str) -> Result<()> {
        self.exec(&format!("import os\nos.mkdir({})", str_repr(path)), STEP)
            .await?
            .ok()?;
        Ok(())
    }

    /// Runs a file from the board, streaming what it prints. The traceback is returned, not raised.
    pub async fn run_file(
        &mut self,
        path: &str,
        timeout: Duration,
        on_stdout: impl FnMut(&[u8]),
    ) -> Result<Output> {
        let source = self.read_file(path, |_| {}).await?;
        let code = String::from_utf8(source)
            .map_err(|_| ReplError::Protocol(format!("{path} is not text")))?;
        self.exec_streaming(&code, timeout, on_stdout).await
    }
}
