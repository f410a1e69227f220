//! Expressions to stack code.

use super::super::ast::*;
use super::{compile_function, CompileError, Compiler, ConstVal, Op};

impl Compiler {
    pub(super) fn expr(&mut self, e: &Expr) -> Result<(), CompileError> {
        match e {
            Expr::None => {
                self.emit(Op::Const(0));
            }
            Expr::Bool(b) => self.push_const(ConstVal::Bool(*b)),
            Expr::Int(i) => self.push_const(ConstVal::Int(*i)),
            Expr::Float(f) => self.push_const(ConstVal::Float(*f)),
            Expr::Str(s) => self.push_const(ConstVal::Str(s.clone())),
            Expr::Bytes(b) => self.push_const(ConstVal::Bytes(b.clone())),
            Expr::Name(n) => {
                let i = self.name(n);
                self.emit(Op::Load(i));
            }
            Expr::Attr(obj, attr) => {
                self.expr(obj)?;
                let i = self.name(attr);
                self.emit(Op::LoadAttr(i));
            }
            Expr::Index(obj, index) => {
                self.expr(obj)?;
                self.expr(index)?;
                self.emit(Op::Index);
            }
            Expr::Slice(a, b, c) => {
                for part in [a, b, c] {
                    match part {
                        Some(p) => self.expr(p)?,
                        None => {
                            self.emit(Op::Const(0));
                        }
                    }
                }
                self.emit(Op::Slice);
            }
            Expr::Call(f, args, kwargs) => {
                self.expr(f)?;
                for a in args {
                    self.expr(a)?;
                }
                for (_, v) in kwargs {
                    self.expr(v)?;
                }
                let kw = if kwargs.is_empty() {
                    u32::MAX
                } else {
                    self.constant(ConstVal::Names(
                        kwargs.iter().map(|(k, _)| k.clone()).collect(),
                    ))
                };
                self.emit(Op::Call(args.len() as u32, kw));
            }
            Expr::Bin(op, l, r) => {
                self.expr(l)?;
                self.expr(r)?;
                self.emit(Op::Bin(*op));
            }
            Expr::Neg(x) => {
                self.expr(x)?;
                self.emit(Op::Neg);
            }
            Expr::Invert(x) => {
                self.expr(x)?;
                self.emit(Op::Invert);
            }
            Expr::Not(x) => {
                self.expr(x)?;
                self.emit(Op::Not);
            }
            Expr::Logic(and, l, r) => {
                self.expr(l)?;
                let j = self.emit(if *and {
                    Op::JumpIfFalseOrPop(0)
                } else {
                    Op::JumpIfTrueOrPop(0)
                });
                self.expr(r)?;
                self.patch(j);
            }
            Expr::Compare(first, rest) => {
                // a < b < c: each comparison but the last keeps its right side for the next.
                self.expr(first)?;
                let mut fails = Vec::new();
                for (i, (op, right)) in rest.iter().enumerate() {
                    self.expr(right)?;
                    if i + 1 < rest.len() {
                        self.emit(Op::DupUnder);
                        self.emit(Op::Compare(*op));
                        fails.push(self.emit(Op::JumpIfFalseOrPop(0)));
                    } else {
                        self.emit(Op::Compare(*op));
                    }
                }
                if !fails.is_empty() {
                    let end = self.emit(Op::Jump(0));
                    fails.into_iter().for_each(|f| self.patch(f));
                    // Failed early: the result sits on the kept operand.
                    self.emit(Op::Rot2);
                    self.emit(Op::Pop);
                    self.patch(end);
                }
            }
            Expr::IfElse(cond, a, b) => {
                self.expr(cond)?;
                let other = self.emit(Op::JumpIfFalse(0));
                self.expr(a)?;
                let end = self.emit(Op::Jump(0));
                self.patch(other);
                self.expr(b)?;
                self.patch(end);
            }
            Expr::List(items) | Expr::Tuple(items) => {
                for i in items {
                    self.expr(i)?;
                }
                let n = items.len() as u32;
                self.emit(if matches!(e, Expr::List(_)) {
                    Op::List(n)
                } else {
                    Op::Tuple(n)
                });
            }
            Expr::Dict(items) => {
                for (k, v) in items {
                    self.expr(k)?;
                    self.expr(v)?;
                }
                self.emit(Op::Dict(items.len() as u32));
            }
            Expr::Lambda(params, body) => {
                let ret = Stmt {
                    line: self.line,
                    kind: StmtKind::Return(Some((**body).clone())),
                };
                let code =
                    compile_function(&"<lambda>".into(), params, &vec![ret], &self.code.file)?;
                let c = self.constant(ConstVal::Code(code));
                self.emit(Op::MakeFunction(c, 0));
            }
        }
        Ok(())
    }

    pub(super) fn push_const(&mut self, c: ConstVal) {
        let i = self.constant(c);
        self.emit(Op::Const(i));
    }
}
