//! [`WebSerialPort`]: [`Port`] over the browser's Web Serial API.
//!
//! A background task reads the port continuously into a buffer, so bytes that arrive while
//! nobody is reading are kept. Web Serial cannot change the baud rate of an open port, so
//! [`Port::set_baud`] closes and reopens it, keeping whatever was already received.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    ReadableStreamDefaultReader, SerialOptions, SerialOutputSignals, SerialPort,
    WritableStreamDefaultWriter,
};

use super::time::{now, timer};
use crate::i18n::t;
use crate::port::{Port, PortError, Signals};

/// True when this browser exposes `navigator.serial` (Chrome, Edge, Opera on a secure origin).
pub fn serial_supported() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    Reflect::has(&window.navigator(), &JsValue::from_str("serial")).unwrap_or(false)
        && !Reflect::get(&window.navigator(), &JsValue::from_str("serial"))
            .map(|v| v.is_undefined() || v.is_null())
            .unwrap_or(true)
}

/// Why opening a port failed, in words a student can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// The chooser was closed without picking a port.
    NoPortChosen,
    /// The port is already open (another tab, another program such as Arduino IDE or a terminal).
    Busy,
    /// The browser or an administrator policy refused access.
    NotAllowed,
    /// The demo board's simulator could not be downloaded or started.
    DemoUnavailable(String),
    /// Anything else, with the browser's words.
    Other(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::NoPortChosen => f.write_str(t("No port was chosen. Plug in the board, press Connect and pick it from the list.")),
            OpenError::Busy => f.write_str(t("The port is in use by another program or browser tab. Close the other serial monitor (Arduino IDE, Thonny, another webflash tab), then press Connect again.")),
            OpenError::NotAllowed => f.write_str(t("The browser did not allow access to the serial port. Allow it when asked, or ask your administrator to permit serial ports for this site.")),
            OpenError::DemoUnavailable(msg) => f.write_str(&crate::tf!("The demo board could not be loaded ({error}). Check the internet connection and reload the page.", error = msg)),
            OpenError::Other(msg) => f.write_str(&crate::tf!("Could not open the port: {error}. Unplug the board, plug it back in, and press Connect again.", error = msg)),
        }
    }
}

/// Classifies a rejected Web Serial promise by the DOMException's name.
fn classify_open_error(err: &JsValue) -> OpenError {
    let name = Reflect::get(err, &"name".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let message = Reflect::get(err, &"message".into())
        .ok()
        .and_then(|v| v.as_string());
    match name.as_str() {
        "NotFoundError" | "AbortError" => OpenError::NoPortChosen,
        "InvalidStateError" | "NetworkError" => OpenError::Busy,
        "SecurityError" | "NotAllowedError" => OpenError::NotAllowed,
        _ => OpenError::Other(message.unwrap_or_else(|| format!("{err:?}"))),
    }
}

/// What the reader task and the port's users share.
#[derive(Default)]
struct Shared {
    received: Vec<u8>,
    /// Set when the device went away; every later operation reports it.
    lost: Option<PortError>,
    /// Resolves the promise a waiting `read` sleeps on.
    waiter: Option<Function>,
    /// Resolves when the reader task has released its lock.
    reader_done: Option<Function>,
    reader_running: bool,
    /// Called once when the port is lost while open.
    on_lost: Option<Rc<dyn Fn(PortError)>>,
}

impl Shared {
    fn wake(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            let _ = waiter.call0(&JsValue::NULL);
        }
    }
}

/// An open Web Serial port.
pub struct WebSerialPort {
    port: SerialPort,
    writer: Option<WritableStreamDefaultWriter>,
    reader: Option<ReadableStreamDefaultReader>,
    shared: Rc<RefCell<Shared>>,
    baud: u32,
}

impl WebSerialPort {
    /// Shows the browser's port chooser. Must be called from a user gesture (a click).
    pub async fn request() -> Result<SerialPort, OpenError> {
        let window = web_sys::window().ok_or_else(|| OpenError::Other("no window".into()))?;
        let promise = window.navigator().serial().request_port();
        JsFuture::from(promise)
            .await
            .map(|port| port.unchecked_into())
            .map_err(|e| classify_open_error(&e))
    }

    /// Shows the browser's port chooser listing only devices with these USB vendor ids (for
    /// "Pick your board's new port"). Must be called from a user gesture.
    pub async fn request_vendor(vendor_ids: &[u16]) -> Result<SerialPort, OpenError> {
        let window = web_sys::window().ok_or_else(|| OpenError::Other("no window".into()))?;
        let filters: Vec<web_sys::SerialPortFilter> = vendor_ids
            .iter()
            .map(|vid| {
                let filter = web_sys::SerialPortFilter::new();
                filter.set_usb_vendor_id(*vid);
                filter
            })
            .collect();
        let options = web_sys::SerialPortRequestOptions::new();
        options.set_filters(&filters);
        let promise = window
            .navigator()
            .serial()
            .request_port_with_options(&options);
        JsFuture::from(promise)
            .await
            .map(|port| port.unchecked_into())
            .map_err(|e| classify_open_error(&e))
    }

    /// The ports this page may open without asking (`getPorts()`): connected devices the
    /// user granted before, including one that came back after a reset with the same USB id
    /// and serial number. A re-enumerated device is a new `SerialPort` object.
    pub async fn granted() -> Vec<SerialPort> {
        let Some(window) = web_sys::window() else {
            return Vec::new();
        };
        match JsFuture::from(window.navigator().serial().get_ports()).await {
            Ok(list) => js_sys::Array::from(&list)
                .iter()
                .map(|p| p.unchecked_into())
                .collect(),
            // Chromium can reject while a device is re-enumerating; it is there next time.
            Err(_) => Vec::new(),
        }
    }

    /// The USB vendor and product id of a port not (yet) opened.
    pub fn ids_of(port: &SerialPort) -> (Option<u16>, Option<u16>) {
        let info = port.get_info();
        (info.get_usb_vendor_id(), info.get_usb_product_id())
    }

    /// Whether this is the port object the browser gave for `port` (not a re-enumeration).
    pub fn is(&self, port: &SerialPort) -> bool {
        JsValue::from(self.port.clone()) == JsValue::from(port.clone())
    }

    /// Opens `port` at `baud` and starts reading.
    pub async fn open(port: SerialPort, baud: u32) -> Result<Self, OpenError> {
        let mut this = WebSerialPort {
            port,
            writer: None,
            reader: None,
            shared: Rc::new(RefCell::new(Shared::default())),
            baud,
        };
        this.open_streams()
            .await
            .map_err(|e| classify_open_error(&e))?;
        Ok(this)
    }

    /// The USB vendor and product id the browser reports for this port.
    pub fn usb_ids(&self) -> (Option<u16>, Option<u16>) {
        let info = self.port.get_info();
        (info.get_usb_vendor_id(), info.get_usb_product_id())
    }

    /// Registers a callback for when the device disappears while the port is open.
    pub fn on_lost(&mut self, callback: impl Fn(PortError) + 'static) {
        self.shared.borrow_mut().on_lost = Some(Rc::new(callback));
    }

    /// True once the device has gone away.
    pub fn is_lost(&self) -> bool {
        self.shared.borrow().lost.is_some()
    }

    /// Releases the streams and closes the port. Safe to call after the device was lost.
    pub async fn close(mut self) {
        self.shared.borrow_mut().on_lost = None;
        self.close_streams().await;
    }

    async fn open_streams(&mut self) -> Result<(), JsValue> {
        let options = SerialOptions::new(self.baud);
        options.set_buffer_size(64 * 1024);
        JsFuture::from(self.port.open(&options)).await?;
        let writer = self.port.writable().get_writer()?;
        self.writer = Some(writer);
        self.start_reader()?;
        Ok(())
    }

    fn start_reader(&mut self) -> Result<(), JsValue> {
        let reader: ReadableStreamDefaultReader =
            self.port.readable().get_reader().unchecked_into();
        self.reader = Some(reader.clone());
        self.shared.borrow_mut().reader_running = true;
        let shared = self.shared.clone();
        let port = self.port.clone();
        spawn_local(read_loop(port, reader, shared));
        Ok(())
    }

    async fn close_streams(&mut self) {
        if let Some(reader) = self.reader.take() {
            let running = self.shared.borrow().reader_running;
            if running {
                let shared = self.shared.clone();
                let stopped = Promise::new(&mut |resolve, _| {
                    shared.borrow_mut().reader_done = Some(resolve);
                });
                let _ = JsFuture::from(reader.cancel()).await;
                if self.shared.borrow().reader_running {
                    let _ = JsFuture::from(stopped).await;
                }
            }
        }
        if let Some(writer) = self.writer.take() {
            writer.release_lock();
        }
        let _ = JsFuture::from(self.port.close()).await;
    }

    fn check_lost(&self) -> Result<(), PortError> {
        match &self.shared.borrow().lost {
            Some(err) => Err(err.clone()),
            None => Ok(()),
        }
    }
}

/// Reads until the stream ends (we cancelled) or fails (device lost). Recoverable line errors
/// (break, framing, parity, overrun) replace the stream; reading continues on the new one.
async fn read_loop(
    port: SerialPort,
    mut reader: ReadableStreamDefaultReader,
    shared: Rc<RefCell<Shared>>,
) {
    loop {
        match JsFuture::from(reader.read()).await {
            Ok(result) => {
                let done = Reflect::get(&result, &"done".into())
                    .ok()
                    .and_then(|v| v.as_bool())
                    .unwrap_or(true);
                if done {
                    break;
                }
                if let Ok(value) = Reflect::get(&result, &"value".into()) {
                    let chunk = Uint8Array::new(&value).to_vec();
                    let mut s = shared.borrow_mut();
                    s.received.extend_from_slice(&chunk);
                    s.wake();
                }
            }
            Err(err) => {
                let name = Reflect::get(&err, &"name".into())
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default();
                let recoverable = matches!(
                    name.as_str(),
                    "BreakError" | "FramingError" | "ParityError" | "BufferOverrunError"
                );
                reader.release_lock();
                let readable = port.readable();
                if recoverable && !readable.is_null() && !readable.is_undefined() {
                    if let Ok(next) = readable
                        .get_reader()
                        .dyn_into::<ReadableStreamDefaultReader>()
                    {
                        reader = next;
                        continue;
                    }
                }
                let callback = {
                    let mut s = shared.borrow_mut();
                    s.lost = Some(PortError::Disconnected);
                    s.reader_running = false;
                    s.wake();
                    if let Some(done) = s.reader_done.take() {
                        let _ = done.call0(&JsValue::NULL);
                    }
                    s.on_lost.clone()
                };
                if let Some(callback) = callback {
                    callback(PortError::Disconnected);
                }
                return;
            }
        }
    }
    reader.release_lock();
    let mut s = shared.borrow_mut();
    s.reader_running = false;
    if let Some(done) = s.reader_done.take() {
        let _ = done.call0(&JsValue::NULL);
    }
}

fn js_port_error(err: JsValue) -> PortError {
    let name = Reflect::get(&err, &"name".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    if name == "NetworkError" || name == "NotFoundError" {
        PortError::Disconnected
    } else {
        let msg = Reflect::get(&err, &"message".into())
            .ok()
            .and_then(|v| v.as_string());
        PortError::Other(msg.unwrap_or_else(|| format!("{err:?}")))
    }
}

impl Port for WebSerialPort {
    async fn write(&mut self, data: &[u8]) -> Result<(), PortError> {
        self.check_lost()?;
        let writer = self.writer.as_ref().ok_or(PortError::Closed)?;
        let chunk = Uint8Array::from(data);
        JsFuture::from(writer.write_with_chunk(&chunk))
            .await
            .map_err(js_port_error)?;
        Ok(())
    }

    async fn read(&mut self, buf: &mut Vec<u8>, deadline: Duration) -> Result<usize, PortError> {
        loop {
            {
                let mut s = self.shared.borrow_mut();
                if !s.received.is_empty() {
                    let n = s.received.len();
                    buf.append(&mut s.received);
                    return Ok(n);
                }
                if let Some(err) = &s.lost {
                    return Err(err.clone());
                }
                if self.writer.is_none() {
                    return Err(PortError::Closed);
                }
            }
            let now = self.now();
            if now >= deadline {
                return Ok(0);
            }
            let ms = (deadline - now).as_millis().min(i32::MAX as u128) as i32;
            let shared = self.shared.clone();
            let wait = timer(ms.max(1), move |resolve| {
                shared.borrow_mut().waiter = Some(resolve)
            });
            let _ = JsFuture::from(wait).await;
        }
    }

    async fn set_signals(&mut self, signals: Signals) -> Result<(), PortError> {
        self.check_lost()?;
        let s = SerialOutputSignals::new();
        s.set_data_terminal_ready(signals.dtr);
        s.set_request_to_send(signals.rts);
        JsFuture::from(self.port.set_signals_with_signals(&s))
            .await
            .map_err(js_port_error)?;
        Ok(())
    }

    async fn set_baud(&mut self, baud: u32) -> Result<(), PortError> {
        self.check_lost()?;
        if baud == self.baud {
            return Ok(());
        }
        self.close_streams().await;
        self.baud = baud;
        self.open_streams().await.map_err(js_port_error)
    }

    fn baud(&self) -> u32 {
        self.baud
    }

    async fn sleep(&mut self, duration: Duration) {
        super::time::sleep(duration).await;
    }

    fn now(&self) -> Duration {
        now()
    }
}
