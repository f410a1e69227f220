//! The instruction set's semantics: one bytecode instruction at a time.

use std::rc::Rc;

use super::super::builtins;
use super::super::compile::{ConstVal, Op};
use super::super::ops;
use super::super::value::{exc_matches, Exception, Function, Value};
use super::{type_error, Block, Ctx, Run, Vm, R};

impl Vm {
    /// One instruction.
    pub(super) fn step(&mut self, ctx: &mut Ctx) -> R<Option<Run>> {
        let f = self.frames.last_mut().unwrap();
        let op = f.code.ops[f.pc];
        f.pc += 1;
        let code = f.code.clone();
        let name = |i: u32| code.names[i as usize].clone();
        match op {
            Op::Const(i) => match &code.consts[i as usize] {
                ConstVal::Code(_) => unreachable!("code is only used by MakeFunction"),
                c => self.push(c.value()),
            },
            Op::Load(i) => {
                let v = self.load(&name(i))?;
                self.push(v);
            }
            Op::Store(i) => {
                let v = self.pop();
                self.store(name(i), v);
            }
            Op::Delete(i) => {
                let n = name(i);
                let f = self.frame();
                let gone = match &mut f.locals {
                    Some(l) if !f.declared_global.contains(&n) => l.remove(&n).is_some(),
                    _ => self.globals.remove(&n).is_some(),
                };
                if !gone {
                    return Err(Exception::msg(
                        "NameError",
                        format!("name '{n}' isn't defined"),
                    ));
                }
            }
            Op::Global(i) => {
                let n = name(i);
                self.frame().declared_global.push(n);
            }
            Op::LoadAttr(i) => {
                let obj = self.pop();
                let v = builtins::get_attr(&obj, &name(i))?;
                self.push(v);
            }
            Op::StoreAttr(i) => {
                let obj = self.pop();
                return Err(Exception::msg(
                    "AttributeError",
                    format!(
                        "'{}' object has no attribute '{}'",
                        obj.type_name(),
                        name(i)
                    ),
                ));
            }
            Op::Index => {
                let index = self.pop();
                let obj = self.pop();
                let v = ops::index(&obj, &index)?;
                self.push(v);
            }
            Op::StoreIndex => {
                let index = self.pop();
                let obj = self.pop();
                let value = self.pop();
                ops::store_index(&obj, &index, value)?;
            }
            Op::DeleteIndex => {
                let index = self.pop();
                let obj = self.pop();
                ops::delete_index(&obj, &index)?;
            }
            Op::Slice => {
                let parts = self.popn(3);
                let int = |v: &Value| match v {
                    Value::None => Ok(None),
                    v => super::super::value::as_int(v)
                        .map(Some)
                        .ok_or_else(|| type_error("slice indices must be integers")),
                };
                let v = Value::Slice(int(&parts[0])?, int(&parts[1])?, int(&parts[2])?);
                self.push(v);
            }
            Op::Bin(op) => {
                let r = self.pop();
                let l = self.pop();
                let v = ops::binary(op, &l, &r)?;
                self.push(v);
            }
            Op::Compare(op) => {
                let r = self.pop();
                let l = self.pop();
                let v = ops::compare(op, &l, &r)?;
                self.push(Value::Bool(v));
            }
            Op::Neg => {
                let v = self.pop();
                let v = ops::binary(super::super::ast::BinOp::Sub, &Value::Int(0), &v)?;
                self.push(v);
            }
            Op::Invert => match self.pop() {
                Value::Int(i) => self.push(Value::Int(!i)),
                v => {
                    return Err(type_error(format!(
                        "unsupported type for __invert__: '{}'",
                        v.type_name()
                    )))
                }
            },
            Op::Not => {
                let v = self.pop();
                self.push(Value::Bool(!v.truthy()));
            }
            Op::Jump(t) => self.frame().pc = t as usize,
            Op::JumpIfFalse(t) => {
                if !self.pop().truthy() {
                    self.frame().pc = t as usize;
                }
            }
            Op::JumpIfFalseOrPop(t) | Op::JumpIfTrueOrPop(t) => {
                let want = matches!(op, Op::JumpIfTrueOrPop(_));
                let f = self.frame();
                if f.stack.last().is_some_and(|v| v.truthy() == want) {
                    f.pc = t as usize;
                } else {
                    f.stack.pop();
                }
            }
            Op::Call(npos, kw) => {
                let kw_names: Vec<Rc<str>> = match code.consts.get(kw as usize) {
                    Some(ConstVal::Names(n)) => n.to_vec(),
                    _ => Vec::new(),
                };
                let kw_values = self.popn(kw_names.len());
                let args = self.popn(npos as usize);
                let func = self.pop();
                let kwargs: Vec<(Rc<str>, Value)> = kw_names.into_iter().zip(kw_values).collect();
                self.call(ctx, func, args, kwargs)?;
            }
            Op::Pop => {
                self.pop();
            }
            Op::Dup => {
                let v = self.frame().stack.last().cloned().unwrap_or(Value::None);
                self.push(v);
            }
            Op::Rot2 => {
                let s = &mut self.frame().stack;
                let n = s.len();
                s.swap(n - 1, n - 2);
            }
            Op::DupUnder => {
                let b = self.pop();
                let a = self.pop();
                self.push(b.clone());
                self.push(a);
                self.push(b);
            }
            Op::List(n) => {
                let items = self.popn(n as usize);
                self.push(Value::list(items));
            }
            Op::Tuple(n) => {
                let items = self.popn(n as usize);
                self.push(Value::tuple(items));
            }
            Op::Dict(n) => {
                let flat = self.popn(2 * n as usize);
                let d = Value::Dict(Default::default());
                for pair in flat.chunks(2) {
                    ops::store_index(&d, &pair[0], pair[1].clone())?;
                }
                self.push(d);
            }
            Op::Unpack(n) => {
                let v = self.pop();
                let items = builtins::collect(&v)?;
                if items.len() != n as usize {
                    return Err(Exception::msg(
                        "ValueError",
                        format!("need {n} values to unpack"),
                    ));
                }
                self.frame().stack.extend(items.into_iter().rev());
            }
            Op::GetIter => {
                let v = self.pop();
                let it = builtins::iter(&v)?;
                self.push(it);
            }
            Op::ForIter(t) => {
                let it = self.frame().stack.last().cloned().unwrap_or(Value::None);
                match builtins::next(&it)? {
                    Some(v) => self.push(v),
                    None => {
                        self.pop();
                        self.frame().pc = t as usize;
                    }
                }
            }
            Op::Return => {
                let v = self.pop();
                self.frames.pop();
                if self.frames.is_empty() {
                    return Ok(Some(Run::Done(Ok(()))));
                }
                self.push(v);
            }
            Op::MakeFunction(c, n) => {
                let defaults = self.popn(n as usize);
                let ConstVal::Code(body) = &code.consts[c as usize] else {
                    unreachable!()
                };
                self.push(Value::Function(Rc::new(Function {
                    name: body.name.clone(),
                    code: body.clone(),
                    defaults,
                })));
            }
            Op::Import(i) => {
                let n = name(i);
                let m = match self.modules.get(&*n) {
                    Some(m) => m.clone(),
                    None => {
                        let (key, m) = builtins::import(ctx, &n)?;
                        self.modules.insert(key, m.clone());
                        m
                    }
                };
                self.push(m);
            }
            Op::ImportFrom(i) => {
                let m = self.frame().stack.last().cloned().unwrap_or(Value::None);
                let n = name(i);
                let v = builtins::get_attr(&m, &n)
                    .map_err(|_| Exception::msg("ImportError", format!("can't import name {n}")))?;
                self.push(v);
            }
            Op::ImportStar => {
                if let Value::Module(m) = self.pop() {
                    for (k, v) in &m.attrs {
                        self.store((*k).into(), v.clone());
                    }
                }
            }
            Op::SetupExcept(t) => {
                let depth = self.frame().stack.len();
                self.frame().blocks.push(Block::Except {
                    handler: t as usize,
                    depth,
                });
            }
            Op::PopBlock => {
                self.frame().blocks.pop();
            }
            Op::WithEnter => {
                let ctx_value = self.pop();
                if !matches!(ctx_value, Value::File(_)) {
                    return Err(Exception::msg(
                        "AttributeError",
                        format!(
                            "'{}' object has no attribute '__enter__'",
                            ctx_value.type_name()
                        ),
                    ));
                }
                self.frame().blocks.push(Block::With(ctx_value.clone()));
                self.push(ctx_value);
            }
            Op::WithExit => {
                if let Some(Block::With(v)) = self.frame().blocks.pop() {
                    builtins::close(ctx, &v)?;
                }
            }
            Op::Raise(n) => {
                let exc = if n == 0 {
                    self.frame().handling.clone().ok_or_else(|| {
                        Exception::msg("RuntimeError", "no active exception to reraise")
                    })?
                } else {
                    match self.pop() {
                        Value::Exc(e) => e,
                        Value::ExcType(k) => Exception::new(k, vec![]),
                        _ => return Err(type_error("exceptions must derive from BaseException")),
                    }
                };
                return Err(exc);
            }
            Op::ExcMatch => {
                let kind = self.pop();
                let exc = self.frame().stack.last().cloned();
                let Some(Value::Exc(e)) = exc else {
                    unreachable!("handlers start with the exception")
                };
                let kinds = match &kind {
                    Value::Tuple(t) => t.to_vec(),
                    k => vec![k.clone()],
                };
                let hit = kinds
                    .iter()
                    .any(|k| matches!(k, Value::ExcType(base) if exc_matches(e.kind, base)));
                self.push(Value::Bool(hit));
            }
            Op::PrintExpr => {
                let v = self.pop();
                if !matches!(v, Value::None) {
                    ctx.print(v.repr().as_bytes());
                    ctx.print(b"\n");
                }
            }
        }
        Ok(None)
    }
}
