//! The MicroPython card runs as its own wasm module; the page that hosts it owns the board.
//! [`Host`] is the page's side as this module sees it (a JS object made by
//! `ui::micropython`): borrow the board, report to the status line, report a board check.
//! [`HostPort`] is the borrowed board's serial port as a [`Port`].

use std::time::Duration;

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::port::{Port, PortError, Signals};
use crate::web::{js, time};

/// The hosting page.
#[derive(Clone)]
pub struct Host(JsValue);

impl Host {
    pub fn new(bridge: JsValue) -> Host {
        Host(bridge)
    }

    fn call(&self, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
        js::call(&self.0, name, args)
    }

    async fn call_async(&self, name: &str, args: &[JsValue]) -> Result<JsValue, PortError> {
        let promise: Promise = self
            .call(name, args)
            .and_then(|p| p.dyn_into())
            .map_err(port_error)?;
        JsFuture::from(promise).await.map_err(port_error)
    }

    /// A line for the page's status.
    pub fn say(&self, text: &str) {
        let _ = self.call("say", &[text.into()]);
    }

    /// Bad news for the page's status.
    pub fn warn(&self, text: &str) {
        let _ = self.call("warn", &[text.into()]);
    }

    /// Tells the page what the board reported about itself (for its device card).
    pub fn board(&self, facts: &crate::repl::facts::BoardFacts) {
        let _ = self.call("board", &[facts.encode().into()]);
    }

    /// The board is about to restart as another USB device (the Pico into BOOTSEL): its
    /// port's loss is expected.
    pub fn expect_new_device(&self) {
        let _ = self.call("expectNewDevice", &[]);
    }

    /// The board's port went (the Pico is a drive now): the page shows no board.
    pub fn board_gone(&self) {
        let _ = self.call("boardGone", &[]);
    }

    /// Whether the page's board is the simulated one (its drive is in the page too).
    pub fn is_demo(&self) -> bool {
        self.call("isDemo", &[]).is_ok_and(|v| v.is_truthy())
    }

    /// The demo Pico's BOOTSEL drive (a directory handle), while it is in BOOTSEL mode.
    /// The demo pyboard's DFU device (a WebUSB `USBDevice`), while it is in DFU mode.
    pub fn demo_usb(&self) -> Option<JsValue> {
        self.call("demoUsb", &[]).ok().filter(|v| !v.is_null())
    }

    pub fn demo_drive(&self) -> Option<JsValue> {
        self.call("demoDrive", &[])
            .ok()
            .filter(|v| !v.is_null() && !v.is_undefined())
    }

    /// Waits for a board running MicroPython to come back on a serial port the page may open
    /// (after a UF2 install) and opens it; false when the page must ask the user to pick it.
    pub async fn follow_micropython(&self) -> bool {
        self.call_async("followMicroPython", &[])
            .await
            .is_ok_and(|v| v.is_truthy())
    }

    /// Tells the page the chosen firmware is on the board (step 3 done): `summary` says how.
    pub fn installed(&self, summary: &str) {
        let _ = self.call("installed", &[summary.into()]);
    }

    /// Tells the page how the last board check went.
    pub fn checked(&self, works: bool, text: &str) {
        let _ = self.call("checked", &[works.into(), text.into()]);
    }

    /// Borrows the board: waits a few seconds for a running operation with `wait`, else gives
    /// up at once. Every borrow must end with [`Host::release`].
    pub async fn borrow(&self, wait: bool) -> Result<HostPort, PortError> {
        let baud = self.call_async("lease", &[wait.into()]).await?;
        Ok(HostPort {
            host: self.clone(),
            baud: baud.as_f64().unwrap_or(115_200.0) as u32,
        })
    }

    /// Hands the board back to the page.
    pub async fn release(&self) {
        let _ = self.call_async("release", &[]).await;
    }
}

/// Rebuilds the page's port error from the `kind` it sends along.
fn port_error(err: JsValue) -> PortError {
    let kind = Reflect::get(&err, &"kind".into())
        .ok()
        .and_then(|k| k.as_string());
    match kind.as_deref() {
        Some("disconnected") => PortError::Disconnected,
        Some("closed") => PortError::Closed,
        _ => PortError::Other(js::error_message(&err)),
    }
}

/// The borrowed board's port.
pub struct HostPort {
    host: Host,
    baud: u32,
}

impl HostPort {
    /// Restarts the board into its firmware (the page knows how its reset lines are wired),
    /// leaving the link at 115200 baud for MicroPython.
    pub async fn hard_reset(&mut self) -> Result<(), PortError> {
        self.host.call_async("hardReset", &[]).await?;
        self.baud = 115_200;
        Ok(())
    }
}

impl Port for HostPort {
    async fn write(&mut self, data: &[u8]) -> Result<(), PortError> {
        self.host
            .call_async("write", &[Uint8Array::from(data).into()])
            .await
            .map(|_| ())
    }

    async fn read(&mut self, buf: &mut Vec<u8>, deadline: Duration) -> Result<usize, PortError> {
        let ms = deadline.saturating_sub(time::now()).as_secs_f64() * 1000.0;
        let got = self.host.call_async("read", &[ms.into()]).await?;
        let bytes = Uint8Array::new(&got).to_vec();
        buf.extend_from_slice(&bytes);
        Ok(bytes.len())
    }

    async fn set_signals(&mut self, signals: Signals) -> Result<(), PortError> {
        self.host
            .call_async("setSignals", &[signals.dtr.into(), signals.rts.into()])
            .await
            .map(|_| ())
    }

    async fn set_baud(&mut self, baud: u32) -> Result<(), PortError> {
        self.host.call_async("setBaud", &[baud.into()]).await?;
        self.baud = baud;
        Ok(())
    }

    fn baud(&self) -> u32 {
        self.baud
    }

    async fn sleep(&mut self, duration: Duration) {
        time::sleep(duration).await;
    }

    fn now(&self) -> Duration {
        time::now()
    }
}
