//! Files on the board, through the raw REPL: list, read, write (to a temporary name, then
//! renamed, so a failed upload never destroys the old file), delete, make directories, run.
//!
//! Transfers use what every MicroPython build has, asked once per session ([`Transfer`]):
//! file bytes travel as base64 (`binascii`, a third more than the bytes; `repr` text takes
//! 2.5-4 times) in steps of a few KB (raw-paste paces them to the board's buffers), and a
//! written file is hashed on the board (`hashlib.sha256`) and compared before it replaces the
//! old one. A download streams the whole file in one program and ends with its hash. Boards
//! without those modules get mpremote's method (`repr` chunks) and a size check instead.

use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};

use super::pylit::{self, bytes_repr, str_repr, Lit};
use super::{Output, Repl, ReplError, Result};
use crate::firmware::manifest::hex;
use crate::port::Port;

/// Bytes per write call without base64, as mpremote: the line must fit a small board's buffer.
const CHUNK: usize = 256;
/// Bytes per write call with base64 (4 KB of code text): few round trips, little board memory.
const B64_CHUNK: usize = 3072;
/// Bytes per read call without base64: only the answer grows, so reads take bigger steps.
const READ_CHUNK: usize = 1024;
/// Bytes per read on the board when streaming base64 (a multiple of 3: no padding mid-file).
const B64_READ: usize = 1536;
const STEP: Duration = Duration::from_secs(5);
/// Tries of an upload step whose text arrived garbled (see `Repl::write_file`).
const STEP_ATTEMPTS: u32 = 3;
/// Tries of a whole transfer the link damaged.
const TRANSFER_ATTEMPTS: u32 = 3;
/// A transfer that keeps talking may take as long as it needs; one silent this long has stalled.
const IDLE: Duration = Duration::from_secs(5);
const WHOLE_FILE: Duration = Duration::from_secs(24 * 3600);

/// What the firmware offers for file transfers (asked once per session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// `binascii.a2b_base64` and `b2a_base64`.
    pub base64: bool,
    /// `hashlib.sha256`.
    pub sha256: bool,
}

/// How a transferred file was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// Its SHA-256 on the board equals the local one.
    Sha256,
    /// Only its length (the firmware has no `hashlib`).
    Size,
}

const PROBE: &str = "c=''\ntry:\n import binascii\n binascii.a2b_base64;binascii.b2a_base64\n c+='b'\nexcept:\n pass\ntry:\n import hashlib\n hashlib.sha256\n c+='h'\nexcept:\n pass\nprint(c)";

/// The board-side summary of bytes read in a loop as `b`: code to set it up, to add `b`, and
/// to print it as `#<sha256 hex>` (or `=<size>` without hashlib). Needs `binascii` imported.
struct Summary {
    init: &'static str,
    update: &'static str,
    print: &'static str,
}

fn summary(sha256: bool) -> Summary {
    if sha256 {
        Summary {
            init: "import hashlib\nh=hashlib.sha256()",
            update: "h.update(b)",
            print: "print('#'+binascii.hexlify(h.digest()).decode())",
        }
    } else {
        Summary {
            init: "n=0",
            update: "n+=len(b)",
            print: "print('='+str(n))",
        }
    }
}

/// Compares the board's `#hash` / `=size` line with `data`.
fn matches(line: &str, data: &[u8]) -> Option<Checked> {
    let line = line.trim();
    if let Some(h) = line.strip_prefix('#') {
        (h == hex(&Sha256::digest(data))).then_some(Checked::Sha256)
    } else if let Some(n) = line.strip_prefix('=') {
        (n.parse::<usize>().ok() == Some(data.len())).then_some(Checked::Size)
    } else {
        None
    }
}

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
        // One round trip: a port whose listing has no size (4th field) is asked by os.stat.
        let prefix = str_repr(&join(dir, ""));
        let code = format!(
            "import os\nfor f in os.ilistdir({arg}):\n print(repr((f[0],f[1],0,f[3] if len(f)>3 else os.stat({prefix}+f[0])[6])), end=',')"
        );
        let out = self.exec(&code, STEP).await?.ok()?;
        let items = pylit::parse_seq(&out.stdout_text()).map_err(ReplError::Protocol)?;
        let mut entries = Vec::new();
        for item in items {
            let Lit::Tuple(fields) = item else {
                return Err(ReplError::Protocol(
                    crate::i18n::t("listing entry is not a tuple").into(),
                ));
            };
            let name = match fields.first() {
                Some(Lit::Str(n)) => n.clone(),
                _ => {
                    return Err(ReplError::Protocol(
                        crate::i18n::t("listing entry has no name").into(),
                    ))
                }
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
            .map_err(|_| ReplError::Protocol(crate::tf!("bad size for {path}", path = path)))
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

    /// What the firmware offers for transfers (asked once, remembered for the session).
    pub async fn transfer(&mut self) -> Result<Transfer> {
        if let Some(t) = self.transfer {
            return Ok(t);
        }
        let out = self.exec(PROBE, STEP).await?.ok()?.stdout_text();
        let t = Transfer {
            base64: out.contains('b'),
            sha256: out.contains('h'),
        };
        self.transfer = Some(t);
        Ok(t)
    }

    /// Reads a whole file, checked by its SHA-256 (or size) on the board; `progress(bytes)`.
    /// A read the link damaged is read again (up to [`TRANSFER_ATTEMPTS`] in all).
    pub async fn read_file(
        &mut self,
        path: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<u8>> {
        let mut tries = 1;
        loop {
            match self.read_file_once(path, &mut progress).await {
                Err(ReplError::Damaged { .. }) if tries < TRANSFER_ATTEMPTS => tries += 1,
                other => return other,
            }
        }
    }

    async fn read_file_once(
        &mut self,
        path: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<u8>> {
        let t = self.transfer().await?;
        if !t.base64 {
            return self.read_file_repr(path, progress).await;
        }
        // One program streams the file as base64 lines, summing it up as it goes, then prints
        // the summary: the board is never silent for long.
        let Summary {
            init,
            update,
            print,
        } = summary(t.sha256);
        let code = format!(
            "import binascii\n{init}\nf=open({},'rb')\nwhile 1:\n b=f.read({B64_READ})\n if not b:break\n {update}\n print(binascii.b2a_base64(b).decode(),end='')\nf.close()\n{print}",
            str_repr(path),
        );
        let mut seen = 0usize;
        let out = self
            .exec_with(&code, WHOLE_FILE, Some(IDLE), |chunk| {
                seen += chunk.len();
                progress(seen / 4 * 3);
            })
            .await?
            .ok()?;
        let text = out.stdout_text();
        let mut lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let check = lines.pop().unwrap_or_default();
        let mut data = Vec::new();
        for line in lines {
            base64::engine::general_purpose::STANDARD
                .decode_vec(line, &mut data)
                .map_err(|_| ReplError::Damaged {
                    path: path.to_string(),
                    upload: false,
                })?;
        }
        match matches(check, &data) {
            Some(_) => Ok(data),
            None => Err(ReplError::Damaged {
                path: path.to_string(),
                upload: false,
            }),
        }
    }

    /// mpremote's way: `repr` of 1 KB reads, one round trip each, and a size check.
    async fn read_file_repr(
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
                    return Err(ReplError::Protocol(crate::tf!(
                        "expected bytes, got {value}",
                        value = format!("{other:?}")
                    )))
                }
            }
            progress(data.len());
        }
        self.exec("f.close()", STEP).await?.ok()?;
        if self.size_of(path).await? != data.len() as u64 {
            return Err(ReplError::Damaged {
                path: path.to_string(),
                upload: false,
            });
        }
        Ok(data)
    }

    /// Writes a whole file (its name checked first, see [`bad_name`]): to `<path>.tmp` first, checked there (SHA-256 on the board, or its
    /// size without `hashlib`), and renamed over `path` only when it holds exactly `data`.
    /// An upload the link damaged is sent again (up to [`TRANSFER_ATTEMPTS`] in all): each
    /// try leaves no temporary file behind and the old file untouched.
    pub async fn write_file(
        &mut self,
        path: &str,
        data: &[u8],
        mut progress: impl FnMut(usize),
    ) -> Result<Checked> {
        if let Some(why) = bad_name(path) {
            return Err(ReplError::BadName {
                path: path.to_string(),
                why,
            });
        }
        let mut tries = 1;
        loop {
            match self.write_file_once(path, data, &mut progress).await {
                Err(ReplError::Damaged { .. }) if tries < TRANSFER_ATTEMPTS => tries += 1,
                // `OSError: [Errno 28] ENOSPC` (or `OSError: 28` where the firmware has no
                // errno names).
                Err(ReplError::Exception(tb))
                    if ["ENOSPC", "Errno 28]", "OSError: 28"]
                        .iter()
                        .any(|m| tb.contains(m)) =>
                {
                    return Err(ReplError::Full {
                        path: path.to_string(),
                        size: data.len(),
                    })
                }
                other => return other,
            }
        }
    }

    async fn write_file_once(
        &mut self,
        path: &str,
        data: &[u8],
        mut progress: impl FnMut(usize),
    ) -> Result<Checked> {
        let t = self.transfer().await?;
        let tmp = format!("{path}.tmp");
        let open = if t.base64 {
            format!(
                "from binascii import a2b_base64 as a\nf=open({},'wb')\nw=f.write",
                str_repr(&tmp)
            )
        } else {
            format!("f=open({},'wb')\nw=f.write", str_repr(&tmp))
        };
        self.upload_step(&open, path).await?;
        let step = if t.base64 { B64_CHUNK } else { CHUNK };
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut sent = 0;
        let mut checked = None;
        let mut failure = None;
        for chunk in data.chunks(step) {
            let code = if t.base64 {
                format!("w(a(b'{}'))", b64.encode(chunk))
            } else {
                format!("w({})", bytes_repr(chunk))
            };
            let step = self.upload_step(&code, path).await;
            if let Err(e) = step {
                failure = Some(e);
                break;
            }
            sent += chunk.len();
            progress(sent);
        }
        if failure.is_none() {
            let Summary {
                init,
                update,
                print,
            } = summary(t.sha256);
            let verify = format!(
                "f.close()\nimport binascii\n{init}\nf=open({},'rb')\nwhile 1:\n b=f.read(1024)\n if not b:break\n {update}\nf.close()\n{print}",
                str_repr(&tmp),
            );
            // Hashing prints nothing until the end: allow a slow board 1 s per 32 KB of file.
            let quiet = IDLE + Duration::from_secs(data.len() as u64 / 32_768);
            match self
                .exec_with(&verify, WHOLE_FILE, Some(quiet), |_| {})
                .await
                .and_then(Output::ok)
            {
                Ok(out) => match matches(&out.stdout_text(), data) {
                    Some(c) => checked = Some(c),
                    None => {
                        failure = Some(ReplError::Damaged {
                            path: path.to_string(),
                            upload: true,
                        })
                    }
                },
                Err(e) => failure = Some(e),
            }
        }
        if let Some(e) = failure {
            // Leave no half-written temporary file; the old file was never touched.
            let _ = self
                .exec(
                    &format!(
                        "try:\n f.close()\nexcept:\n pass\nimport os\nos.remove({})",
                        str_repr(&tmp)
                    ),
                    STEP,
                )
                .await;
            return Err(e);
        }
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
        Ok(checked.unwrap_or(Checked::Size))
    }

    /// One step of an upload (opening the temporary file, or one call on base64 or repr
    /// text). If it raises other than the board's own OSError (a full disk) or MemoryError,
    /// bytes were lost on the way (code that no longer parses, a name or base64 that came out
    /// garbled) and it raised before writing (the program is compiled whole, and the write is
    /// its last call): the step is sent again, then the upload is called damaged. Anything
    /// that still went wrong is caught by the check of the whole file.
    async fn upload_step(&mut self, code: &str, path: &str) -> Result<Output> {
        let mut tries = 1;
        loop {
            match self.exec(code, STEP).await.and_then(Output::ok) {
                Err(ReplError::Exception(tb))
                    if !tb.contains("OSError") && !tb.contains("MemoryError") =>
                {
                    if tries == STEP_ATTEMPTS {
                        return Err(ReplError::Damaged {
                            path: path.to_string(),
                            upload: true,
                        });
                    }
                    tries += 1;
                }
                other => return other,
            }
        }
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
            .map_err(|_| ReplError::Protocol(crate::tf!("{path} is not text", path = path)))?;
        self.exec_streaming(&code, timeout, on_stdout).await
    }
}

/// Why `path` cannot name a file on the board, or `None`. Quotes, spaces and non-ASCII are
/// fine (names travel as escaped Python literals); what is refused would write somewhere
/// else than the user sees, or cannot be a name: `..` (outside the folder, e.g. from a
/// backup archive), control characters, an empty name, a folder's trailing `/`, and names
/// longer than littlefs's 255 bytes.
pub fn bad_name(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if path.split('/').any(|part| part == "..") {
        Some(crate::i18n::mark("it points outside its folder (\"..\")"))
    } else if path.chars().any(char::is_control) {
        Some(crate::i18n::mark("it holds control characters"))
    } else if name.is_empty() || name == "." {
        Some(crate::i18n::mark("it is empty or ends in a folder's \"/\""))
    } else if name.len() > 255 {
        Some(crate::i18n::mark(
            "it is longer than the board's filesystem allows (255 bytes)",
        ))
    } else {
        None
    }
}
