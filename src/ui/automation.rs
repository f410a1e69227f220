//! `window.webflash`: the page's automation API for workshop scripts and the browser tests.
//! `port.write(Uint8Array)`, `port.read(maxBytes, timeoutMs) → Uint8Array`,
//! `port.setSignals(dtr, rts)`, `port.setBaud(baud)`, `port.connected()`. Each call borrows the
//! board like any other operation, so it never interleaves with a flash.

use std::time::Duration;

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::session::{is_connected, lease, Board};
use crate::port::{Port, PortError, Signals};

fn js_error(err: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&err.to_string()).into()
}

/// Runs `op` on the board's port and turns its result into a promise.
fn with_port<T: Into<JsValue> + 'static>(
    op: impl AsyncFnOnce(&mut crate::web::WebSerialPort) -> Result<T, PortError> + 'static,
) -> Promise {
    future_to_promise(async move {
        lease(async move |board: &mut Board| op(board.loader.port_mut()).await)
            .await
            .and_then(|r| r)
            .map(Into::into)
            .map_err(js_error)
    })
}

fn set(target: &Object, name: &str, value: JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(name), &value);
}

/// Installs `window.webflash`.
pub fn install() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let api = Object::new();
    let port = Object::new();

    let write = Closure::<dyn Fn(Uint8Array) -> Promise>::new(|data: Uint8Array| {
        let bytes = data.to_vec();
        with_port(async move |p| p.write(&bytes).await.map(|_| JsValue::UNDEFINED))
    });
    set(&port, "write", write.into_js_value());

    let read = Closure::<dyn Fn(u32, f64) -> Promise>::new(|max: u32, timeout_ms: f64| {
        with_port(async move |p| {
            let deadline = p.now() + Duration::from_secs_f64(timeout_ms.max(0.0) / 1000.0);
            let mut out = Vec::new();
            while out.len() < max as usize {
                if p.read(&mut out, deadline).await? == 0 {
                    break;
                }
            }
            Ok(Uint8Array::from(&out[..]))
        })
    });
    set(&port, "read", read.into_js_value());

    let signals = Closure::<dyn Fn(bool, bool) -> Promise>::new(|dtr: bool, rts: bool| {
        with_port(async move |p| {
            p.set_signals(Signals { dtr, rts })
                .await
                .map(|_| JsValue::UNDEFINED)
        })
    });
    set(&port, "setSignals", signals.into_js_value());

    let baud = Closure::<dyn Fn(u32) -> Promise>::new(|baud: u32| {
        with_port(async move |p| p.set_baud(baud).await.map(|_| JsValue::UNDEFINED))
    });
    set(&port, "setBaud", baud.into_js_value());

    let connected = Closure::<dyn Fn() -> bool>::new(is_connected);
    set(&port, "connected", connected.into_js_value());

    set(&api, "port", port.into());
    set(&api, "version", env!("CARGO_PKG_VERSION").into());
    set(&window, "webflash", api.into());
}
