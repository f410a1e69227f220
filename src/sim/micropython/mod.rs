//! A MicroPython-like application for the simulated board: what runs after a reset when the
//! flash holds MicroPython, so hosts (our REPL client, real `mpremote`) meet the same bytes
//! a real board sends.
//!
//! - **Recognition** ([`firmware`]): ESP32 family: the ESP-IDF app at 0x10000 whose app
//!   descriptor says project `micropython` (MicroPython's esp32 port is the IDF project
//!   `micropython`); ESP8266, which has no descriptor: the banner string
//!   `MicroPython v…` in the first 1 MB. Other valid images are "other firmware".
//! - **REPL** ([`repl`]): friendly (echo, `\r\n`, auto-indent, Ctrl-C/D/E/B), raw (Ctrl-A;
//!   `OK`, stdout, `\x04`, traceback, `\x04`, `>`), raw-paste (`\x05A\x01` → `R\x01`, window
//!   128 with `\x01` credits), soft reset (`MPY: soft reboot`, boot.py, main.py only in
//!   friendly mode), following MicroPython's `pyexec.c` and mpremote's expectations.
//! - **Python** ([`lexer`], [`parser`], [`compile`], [`vm`]): a small honest subset,
//!   compiled to bytecode so a program can run across time slices and be interrupted.
//! - **Filesystem** ([`fs`]): a table stored in the flash's filesystem region
//!   ([`firmware::fs_region`]); survives resets, wiped by erase-all.

mod app;
mod ast;
mod builtins;
mod compile;
pub mod firmware;
pub mod fs;
mod lexer;
mod modules;
mod ops;
mod parser;
mod repl;
mod value;
mod vm;

pub use app::MicroPython;
pub use firmware::{fs_region, micropython_image, Board, Firmware};

#[cfg(test)]
mod tests;
