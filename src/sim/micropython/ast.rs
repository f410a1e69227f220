//! The syntax tree of the Python subset: what the parser builds and the compiler reads.

use std::rc::Rc;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Name(Rc<str>),
    Attr(Box<Expr>, Rc<str>),
    Index(Box<Expr>, Box<Expr>),
    Slice(Option<Box<Expr>>, Option<Box<Expr>>, Option<Box<Expr>>),
    Call(Box<Expr>, Vec<Expr>, Vec<(Rc<str>, Expr)>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Invert(Box<Expr>),
    Not(Box<Expr>),
    /// `and` (true) / `or` (false), short-circuiting.
    Logic(bool, Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    IfElse(Box<Expr>, Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Lambda(Rc<[Rc<str>]>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    And,
    Or,
    Xor,
    Shl,
    Shr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Is,
    IsNot,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub line: u32,
    pub kind: StmtKind,
}

pub type Block = Vec<Stmt>;

#[derive(Debug, Clone, PartialEq)]
pub struct Handler {
    pub kind: Option<Expr>,
    pub name: Option<Rc<str>>,
    pub body: Block,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    Expr(Expr),
    /// `a = b = value`: every target gets the value.
    Assign(Vec<Expr>, Expr),
    AugAssign(Expr, BinOp, Expr),
    If(Vec<(Expr, Block)>, Option<Block>),
    While(Expr, Block),
    For(Expr, Expr, Block),
    Break,
    Continue,
    Pass,
    Def(Rc<str>, Rc<[Rc<str>]>, Vec<Expr>, Rc<Block>),
    Return(Option<Expr>),
    /// `import a.b as c`: (dotted name, alias).
    Import(Vec<(Rc<str>, Option<Rc<str>>)>),
    FromImport(Rc<str>, Vec<(Rc<str>, Option<Rc<str>>)>),
    With(Expr, Option<Expr>, Block),
    Try(Block, Vec<Handler>, Option<Block>, Option<Block>),
    Raise(Option<Expr>),
    Global(Vec<Rc<str>>),
    Del(Vec<Expr>),
}
