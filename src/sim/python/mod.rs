//! What the simulated board runs when its flash holds MicroPython: the official MicroPython
//! WebAssembly port inside a shell that plays the board around it (`shell.mjs`, which says
//! in one place what the shell adds: identity, boot steps, raw-paste, the console's line, the
//! clock). Natively the port runs in a Node child process in lockstep with the simulator's
//! virtual clock ([`node`]).
//!
//! This side keeps what belongs to the chip: the board's files live in the simulated flash
//! ([`table`]), output is stamped with the board's clock, and `machine.reset()` /
//! `machine.bootloader()` come back as events the [`Device`](super::Device) acts on.

#[cfg(not(target_arch = "wasm32"))]
mod node;
pub mod table;

use std::time::Duration;

use crate::protocol::chip::Chip;
use crate::sim::flash::NorFlash;
use crate::sim::micropython::Board;
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
    pub chip: Chip,
    pub files: &'a FlashFiles,
    pub at: Duration,
    /// Modules this board's firmware lacks.
    pub without: &'a [String],
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
    pub fn boot(at: Duration, chip: Chip, board: Board, flash: &mut NorFlash) -> MicroPython {
        Self::start(at, chip, board, flash, &[])
    }

    /// [`MicroPython::boot`] for firmware built without `without` (e.g. `binascii`).
    pub fn start(
        at: Duration,
        chip: Chip,
        board: Board,
        flash: &mut NorFlash,
        without: &[String],
    ) -> MicroPython {
        let files = FlashFiles::mount(flash.contents(), board.fs);
        let start = Start {
            board: &board,
            chip,
            files: &files,
            at,
            without,
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
    pub fn resume(at: Duration, chip: Chip, board: Board, flash: &mut NorFlash) -> MicroPython {
        let mut mp = MicroPython::boot(at, chip, board, flash);
        mp.out.clear();
        mp
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
fn new_engine(_start: &Start) -> (Box<dyn Engine>, Reply) {
    unimplemented!("the demo board's MicroPython runs in the page")
}
