//! Loops, `try` and the unwinding `break`/`continue`/`return` need on their way out.

use super::super::ast::*;
use super::{CompileError, Compiler, Op, Scope};

impl Compiler {
    pub(super) fn loop_body(
        &mut self,
        start: u32,
        is_for: bool,
        body: &Block,
        exit: usize,
    ) -> Result<(), CompileError> {
        self.scopes.push(Scope::Loop {
            start,
            breaks: Vec::new(),
            is_for,
        });
        self.block(body)?;
        self.emit(Op::Jump(start));
        self.patch(exit);
        let Some(Scope::Loop { breaks, .. }) = self.scopes.pop() else {
            unreachable!()
        };
        breaks.into_iter().for_each(|b| self.patch(b));
        Ok(())
    }

    /// Emits what leaving every scope above `keep` requires.
    pub(super) fn unwind(&mut self, keep: usize) -> Result<(), CompileError> {
        let saved: Vec<Scope> = self.scopes.drain(keep..).collect();
        for scope in saved.iter().rev() {
            match scope {
                Scope::Loop { is_for: true, .. } if keep == 0 => {
                    // `return` leaves the iterator under the value: the frame's stack goes anyway.
                }
                Scope::Loop { .. } => {}
                Scope::Except => {
                    self.emit(Op::PopBlock);
                }
                Scope::With => {
                    self.emit(Op::WithExit);
                }
                Scope::Finally(body) => {
                    self.emit(Op::PopBlock);
                    let body = body.clone();
                    self.block(&body)?;
                }
            }
            // Scopes further out stay in force while inner ones unwind.
        }
        self.scopes.extend(saved);
        Ok(())
    }

    pub(super) fn try_stmt(
        &mut self,
        body: &Block,
        handlers: &[Handler],
        other: &Option<Block>,
        finally: &Option<Block>,
    ) -> Result<(), CompileError> {
        let fin_setup = match finally {
            Some(f) => {
                let at = self.emit(Op::SetupExcept(0));
                self.scopes.push(Scope::Finally(f.clone()));
                Some(at)
            }
            None => None,
        };
        if !handlers.is_empty() {
            let setup = self.emit(Op::SetupExcept(0));
            self.scopes.push(Scope::Except);
            self.block(body)?;
            self.scopes.pop();
            self.emit(Op::PopBlock);
            if let Some(o) = other {
                self.block(o)?;
            }
            let mut ends = vec![self.emit(Op::Jump(0))];
            self.patch(setup);
            // The exception is on the stack.
            for h in handlers {
                let mut next = None;
                if let Some(kind) = &h.kind {
                    self.emit(Op::Dup);
                    self.expr(kind)?;
                    self.emit(Op::ExcMatch);
                    next = Some(self.emit(Op::JumpIfFalse(0)));
                }
                match &h.name {
                    Some(n) => {
                        let i = self.name(n);
                        self.emit(Op::Store(i));
                    }
                    None => {
                        self.emit(Op::Pop);
                    }
                }
                self.block(&h.body)?;
                ends.push(self.emit(Op::Jump(0)));
                if let Some(n) = next {
                    self.patch(n);
                }
            }
            self.emit(Op::Raise(1));
            ends.into_iter().for_each(|e| self.patch(e));
        } else {
            self.block(body)?;
        }
        if let (Some(at), Some(f)) = (fin_setup, finally) {
            self.scopes.pop();
            self.emit(Op::PopBlock);
            self.block(f)?;
            let end = self.emit(Op::Jump(0));
            self.patch(at);
            self.block(f)?;
            self.emit(Op::Raise(1));
            self.patch(end);
        }
        Ok(())
    }
}
