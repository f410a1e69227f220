//! A native [`Port`] over RFC 2217 (telnet COM-PORT-OPTION), so our core can drive `esp-sim`
//! the way esptool does through pyserial's `rfc2217://`, and both can be timed on one footing.
//!
//! Client side of what `webflash::rfc2217` serves: serial data with IAC doubled, SET_BAUDRATE
//! and SET_CONTROL (DTR/RTS) as subnegotiations; the server's acknowledgements and option
//! offers are read and dropped. Time is wall time.
//!
//! After each line change we wait 50 ms, as pyserial does for its SET_CONTROL answer: esp-sim
//! holds the chip's clock for that long after a line change (`session::Clock`), so a client
//! that moved on sooner would have its reset holds shortened in the chip's eyes.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use webflash::port::{Port, PortError, Signals};
use webflash::rfc2217::{cmd, ctl, escape_into, COM_PORT_OPTION, IAC, SB, SE};

const LINE_ACK_WAIT: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    Iac,
    /// After WILL/WONT/DO/DONT: the option byte follows.
    Option,
    Sub,
    SubIac,
}

pub struct Rfc2217Port {
    stream: TcpStream,
    /// Telnet framing (RFC 2217); without it, plain TCP with no control lines or baud.
    telnet: bool,
    start: Instant,
    baud: u32,
    state: State,
    /// Serial bytes received and not yet read.
    rx: Vec<u8>,
}

fn io_err(e: io::Error) -> PortError {
    match e.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => PortError::Disconnected,
        _ => PortError::Other(e.to_string()),
    }
}

impl Rfc2217Port {
    /// Connects and sets the line to `baud`, both control lines released.
    pub fn connect(addr: SocketAddr, baud: u32) -> io::Result<Self> {
        Self::open(addr, baud, true)
    }

    /// Plain TCP (`esp-sim --raw`): bytes only; line changes and baud stay local.
    pub fn connect_raw(addr: SocketAddr, baud: u32) -> io::Result<Self> {
        Self::open(addr, baud, false)
    }

    fn open(addr: SocketAddr, baud: u32, telnet: bool) -> io::Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let mut port = Rfc2217Port {
            stream,
            telnet,
            start: Instant::now(),
            baud,
            state: State::Data,
            rx: Vec::new(),
        };
        port.command(cmd::SET_BAUDRATE, &baud.to_be_bytes())?;
        Ok(port)
    }

    fn command(&mut self, command: u8, value: &[u8]) -> io::Result<()> {
        if !self.telnet {
            return Ok(());
        }
        let mut msg = vec![IAC, SB, COM_PORT_OPTION, command];
        escape_into(value, &mut msg);
        msg.extend_from_slice(&[IAC, SE]);
        self.stream.write_all(&msg)
    }

    /// Reads from the socket for up to `timeout`, keeping the serial data.
    fn pump(&mut self, timeout: Duration) -> Result<(), PortError> {
        let timeout = timeout.max(Duration::from_micros(100));
        self.stream
            .set_read_timeout(Some(timeout))
            .map_err(io_err)?;
        let mut buf = [0u8; 16 * 1024];
        match self.stream.read(&mut buf) {
            Ok(0) => Err(PortError::Disconnected),
            Ok(n) => {
                self.decode(&buf[..n]);
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(io_err(e)),
        }
    }

    fn decode(&mut self, bytes: &[u8]) {
        if !self.telnet {
            return self.rx.extend_from_slice(bytes);
        }
        for &b in bytes {
            self.state = match (self.state, b) {
                (State::Data, IAC) => State::Iac,
                (State::Data, _) => {
                    self.rx.push(b);
                    State::Data
                }
                (State::Iac, IAC) => {
                    self.rx.push(IAC);
                    State::Data
                }
                (State::Iac, SB) => State::Sub,
                (State::Iac, 0xFB..=0xFE) => State::Option,
                (State::Iac, _) | (State::Option, _) => State::Data,
                (State::Sub, IAC) => State::SubIac,
                (State::Sub, _) => State::Sub,
                (State::SubIac, SE) => State::Data,
                (State::SubIac, _) => State::Sub,
            };
        }
    }

    /// Keeps receiving until `until` on the wall clock.
    fn pump_until(&mut self, until: Duration) -> Result<(), PortError> {
        while self.now() < until {
            self.pump(until - self.now())?;
        }
        Ok(())
    }
}

impl Port for Rfc2217Port {
    async fn write(&mut self, data: &[u8]) -> Result<(), PortError> {
        if !self.telnet {
            return self.stream.write_all(data).map_err(io_err);
        }
        let mut out = Vec::with_capacity(data.len() + 16);
        escape_into(data, &mut out);
        self.stream.write_all(&out).map_err(io_err)
    }

    async fn read(&mut self, buf: &mut Vec<u8>, deadline: Duration) -> Result<usize, PortError> {
        loop {
            if !self.rx.is_empty() {
                let n = self.rx.len();
                buf.append(&mut self.rx);
                return Ok(n);
            }
            let now = self.now();
            if now >= deadline {
                return Ok(0);
            }
            self.pump(deadline - now)?;
        }
    }

    async fn set_signals(&mut self, signals: Signals) -> Result<(), PortError> {
        if !self.telnet {
            return Ok(());
        }
        let dtr = if signals.dtr {
            ctl::DTR_ON
        } else {
            ctl::DTR_OFF
        };
        let rts = if signals.rts {
            ctl::RTS_ON
        } else {
            ctl::RTS_OFF
        };
        self.command(cmd::SET_CONTROL, &[dtr]).map_err(io_err)?;
        self.command(cmd::SET_CONTROL, &[rts]).map_err(io_err)?;
        let until = self.now() + LINE_ACK_WAIT;
        self.pump_until(until)
    }

    async fn set_baud(&mut self, baud: u32) -> Result<(), PortError> {
        self.command(cmd::SET_BAUDRATE, &baud.to_be_bytes())
            .map_err(io_err)?;
        self.baud = baud;
        Ok(())
    }

    fn baud(&self) -> u32 {
        self.baud
    }

    async fn sleep(&mut self, duration: Duration) {
        let until = self.now() + duration;
        // A lost connection shows up at the next read or write.
        let _ = self.pump_until(until);
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}
