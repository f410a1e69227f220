//! Recursive-descent parser for the Python subset: tokens in, [`ast`](super::ast) out.
//! Errors carry the line, so the REPL can print a MicroPython-shaped SyntaxError.

use std::rc::Rc;

use super::ast::*;
use super::lexer::{tokenize, Tok, Token};

mod expr;

#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub line: u32,
    pub msg: String,
}

type R<T> = Result<T, SyntaxError>;
type KwArgs = Vec<(Rc<str>, Expr)>;

pub fn parse(src: &str) -> R<Block> {
    let toks = tokenize(src).map_err(|e| SyntaxError {
        line: e.line,
        msg: e.msg.into(),
    })?;
    let mut p = Parser { toks, pos: 0 };
    let mut body = Vec::new();
    while p.peek() != &Tok::Eof {
        if p.eat_tok(&Tok::Newline) {
            continue;
        }
        body.extend(p.statement()?);
    }
    Ok(body)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }
    fn line(&self) -> u32 {
        self.toks[self.pos].line
    }
    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].tok.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn error<T>(&self) -> R<T> {
        Err(SyntaxError {
            line: self.line(),
            msg: "invalid syntax".into(),
        })
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if &**n == kw)
    }
    fn eat_tok(&mut self, t: &Tok) -> bool {
        let hit = self.peek() == t;
        if hit {
            self.next();
        }
        hit
    }
    fn eat(&mut self, op: &str) -> bool {
        let hit = self.is_op(op);
        if hit {
            self.next();
        }
        hit
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.is_kw(kw);
        if hit {
            self.next();
        }
        hit
    }
    fn expect(&mut self, op: &str) -> R<()> {
        if self.eat(op) {
            Ok(())
        } else {
            self.error()
        }
    }
    fn expect_kw(&mut self, kw: &str) -> R<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            self.error()
        }
    }
    fn name(&mut self) -> R<Rc<str>> {
        match self.peek().clone() {
            Tok::Name(n) if !is_keyword(&n) => {
                self.next();
                Ok(n)
            }
            _ => self.error(),
        }
    }

    /// One line of simple statements (`a; b`) or one compound statement.
    fn statement(&mut self) -> R<Vec<Stmt>> {
        let line = self.line();
        let compound = |kind| Ok(vec![Stmt { line, kind }]);
        if self.eat_kw("if") {
            let mut arms = vec![(self.expr()?, self.suite()?)];
            let mut other = None;
            loop {
                if self.eat_kw("elif") {
                    arms.push((self.expr()?, self.suite()?));
                } else if self.eat_kw("else") {
                    other = Some(self.suite()?);
                    break;
                } else {
                    break;
                }
            }
            return compound(StmtKind::If(arms, other));
        }
        if self.eat_kw("while") {
            let cond = self.expr()?;
            return compound(StmtKind::While(cond, self.suite()?));
        }
        if self.eat_kw("for") {
            let target = self.target_list()?;
            self.expect_kw("in")?;
            let iter = self.expr_list()?;
            return compound(StmtKind::For(target, iter, self.suite()?));
        }
        if self.eat_kw("def") {
            let name = self.name()?;
            self.expect("(")?;
            let (params, defaults) = self.params(")")?;
            self.expect(")")?;
            let body = self.suite()?;
            return compound(StmtKind::Def(name, params.into(), defaults, Rc::new(body)));
        }
        if self.eat_kw("with") {
            let ctx = self.expr()?;
            let target = if self.eat_kw("as") {
                Some(self.target()?)
            } else {
                None
            };
            return compound(StmtKind::With(ctx, target, self.suite()?));
        }
        if self.eat_kw("try") {
            let body = self.suite()?;
            let mut handlers = Vec::new();
            while self.eat_kw("except") {
                let kind = if self.is_op(":") {
                    None
                } else {
                    Some(self.expr()?)
                };
                let name = if self.eat_kw("as") {
                    Some(self.name()?)
                } else {
                    None
                };
                handlers.push(Handler {
                    kind,
                    name,
                    body: self.suite()?,
                });
            }
            let other = if !handlers.is_empty() && self.eat_kw("else") {
                Some(self.suite()?)
            } else {
                None
            };
            let finally = if self.eat_kw("finally") {
                Some(self.suite()?)
            } else {
                None
            };
            if handlers.is_empty() && finally.is_none() {
                return self.error();
            }
            return compound(StmtKind::Try(body, handlers, other, finally));
        }
        let mut out = vec![Stmt {
            line,
            kind: self.simple()?,
        }];
        while self.eat(";") {
            if matches!(self.peek(), Tok::Newline | Tok::Eof) {
                break;
            }
            out.push(Stmt {
                line: self.line(),
                kind: self.simple()?,
            });
        }
        if !self.eat_tok(&Tok::Newline) && self.peek() != &Tok::Eof {
            return self.error();
        }
        Ok(out)
    }

    /// `:` then either statements on the same line or an indented block.
    fn suite(&mut self) -> R<Block> {
        self.expect(":")?;
        if !self.eat_tok(&Tok::Newline) {
            return self.statement();
        }
        if !self.eat_tok(&Tok::Indent) {
            return Err(SyntaxError {
                line: self.line(),
                msg: "expected an indented block".into(),
            });
        }
        let mut body = Vec::new();
        while !self.eat_tok(&Tok::Dedent) {
            if self.peek() == &Tok::Eof {
                break;
            }
            body.extend(self.statement()?);
        }
        Ok(body)
    }

    fn simple(&mut self) -> R<StmtKind> {
        for (kw, kind) in [
            ("pass", StmtKind::Pass),
            ("break", StmtKind::Break),
            ("continue", StmtKind::Continue),
        ] {
            if self.eat_kw(kw) {
                return Ok(kind);
            }
        }
        if self.eat_kw("return") {
            let value = if self.at_end() {
                None
            } else {
                Some(self.expr_list()?)
            };
            return Ok(StmtKind::Return(value));
        }
        if self.eat_kw("raise") {
            let value = if self.at_end() {
                None
            } else {
                Some(self.expr()?)
            };
            return Ok(StmtKind::Raise(value));
        }
        if self.eat_kw("global") {
            let mut names = vec![self.name()?];
            while self.eat(",") {
                names.push(self.name()?);
            }
            return Ok(StmtKind::Global(names));
        }
        if self.eat_kw("del") {
            let mut targets = vec![self.target()?];
            while self.eat(",") {
                targets.push(self.target()?);
            }
            return Ok(StmtKind::Del(targets));
        }
        if self.eat_kw("import") {
            let mut names = Vec::new();
            loop {
                let module = self.dotted()?;
                let alias = if self.eat_kw("as") {
                    Some(self.name()?)
                } else {
                    None
                };
                names.push((module, alias));
                if !self.eat(",") {
                    return Ok(StmtKind::Import(names));
                }
            }
        }
        if self.eat_kw("from") {
            let module = self.dotted()?;
            self.expect_kw("import")?;
            let paren = self.eat("(");
            let mut names = Vec::new();
            loop {
                let name = if self.eat("*") {
                    "*".into()
                } else {
                    self.name()?
                };
                let alias = if self.eat_kw("as") {
                    Some(self.name()?)
                } else {
                    None
                };
                names.push((name, alias));
                if !self.eat(",") || (paren && self.is_op(")")) {
                    break;
                }
            }
            if paren {
                self.expect(")")?;
            }
            return Ok(StmtKind::FromImport(module, names));
        }
        let first = self.expr_list()?;
        for (op, bin) in AUG_OPS {
            if self.eat(op) {
                check_target(&first, self.line())?;
                return Ok(StmtKind::AugAssign(first, *bin, self.expr_list()?));
            }
        }
        if self.is_op("=") {
            let mut targets = vec![first];
            let mut value = None;
            while self.eat("=") {
                let e = self.expr_list()?;
                if let Some(prev) = value.replace(e) {
                    targets.push(prev);
                }
            }
            for t in &targets {
                check_target(t, self.line())?;
            }
            return Ok(StmtKind::Assign(targets, value.unwrap()));
        }
        Ok(StmtKind::Expr(first))
    }

    fn at_end(&self) -> bool {
        matches!(self.peek(), Tok::Newline | Tok::Eof) || self.is_op(";")
    }

    fn dotted(&mut self) -> R<Rc<str>> {
        let mut name = self.name()?.to_string();
        while self.eat(".") {
            name.push('.');
            name.push_str(&self.name()?);
        }
        Ok(name.into())
    }

    fn params(&mut self, close: &str) -> R<(Vec<Rc<str>>, Vec<Expr>)> {
        let mut params = Vec::new();
        let mut defaults = Vec::new();
        while !self.is_op(close) {
            params.push(self.name()?);
            if self.eat("=") {
                defaults.push(self.expr()?);
            } else if !defaults.is_empty() {
                return self.error();
            }
            if !self.eat(",") {
                break;
            }
        }
        Ok((params, defaults))
    }

    fn target(&mut self) -> R<Expr> {
        let e = self.or_expr()?;
        check_target(&e, self.line())?;
        Ok(e)
    }

    fn target_list(&mut self) -> R<Expr> {
        let first = self.target()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(",") {
            if self.is_kw("in") {
                break;
            }
            items.push(self.target()?);
        }
        Ok(Expr::Tuple(items))
    }
}

const AUG_OPS: &[(&str, BinOp)] = &[
    ("+=", BinOp::Add),
    ("-=", BinOp::Sub),
    ("*=", BinOp::Mul),
    ("/=", BinOp::Div),
    ("//=", BinOp::FloorDiv),
    ("%=", BinOp::Mod),
    ("**=", BinOp::Pow),
    ("&=", BinOp::And),
    ("|=", BinOp::Or),
    ("^=", BinOp::Xor),
    ("<<=", BinOp::Shl),
    (">>=", BinOp::Shr),
];

fn is_keyword(n: &str) -> bool {
    matches!(
        n,
        "and"
            | "as"
            | "break"
            | "class"
            | "continue"
            | "def"
            | "del"
            | "elif"
            | "else"
            | "except"
            | "finally"
            | "for"
            | "from"
            | "global"
            | "if"
            | "import"
            | "in"
            | "is"
            | "lambda"
            | "not"
            | "or"
            | "pass"
            | "raise"
            | "return"
            | "try"
            | "while"
            | "with"
            | "yield"
            | "None"
            | "True"
            | "False"
    )
}

fn check_target(e: &Expr, line: u32) -> R<()> {
    match e {
        Expr::Name(_) | Expr::Attr(..) | Expr::Index(..) => Ok(()),
        Expr::Tuple(items) | Expr::List(items) => {
            items.iter().try_for_each(|i| check_target(i, line))
        }
        _ => Err(SyntaxError {
            line,
            msg: "can't assign to expression".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_mpremote_sends() {
        let src = "buf = memoryview(bytearray(256))\nwith open('a', 'rb') as f:\n while True:\n  n = f.readinto(buf)\n  if n == 0:\n   break\n  h.update(buf if n == 256 else buf[:n])\n";
        let body = parse(src).unwrap();
        assert_eq!(body.len(), 2);
        assert!(matches!(body[1].kind, StmtKind::With(..)));
        let body = parse("import os\nfor f in os.ilistdir(''):\n print(repr(f), end=',')").unwrap();
        let StmtKind::For(_, _, inner) = &body[1].kind else {
            panic!()
        };
        assert!(
            matches!(&inner[0].kind, StmtKind::Expr(Expr::Call(_, args, kw)) if args.len() == 1 && kw.len() == 1)
        );
    }

    #[test]
    fn precedence_and_errors() {
        let body = parse("x = 1 + 2 * 3 ** 2 - -1").unwrap();
        let StmtKind::Assign(_, Expr::Bin(BinOp::Sub, l, _)) = &body[0].kind else {
            panic!("{body:?}")
        };
        assert!(matches!(**l, Expr::Bin(BinOp::Add, _, _)));
        assert_eq!(parse("x = (1,\n 2\n").unwrap_err().line, 3);
        assert!(parse("1 = x").is_err());
        assert!(parse("if x:\npass").is_err());
        assert_eq!(parse("a;b;").unwrap().len(), 2);
    }
}
