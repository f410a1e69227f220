//! webflash: put MicroPython on a board from the browser: ESP32/ESP8266 over their serial
//! bootloader, Raspberry Pi Pico (RP2040/RP2350) from a UF2, any MicroPython board's REPL.
//!
//! Layers (dependencies point down only):
//! - [`ui`] (wasm): Leptos components and the session controller.
//! - [`boards`]: board families beside the ESP: what a port leads to, UF2, RP2, pure.
//! - [`web`] (wasm): [`web::WebSerialPort`], the browser's implementation of [`port::Port`].
//! - [`sim`]: the simulated device (ROM loader, stub, flash, reset circuit) the core is tested against.
//! - [`protocol`]: the ESP serial protocol, pure.
//! - [`usb`]: what a USB VID:PID is.
//! - [`port`]: the I/O boundary every device conversation goes through.

pub mod boards;
pub mod console_text;
pub mod dfu;
pub mod firmware;
#[cfg(not(target_arch = "wasm32"))]
pub mod fuzzing;
pub mod i18n;
pub mod journey;
pub mod loader;
pub mod picoboot;
pub mod port;
pub mod protocol;
pub mod repl;
pub mod rfc2217;
pub mod sim;
pub mod usb;
pub mod usb_device;

#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod web;
