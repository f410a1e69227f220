//! Browser-only adapters: Web Serial, the demo board's port, the browser's clock, downloads.

pub mod demo;
mod download;
pub mod drive;
pub mod fetch;
pub mod history;
pub mod js;
pub mod modules;
pub mod offline;
mod serial;
pub mod term;
pub mod time;
pub mod webusb;

pub use demo::demo_port;
pub use download::download;
pub use serial::{serial_supported, OpenError, WebSerialPort};
