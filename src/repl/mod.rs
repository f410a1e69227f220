//! A MicroPython REPL client over any [`Port`]: interrupt a running program, switch between
//! the friendly and raw REPL, execute code with stdout and stderr kept apart ([`exec`]: raw-paste
//! when the firmware has it, plain raw otherwise), watch a boot, and work with files ([`files`]).
//! No web types here; the browser drives it through `WebSerialPort`, tests through the simulator.

pub mod backup;
pub mod banner;
mod exec;
pub mod facts;
pub mod files;
pub mod pylit;

use std::time::Duration;

pub use banner::{Banner, BootProblem};

use crate::i18n::{mark, number, t};
use crate::port::{Port, PortError};

const RAW_BANNER: &[u8] = b"raw REPL; CTRL-B to exit\r\n";
const FRIENDLY_PROMPT: &[u8] = b">>> ";
/// Plain raw mode has no flow control: send in slices with a pause, like mpremote.
const RAW_SLICE: usize = 256;
const RAW_SLICE_PAUSE: Duration = Duration::from_millis(10);

/// What went wrong talking to MicroPython.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplError {
    Port(PortError),
    /// The board did not say what was expected in time (`waiting_for` is marked for
    /// translation).
    Timeout {
        waiting_for: &'static str,
        got: String,
    },
    /// The code raised an exception; the traceback.
    Exception(String),
    /// The board answered something that does not fit the protocol.
    Protocol(String),
    /// A file arrived with other bytes than were sent (its digest or size differs): the link
    /// lost or changed bytes. `path` is the file on the board; nothing was replaced.
    Damaged {
        path: String,
        upload: bool,
    },
    /// The board's filesystem has no room for the file (nothing was replaced).
    Full {
        path: String,
        size: usize,
    },
    /// A name that cannot be a file on the board (checked before anything is sent).
    BadName {
        path: String,
        why: &'static str,
    },
}

impl From<PortError> for ReplError {
    fn from(e: PortError) -> Self {
        ReplError::Port(e)
    }
}

impl std::fmt::Display for ReplError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplError::Port(e) => write!(f, "{e}"),
            ReplError::Timeout { waiting_for, got } if got.trim().is_empty() => f.write_str(&crate::tf!("MicroPython did not answer (waiting for {what}). Press the board's RESET button and try again.", what = t(waiting_for))),
            ReplError::Timeout { waiting_for, got } => f.write_str(&crate::tf!("MicroPython did not answer as expected (waiting for {what}); it said: \"{got}\".", what = t(waiting_for), got = got.trim())),
            ReplError::Exception(tb) => write!(f, "{}", tb.trim()),
            ReplError::Protocol(msg) => f.write_str(&crate::tf!("unexpected answer from the board: {detail}", detail = msg)),
            ReplError::Damaged { path, upload: true } => f.write_str(&crate::tf!("{path} arrived damaged on the board (the link lost bytes); the old {path} is untouched. Try again; if it keeps happening, use another USB cable or port.", path = path)),
            ReplError::Full { path, size } => f.write_str(&crate::tf!("The board's filesystem is full: {path} ({size} bytes) does not fit, so it was not uploaded and the old {path} is untouched. Delete files you no longer need on the board (or make the file smaller), then try again.", path = path, size = number(*size as u64))),
            ReplError::BadName { path, why } => f.write_str(&crate::tf!("\"{path}\" cannot be a file name on the board: {why}. Rename the file and try again; nothing was written.", path = path, why = t(why))),
            ReplError::Damaged { path, upload: false } => f.write_str(&crate::tf!("{path} arrived damaged from the board (the link lost bytes). Try again; if it keeps happening, use another USB cable or port.", path = path)),
        }
    }
}

impl std::error::Error for ReplError {}

pub type Result<T> = std::result::Result<T, ReplError>;

/// What a piece of code printed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// Fails with the traceback if the code raised.
    pub fn ok(self) -> Result<Output> {
        if self.stderr.is_empty() {
            Ok(self)
        } else {
            Err(ReplError::Exception(
                String::from_utf8_lossy(&self.stderr).into_owned(),
            ))
        }
    }
}

/// A MicroPython REPL session on a port.
pub struct Repl<P: Port> {
    port: P,
    rx: Vec<u8>,
    raw: bool,
    /// Learned on first use: does the firmware do raw-paste?
    raw_paste: Option<bool>,
    /// Learned on first file transfer: what the firmware offers for fast, checked transfers.
    transfer: Option<files::Transfer>,
    /// What the last watched boot printed.
    pub boot_log: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl<P: Port> Repl<P> {
    pub fn new(port: P) -> Self {
        Repl {
            port,
            rx: Vec::new(),
            raw: false,
            raw_paste: None,
            transfer: None,
            boot_log: Vec::new(),
        }
    }

    pub fn port_mut(&mut self) -> &mut P {
        &mut self.port
    }

    pub fn into_port(self) -> P {
        self.port
    }

    /// Reads until `pattern` arrives; returns everything up to and including it.
    async fn read_until(
        &mut self,
        pattern: &[u8],
        timeout: Duration,
        what: &'static str,
    ) -> Result<Vec<u8>> {
        let deadline = self.port.now() + timeout;
        loop {
            if let Some(at) = find(&self.rx, pattern) {
                let rest = self.rx.split_off(at + pattern.len());
                return Ok(std::mem::replace(&mut self.rx, rest));
            }
            if self.port.read(&mut self.rx, deadline).await? == 0 {
                let got = String::from_utf8_lossy(&self.rx).into_owned();
                return Err(ReplError::Timeout {
                    waiting_for: what,
                    got,
                });
            }
        }
    }

    /// Everything that arrives within `quiet` of silence (at most `limit` overall).
    pub async fn collect(&mut self, quiet: Duration, limit: Duration) -> Result<Vec<u8>> {
        let end = self.port.now() + limit;
        loop {
            let deadline = (self.port.now() + quiet).min(end);
            if self.port.read(&mut self.rx, deadline).await? == 0 || self.port.now() >= end {
                return Ok(std::mem::take(&mut self.rx));
            }
        }
    }

    async fn drain(&mut self) -> Result<()> {
        self.collect(Duration::from_millis(50), Duration::from_millis(500))
            .await?;
        Ok(())
    }

    /// Stops whatever runs (a looping `main.py`) and waits for the friendly prompt.
    pub async fn interrupt(&mut self) -> Result<()> {
        self.port.write(b"\r\x03").await?;
        self.port.sleep(Duration::from_millis(100)).await;
        self.port.write(b"\x03").await?;
        self.read_until(
            FRIENDLY_PROMPT,
            Duration::from_secs(3),
            mark("the >>> prompt"),
        )
        .await?;
        self.drain().await?;
        self.raw = false;
        Ok(())
    }

    /// Enters the raw REPL (interrupting first). `soft_reset` restarts the interpreter on the
    /// way, which also skips a looping `main.py`.
    pub async fn enter_raw(&mut self, soft_reset: bool) -> Result<()> {
        self.port.write(b"\r\x03").await?;
        self.port.sleep(Duration::from_millis(100)).await;
        self.port.write(b"\x03").await?;
        self.drain().await?;
        self.port.write(b"\r\x01").await?;
        self.read_until(RAW_BANNER, Duration::from_secs(3), mark("the raw REPL"))
            .await?;
        self.read_until(b">", Duration::from_secs(1), mark("the raw prompt"))
            .await?;
        if soft_reset {
            self.port.write(b"\x04").await?;
            self.read_until(
                b"soft reboot\r\n",
                Duration::from_secs(5),
                mark("a soft reboot"),
            )
            .await?;
            self.read_until(
                RAW_BANNER,
                Duration::from_secs(5),
                mark("the raw REPL after the reboot"),
            )
            .await?;
            self.read_until(b">", Duration::from_secs(1), mark("the raw prompt"))
                .await?;
        }
        self.raw = true;
        Ok(())
    }

    /// Back to the friendly REPL.
    pub async fn exit_raw(&mut self) -> Result<()> {
        self.port.write(b"\r\x02").await?;
        self.read_until(
            FRIENDLY_PROMPT,
            Duration::from_secs(3),
            mark("the >>> prompt"),
        )
        .await?;
        self.raw = false;
        Ok(())
    }

    /// Soft-resets MicroPython from the raw REPL and returns to it (boot.py runs; main.py does not).
    pub async fn soft_reset(&mut self) -> Result<()> {
        if !self.raw {
            self.enter_raw(false).await?;
        }
        self.port.write(b"\x04").await?;
        self.read_until(
            b"soft reboot\r\n",
            Duration::from_secs(5),
            mark("a soft reboot"),
        )
        .await?;
        self.read_until(RAW_BANNER, Duration::from_secs(5), mark("the raw REPL"))
            .await?;
        self.read_until(b">", Duration::from_secs(1), mark("the raw prompt"))
            .await?;
        Ok(())
    }

    /// Watches a boot (after a reset into the app) for up to `limit`: the MicroPython banner, or
    /// what else came. Interrupts a running `main.py` to reach the prompt.
    pub async fn watch_boot(
        &mut self,
        limit: Duration,
    ) -> Result<std::result::Result<Banner, BootProblem>> {
        let mut log = Vec::new();
        let end = self.port.now() + limit;
        while self.port.now() < end {
            let deadline = (self.port.now() + Duration::from_millis(300)).min(end);
            if self.port.read(&mut log, deadline).await? == 0 && !log.is_empty() {
                // Quiet: a prompt means it is ready; a banner without prompt means main.py runs.
                let text = String::from_utf8_lossy(&log).into_owned();
                if let Some(banner) = Banner::find(&text) {
                    if log.ends_with(FRIENDLY_PROMPT) {
                        self.boot_log = log;
                        return Ok(Ok(banner));
                    }
                }
                if text.contains("MicroPython") || text.contains("main.py") {
                    break;
                }
            }
        }
        self.boot_log = log.clone();
        let text = String::from_utf8_lossy(&log).into_owned();
        if let Some(banner) = Banner::find(&text).filter(|_| log.ends_with(FRIENDLY_PROMPT)) {
            return Ok(Ok(banner));
        }
        // No prompt yet: maybe main.py is running. Try to stop it and ask for the banner.
        match self.interrupt().await {
            Ok(()) => {
                self.port.write(b"\x02").await?;
                let banner_text = self
                    .read_until(FRIENDLY_PROMPT, Duration::from_secs(2), mark("the banner"))
                    .await
                    .unwrap_or_default();
                if let Some(banner) = Banner::find(&String::from_utf8_lossy(&banner_text)) {
                    return Ok(Ok(banner));
                }
            }
            // A lost link is not a silent board.
            Err(ReplError::Port(e)) => return Err(ReplError::Port(e)),
            // What came instead of a prompt tells what runs there.
            Err(ReplError::Timeout { got, .. }) => log.extend_from_slice(got.as_bytes()),
            Err(_) => {}
        }
        Ok(Err(BootProblem::classify(&log)))
    }

    /// The hello check: `print('hello')` in the raw REPL answers `hello`.
    pub async fn hello(&mut self) -> Result<bool> {
        let out = self
            .exec("print('hello')", Duration::from_secs(5))
            .await?
            .ok()?;
        Ok(out.stdout_text().trim_end() == "hello")
    }
}
