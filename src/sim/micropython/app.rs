//! [`MicroPython`]: the running firmware. Owns the REPL state, the interpreter and the
//! filesystem; the [`Device`](crate::sim::Device) hands it bytes and time, and collects
//! what it prints, each chunk stamped with the program's clock.

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use super::compile::compile_module;
use super::firmware::Board;
use super::fs::{Fs, Mounted};
use super::parser::parse;
use super::value::Exception;
use super::vm::{Ctx, Run, Vm};
use crate::protocol::chip::Chip;
use crate::sim::flash::NorFlash;
use crate::sim::timing::wire_time;

/// Simulated time one bytecode instruction takes (a real ESP32 runs ~10⁶ simple ops/s).
const INSTRUCTION: Duration = Duration::from_micros(2);
/// Most instructions per call into the VM, so output is stamped at sensible times.
const BATCH: usize = 5_000;
/// How often a host polling the device should look at a busy program again.
const TICK: Duration = Duration::from_millis(1);
/// The console's transmit buffer: a program that prints more than the line carries waits in
/// `print` until this much is left to send (as MicroPython's UART and USB stdout block).
pub(super) const TX_BUFFER: usize = 256;

const BOOT_PY: &str = "# This file is executed on every boot (including wake-boot from deepsleep)\n#import esp\n#esp.osdebug(None)\n#import webrepl\n#webrepl.start()\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Friendly,
    Raw,
}

/// What the REPL collects while no program runs.
pub(super) enum Input {
    Line {
        buf: Vec<u8>,
        lines: Vec<String>,
        esc: u8,
    },
    Paste(Vec<u8>),
    Raw(Vec<u8>),
    RawPaste {
        buf: Vec<u8>,
        remain: usize,
    },
    /// Booting: no prompt yet.
    None,
}

/// What happens when the running program ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    Friendly,
    Raw,
    Boot,
}

/// Boot work left to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Run(&'static str),
    Prompt,
}

pub struct MicroPython {
    pub(super) board: Board,
    pub(super) fs: Fs,
    vm: Vm,
    pub(super) mode: Mode,
    pub(super) input: Input,
    /// Bytes that arrived while a program ran (the UART's receive buffer).
    rx: VecDeque<u8>,
    after: Option<After>,
    steps: VecDeque<Step>,
    /// The program's clock: where the firmware is in time.
    clock: Duration,
    /// Sleeping (`time.sleep`) until then.
    wake: Option<Duration>,
    /// When the console's line has sent everything printed so far.
    tx_free: Duration,
    /// The console line's baud (MicroPython's UART0 runs at 115200).
    pub(super) tx_baud: u32,
    out: Vec<(Duration, Vec<u8>)>,
    hard_reset: bool,
    bootloader: bool,
    chip: Chip,
}

impl MicroPython {
    /// Boots at `at` from `flash`: mounts (or formats) the filesystem, runs boot.py and
    /// main.py, then shows the banner and prompt.
    pub fn boot(at: Duration, chip: Chip, board: Board, flash: &mut NorFlash) -> MicroPython {
        let (start, len) = board.fs;
        let (fs, _) = Fs::mount(flash.contents(), start, len);
        let mut mp = MicroPython {
            board,
            fs,
            vm: Vm::new(),
            mode: Mode::Friendly,
            input: Input::None,
            rx: VecDeque::new(),
            after: None,
            steps: VecDeque::new(),
            clock: at,
            wake: None,
            tx_free: Duration::ZERO,
            tx_baud: 115_200,
            out: Vec::new(),
            hard_reset: false,
            bootloader: false,
            chip,
        };
        mp.start(flash);
        mp
    }

    /// A board that booted long ago and sits at the prompt; nothing is printed.
    pub fn resume(at: Duration, chip: Chip, board: Board, flash: &mut NorFlash) -> MicroPython {
        let mut mp = MicroPython::boot(at, chip, board, flash);
        // Its boot files ran long ago: let them finish (or keep looping) without using time.
        for _ in 0..100 {
            mp.clock = at;
            mp.wake = None;
            mp.advance(at + BATCH as u32 * INSTRUCTION, flash);
            if !mp.vm.running() {
                break;
            }
        }
        mp.clock = at;
        mp.out.clear();
        mp
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
        if !self.vm.running() {
            return None;
        }
        Some(self.wake.unwrap_or(self.clock + TICK))
    }

    pub(super) fn say(&mut self, bytes: impl AsRef<[u8]>) {
        let bytes = bytes.as_ref();
        if bytes.is_empty() {
            return;
        }
        match self.out.last_mut() {
            Some((t, b)) if *t == self.clock => b.extend_from_slice(bytes),
            _ => self.out.push((self.clock, bytes.to_vec())),
        }
    }

    /// Bytes from the host at `at`. Ctrl-C interrupts a running program at once; everything
    /// else waits in the receive buffer until the REPL reads it.
    pub fn receive(&mut self, at: Duration, bytes: &[u8], flash: &mut NorFlash) {
        self.advance(at, flash);
        for &b in bytes {
            if self.vm.running() && b == 0x03 {
                self.vm.interrupt();
                if self.wake.take().is_some() {
                    self.clock = self.clock.max(at);
                }
                self.advance(at, flash);
            } else {
                self.rx.push_back(b);
            }
        }
        if !self.vm.running() {
            self.clock = self.clock.max(at);
        }
        self.advance(at, flash);
    }

    /// Lets the firmware run until `now`.
    pub fn advance(&mut self, now: Duration, flash: &mut NorFlash) {
        loop {
            if self.hard_reset || self.bootloader {
                return;
            }
            if !self.vm.running() {
                let Some(b) = self.rx.pop_front() else { return };
                self.feed(b, flash);
                continue;
            }
            if let Some(wake) = self.wake {
                if wake > now {
                    return;
                }
                self.clock = wake;
                self.wake = None;
            }
            if self.clock > now {
                return;
            }
            let budget = ((now - self.clock).as_micros() / INSTRUCTION.as_micros()) as usize + 1;
            let mut printed = Vec::new();
            let mut ctx = Ctx {
                fs: &mut self.fs,
                board: &self.board,
                now: self.clock,
                out: &mut printed,
                sleep: None,
                reset: false,
                bootloader: false,
            };
            let (ran, why) = self.vm.run(&mut ctx, budget.min(BATCH));
            self.say(&printed);
            // Printing faster than the line carries blocks the program once the buffer is full.
            self.tx_free = self.tx_free.max(self.clock) + wire_time(printed.len(), self.tx_baud);
            let blocked = self
                .tx_free
                .checked_sub(wire_time(TX_BUFFER, self.tx_baud))
                .filter(|t| *t > self.clock);
            self.clock += INSTRUCTION * ran as u32;
            self.fs.save(flash);
            match why {
                Run::Budget => {}
                Run::Sleep(d) => self.wake = Some(self.clock + d),
                Run::Done(result) => self.finish(result, flash),
                Run::Reset => self.hard_reset = true,
                Run::Bootloader => self.bootloader = true,
            }
            if let Some(until) = blocked.filter(|_| self.vm.running()) {
                self.wake = Some(self.wake.map_or(until, |w| w.max(until)));
            }
        }
    }

    /// Compiles and starts `src`; what follows its end is `after`.
    pub(super) fn exec(
        &mut self,
        src: &str,
        file: &str,
        interactive: bool,
        after: After,
        flash: &mut NorFlash,
    ) {
        self.after = Some(after);
        let compiled = parse(src).map_err(|e| (e.line, e.msg)).and_then(|body| {
            compile_module(&body, file, interactive).map_err(|e| (e.line, e.msg.to_string()))
        });
        match compiled {
            Ok(code) => self.vm.start(code),
            Err((line, msg)) => {
                let exc = Exception::msg("SyntaxError", msg);
                exc.trace.borrow_mut().push((file.into(), line, "".into()));
                self.finish(Err(exc), flash);
            }
        }
    }

    fn finish(&mut self, result: Result<(), Rc<Exception>>, flash: &mut NorFlash) {
        let after = self.after.take().unwrap_or(After::Friendly);
        if let Err(e) = &result {
            if e.kind == "SystemExit" {
                // pyexec still closes the raw frame, then the board soft resets.
                if after == After::Raw {
                    self.say(b"\x04\x04");
                }
                return self.soft_reset(flash);
            }
        }
        let traceback = match &result {
            Ok(()) => String::new(),
            Err(e) => e.traceback().replace(", in \n", "\n").replace('\n', "\r\n"),
        };
        match after {
            After::Friendly => {
                self.say(traceback);
                self.prompt();
            }
            After::Raw => {
                self.say(b"\x04");
                self.say(traceback);
                self.say(b"\x04>");
                self.input = Input::Raw(Vec::new());
            }
            After::Boot => {
                self.say(traceback);
                self.next_step(flash);
            }
        }
    }

    pub(super) fn prompt(&mut self) {
        self.say(b">>> ");
        self.input = Input::Line {
            buf: Vec::new(),
            lines: Vec::new(),
            esc: 0,
        };
    }

    pub(super) fn raw_banner(&mut self) {
        self.say(b"raw REPL; CTRL-B to exit\r\n>");
        self.input = Input::Raw(Vec::new());
    }

    /// Ctrl-D on an empty line, `machine.soft_reset()`, `sys.exit()`.
    pub(super) fn soft_reset(&mut self, flash: &mut NorFlash) {
        self.say(b"MPY: soft reboot\r\n");
        self.start(flash);
    }

    /// What `main.c` does on every (soft) boot: `_boot.py` mounts the filesystem (formatting a
    /// blank one, complaining about a corrupt one), then boot.py, main.py, the REPL.
    fn start(&mut self, flash: &mut NorFlash) {
        self.vm = Vm::new();
        self.rx.clear();
        self.wake = None;
        self.input = Input::None;
        let (start, len) = self.board.fs;
        let (fs, mounted) = Fs::mount(flash.contents(), start, len);
        self.fs = fs;
        match mounted {
            Mounted::Blank => {
                self.say(b"Performing initial setup\r\n");
                let _ = self.fs.write("boot.py", BOOT_PY.into());
                self.fs.save(flash);
            }
            Mounted::Corrupt => {
                let notice = if self.chip == Chip::Esp8266 {
                    format!(
                        "The filesystem starting at sector {} with size {} sectors looks corrupt.\r\nYou may want to make a flash snapshot and try to recover it. Otherwise,\r\nerase the whole flash and reprogram MicroPython.\r\n",
                        start / 4096,
                        len / 4096
                    )
                } else {
                    "The filesystem appears to be corrupted. If you had important data there, you\r\nmay want to make a flash snapshot to try to recover it. Otherwise, perform\r\nfactory reprogramming of MicroPython firmware (completely erase flash, followed\r\nby firmware programming).\r\n".to_string()
                };
                self.say(notice);
            }
            Mounted::Ok => {}
        }
        self.steps = VecDeque::from([Step::Run("boot.py")]);
        // main.py only runs when the board comes up in the friendly REPL: a host that soft
        // resets from the raw REPL regains a board whose main.py never returns.
        if self.mode == Mode::Friendly {
            self.steps.push_back(Step::Run("main.py"));
        }
        self.steps.push_back(Step::Prompt);
        self.next_step(flash);
    }

    fn next_step(&mut self, flash: &mut NorFlash) {
        while let Some(step) = self.steps.pop_front() {
            match step {
                Step::Run(file) => {
                    if let Ok(src) = self.fs.read(file) {
                        self.exec(
                            &String::from_utf8_lossy(&src),
                            file,
                            false,
                            After::Boot,
                            flash,
                        );
                        return;
                    }
                }
                Step::Prompt => match self.mode {
                    Mode::Friendly => {
                        let banner = self.board.banner();
                        self.say(banner);
                        self.prompt();
                    }
                    Mode::Raw => self.raw_banner(),
                },
            }
        }
    }
}
