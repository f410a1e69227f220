//! The ESP serial protocol as pure data transformations: bytes and values in, bytes and
//! values out. No I/O, no clock, no async; the loader and the simulator both build on it.

pub mod app_desc;
pub mod chip;
pub mod command;
pub mod image;
pub mod native_usb;
pub mod partition;
pub mod response;
pub mod slip;
pub mod stub;
