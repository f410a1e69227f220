//! Browser-only adapters: Web Serial, the demo board's clock, downloads.

pub mod fetch;
mod serial;
mod session_port;
pub mod term;
pub mod time;

pub use serial::{serial_supported, OpenError, WebSerialPort};
pub use session_port::SessionPort;
