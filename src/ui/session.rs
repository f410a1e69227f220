//! The one open serial port of this page, and who may use it.
//!
//! Operations borrow the port for their duration ([`lease`]); a second operation while one runs
//! is refused instead of interleaving bytes. A Disconnect during an operation takes effect when
//! the operation hands the port back.
//!
//! [`install_automation_api`] exposes the port to page scripts as `window.webflash.port`, for
//! workshop automation and for the browser tests that check the byte path end to end.

use std::cell::RefCell;
use std::time::Duration;

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::port::{Port, PortError, Signals};
use crate::usb;
use crate::web::{OpenError, WebSerialPort};

/// The baud rate ROM bootloaders and MicroPython start at.
pub const DEFAULT_BAUD: u32 = 115_200;

#[derive(Default)]
struct Slot {
    port: Option<WebSerialPort>,
    leased: bool,
    close_on_return: bool,
}

thread_local! {
    static SLOT: RefCell<Slot> = RefCell::new(Slot::default());
}

/// What the device card shows about a freshly opened port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSummary {
    /// e.g. "CP210x USB-UART (10C4:EA60)".
    pub description: String,
}

/// Asks the user for a port, opens it, and keeps it as this page's port.
/// `on_lost` runs if the device disappears later.
pub async fn connect(on_lost: impl Fn(PortError) + 'static) -> Result<PortSummary, OpenError> {
    if is_connected() {
        disconnect().await;
    }
    let port = WebSerialPort::request().await?;
    let mut port = WebSerialPort::open(port, DEFAULT_BAUD).await?;
    let (vid, pid) = port.usb_ids();
    port.on_lost(on_lost);
    SLOT.with(|s| {
        *s.borrow_mut() = Slot {
            port: Some(port),
            leased: false,
            close_on_return: false,
        }
    });
    Ok(PortSummary {
        description: usb::describe(vid, pid),
    })
}

/// True while a port is open (or lent out to an operation).
pub fn is_connected() -> bool {
    SLOT.with(|s| {
        let s = s.borrow();
        s.port.is_some() || s.leased
    })
}

/// Closes the port. If an operation holds it, it is closed when the operation finishes.
pub async fn disconnect() {
    let port = SLOT.with(|s| {
        let mut s = s.borrow_mut();
        if s.leased {
            s.close_on_return = true;
        }
        s.port.take()
    });
    if let Some(port) = port {
        port.close().await;
    }
}

/// Lends the port to `op` for its duration.
pub async fn lease<T>(op: impl AsyncFnOnce(&mut WebSerialPort) -> T) -> Result<T, PortError> {
    let mut port = SLOT.with(|s| {
        let mut s = s.borrow_mut();
        match s.port.take() {
            Some(port) => {
                s.leased = true;
                Ok(port)
            }
            None if s.leased => Err(PortError::Other(
                "the port is busy with another operation".into(),
            )),
            None => Err(PortError::Closed),
        }
    })?;
    let result = op(&mut port).await;
    let close = SLOT.with(|s| {
        let mut s = s.borrow_mut();
        s.leased = false;
        let close = std::mem::take(&mut s.close_on_return) || port.is_lost();
        if !close {
            s.port = Some(port);
            None
        } else {
            Some(port)
        }
    });
    if let Some(port) = close {
        port.close().await;
    }
    Ok(result)
}

fn js_error(err: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&err.to_string()).into()
}

fn set_fn(target: &Object, name: &str, f: JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(name), &f);
}

/// Installs `window.webflash.port` with promise-returning methods:
/// `write(Uint8Array)`, `read(maxBytes, timeoutMs) -> Uint8Array`, `setSignals(dtr, rts)`,
/// `setBaud(baud)`, `connected()`.
pub fn install_automation_api() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let api = Object::new();
    let port_api = Object::new();

    let write = Closure::<dyn Fn(Uint8Array) -> Promise>::new(|data: Uint8Array| {
        future_to_promise(async move {
            let bytes = data.to_vec();
            lease(async move |p: &mut WebSerialPort| p.write(&bytes).await)
                .await
                .and_then(|r| r)
                .map(|_| JsValue::UNDEFINED)
                .map_err(js_error)
        })
    });
    set_fn(&port_api, "write", write.into_js_value());

    let read = Closure::<dyn Fn(u32, f64) -> Promise>::new(|max: u32, timeout_ms: f64| {
        future_to_promise(async move {
            lease(async move |p: &mut WebSerialPort| {
                let deadline = p.now() + Duration::from_secs_f64(timeout_ms.max(0.0) / 1000.0);
                let mut out = Vec::new();
                while out.len() < max as usize {
                    if p.read(&mut out, deadline).await? == 0 {
                        break;
                    }
                }
                Ok::<_, PortError>(out)
            })
            .await
            .and_then(|r| r)
            .map(|bytes| Uint8Array::from(&bytes[..]).into())
            .map_err(js_error)
        })
    });
    set_fn(&port_api, "read", read.into_js_value());

    let signals = Closure::<dyn Fn(bool, bool) -> Promise>::new(|dtr: bool, rts: bool| {
        future_to_promise(async move {
            lease(async move |p: &mut WebSerialPort| p.set_signals(Signals { dtr, rts }).await)
                .await
                .and_then(|r| r)
                .map(|_| JsValue::UNDEFINED)
                .map_err(js_error)
        })
    });
    set_fn(&port_api, "setSignals", signals.into_js_value());

    let baud = Closure::<dyn Fn(u32) -> Promise>::new(|baud: u32| {
        future_to_promise(async move {
            lease(async move |p: &mut WebSerialPort| p.set_baud(baud).await)
                .await
                .and_then(|r| r)
                .map(|_| JsValue::UNDEFINED)
                .map_err(js_error)
        })
    });
    set_fn(&port_api, "setBaud", baud.into_js_value());

    let connected = Closure::<dyn Fn() -> bool>::new(is_connected);
    set_fn(&port_api, "connected", connected.into_js_value());

    let _ = Reflect::set(&api, &"port".into(), &port_api);
    let _ = Reflect::set(&api, &"version".into(), &env!("CARGO_PKG_VERSION").into());
    let _ = Reflect::set(&window, &"webflash".into(), &api);
}
