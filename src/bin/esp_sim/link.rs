//! The three ways a host reaches the simulated chip: RFC 2217 over TCP, plain TCP, and the
//! browser harness's WebSocket. Each turns its wire format into [`HostEvent`]s and carries the
//! chip's bytes back.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tungstenite::{Message, WebSocket};
use webflash::rfc2217;

/// Something the host did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostEvent {
    /// Serial bytes towards the chip.
    Data(Vec<u8>),
    /// Control lines changed together (one USB request); `None` leaves a line as it was.
    Signals {
        dtr: Option<bool>,
        rts: Option<bool>,
    },
    /// Host-side baud rate.
    Baud(u32),
    /// The host closed the port.
    Close,
}

/// One connected host.
pub trait Link {
    /// Waits up to `timeout` for the host, appending what it did to `events`.
    fn poll(&mut self, timeout: Duration, events: &mut Vec<HostEvent>) -> io::Result<()>;
    /// Sends serial bytes from the chip to the host.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Sends whatever protocol answers are owed, once the events they acknowledge took effect.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// The baud rate the host starts with, if the link has one (plain TCP has none).
    fn initial_baud(&self) -> Option<u32>;
    /// How long the host blocks after each line change waiting for our answer; the chip's
    /// clock does not count it (see `session::Clock`).
    fn line_ack_wait(&self) -> Duration {
        Duration::ZERO
    }
    /// The USB device behind this port went away. Returns whether the connection ends (a
    /// browser's port dies; a TCP serial server keeps its socket and serves what appeared).
    fn device_gone(&mut self) -> io::Result<bool> {
        Ok(false)
    }
}

/// Reads what is there within `timeout`: `Ok(None)` on timeout, `Ok(Some(0))` at end of stream.
fn read_some(
    stream: &mut TcpStream,
    timeout: Duration,
    buf: &mut [u8],
) -> io::Result<Option<usize>> {
    stream.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
    match stream.read(buf) {
        Ok(n) => Ok(Some(n)),
        Err(e) if is_timeout(&e) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Ok(Some(0)),
        Err(e) => Err(e),
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Plain TCP: bytes only. There are no control lines, so the chip starts in download mode.
pub struct RawLink {
    stream: TcpStream,
}

impl RawLink {
    pub fn new(stream: TcpStream) -> Self {
        RawLink { stream }
    }
}

impl Link for RawLink {
    fn poll(&mut self, timeout: Duration, events: &mut Vec<HostEvent>) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        match read_some(&mut self.stream, timeout, &mut buf)? {
            None => {}
            Some(0) => events.push(HostEvent::Close),
            Some(n) => events.push(HostEvent::Data(buf[..n].to_vec())),
        }
        Ok(())
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    fn initial_baud(&self) -> Option<u32> {
        None
    }
}

/// RFC 2217: telnet with COM-PORT-OPTION, as pyserial's `rfc2217://` client speaks it.
pub struct TelnetLink {
    stream: TcpStream,
    codec: rfc2217::Server,
    replies: Vec<u8>,
    codec_events: Vec<rfc2217::Event>,
}

/// The baud a fresh port reports until the client sets one (pyserial always does).
const DEFAULT_BAUD: u32 = 115_200;

impl TelnetLink {
    /// Starts the telnet negotiation on a fresh connection.
    pub fn new(mut stream: TcpStream) -> io::Result<Self> {
        let mut codec = rfc2217::Server::new(DEFAULT_BAUD);
        let mut hello = codec.greeting();
        // Like a real access server, report the modem lines up front so a client that reads
        // CTS/DSR has a value (a bridge with nothing on its inputs: all clear).
        hello.extend(rfc2217::modem_state(0));
        stream.write_all(&hello)?;
        Ok(TelnetLink {
            stream,
            codec,
            replies: Vec::new(),
            codec_events: Vec::new(),
        })
    }
}

impl Link for TelnetLink {
    fn poll(&mut self, timeout: Duration, events: &mut Vec<HostEvent>) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        let n = match read_some(&mut self.stream, timeout, &mut buf)? {
            None => return Ok(()),
            Some(0) => {
                events.push(HostEvent::Close);
                return Ok(());
            }
            Some(n) => n,
        };
        self.codec
            .feed(&buf[..n], &mut self.codec_events, &mut self.replies);
        for event in self.codec_events.drain(..) {
            use rfc2217::Event as E;
            match event {
                E::Data(bytes) => events.push(HostEvent::Data(bytes)),
                E::SetBaud(baud) => events.push(HostEvent::Baud(baud)),
                // RFC 2217 changes one line per message, as pyserial does on a local port.
                E::Dtr(on) => events.push(HostEvent::Signals {
                    dtr: Some(on),
                    rts: None,
                }),
                E::Rts(on) => events.push(HostEvent::Signals {
                    dtr: None,
                    rts: Some(on),
                }),
                // The chip's UART is always 8N1 without flow control, and a line BREAK means
                // nothing to the ROM loader.
                E::SetDataSize(_)
                | E::SetParity(_)
                | E::SetStopSize(_)
                | E::FlowControl(_)
                | E::Break(_) => {}
                // We forward the chip's bytes the moment they are due and write the host's
                // bytes to the chip at once, so there is never a buffer to purge.
                E::Purge { .. } => {}
                // Output runs at the chip's own wire pace; pyserial never asks to suspend it.
                E::SuspendOutput(_) => {}
            }
        }
        Ok(())
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut out = Vec::with_capacity(bytes.len() + 8);
        rfc2217::escape_into(bytes, &mut out);
        self.stream.write_all(&out)
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.replies.is_empty() {
            self.stream.write_all(&self.replies)?;
            self.replies.clear();
        }
        Ok(())
    }

    fn initial_baud(&self) -> Option<u32> {
        Some(DEFAULT_BAUD)
    }

    /// pyserial sleeps 50 ms before it first checks for a SET_CONTROL answer, however fast
    /// that answer comes (`TelnetSubnegotiation.wait`).
    fn line_ack_wait(&self) -> Duration {
        Duration::from_millis(50)
    }
}

/// The browser harness (tests/e2e/fake-serial.js): binary frames carry serial bytes both ways,
/// text frames carry `open` (baud), `signals` (DTR/RTS) and `close` as JSON, and towards the page
/// `disconnect` when the USB device went away.
pub struct WsLink {
    ws: WebSocket<TcpStream>,
}

impl WsLink {
    /// Completes the WebSocket handshake on an accepted connection.
    pub fn accept(stream: TcpStream) -> io::Result<Self> {
        // The handshake runs blocking (with a bound, so a silent peer cannot hang us).
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let ws = tungstenite::accept(stream)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        Ok(WsLink { ws })
    }
}

/// Reads one page → device control message. Unknown messages are ignored, so the page's
/// harness can grow without breaking older devices.
pub fn parse_control(text: &str) -> Option<Vec<HostEvent>> {
    let msg: serde_json::Value = serde_json::from_str(text).ok()?;
    match msg.get("type")?.as_str()? {
        "open" => {
            let baud = msg.get("baudRate")?.as_u64()?;
            Some(vec![HostEvent::Baud(u32::try_from(baud).ok()?)])
        }
        // Web Serial's setSignals sets both lines in one request; keep them together.
        "signals" => Some(vec![HostEvent::Signals {
            dtr: msg.get("dtr").and_then(|v| v.as_bool()),
            rts: msg.get("rts").and_then(|v| v.as_bool()),
        }]),
        "close" => Some(vec![HostEvent::Close]),
        _ => None,
    }
}

impl Link for WsLink {
    fn poll(&mut self, timeout: Duration, events: &mut Vec<HostEvent>) -> io::Result<()> {
        self.ws
            .get_mut()
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        match self.ws.read() {
            Ok(Message::Binary(bytes)) => events.push(HostEvent::Data(bytes)),
            Ok(Message::Text(text)) => events.extend(parse_control(&text).unwrap_or_default()),
            Ok(Message::Close(_)) => events.push(HostEvent::Close),
            Ok(_) => {} // ping/pong: tungstenite answers pings itself
            Err(tungstenite::Error::Io(e)) if is_timeout(&e) => {}
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                events.push(HostEvent::Close)
            }
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::ConnectionReset => {
                events.push(HostEvent::Close)
            }
            Err(e) => return Err(io::Error::other(e.to_string())),
        }
        Ok(())
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.ws
            .send(Message::Binary(bytes.to_vec()))
            .map_err(|e| io::Error::other(e.to_string()))
    }

    fn initial_baud(&self) -> Option<u32> {
        Some(DEFAULT_BAUD)
    }

    fn device_gone(&mut self) -> io::Result<bool> {
        let _ = self
            .ws
            .send(Message::Text(r#"{"type":"disconnect"}"#.into()));
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// Polls until `want` events arrived (or 2 s passed).
    fn collect(link: &mut impl Link, want: usize) -> Vec<HostEvent> {
        let mut events = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while events.len() < want && std::time::Instant::now() < deadline {
            link.poll(Duration::from_millis(10), &mut events).unwrap();
            link.flush().unwrap();
        }
        events
    }

    #[test]
    fn telnet_link_greets_decodes_acks_and_escapes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            // DTR on, then data with an escaped 0xFF.
            s.write_all(&[0xFF, 0xFA, 0x2C, 5, 8, 0xFF, 0xF0, 1, 0xFF, 0xFF, 2])
                .unwrap();
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 256];
            // Greeting (18) + modem state (7) + DTR ack (7) + escaped data (3).
            while got.len() < 35 {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0, "server closed early: {got:?}");
                got.extend_from_slice(&buf[..n]);
            }
            got
        });
        let (stream, _) = listener.accept().unwrap();
        let mut link = TelnetLink::new(stream).unwrap();
        let events = collect(&mut link, 2);
        assert_eq!(
            events,
            [
                HostEvent::Signals {
                    dtr: Some(true),
                    rts: None
                },
                HostEvent::Data(vec![1, 0xFF, 2])
            ]
        );
        link.send(&[7, 0xFF]).unwrap();
        let got = client.join().unwrap();
        assert!(got.starts_with(&[0xFF, 0xFB, 0x00, 0xFF, 0xFD, 0x00]));
        assert!(got.ends_with(&[0xFF, 0xFA, 0x2C, 105, 8, 0xFF, 0xF0, 7, 0xFF, 0xFF]));
    }

    #[test]
    fn websocket_link_speaks_the_harness_protocol() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = thread::spawn(move || {
            let (mut ws, _) = tungstenite::connect(format!("ws://{addr}")).unwrap();
            for text in [
                r#"{"type":"open","baudRate":460800}"#,
                r#"{"type":"signals","dtr":false,"rts":true}"#,
            ] {
                ws.send(Message::Text(text.into())).unwrap();
            }
            ws.send(Message::Binary(vec![0xC0, 0x00])).unwrap();
            let reply = ws.read().unwrap();
            ws.send(Message::Text(r#"{"type":"close"}"#.into()))
                .unwrap();
            reply
        });
        let (stream, _) = listener.accept().unwrap();
        let mut link = WsLink::accept(stream).unwrap();
        let events = collect(&mut link, 3);
        assert_eq!(
            events,
            [
                HostEvent::Baud(460_800),
                HostEvent::Signals {
                    dtr: Some(false),
                    rts: Some(true)
                },
                HostEvent::Data(vec![0xC0, 0x00]),
            ]
        );
        link.send(b"OHAI").unwrap();
        assert_eq!(collect(&mut link, 1), [HostEvent::Close]);
        assert_eq!(client.join().unwrap(), Message::Binary(b"OHAI".to_vec()));
    }

    #[test]
    fn harness_control_messages() {
        assert_eq!(
            parse_control(r#"{"type":"open","baudRate":115200}"#),
            Some(vec![HostEvent::Baud(115_200)])
        );
        assert_eq!(
            parse_control(r#"{"type":"signals","dtr":true,"rts":false}"#),
            Some(vec![HostEvent::Signals {
                dtr: Some(true),
                rts: Some(false)
            }])
        );
        assert_eq!(
            parse_control(r#"{"type":"close"}"#),
            Some(vec![HostEvent::Close])
        );
        assert_eq!(parse_control(r#"{"type":"open"}"#), None);
        assert_eq!(parse_control(r#"{"type":"later"}"#), None);
        assert_eq!(parse_control("not json"), None);
    }
}
