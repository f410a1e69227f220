//! Expressions: precedence climbing from conditional expressions down to atoms.

use super::super::ast::*;
use super::super::lexer::Tok;
use super::{is_keyword, KwArgs, Parser, SyntaxError, R};

impl Parser {
    /// `a, b` as a tuple; a single expression as itself.
    pub(super) fn expr_list(&mut self) -> R<Expr> {
        let first = self.expr()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(",") {
            if self.at_end() || self.is_op("=") || self.is_op(")") {
                break;
            }
            items.push(self.expr()?);
        }
        Ok(Expr::Tuple(items))
    }

    pub(super) fn expr(&mut self) -> R<Expr> {
        if self.eat_kw("lambda") {
            let (params, defaults) = self.params(":")?;
            if !defaults.is_empty() {
                return self.error();
            }
            self.expect(":")?;
            return Ok(Expr::Lambda(params.into(), Box::new(self.expr()?)));
        }
        let e = self.or_test()?;
        if self.eat_kw("if") {
            let cond = self.or_test()?;
            self.expect_kw("else")?;
            let other = self.expr()?;
            return Ok(Expr::IfElse(Box::new(cond), Box::new(e), Box::new(other)));
        }
        Ok(e)
    }

    pub(super) fn or_test(&mut self) -> R<Expr> {
        let mut e = self.and_test()?;
        while self.eat_kw("or") {
            e = Expr::Logic(false, Box::new(e), Box::new(self.and_test()?));
        }
        Ok(e)
    }

    pub(super) fn and_test(&mut self) -> R<Expr> {
        let mut e = self.not_test()?;
        while self.eat_kw("and") {
            e = Expr::Logic(true, Box::new(e), Box::new(self.not_test()?));
        }
        Ok(e)
    }

    pub(super) fn not_test(&mut self) -> R<Expr> {
        if self.eat_kw("not") {
            return Ok(Expr::Not(Box::new(self.not_test()?)));
        }
        let left = self.or_expr()?;
        let mut ops = Vec::new();
        loop {
            let op = match self.peek() {
                Tok::Op("==") => CmpOp::Eq,
                Tok::Op("!=") => CmpOp::Ne,
                Tok::Op("<") => CmpOp::Lt,
                Tok::Op("<=") => CmpOp::Le,
                Tok::Op(">") => CmpOp::Gt,
                Tok::Op(">=") => CmpOp::Ge,
                Tok::Name(n) if &**n == "in" => CmpOp::In,
                Tok::Name(n) if &**n == "is" => {
                    self.next();
                    let op = if self.eat_kw("not") {
                        CmpOp::IsNot
                    } else {
                        CmpOp::Is
                    };
                    ops.push((op, self.or_expr()?));
                    continue;
                }
                Tok::Name(n) if &**n == "not" => {
                    self.next();
                    self.expect_kw("in")?;
                    ops.push((CmpOp::NotIn, self.or_expr()?));
                    continue;
                }
                _ => break,
            };
            self.next();
            ops.push((op, self.or_expr()?));
        }
        Ok(if ops.is_empty() {
            left
        } else {
            Expr::Compare(Box::new(left), ops)
        })
    }

    /// Binary operators by precedence, loosest first.
    pub(super) fn or_expr(&mut self) -> R<Expr> {
        self.binary(0)
    }

    pub(super) fn binary(&mut self, level: usize) -> R<Expr> {
        const LEVELS: &[&[(&str, BinOp)]] = &[
            &[("|", BinOp::Or)],
            &[("^", BinOp::Xor)],
            &[("&", BinOp::And)],
            &[("<<", BinOp::Shl), (">>", BinOp::Shr)],
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            &[
                ("*", BinOp::Mul),
                ("/", BinOp::Div),
                ("//", BinOp::FloorDiv),
                ("%", BinOp::Mod),
            ],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut e = self.binary(level + 1)?;
        'outer: loop {
            for (op, bin) in LEVELS[level] {
                if self.eat(op) {
                    e = Expr::Bin(*bin, Box::new(e), Box::new(self.binary(level + 1)?));
                    continue 'outer;
                }
            }
            return Ok(e);
        }
    }

    pub(super) fn unary(&mut self) -> R<Expr> {
        if self.eat("-") {
            return Ok(match self.unary()? {
                Expr::Int(v) => Expr::Int(-v),
                Expr::Float(v) => Expr::Float(-v),
                e => Expr::Neg(Box::new(e)),
            });
        }
        if self.eat("+") {
            return self.unary();
        }
        if self.eat("~") {
            return Ok(Expr::Invert(Box::new(self.unary()?)));
        }
        let base = self.postfix()?;
        if self.eat("**") {
            return Ok(Expr::Bin(
                BinOp::Pow,
                Box::new(base),
                Box::new(self.unary()?),
            ));
        }
        Ok(base)
    }

    pub(super) fn postfix(&mut self) -> R<Expr> {
        let mut e = self.atom()?;
        loop {
            if self.eat(".") {
                e = Expr::Attr(Box::new(e), self.name()?);
            } else if self.eat("(") {
                let (args, kwargs) = self.call_args()?;
                e = Expr::Call(Box::new(e), args, kwargs);
            } else if self.eat("[") {
                let index = self.subscript()?;
                self.expect("]")?;
                e = Expr::Index(Box::new(e), Box::new(index));
            } else {
                return Ok(e);
            }
        }
    }

    pub(super) fn call_args(&mut self) -> R<(Vec<Expr>, KwArgs)> {
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        while !self.eat(")") {
            let is_kw = matches!(self.peek(), Tok::Name(_))
                && matches!(
                    self.toks.get(self.pos + 1).map(|t| &t.tok),
                    Some(Tok::Op("="))
                );
            if is_kw {
                let name = self.name()?;
                self.next();
                kwargs.push((name, self.expr()?));
            } else if kwargs.is_empty() {
                args.push(self.expr()?);
            } else {
                return self.error();
            }
            if !self.eat(",") {
                self.expect(")")?;
                break;
            }
        }
        Ok((args, kwargs))
    }

    pub(super) fn subscript(&mut self) -> R<Expr> {
        let part = |p: &mut Parser| -> R<Option<Box<Expr>>> {
            if p.is_op(":") || p.is_op("]") {
                Ok(None)
            } else {
                Ok(Some(Box::new(p.expr()?)))
            }
        };
        let start = part(self)?;
        if !self.eat(":") {
            return start.map(|e| *e).ok_or(()).or_else(|_| self.error());
        }
        let stop = part(self)?;
        let step = if self.eat(":") { part(self)? } else { None };
        Ok(Expr::Slice(start, stop, step))
    }

    pub(super) fn atom(&mut self) -> R<Expr> {
        let line = self.line();
        match self.next() {
            Tok::Int(v) => Ok(Expr::Int(v)),
            Tok::Float(v) => Ok(Expr::Float(v)),
            Tok::Str(s) => {
                let mut s = s;
                while let Tok::Str(more) = self.peek().clone() {
                    self.next();
                    s.push_str(&more);
                }
                Ok(Expr::Str(s.into()))
            }
            Tok::Bytes(b) => {
                let mut b = b;
                while let Tok::Bytes(more) = self.peek().clone() {
                    self.next();
                    b.extend(more);
                }
                Ok(Expr::Bytes(b.into()))
            }
            Tok::Name(n) => match &*n {
                "None" => Ok(Expr::None),
                "True" => Ok(Expr::Bool(true)),
                "False" => Ok(Expr::Bool(false)),
                _ if is_keyword(&n) => Err(SyntaxError {
                    line,
                    msg: "invalid syntax".into(),
                }),
                _ => Ok(Expr::Name(n)),
            },
            Tok::Op("(") => {
                if self.eat(")") {
                    return Ok(Expr::Tuple(Vec::new()));
                }
                let first = self.expr()?;
                if self.eat(")") {
                    return Ok(first);
                }
                let mut items = vec![first];
                while self.eat(",") {
                    if self.is_op(")") {
                        break;
                    }
                    items.push(self.expr()?);
                }
                self.expect(")")?;
                Ok(Expr::Tuple(items))
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                while !self.eat("]") {
                    items.push(self.expr()?);
                    if !self.eat(",") {
                        self.expect("]")?;
                        break;
                    }
                }
                Ok(Expr::List(items))
            }
            Tok::Op("{") => {
                let mut items = Vec::new();
                while !self.eat("}") {
                    let k = self.expr()?;
                    self.expect(":")?;
                    items.push((k, self.expr()?));
                    if !self.eat(",") {
                        self.expect("}")?;
                        break;
                    }
                }
                Ok(Expr::Dict(items))
            }
            _ => Err(SyntaxError {
                line,
                msg: "invalid syntax".into(),
            }),
        }
    }
}
