//! What the simulated board runs when its flash holds MicroPython: the official MicroPython
//! WebAssembly port (npm `@micropython/micropython-webassembly-pyscript`, pinned) inside a
//! shell that plays the board around it (`board_shell.mjs`, which says in one place what the
//! shell adds: identity, boot steps, raw-paste, the console's line, the clock, errno numbers).
//! Natively (`esp-sim`, the tests) the port runs in a Node child process in lockstep with the
//! simulator's virtual clock ([`node`]); in the page's demo boards, in a module worker on the
//! wall clock (`worker`, `board_worker.mjs`, `board_client.js`).
//!
//! This side keeps what belongs to the chip: which firmware the flash holds ([`firmware`]),
//! the board's files in the simulated flash ([`table`]), output stamped with the board's
//! clock, and `machine.reset()` / `machine.bootloader()` as events the
//! [`Device`](super::Device) acts on.
//!
//! Known limit: a program that never prints, sleeps or reads the clock (`while True: pass`)
//! cannot be interrupted inside the port; natively the board then stops answering (a reset
//! brings it back), in the page the demo replaces the interpreter on Ctrl-C.

pub mod firmware;
#[cfg(not(target_arch = "wasm32"))]
mod node;
pub mod table;
#[cfg(target_arch = "wasm32")]
mod worker;

pub use firmware::{fs_region, micropython_image, Board, Firmware};

#[cfg(test)]
mod tests;

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::firmware::json::{Json, Object};
use crate::sim::flash::NorFlash;
use table::{Entry, FlashFiles, Mounted};

/// How often a host should look at a board whose program runs (sleeps, prints, waits).
const TICK: Duration = Duration::from_millis(5);
/// From `machine.reset()` or `machine.bootloader()` to the chip restarting.
const RESTART_AFTER: Duration = Duration::from_millis(1);

/// What the board tells the simulator after it was given time or input.
#[derive(Debug, Default)]
pub struct Reply {
    /// The board's clock.
    pub t: Duration,
    /// A program runs: it needs more time to go on.
    pub busy: bool,
    pub out: Vec<(Duration, Vec<u8>)>,
    /// The board's files, when they changed.
    pub files: Option<Vec<Entry>>,
    pub event: Option<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `machine.reset()`: the chip reboots.
    Reset,
    /// `machine.bootloader()`: the chip restarts into its ROM loader.
    Bootloader,
    /// The interpreter stopped answering (the board hangs).
    Gone,
}

/// Where the board's MicroPython runs.
pub trait Engine {
    /// Time granted up to `until`, with `input` that arrived then.
    fn grant(&mut self, until: Duration, input: &[u8]) -> Reply;
}

/// What a fresh interpreter is told about the board it plays.
pub struct Start<'a> {
    pub board: &'a Board,
    pub files: &'a FlashFiles,
    pub at: Duration,
    /// The board booted long ago: nothing of its boot is printed.
    pub quiet: bool,
}

impl Start<'_> {
    /// What the shell is told at start (`board_shell.mjs`'s `BoardShell` arguments), as JSON.
    pub fn config(&self) -> String {
        let board = self.board;
        let s = |v: &str| Json::String(v.to_string());
        let n = |v: f64| Json::Number(v);
        let obj = |members: Vec<(&str, Json)>| {
            Json::Object(Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            ))
        };
        let files = self
            .files
            .entries
            .iter()
            .map(|(p, d)| {
                Json::Array(vec![
                    s(p),
                    d.as_ref().map_or(Json::Null, |d| s(&B64.encode(d))),
                ])
            })
            .collect();
        obj(vec![
            (
                "board",
                obj(vec![
                    ("banner", s(&board.banner())),
                    ("version", s(&board.version)),
                    ("date", s(&board.date)),
                    ("machine", s(&board.machine())),
                    ("platform", s(board.platform)),
                    ("mpy", n(board.mpy as f64)),
                    ("cpu_hz", n(board.cpu_hz as f64)),
                    (
                        "unique_id",
                        Json::Array(board.mac.iter().map(|&b| n(b as f64)).collect()),
                    ),
                    ("fs_start", n(board.fs.0 as f64)),
                    ("fs_blocks", n((board.fs.1 / 4096) as f64)),
                    ("baud", n(115_200.0)),
                ]),
            ),
            ("files", Json::Array(files)),
            ("mounted", s(self.files.mounted().name())),
            ("at", n(self.at.as_micros() as f64)),
            ("quiet", Json::Bool(self.quiet)),
        ])
        .to_string()
    }
}

/// One reply of the shell (`{"t", "busy", "out", "files"?, "event"?}`, bytes in base64).
pub fn parse_reply(text: &str) -> Option<Reply> {
    let v = Json::parse(text).ok()?;
    let v = v.as_object()?;
    let us = |v: &Json| v.as_f64().map(|t| Duration::from_micros(t as u64));
    let bytes = |v: &Json| v.as_str().and_then(|s| B64.decode(s).ok());
    let pair = |v: &Json| match v {
        Json::Array(items) if items.len() == 2 => Some((items[0].clone(), items[1].clone())),
        _ => None,
    };
    let list = |v: Option<&Json>| match v {
        Some(Json::Array(items)) => Some(items.clone()),
        _ => None,
    };
    let out = list(v.get("out"))?
        .iter()
        .map(|o| {
            let (t, b) = pair(o)?;
            Some((us(&t)?, bytes(&b)?))
        })
        .collect::<Option<Vec<_>>>()?;
    let files = match list(v.get("files")) {
        Some(items) => Some(
            items
                .iter()
                .map(|f| {
                    let (p, d) = pair(f)?;
                    let data = if d == Json::Null {
                        None
                    } else {
                        Some(bytes(&d)?)
                    };
                    Some((p.as_str()?.to_string(), data))
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        None => None,
    };
    let event = match v.get("event").and_then(Json::as_str) {
        Some("reset") => Some(Event::Reset),
        Some("bootloader") => Some(Event::Bootloader),
        Some(_) => Some(Event::Gone),
        None => None,
    };
    Some(Reply {
        t: us(v.get("t")?)?,
        busy: v.get("busy")?.as_bool()?,
        out,
        files,
        event,
    })
}

pub struct MicroPython {
    engine: Box<dyn Engine>,
    files: FlashFiles,
    clock: Duration,
    busy: bool,
    out: Vec<(Duration, Vec<u8>)>,
    hard_reset: bool,
    bootloader: bool,
    /// A restart the program asked for, and when it happens.
    restart: Option<(Event, Duration)>,
}

impl MicroPython {
    /// Boots at `at` from `flash`: the filesystem (formatted when blank), boot.py, main.py,
    /// then the banner and prompt.
    pub fn boot(at: Duration, board: Board, flash: &mut NorFlash) -> MicroPython {
        Self::start(at, board, flash, false)
    }

    /// Boots (`quiet`: long ago, printing nothing of it).
    fn start(at: Duration, board: Board, flash: &mut NorFlash, quiet: bool) -> MicroPython {
        let files = FlashFiles::mount(flash.contents(), board.fs);
        let start = Start {
            board: &board,
            files: &files,
            at,
            quiet,
        };
        let (engine, reply) = new_engine(&start);
        let mut mp = MicroPython {
            engine,
            files,
            clock: at,
            busy: false,
            out: Vec::new(),
            hard_reset: false,
            bootloader: false,
            restart: None,
        };
        mp.apply(reply, flash);
        mp
    }

    /// A board that booted long ago and sits at the prompt (or in its main.py); nothing of
    /// its boot is printed.
    pub fn resume(at: Duration, board: Board, flash: &mut NorFlash) -> MicroPython {
        Self::start(at, board, flash, true)
    }

    pub fn mounted(&self) -> Mounted {
        self.files.mounted()
    }

    /// Everything printed so far, with the times it was printed.
    pub fn take_output(&mut self) -> Vec<(Duration, Vec<u8>)> {
        std::mem::take(&mut self.out)
    }

    /// The program called `machine.reset()`: the chip must reboot.
    pub fn take_hard_reset(&mut self) -> bool {
        std::mem::take(&mut self.hard_reset)
    }

    /// The program called `machine.bootloader()`: the chip must restart into its ROM loader.
    pub fn take_bootloader(&mut self) -> bool {
        std::mem::take(&mut self.bootloader)
    }

    /// When the host should look again even if nothing arrives (a program is running).
    pub fn next_event_at(&self) -> Option<Duration> {
        match self.restart {
            Some((_, at)) => Some(at),
            None => self.busy.then_some(self.clock + TICK),
        }
    }

    /// Bytes from the host at `at`.
    pub fn receive(&mut self, at: Duration, bytes: &[u8], flash: &mut NorFlash) {
        if bytes.is_empty() || self.restart.is_some() {
            return self.advance(at, flash);
        }
        let reply = self.engine.grant(at.max(self.clock), bytes);
        self.apply(reply, flash);
    }

    /// Lets the firmware run until `now`.
    pub fn advance(&mut self, now: Duration, flash: &mut NorFlash) {
        if let Some((event, at)) = self.restart {
            if now >= at {
                self.restart = None;
                self.hard_reset = event == Event::Reset;
                self.bootloader = event == Event::Bootloader;
            }
            return;
        }
        if !self.busy || now <= self.clock {
            return;
        }
        let reply = self.engine.grant(now, &[]);
        self.apply(reply, flash);
    }

    fn apply(&mut self, reply: Reply, flash: &mut NorFlash) {
        self.clock = self.clock.max(reply.t);
        self.busy = reply.busy;
        self.out.extend(reply.out);
        if let Some(files) = reply.files {
            self.files.store(files, flash);
        }
        match reply.event {
            Some(event @ (Event::Reset | Event::Bootloader)) => {
                self.busy = false;
                self.restart = Some((event, self.clock + RESTART_AFTER));
            }
            Some(Event::Gone) => self.busy = false,
            None => {}
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn new_engine(start: &Start) -> (Box<dyn Engine>, Reply) {
    let (engine, reply) = node::NodeEngine::start(start);
    (Box::new(engine), reply)
}

#[cfg(target_arch = "wasm32")]
fn new_engine(start: &Start) -> (Box<dyn Engine>, Reply) {
    let engine = worker::WorkerEngine::start(start);
    let reply = Reply {
        t: start.at,
        busy: true,
        ..Reply::default()
    };
    (Box::new(engine), reply)
}
