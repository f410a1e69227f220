//! Browser-only adapters: the Web Serial implementation of [`crate::port::Port`].

mod serial;

pub use serial::{serial_supported, OpenError, WebSerialPort};
