//! The built-in modules a host or a small script uses: `os`, `sys`, `time`, `machine`, `gc`,
//! `hashlib`, `binascii`, `micropython`. Each function is a `Value::Native("module.name")`.

use std::rc::Rc;
use std::time::Duration;

use base64::Engine;
use sha2::Digest;

use super::builtins::{bytes_arg, int_arg, str_arg};
use super::value::{Exception, Module, Value};
use super::vm::Ctx;
use super::Board;

type R<T> = Result<T, Rc<Exception>>;

/// Module names, including MicroPython's `u`-prefixed aliases.
pub fn canonical(name: &str) -> Option<&'static str> {
    Some(
        match name
            .strip_prefix('u')
            .filter(|n| n.len() > 2)
            .unwrap_or(name)
        {
            "os" => "os",
            "sys" => "sys",
            "time" => "time",
            "machine" => "machine",
            "gc" => "gc",
            "hashlib" => "hashlib",
            "binascii" => "binascii",
            "micropython" => "micropython",
            "errno" => "errno",
            _ => return None,
        },
    )
}

fn natives(names: &[&'static str]) -> Vec<(&'static str, Value)> {
    names
        .iter()
        .map(|n| (n.rsplit('.').next().unwrap(), Value::Native(n)))
        .collect()
}

pub fn build(name: &'static str, board: &Board) -> Module {
    let mut attrs = match name {
        "os" => natives(&[
            "os.listdir",
            "os.ilistdir",
            "os.stat",
            "os.remove",
            "os.rmdir",
            "os.mkdir",
            "os.rename",
            "os.getcwd",
            "os.chdir",
            "os.uname",
            "os.statvfs",
            "os.sync",
            "os.urandom",
        ]),
        "sys" => {
            let mut a = natives(&["sys.exit", "sys.print_exception"]);
            let stdout = Module {
                name: "stdout",
                attrs: natives(&["sys.stdout.write"]),
            };
            a.extend([
                ("implementation", board.implementation()),
                (
                    "version",
                    Value::str(&format!(
                        "3.4.0; MicroPython {} on {}",
                        board.version, board.date
                    )),
                ),
                (
                    "version_info",
                    Value::tuple(vec![Value::Int(3), Value::Int(4), Value::Int(0)]),
                ),
                ("platform", Value::str(board.platform)),
                ("byteorder", Value::str("little")),
                ("maxsize", Value::Int(i32::MAX as i64)),
                (
                    "path",
                    Value::list(vec![
                        Value::str(""),
                        Value::str(".frozen"),
                        Value::str("/lib"),
                    ]),
                ),
                ("argv", Value::list(vec![])),
                ("modules", Value::Dict(Default::default())),
                ("stdout", Value::Module(Rc::new(stdout))),
            ]);
            a
        }
        "time" => natives(&[
            "time.sleep",
            "time.sleep_ms",
            "time.sleep_us",
            "time.ticks_ms",
            "time.ticks_us",
            "time.ticks_diff",
            "time.ticks_add",
            "time.time",
        ]),
        "machine" => natives(&[
            "machine.reset",
            "machine.bootloader",
            "machine.soft_reset",
            "machine.freq",
            "machine.unique_id",
            "machine.reset_cause",
            "machine.idle",
        ]),
        "gc" => natives(&[
            "gc.collect",
            "gc.mem_free",
            "gc.mem_alloc",
            "gc.enable",
            "gc.disable",
        ]),
        "hashlib" => natives(&["hashlib.sha256"]),
        "binascii" => natives(&[
            "binascii.hexlify",
            "binascii.unhexlify",
            "binascii.a2b_base64",
            "binascii.b2a_base64",
        ]),
        "micropython" => natives(&[
            "micropython.const",
            "micropython.mem_info",
            "micropython.kbd_intr",
            "micropython.opt_level",
        ]),
        _ => Vec::new(),
    };
    if name == "os" {
        attrs.push(("sep", Value::str("/")));
    }
    if name == "machine" {
        attrs.extend([
            ("PWRON_RESET", Value::Int(1)),
            ("HARD_RESET", Value::Int(2)),
            ("SOFT_RESET", Value::Int(5)),
        ]);
    }
    if name == "errno" {
        attrs.extend(
            [2, 5, 13, 17, 20, 21, 22, 28, 39]
                .map(|n| (super::value::errno_name(n).unwrap(), Value::Int(n))),
        );
    }
    Module { name, attrs }
}

fn os_err(errno: i64) -> Rc<Exception> {
    Exception::os(errno)
}

fn path_arg(args: &[Value], i: usize) -> R<String> {
    match args.get(i) {
        None => Ok(String::new()),
        Some(_) => str_arg(args, i),
    }
}

fn dir_entries(ctx: &Ctx, args: &[Value]) -> R<Vec<(String, bool, usize)>> {
    ctx.fs.listdir(&path_arg(args, 0)?).map_err(os_err)
}

/// Calls `module.function`.
pub fn call(ctx: &mut Ctx, name: &str, args: &[Value]) -> R<Value> {
    let none = Ok(Value::None);
    match name {
        "os.listdir" => Ok(Value::list(
            dir_entries(ctx, args)?
                .into_iter()
                .map(|(n, _, _)| Value::str(&n))
                .collect(),
        )),
        "os.ilistdir" => {
            let items = dir_entries(ctx, args)?
                .into_iter()
                .map(|(n, dir, size)| {
                    Value::tuple(vec![
                        Value::str(&n),
                        Value::Int(if dir { 0x4000 } else { 0x8000 }),
                        Value::Int(0),
                        Value::Int(size as i64),
                    ])
                })
                .collect();
            Ok(Value::Iter(Rc::new(
                super::value::Iter::Items(Vec::into_iter(items)).into(),
            )))
        }
        "os.stat" => {
            let (dir, size) = ctx.fs.stat(&str_arg(args, 0)?).map_err(os_err)?;
            let mode = if dir { 0x4000 } else { 0x8000 };
            let mut t = vec![
                Value::Int(mode),
                Value::Int(0),
                Value::Int(0),
                Value::Int(0),
                Value::Int(0),
                Value::Int(0),
                Value::Int(size as i64),
            ];
            t.extend([Value::Int(0), Value::Int(0), Value::Int(0)]);
            Ok(Value::tuple(t))
        }
        "os.remove" => ctx.fs.remove(&str_arg(args, 0)?).map_err(os_err).and(none),
        "os.rmdir" => ctx.fs.rmdir(&str_arg(args, 0)?).map_err(os_err).and(none),
        "os.mkdir" => ctx.fs.mkdir(&str_arg(args, 0)?).map_err(os_err).and(none),
        "os.rename" => ctx
            .fs
            .rename(&str_arg(args, 0)?, &str_arg(args, 1)?)
            .map_err(os_err)
            .and(none),
        "os.chdir" => ctx.fs.chdir(&str_arg(args, 0)?).map_err(os_err).and(none),
        "os.getcwd" => Ok(Value::str(&ctx.fs.getcwd())),
        "os.uname" => Ok(ctx.board.uname()),
        "os.statvfs" => {
            let (bsize, total, free) = ctx.fs.blocks();
            let v = [bsize, bsize, total, free, free, 0, 0, 0, 0, 255];
            Ok(Value::tuple(
                v.iter().map(|&n| Value::Int(n as i64)).collect(),
            ))
        }
        "os.sync" => none,
        "os.urandom" => {
            // Deterministic "randomness": tests repeat.
            let n = int_arg(args, 0)?.max(0) as usize;
            let seed = ctx.now.as_nanos() as u64;
            Ok(Value::Bytes(
                (0..n)
                    .map(|i| {
                        (seed
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(i as u64 * 1442695040888963407)
                            >> 56) as u8
                    })
                    .collect(),
            ))
        }
        "sys.exit" => Err(Exception::new("SystemExit", args.to_vec())),
        "sys.print_exception" => match args.first() {
            Some(Value::Exc(e)) => {
                let tb = e.traceback();
                ctx.print(tb.as_bytes());
                none
            }
            _ => Err(Exception::msg(
                "TypeError",
                "print_exception needs an exception",
            )),
        },
        "sys.stdout.write" => {
            let data = match args.first() {
                Some(Value::Str(s)) => s.as_bytes().to_vec(),
                _ => bytes_arg(args, 0)?,
            };
            ctx.print(&data);
            Ok(Value::Int(data.len() as i64))
        }
        "time.sleep" | "time.sleep_ms" | "time.sleep_us" => {
            let scale = match name {
                "time.sleep" => 1.0,
                "time.sleep_ms" => 1e-3,
                _ => 1e-6,
            };
            let secs = super::value::as_float(args.first().unwrap_or(&Value::None))
                .ok_or_else(|| Exception::msg("TypeError", "can't convert to float"))?
                * scale;
            ctx.sleep = Some(Duration::from_secs_f64(secs.max(0.0)));
            none
        }
        "time.ticks_ms" => Ok(Value::Int((ctx.now.as_millis() as i64) & 0x3FFF_FFFF)),
        "time.ticks_us" => Ok(Value::Int((ctx.now.as_micros() as i64) & 0x3FFF_FFFF)),
        "time.ticks_diff" => {
            let d = (int_arg(args, 0)? - int_arg(args, 1)?) & 0x3FFF_FFFF;
            Ok(Value::Int(if d >= 0x2000_0000 {
                d - 0x4000_0000
            } else {
                d
            }))
        }
        "time.ticks_add" => Ok(Value::Int(
            (int_arg(args, 0)? + int_arg(args, 1)?) & 0x3FFF_FFFF,
        )),
        "time.time" => Ok(Value::Int(ctx.now.as_secs() as i64)),
        "machine.reset" => {
            ctx.reset = true;
            none
        }
        "machine.bootloader" => {
            ctx.bootloader = true;
            none
        }
        // As on the board: SystemExit, which the REPL turns into a soft reset.
        "machine.soft_reset" => Err(Exception::new("SystemExit", vec![])),
        "machine.freq" => Ok(Value::Int(ctx.board.cpu_hz)),
        "machine.unique_id" => Ok(Value::bytes(&ctx.board.mac)),
        "machine.reset_cause" => Ok(Value::Int(1)),
        "machine.idle" | "gc.collect" | "gc.enable" | "gc.disable" | "micropython.mem_info" => none,
        "gc.mem_free" => Ok(Value::Int(ctx.board.heap)),
        "gc.mem_alloc" => Ok(Value::Int(4096)),
        "micropython.const" => Ok(args.first().cloned().unwrap_or(Value::None)),
        "micropython.kbd_intr" => none,
        "micropython.opt_level" => Ok(Value::Int(0)),
        "hashlib.sha256" => {
            let mut h = sha2::Sha256::new();
            if !args.is_empty() {
                h.update(bytes_arg(args, 0)?);
            }
            Ok(Value::Hash(Rc::new(h.into())))
        }
        "binascii.hexlify" => {
            let data = bytes_arg(args, 0)?;
            let sep = match args.get(1) {
                Some(s) => Some(
                    bytes_arg(std::slice::from_ref(s), 0)
                        .or_else(|_| str_arg(args, 1).map(String::into_bytes))?,
                ),
                None => None,
            };
            let parts: Vec<String> = data.iter().map(|b| format!("{b:02x}")).collect();
            let joined = parts.join(
                sep.map(|s| String::from_utf8_lossy(&s).into_owned())
                    .as_deref()
                    .unwrap_or(""),
            );
            Ok(Value::bytes(joined.as_bytes()))
        }
        "binascii.unhexlify" => {
            let text = match args.first() {
                Some(Value::Str(s)) => s.as_bytes().to_vec(),
                _ => bytes_arg(args, 0)?,
            };
            if text.len() % 2 == 1 {
                return Err(Exception::msg("ValueError", "odd-length string"));
            }
            let out: Option<Vec<u8>> = text
                .chunks(2)
                .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
                .collect();
            out.map(|o| Value::Bytes(o.into()))
                .ok_or_else(|| Exception::msg("ValueError", "non-hex digit found"))
        }
        "binascii.a2b_base64" => {
            let text = match args.first() {
                Some(Value::Str(s)) => s.as_bytes().to_vec(),
                _ => bytes_arg(args, 0)?,
            };
            let clean: Vec<u8> = text
                .into_iter()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .map(|o| Value::Bytes(o.into()))
                .map_err(|_| Exception::msg("ValueError", "incorrect padding"))
        }
        "binascii.b2a_base64" => {
            let mut s = base64::engine::general_purpose::STANDARD.encode(bytes_arg(args, 0)?);
            s.push('\n');
            Ok(Value::bytes(s.as_bytes()))
        }
        _ => Err(Exception::msg(
            "NotImplementedError",
            format!("{name} isn't simulated"),
        )),
    }
}

/// Methods of a `hashlib.sha256` object.
pub fn hash_method(h: &super::value::Shared<sha2::Sha256>, name: &str, args: &[Value]) -> R<Value> {
    match name {
        "update" => {
            h.borrow_mut().update(bytes_arg(args, 0)?);
            Ok(Value::None)
        }
        // MicroPython's digest() finalises the object; a copy keeps ours usable.
        "digest" => Ok(Value::Bytes(h.borrow().clone().finalize().to_vec().into())),
        "hexdigest" => Ok(Value::str(
            &h.borrow()
                .clone()
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        )),
        _ => Err(Exception::msg(
            "AttributeError",
            format!("'sha256' object has no attribute '{name}'"),
        )),
    }
}

impl Board {
    pub fn implementation(&self) -> Value {
        let v: Vec<i64> = self
            .version
            .trim_start_matches('v')
            .split(['.', '-'])
            .take(3)
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        let version = Value::tuple(vec![
            Value::Int(v[0]),
            Value::Int(*v.get(1).unwrap_or(&0)),
            Value::Int(*v.get(2).unwrap_or(&0)),
            Value::str(""),
        ]);
        Value::AttrTuple(
            vec!["name", "version", "_machine", "_mpy"].into(),
            vec![
                Value::str("micropython"),
                version,
                Value::str(&self.machine()),
                Value::Int(self.mpy),
            ]
            .into(),
        )
    }

    pub fn uname(&self) -> Value {
        Value::AttrTuple(
            vec!["sysname", "nodename", "release", "version", "machine"].into(),
            vec![
                Value::str(self.platform),
                Value::str(self.platform),
                Value::str(self.version.trim_start_matches('v')),
                Value::str(&format!("{} on {}", self.version, self.date)),
                Value::str(&self.machine()),
            ]
            .into(),
        )
    }
}
