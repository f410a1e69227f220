//! Syntax tree to stack bytecode. Bytecode (rather than walking the tree) lets the VM stop
//! after any instruction and resume later: a `while True:` loop in `main.py` runs for as
//! long as the board does, one time slice at a time, until Ctrl-C.

use std::rc::Rc;

use super::ast::*;
use super::value::Value;

mod blocks;
mod expr;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Const(u32),
    Load(u32),
    Store(u32),
    Delete(u32),
    LoadAttr(u32),
    StoreAttr(u32),
    Index,
    StoreIndex,
    DeleteIndex,
    /// Pops stop, start... as a slice object (pushes a 3-tuple marker).
    Slice,
    Bin(BinOp),
    Compare(CmpOp),
    Neg,
    Invert,
    Not,
    Jump(u32),
    JumpIfFalse(u32),
    /// Keeps the value when jumping (for `and`/`or`).
    JumpIfFalseOrPop(u32),
    JumpIfTrueOrPop(u32),
    /// Positional count, and the const index of a tuple of keyword names (or u32::MAX).
    Call(u32, u32),
    Pop,
    Dup,
    Rot2,
    /// For chained comparisons: `a b -> b a b`.
    DupUnder,
    List(u32),
    Tuple(u32),
    Dict(u32),
    Unpack(u32),
    GetIter,
    /// Pushes the next item, or pops the iterator and jumps when exhausted.
    ForIter(u32),
    /// Pops the return value into the frame, then returns.
    Return,
    /// Const index of the function's code, and how many defaults are on the stack.
    MakeFunction(u32, u32),
    Import(u32),
    /// Module on the stack; pushes its attribute (module stays).
    ImportFrom(u32),
    ImportStar,
    /// Exception handler at the target while the block is active.
    SetupExcept(u32),
    PopBlock,
    /// Pops a context manager, registers it for exit, pushes what `__enter__` gives.
    WithEnter,
    /// Leaves the innermost `with` block, closing its context.
    WithExit,
    /// Exception (or class) on the stack; `Raise(0)` re-raises the one being handled.
    Raise(u32),
    /// Exception on stack under a class: pushes whether it matches.
    ExcMatch,
    /// The REPL shows the value of an expression statement.
    PrintExpr,
    Global(u32),
}

/// A compiled function or module body.
#[derive(Debug, Default)]
pub struct Code {
    pub ops: Vec<Op>,
    pub lines: Vec<u32>,
    pub consts: Vec<ConstVal>,
    pub names: Vec<Rc<str>>,
    pub params: Vec<Rc<str>>,
    pub name: Rc<str>,
    pub file: Rc<str>,
    pub is_module: bool,
}

/// Constants are built into values when loaded (values are not `Debug`/`Send`).
#[derive(Debug, Clone)]
pub enum ConstVal {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Names(Rc<[Rc<str>]>),
    Code(Rc<Code>),
}

impl ConstVal {
    pub fn value(&self) -> Value {
        match self {
            ConstVal::None => Value::None,
            ConstVal::Bool(b) => Value::Bool(*b),
            ConstVal::Int(i) => Value::Int(*i),
            ConstVal::Float(f) => Value::Float(*f),
            ConstVal::Str(s) => Value::Str(s.clone()),
            ConstVal::Bytes(b) => Value::Bytes(b.clone()),
            ConstVal::Names(n) => Value::Tuple(n.iter().map(|s| Value::Str(s.clone())).collect()),
            ConstVal::Code(_) => Value::None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub line: u32,
    pub msg: &'static str,
}

/// What `break`, `continue` and `return` must undo on their way out.
enum Scope {
    Loop {
        start: u32,
        breaks: Vec<usize>,
        is_for: bool,
    },
    Except,
    Finally(Block),
    With,
}

struct Compiler {
    code: Code,
    scopes: Vec<Scope>,
    line: u32,
    /// Show expression values (the REPL's single-input mode).
    interactive: bool,
}

/// Compiles a module body. `interactive` prints the value of top-level expression statements.
pub fn compile_module(
    body: &Block,
    file: &str,
    interactive: bool,
) -> Result<Rc<Code>, CompileError> {
    let mut c = Compiler::new("<module>", file, interactive);
    c.code.is_module = true;
    c.block(body)?;
    c.emit(Op::Const(0));
    c.emit(Op::Return);
    Ok(Rc::new(c.code))
}

impl Compiler {
    fn new(name: &str, file: &str, interactive: bool) -> Compiler {
        let mut code = Code {
            name: name.into(),
            file: file.into(),
            ..Code::default()
        };
        code.consts.push(ConstVal::None);
        Compiler {
            code,
            scopes: Vec::new(),
            line: 1,
            interactive,
        }
    }

    fn emit(&mut self, op: Op) -> usize {
        self.code.ops.push(op);
        self.code.lines.push(self.line);
        self.code.ops.len() - 1
    }
    fn here(&self) -> u32 {
        self.code.ops.len() as u32
    }
    fn patch(&mut self, at: usize) {
        let target = self.here();
        self.code.ops[at] = match self.code.ops[at] {
            Op::Jump(_) => Op::Jump(target),
            Op::JumpIfFalse(_) => Op::JumpIfFalse(target),
            Op::JumpIfFalseOrPop(_) => Op::JumpIfFalseOrPop(target),
            Op::JumpIfTrueOrPop(_) => Op::JumpIfTrueOrPop(target),
            Op::ForIter(_) => Op::ForIter(target),
            Op::SetupExcept(_) => Op::SetupExcept(target),
            other => other,
        };
    }
    fn name(&mut self, n: &Rc<str>) -> u32 {
        if let Some(i) = self.code.names.iter().position(|x| x == n) {
            return i as u32;
        }
        self.code.names.push(n.clone());
        (self.code.names.len() - 1) as u32
    }
    fn constant(&mut self, c: ConstVal) -> u32 {
        self.code.consts.push(c);
        (self.code.consts.len() - 1) as u32
    }
    fn err<T>(&self, msg: &'static str) -> Result<T, CompileError> {
        Err(CompileError {
            line: self.line,
            msg,
        })
    }

    fn block(&mut self, body: &Block) -> Result<(), CompileError> {
        body.iter().try_for_each(|s| self.stmt(s))
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), CompileError> {
        self.line = s.line;
        match &s.kind {
            StmtKind::Expr(e) => {
                self.expr(e)?;
                let top_level = self.interactive && self.scopes.is_empty();
                self.emit(if top_level { Op::PrintExpr } else { Op::Pop });
            }
            StmtKind::Assign(targets, value) => {
                self.expr(value)?;
                for (i, t) in targets.iter().enumerate() {
                    if i + 1 < targets.len() {
                        self.emit(Op::Dup);
                    }
                    self.store(t)?;
                }
            }
            StmtKind::AugAssign(target, op, value) => match target {
                Expr::Name(n) => {
                    let i = self.name(n);
                    self.emit(Op::Load(i));
                    self.expr(value)?;
                    self.emit(Op::Bin(*op));
                    self.emit(Op::Store(i));
                }
                Expr::Attr(obj, attr) => {
                    self.expr(obj)?;
                    self.emit(Op::Dup);
                    let i = self.name(attr);
                    self.emit(Op::LoadAttr(i));
                    self.expr(value)?;
                    self.emit(Op::Bin(*op));
                    self.emit(Op::Rot2);
                    self.emit(Op::StoreAttr(i));
                }
                Expr::Index(obj, index) => {
                    // Evaluates obj and index twice: fine for the subset's side-effect-free targets.
                    self.expr(obj)?;
                    self.expr(index)?;
                    self.emit(Op::Index);
                    self.expr(value)?;
                    self.emit(Op::Bin(*op));
                    self.expr(obj)?;
                    self.expr(index)?;
                    self.emit(Op::StoreIndex);
                }
                _ => return self.err("illegal expression for augmented assignment"),
            },
            StmtKind::If(arms, other) => {
                let mut ends = Vec::new();
                for (cond, body) in arms {
                    self.expr(cond)?;
                    let skip = self.emit(Op::JumpIfFalse(0));
                    self.block(body)?;
                    ends.push(self.emit(Op::Jump(0)));
                    self.patch(skip);
                }
                if let Some(body) = other {
                    self.block(body)?;
                }
                ends.into_iter().for_each(|e| self.patch(e));
            }
            StmtKind::While(cond, body) => {
                let start = self.here();
                self.expr(cond)?;
                let exit = self.emit(Op::JumpIfFalse(0));
                self.loop_body(start, false, body, exit)?;
            }
            StmtKind::For(target, iter, body) => {
                self.expr(iter)?;
                self.emit(Op::GetIter);
                let start = self.here();
                let exit = self.emit(Op::ForIter(0));
                self.store(target)?;
                self.loop_body(start, true, body, exit)?;
            }
            StmtKind::Break | StmtKind::Continue => {
                let is_break = matches!(s.kind, StmtKind::Break);
                let Some(depth) = self
                    .scopes
                    .iter()
                    .rposition(|s| matches!(s, Scope::Loop { .. }))
                else {
                    return self.err(if is_break {
                        "'break' outside loop"
                    } else {
                        "'continue' outside loop"
                    });
                };
                self.unwind(depth + 1)?;
                let Scope::Loop { start, is_for, .. } = self.scopes[depth] else {
                    unreachable!()
                };
                if is_break {
                    if is_for {
                        self.emit(Op::Pop);
                    }
                    let j = self.emit(Op::Jump(0));
                    if let Scope::Loop { breaks, .. } = &mut self.scopes[depth] {
                        breaks.push(j);
                    }
                } else {
                    self.emit(Op::Jump(start));
                }
            }
            StmtKind::Pass => {}
            StmtKind::Def(name, params, defaults, body) => {
                for d in defaults {
                    self.expr(d)?;
                }
                let code = compile_function(name, params, body, &self.code.file)?;
                let c = self.constant(ConstVal::Code(code));
                self.emit(Op::MakeFunction(c, defaults.len() as u32));
                let n = self.name(name);
                self.emit(Op::Store(n));
            }
            StmtKind::Return(value) => {
                if self.code.is_module {
                    return self.err("'return' outside function");
                }
                match value {
                    Some(v) => self.expr(v)?,
                    None => {
                        self.emit(Op::Const(0));
                    }
                }
                // Run enclosing `finally` bodies and close `with` contexts first; the value
                // waits under them (statement code leaves the stack as it found it).
                self.unwind(0)?;
                self.emit(Op::Return);
            }
            StmtKind::Import(names) => {
                for (module, alias) in names {
                    let m = self.name(module);
                    self.emit(Op::Import(m));
                    // `import a.b` binds `a`; we have no packages, so bind the full name's head.
                    let bound = alias
                        .clone()
                        .unwrap_or_else(|| module.split('.').next().unwrap().into());
                    let b = self.name(&bound);
                    self.emit(Op::Store(b));
                }
            }
            StmtKind::FromImport(module, names) => {
                let m = self.name(module);
                self.emit(Op::Import(m));
                for (name, alias) in names {
                    if &**name == "*" {
                        self.emit(Op::ImportStar);
                        return Ok(());
                    }
                    let n = self.name(name);
                    self.emit(Op::ImportFrom(n));
                    let b = self.name(alias.as_ref().unwrap_or(name));
                    self.emit(Op::Store(b));
                }
                self.emit(Op::Pop);
            }
            StmtKind::With(ctx, target, body) => {
                self.expr(ctx)?;
                self.emit(Op::WithEnter);
                match target {
                    Some(t) => self.store(t)?,
                    None => {
                        self.emit(Op::Pop);
                    }
                }
                self.scopes.push(Scope::With);
                self.block(body)?;
                self.scopes.pop();
                self.emit(Op::WithExit);
            }
            StmtKind::Try(body, handlers, other, finally) => {
                self.try_stmt(body, handlers, other, finally)?
            }
            StmtKind::Raise(value) => match value {
                Some(v) => {
                    self.expr(v)?;
                    self.emit(Op::Raise(1));
                }
                None => {
                    self.emit(Op::Raise(0));
                }
            },
            StmtKind::Global(names) => {
                for n in names {
                    let i = self.name(n);
                    self.emit(Op::Global(i));
                }
            }
            StmtKind::Del(targets) => {
                for t in targets {
                    match t {
                        Expr::Name(n) => {
                            let i = self.name(n);
                            self.emit(Op::Delete(i));
                        }
                        Expr::Index(obj, index) => {
                            self.expr(obj)?;
                            self.expr(index)?;
                            self.emit(Op::DeleteIndex);
                        }
                        _ => return self.err("can't delete expression"),
                    }
                }
            }
        }
        Ok(())
    }

    fn store(&mut self, target: &Expr) -> Result<(), CompileError> {
        match target {
            Expr::Name(n) => {
                let i = self.name(n);
                self.emit(Op::Store(i));
            }
            Expr::Attr(obj, attr) => {
                self.expr(obj)?;
                let i = self.name(attr);
                self.emit(Op::StoreAttr(i));
            }
            Expr::Index(obj, index) => {
                self.expr(obj)?;
                self.expr(index)?;
                self.emit(Op::StoreIndex);
            }
            Expr::Tuple(items) | Expr::List(items) => {
                self.emit(Op::Unpack(items.len() as u32));
                for t in items {
                    self.store(t)?;
                }
            }
            _ => return self.err("can't assign to expression"),
        }
        Ok(())
    }
}

fn compile_function(
    name: &Rc<str>,
    params: &[Rc<str>],
    body: &Block,
    file: &str,
) -> Result<Rc<Code>, CompileError> {
    let mut c = Compiler::new(name, file, false);
    c.code.params = params.to_vec();
    c.block(body)?;
    c.emit(Op::Const(0));
    c.emit(Op::Return);
    Ok(Rc::new(c.code))
}
