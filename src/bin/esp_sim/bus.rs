//! `--bus`: the board's USB presence for the browser harness. A board with native USB shows
//! another USB device when what runs on it changes (ROM download mode, MicroPython's TinyUSB),
//! and none while it is in reset. The harness's fake `navigator.serial` listens here to make
//! ports appear and disappear as Chromium's do.
//!
//! Every WebSocket client gets the current state at once and then each change, as text:
//! `{"type":"usb","present":true,"usbVendorId":N,"usbProductId":N,"serialNumber":S|null}` or
//! `{"type":"usb","present":false}`. A thread serves the clients; the simulator only publishes.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tungstenite::{Message, WebSocket};
use webflash::sim::usb::UsbId;

/// What the simulator last published, with a count of changes.
type Shared = Arc<Mutex<(u64, Option<UsbId>)>>;

/// The publishing side.
pub struct Bus {
    state: Shared,
}

impl Bus {
    /// Listens on `addr`; returns the bus and the address it got.
    pub fn start(addr: SocketAddr) -> io::Result<(Bus, SocketAddr)> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let state: Shared = Arc::new(Mutex::new((0, None)));
        let served = state.clone();
        thread::spawn(move || serve(listener, served));
        Ok((Bus { state }, local))
    }

    /// Sets the USB device the board shows; clients hear of it if it changed.
    pub fn publish(&self, usb: Option<UsbId>) {
        let mut state = self.state.lock().unwrap();
        if state.1 != usb {
            state.0 += 1;
            state.1 = usb;
        }
    }
}

/// The message for one state.
pub fn message(usb: &Option<UsbId>) -> String {
    match usb {
        None => r#"{"type":"usb","present":false}"#.to_string(),
        Some(id) => serde_json::json!({
            "type": "usb",
            "present": true,
            "usbVendorId": id.vid,
            "usbProductId": id.pid,
            "serialNumber": id.serial,
        })
        .to_string(),
    }
}

fn serve(listener: TcpListener, state: Shared) {
    let mut clients: Vec<(WebSocket<TcpStream>, u64)> = Vec::new();
    loop {
        if let Ok((stream, _)) = listener.accept() {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            if let Ok(ws) = tungstenite::accept(stream) {
                clients.push((ws, u64::MAX));
            }
        }
        let (generation, usb) = state.lock().unwrap().clone();
        clients.retain_mut(|(ws, seen)| {
            if *seen == generation {
                return true;
            }
            *seen = generation;
            ws.send(Message::Text(message(&usb).into())).is_ok()
        });
        thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_device_or_its_absence() {
        let id = UsbId {
            vid: 0x303A,
            pid: 0x4001,
            serial: Some("AABB".into()),
        };
        let m: serde_json::Value = serde_json::from_str(&message(&Some(id))).unwrap();
        assert_eq!(m["usbVendorId"], 0x303A);
        assert_eq!(m["usbProductId"], 0x4001);
        assert_eq!(m["serialNumber"], "AABB");
        assert_eq!(message(&None), r#"{"type":"usb","present":false}"#);
    }

    #[test]
    fn a_client_hears_the_state_then_each_change() {
        let (bus, addr) = Bus::start("127.0.0.1:0".parse().unwrap()).unwrap();
        bus.publish(None);
        let (mut ws, _) = tungstenite::connect(format!("ws://{addr}")).unwrap();
        let next = |ws: &mut WebSocket<_>| match ws.read().unwrap() {
            Message::Text(t) => t.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(next(&mut ws), message(&None));
        let id = UsbId {
            vid: 0x303A,
            pid: 2,
            serial: None,
        };
        bus.publish(Some(id.clone()));
        assert_eq!(next(&mut ws), message(&Some(id)));
    }
}
