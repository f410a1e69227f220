//! The ESP loader, over any [`Port`]: connect (reset + sync), detect the chip, upload the
//! flasher stub, change baud, write/verify/read/erase flash, hard reset. Plain `async fn`s with
//! no runtime: the browser drives them with wasm-bindgen-futures, tests with
//! [`crate::sim::block_on`] over a [`crate::sim::SimPort`].
//!
//! Long operations report [`Event`]s to the caller's sink and stop at the next block when the
//! [`CancelToken`] is set.

mod connect;
mod deflate;
mod detect;
mod diff;
mod erase;
mod error;
mod flash;
mod job;
mod native_usb;
mod read;
mod stub;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

pub use connect::{classify_boot_log, ResetStrategy, SyncReport};
pub use deflate::BlockDeflater;
pub use detect::DeviceInfo;
pub use error::{Error, Result, SyncFailure};
pub use flash::{Region, WriteOptions, WriteReport};
pub use job::{Baud, FlashJob, FlashOutcome, Prepared, ROM_BAUD};
pub use native_usb::Restart;
pub use read::FlashSummary;

use crate::i18n::mark;
use crate::port::Port;
use crate::protocol::chip::ChipSpec;
use crate::protocol::command::Command;
use crate::protocol::response::{ErrorCode, Response};
use crate::protocol::slip::{self, Decoder, Item};
use crate::usb::ResetWiring;

/// Timeout for ordinary commands.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// Tries of a command that changes nothing (see `Loader::query`).
const QUERY_ATTEMPTS: u32 = 3;

/// A long operation's phase, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connecting,
    UploadingStub,
    ChangingBaud,
    Erasing,
    Writing,
    Verifying,
    Reading,
    Resetting,
}

/// Progress reported to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A phase started.
    Stage(Stage),
    /// Bytes done of a total within the current phase.
    Progress { stage: Stage, done: u64, total: u64 },
    /// Writing moved on to region `index` (0-based) of `count`, at `offset`, `len` bytes.
    Part {
        index: usize,
        count: usize,
        offset: u32,
        len: usize,
    },
    /// Something worth showing in a log.
    Note(String),
}

/// Shared flag to stop a long operation between blocks.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Rc<Cell<bool>>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.set(true);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.get()
    }
    pub fn reset(&self) {
        self.0.set(false);
    }
}

/// Which program answers on the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Responder {
    Rom,
    Stub,
}

/// A conversation with one chip's serial loader.
pub struct Loader<P: Port> {
    port: P,
    decoder: Decoder,
    /// Text the chip printed outside SLIP frames (boot log), most recent last.
    noise: Vec<u8>,
    spec: Option<&'static ChipSpec>,
    responder: Responder,
    events: Box<dyn FnMut(Event)>,
    cancel: CancelToken,
    /// How the port reaches the chip, as given to the last [`Loader::connect`].
    wiring: Option<ResetWiring>,
}

/// Scales a per-megabyte timeout like esptool does, never below the default.
pub fn timeout_per_mb(seconds_per_mb: f64, bytes: usize) -> Duration {
    DEFAULT_TIMEOUT.max(Duration::from_secs_f64(seconds_per_mb * bytes as f64 / 1e6))
}

impl<P: Port> Loader<P> {
    /// Wraps an open port. Nothing is sent until [`Loader::connect`].
    pub fn new(port: P) -> Self {
        Loader {
            port,
            decoder: Decoder::new(),
            noise: Vec::new(),
            spec: None,
            responder: Responder::Rom,
            events: Box::new(|_| {}),
            cancel: CancelToken::new(),
            wiring: None,
        }
    }

    /// Continues on `port` a conversation another loader began (the page's, whose board the
    /// organisers' tools borrow): the chip is `spec`, `responder` answers, reset is `wiring`.
    pub fn resume(
        port: P,
        spec: &'static ChipSpec,
        responder: Responder,
        wiring: Option<ResetWiring>,
    ) -> Self {
        Loader {
            spec: Some(spec),
            responder,
            wiring,
            ..Loader::new(port)
        }
    }

    /// Sends progress to `sink`.
    pub fn on_event(&mut self, sink: impl FnMut(Event) + 'static) {
        self.events = Box::new(sink);
    }

    /// The token that cancels this loader's long operations.
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    pub fn port(&self) -> &P {
        &self.port
    }

    pub fn port_mut(&mut self) -> &mut P {
        &mut self.port
    }

    /// Gives the port back (e.g. to the REPL client after a reset into the app).
    pub fn into_port(self) -> P {
        self.port
    }

    /// The detected chip, once known.
    pub fn chip(&self) -> Option<&'static ChipSpec> {
        self.spec
    }

    pub fn responder(&self) -> Responder {
        self.responder
    }

    /// After a reset: whatever answers next is the ROM, and nothing half-read is kept.
    fn forget_responder(&mut self) {
        self.responder = Responder::Rom;
        self.decoder.clear();
    }

    fn emit(&mut self, event: Event) {
        (self.events)(event);
    }

    fn check_cancel(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Takes the text captured outside frames since the last call.
    pub fn take_noise(&mut self) -> Vec<u8> {
        let mut noise = std::mem::take(&mut self.noise);
        noise.extend(self.decoder.take_noise());
        noise
    }

    async fn send(&mut self, cmd: &Command<'_>) -> Result<()> {
        self.port.write(&slip::encode(&cmd.encode())).await?;
        Ok(())
    }

    async fn send_raw_frame(&mut self, payload: &[u8]) -> Result<()> {
        self.port.write(&slip::encode(payload)).await?;
        Ok(())
    }

    /// The next SLIP frame, or `None` at the deadline.
    async fn read_frame(&mut self, deadline: Duration) -> Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        loop {
            while let Some(item) = self.decoder.next_item() {
                if let Item::Frame(frame) = item {
                    return Ok(Some(frame));
                }
            }
            buf.clear();
            if self.port.read(&mut buf, deadline).await? == 0 {
                return Ok(None);
            }
            self.decoder.push(&buf);
            if !self.decoder.in_frame() {
                let noise = self.decoder.take_noise();
                self.noise.extend(noise);
                if self.noise.len() > 8192 {
                    self.noise.drain(..self.noise.len() - 8192);
                }
            }
        }
    }

    /// Drops everything received so far (frames and bytes in flight).
    async fn flush_input(&mut self) -> Result<()> {
        self.port.discard_input().await?;
        let noise = self.decoder.take_noise();
        self.noise.extend(noise);
        self.decoder.clear();
        Ok(())
    }

    /// Sends `cmd` and waits for its response, skipping unrelated frames. `data_len` is the
    /// length of the command-specific data before the status bytes.
    async fn command(
        &mut self,
        cmd: &Command<'_>,
        data_len: usize,
        timeout: Duration,
    ) -> Result<Response> {
        self.send(cmd).await?;
        self.response(cmd.opcode(), data_len, timeout).await
    }

    async fn response(
        &mut self,
        opcode: u8,
        data_len: usize,
        timeout: Duration,
    ) -> Result<Response> {
        let deadline = self.port.now() + timeout;
        for _ in 0..100 {
            let Some(frame) = self.read_frame(deadline).await? else {
                break;
            };
            let Some(resp) = Response::parse(&frame) else {
                continue;
            };
            if resp.opcode != opcode {
                // The ROM answers unknown commands under the previous reply's opcode.
                if self.responder == Responder::Rom && resp.is_unsupported_reply() {
                    return Err(Error::Unsupported(mark("run this command")));
                }
                continue;
            }
            return match resp.check(data_len) {
                Ok(_) => Ok(resp),
                Err(e) if e.code == ErrorCode::Rom(0x05) && data_len == 0 && opcode == 0x14 => {
                    Err(Error::Unsupported(mark("report security info")))
                }
                Err(e) => Err(Error::Device(e)),
            };
        }
        Err(Error::Timeout(command_name(opcode)))
    }

    /// Sends a command that changes nothing on the chip (a register read, a hash, a flash
    /// read) and asks again when the answer is lost or garbled on the way (a time-out, or a
    /// reply the chip could only have sent to a damaged request): asking again costs one round
    /// trip, and a bad cable should not end a job a retry saves.
    async fn query(
        &mut self,
        cmd: &Command<'_>,
        data_len: usize,
        timeout: Duration,
    ) -> Result<Response> {
        let mut tries = 1;
        loop {
            match self.command(cmd, data_len, timeout).await {
                Err(Error::Timeout(_) | Error::Device(_)) if tries < QUERY_ATTEMPTS => {
                    tries += 1;
                    self.flush_input().await?;
                }
                result => return result,
            }
        }
    }

    /// Reads a 32-bit register.
    pub async fn read_reg(&mut self, addr: u32) -> Result<u32> {
        Ok(self
            .query(&Command::ReadReg { addr }, 0, DEFAULT_TIMEOUT)
            .await?
            .value)
    }

    /// Writes a 32-bit register.
    pub async fn write_reg(&mut self, addr: u32, value: u32) -> Result<()> {
        self.command(
            &Command::WriteReg {
                addr,
                value,
                mask: 0xFFFF_FFFF,
                delay_us: 0,
            },
            0,
            DEFAULT_TIMEOUT,
        )
        .await?;
        Ok(())
    }
}

/// A command's name for messages.
fn command_name(opcode: u8) -> &'static str {
    use crate::protocol::command::op;
    match opcode {
        op::SYNC => "sync",
        op::READ_REG => mark("reading a register"),
        op::WRITE_REG => mark("writing a register"),
        op::FLASH_BEGIN | op::FLASH_DEFL_BEGIN => mark("starting a flash write"),
        op::FLASH_DATA | op::FLASH_DEFL_DATA => mark("writing a block"),
        op::FLASH_END | op::FLASH_DEFL_END => mark("finishing a flash write"),
        op::MEM_BEGIN | op::MEM_DATA | op::MEM_END => mark("uploading the flasher stub"),
        op::SPI_FLASH_MD5 => mark("checking the flash contents"),
        op::ERASE_FLASH | op::ERASE_REGION => mark("erasing"),
        op::READ_FLASH | op::READ_FLASH_SLOW => mark("reading flash"),
        op::CHANGE_BAUDRATE => mark("changing the baud rate"),
        _ => mark("a loader command"),
    }
}
