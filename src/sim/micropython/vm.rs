//! The bytecode machine. [`Vm::run`] executes at most a given number of instructions and
//! then returns, so the caller can interleave it with the clock: output goes out as the
//! program prints, `time.sleep` really takes (simulated) time, and Ctrl-C raises
//! KeyboardInterrupt wherever the program happens to be.

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use super::builtins;
use super::compile::Code;
use super::fs::Fs;
use super::ops;
use super::value::{Exception, Value};
use super::Board;

mod step;

/// What native functions may touch besides their arguments.
pub struct Ctx<'a> {
    pub fs: &'a mut Fs,
    pub board: &'a Board,
    /// The program's time (for `time.ticks_ms`).
    pub now: Duration,
    /// What the program printed, line ends already turned into `\r\n`.
    pub out: &'a mut Vec<u8>,
    /// Set by `time.sleep`: the program waits this long before its next instruction.
    pub sleep: Option<Duration>,
    /// Set by `machine.reset()`.
    pub reset: bool,
    /// Set by `machine.bootloader()`.
    pub bootloader: bool,
}

impl Ctx<'_> {
    /// Writes program output the way MicroPython's stdout does on a UART: `\n` becomes `\r\n`.
    pub fn print(&mut self, text: &[u8]) {
        for &b in text {
            if b == b'\n' {
                self.out.push(b'\r');
            }
            self.out.push(b);
        }
    }
}

/// Why [`Vm::run`] returned.
pub enum Run {
    /// The instruction budget is used up; call again.
    Budget,
    Sleep(Duration),
    Done(Result<(), Rc<Exception>>),
    /// The program asked for a hard reset (`machine.reset()`).
    Reset,
    /// The program asked for the ROM bootloader (`machine.bootloader()`).
    Bootloader,
}

enum Block {
    Except { handler: usize, depth: usize },
    With(Value),
}

struct Frame {
    code: Rc<Code>,
    pc: usize,
    stack: Vec<Value>,
    blocks: Vec<Block>,
    /// `None` at module level, where names are globals.
    locals: Option<HashMap<Rc<str>, Value>>,
    declared_global: Vec<Rc<str>>,
    handling: Option<Rc<Exception>>,
}

#[derive(Default)]
pub struct Vm {
    pub globals: HashMap<Rc<str>, Value>,
    frames: Vec<Frame>,
    modules: HashMap<&'static str, Value>,
    interrupt: bool,
}

type R<T> = Result<T, Rc<Exception>>;

fn type_error(msg: impl Into<String>) -> Rc<Exception> {
    Exception::msg("TypeError", msg)
}

impl Vm {
    pub fn new() -> Vm {
        let mut vm = Vm::default();
        vm.globals.insert("__name__".into(), Value::str("__main__"));
        vm
    }

    pub fn running(&self) -> bool {
        !self.frames.is_empty()
    }

    /// Starts a module body; globals persist from earlier runs (as at the REPL).
    pub fn start(&mut self, code: Rc<Code>) {
        self.interrupt = false;
        self.frames.push(Frame {
            code,
            pc: 0,
            stack: Vec::new(),
            blocks: Vec::new(),
            locals: None,
            declared_global: Vec::new(),
            handling: None,
        });
    }

    /// Ctrl-C: KeyboardInterrupt at the next instruction.
    pub fn interrupt(&mut self) {
        if self.running() {
            self.interrupt = true;
        }
    }

    /// Runs up to `budget` instructions. Returns how many ran and why it stopped.
    pub fn run(&mut self, ctx: &mut Ctx, budget: usize) -> (usize, Run) {
        for n in 1..=budget {
            if self.frames.is_empty() {
                return (n - 1, Run::Done(Ok(())));
            }
            let result = if std::mem::take(&mut self.interrupt) {
                Err(Exception::new("KeyboardInterrupt", vec![]))
            } else {
                self.step(ctx)
            };
            let stop = match result {
                Ok(None) => None,
                Ok(Some(run)) => Some(run),
                Err(exc) => self.raise(ctx, exc),
            };
            if let Some(run) = stop {
                return (n, run);
            }
            if let Some(d) = ctx.sleep.take() {
                return (n, Run::Sleep(d));
            }
            // A full console buffer: the program waits in `print` for the line.
            if ctx.out.len() >= super::app::TX_BUFFER {
                return (n, Run::Budget);
            }
            if std::mem::take(&mut ctx.reset) {
                self.frames.clear();
                return (n, Run::Reset);
            }
            if std::mem::take(&mut ctx.bootloader) {
                self.frames.clear();
                return (n, Run::Bootloader);
            }
        }
        (budget, Run::Budget)
    }

    /// Unwinds to the nearest handler; `Some` when the exception leaves the program.
    fn raise(&mut self, ctx: &mut Ctx, exc: Rc<Exception>) -> Option<Run> {
        if exc.trace.borrow().is_empty() {
            self.note_trace(&exc);
        }
        loop {
            let frame = self.frames.last_mut()?;
            while let Some(block) = frame.blocks.pop() {
                match block {
                    Block::Except { handler, depth } => {
                        frame.stack.truncate(depth);
                        frame.stack.push(Value::Exc(exc.clone()));
                        frame.pc = handler;
                        frame.handling = Some(exc);
                        return None;
                    }
                    Block::With(value) => {
                        let _ = builtins::close(ctx, &value);
                    }
                }
            }
            self.frames.pop();
            if self.frames.is_empty() {
                return Some(Run::Done(Err(exc)));
            }
            self.note_trace(&exc);
        }
    }

    fn note_trace(&self, exc: &Exception) {
        if let Some(f) = self.frames.last() {
            let line = f
                .code
                .lines
                .get(f.pc.saturating_sub(1))
                .copied()
                .unwrap_or(1);
            let func = if f.code.is_module {
                "<module>".into()
            } else {
                f.code.name.clone()
            };
            exc.trace
                .borrow_mut()
                .push((f.code.file.clone(), line, func));
        }
    }

    fn frame(&mut self) -> &mut Frame {
        self.frames.last_mut().unwrap()
    }
    fn pop(&mut self) -> Value {
        self.frame().stack.pop().unwrap_or(Value::None)
    }
    fn push(&mut self, v: Value) {
        self.frame().stack.push(v);
    }
    fn popn(&mut self, n: usize) -> Vec<Value> {
        let stack = &mut self.frame().stack;
        stack.split_off(stack.len().saturating_sub(n))
    }

    fn load(&mut self, name: &Rc<str>) -> R<Value> {
        let f = self.frames.last().unwrap();
        if let Some(v) = f.locals.as_ref().and_then(|l| l.get(name)) {
            return Ok(v.clone());
        }
        if let Some(v) = self.globals.get(name) {
            return Ok(v.clone());
        }
        builtins::lookup(name)
            .ok_or_else(|| Exception::msg("NameError", format!("name '{name}' isn't defined")))
    }

    fn store(&mut self, name: Rc<str>, v: Value) {
        let f = self.frames.last_mut().unwrap();
        match &mut f.locals {
            Some(locals) if !f.declared_global.contains(&name) => {
                locals.insert(name, v);
            }
            _ => {
                self.globals.insert(name, v);
            }
        }
    }

    fn call(
        &mut self,
        ctx: &mut Ctx,
        func: Value,
        args: Vec<Value>,
        kwargs: Vec<(Rc<str>, Value)>,
    ) -> R<()> {
        match func {
            Value::Function(f) => {
                let params = &f.code.params;
                if args.len() > params.len() {
                    return Err(type_error(format!(
                        "function takes {} positional arguments but {} were given",
                        params.len(),
                        args.len()
                    )));
                }
                let mut locals: HashMap<Rc<str>, Value> =
                    params.iter().cloned().zip(args).collect();
                for (k, v) in kwargs {
                    if !params.contains(&k) {
                        return Err(type_error(format!("unexpected keyword argument '{k}'")));
                    }
                    locals.insert(k, v);
                }
                let first_default = params.len() - f.defaults.len();
                for (i, p) in params.iter().enumerate() {
                    if !locals.contains_key(p) {
                        let d = i.checked_sub(first_default).and_then(|j| f.defaults.get(j));
                        locals.insert(
                            p.clone(),
                            d.cloned().ok_or_else(|| {
                                type_error("function missing required positional argument")
                            })?,
                        );
                    }
                }
                self.frames.push(Frame {
                    code: f.code.clone(),
                    pc: 0,
                    stack: Vec::new(),
                    blocks: Vec::new(),
                    locals: Some(locals),
                    declared_global: Vec::new(),
                    handling: None,
                });
            }
            Value::Native("globals") => {
                let d = Value::Dict(Default::default());
                for (k, v) in &self.globals {
                    ops::store_index(&d, &Value::Str(k.clone()), v.clone())?;
                }
                self.push(d);
            }
            other => {
                let v = builtins::call(ctx, other, args, kwargs)?;
                self.push(v);
            }
        }
        Ok(())
    }
}
