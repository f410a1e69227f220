//! Telnet with the RFC 2217 COM-PORT-OPTION, server side, as a pure codec (no I/O).
//!
//! `esp-sim` serves the simulated chip as an RFC 2217 port so the real esptool (through
//! pyserial's `rfc2217://` client) can drive it, DTR/RTS and baud changes included. This module
//! only turns client bytes into [`Event`]s plus the reply bytes the server owes, and escapes
//! serial data going back; the socket loop lives in the binary.
//!
//! What a client needs from us, taken from pyserial's client: it asks `WILL`/`DO` for
//! COM-PORT-OPTION (and SGA, ECHO) and refuses to open until we answer `DO COM-PORT-OPTION`;
//! every COM-PORT-OPTION request it sends (baud, data size, parity, stop size, control, purge)
//! waits for a reply with the command code + 100 whose value starts with the value it sent.

/// Interpret As Command: starts every telnet command; doubled in data.
pub const IAC: u8 = 0xFF;
pub const SE: u8 = 0xF0;
pub const SB: u8 = 0xFA;
pub const WILL: u8 = 0xFB;
pub const WONT: u8 = 0xFC;
pub const DO: u8 = 0xFD;
pub const DONT: u8 = 0xFE;

const OPT_BINARY: u8 = 0x00;
const OPT_SGA: u8 = 0x03;
/// The RFC 2217 telnet option.
pub const COM_PORT_OPTION: u8 = 0x2C;

/// COM-PORT-OPTION commands, client → server. The server answers with `code + 100`.
pub mod cmd {
    pub const SIGNATURE: u8 = 0;
    pub const SET_BAUDRATE: u8 = 1;
    pub const SET_DATASIZE: u8 = 2;
    pub const SET_PARITY: u8 = 3;
    pub const SET_STOPSIZE: u8 = 4;
    pub const SET_CONTROL: u8 = 5;
    pub const NOTIFY_LINESTATE: u8 = 6;
    pub const NOTIFY_MODEMSTATE: u8 = 7;
    pub const FLOWCONTROL_SUSPEND: u8 = 8;
    pub const FLOWCONTROL_RESUME: u8 = 9;
    pub const SET_LINESTATE_MASK: u8 = 10;
    pub const SET_MODEMSTATE_MASK: u8 = 11;
    pub const PURGE_DATA: u8 = 12;
    /// Offset of the server's answer codes.
    pub const SERVER: u8 = 100;
}

/// SET_CONTROL values (RFC 2217 §3, "SET-CONTROL").
pub mod ctl {
    pub const REQ_FLOW: u8 = 0;
    pub const NO_FLOW: u8 = 1;
    pub const REQ_BREAK: u8 = 4;
    pub const BREAK_ON: u8 = 5;
    pub const BREAK_OFF: u8 = 6;
    pub const REQ_DTR: u8 = 7;
    pub const DTR_ON: u8 = 8;
    pub const DTR_OFF: u8 = 9;
    pub const REQ_RTS: u8 = 10;
    pub const RTS_ON: u8 = 11;
    pub const RTS_OFF: u8 = 12;
}

/// What the client asked for, in the order it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Serial bytes for the device (telnet escaping removed).
    Data(Vec<u8>),
    /// New baud rate of the serial line.
    SetBaud(u32),
    /// Data bits (5..8).
    SetDataSize(u8),
    /// RFC 2217 parity code (1 none, 2 odd, 3 even, 4 mark, 5 space).
    SetParity(u8),
    /// RFC 2217 stop-bit code (1 one, 2 two, 3 one and a half).
    SetStopSize(u8),
    /// DTR asserted (`true`) or released.
    Dtr(bool),
    /// RTS asserted (`true`) or released.
    Rts(bool),
    /// BREAK on the TX line on or off.
    Break(bool),
    /// Flow-control setting (an RFC 2217 SET_CONTROL value: 1 none, 2 XON/XOFF, 3 hardware, ...).
    FlowControl(u8),
    /// Drop buffered data: what the server received from the device (`receive`), what it has
    /// not yet written to the device (`transmit`), or both.
    Purge { receive: bool, transmit: bool },
    /// The client asks us to stop (`true`) or resume (`false`) sending serial data.
    SuspendOutput(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    Iac,
    Negotiate(u8),
    Sub,
    SubIac,
}

/// The server end of one telnet/RFC 2217 connection. Create one per connection.
#[derive(Debug, Clone)]
pub struct Server {
    state: State,
    sub: Vec<u8>,
    /// Options we have enabled on our side (`WILL`), indexed by option code.
    ours: [bool; 256],
    /// Options the client has enabled on its side (`DO` sent by us).
    theirs: [bool; 256],
    baud: u32,
    data_size: u8,
    parity: u8,
    stop_size: u8,
    dtr: bool,
    rts: bool,
    brk: bool,
    flow: u8,
}

/// The options we agree to on both sides: 8-bit clean data, no go-ahead, and the port control.
fn supported(option: u8) -> bool {
    matches!(option, OPT_BINARY | OPT_SGA | COM_PORT_OPTION)
}

impl Server {
    /// A fresh connection whose serial line currently runs at `baud`, 8N1, DTR/RTS released.
    pub fn new(baud: u32) -> Self {
        Server {
            state: State::Data,
            sub: Vec::new(),
            ours: [false; 256],
            theirs: [false; 256],
            baud,
            data_size: 8,
            parity: 1,
            stop_size: 1,
            dtr: false,
            rts: false,
            brk: false,
            flow: ctl::NO_FLOW,
        }
    }

    /// What the server sends first: offers of the options it supports on both sides, so that
    /// clients which wait for the server to start (and pyserial, which waits for
    /// `DO COM-PORT-OPTION`) get going without a round trip.
    pub fn greeting(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        for option in [OPT_BINARY, OPT_SGA, COM_PORT_OPTION] {
            self.ours[option as usize] = true;
            self.theirs[option as usize] = true;
            out.extend_from_slice(&[IAC, WILL, option, IAC, DO, option]);
        }
        out
    }

    /// Whether the client has agreed to COM-PORT-OPTION in either direction.
    pub fn com_port_active(&self) -> bool {
        self.ours[COM_PORT_OPTION as usize] || self.theirs[COM_PORT_OPTION as usize]
    }

    /// Decodes bytes from the client. Events are appended to `events` in arrival order (data
    /// runs merged), bytes the server must send back (negotiation answers, acks) to `reply`.
    pub fn feed(&mut self, input: &[u8], events: &mut Vec<Event>, reply: &mut Vec<u8>) {
        for &byte in input {
            match self.state {
                State::Data => {
                    if byte == IAC {
                        self.state = State::Iac;
                    } else {
                        push_data(events, byte);
                    }
                }
                State::Iac => {
                    self.state = State::Data;
                    match byte {
                        IAC => push_data(events, IAC),
                        SB => {
                            self.sub.clear();
                            self.state = State::Sub;
                        }
                        WILL | WONT | DO | DONT => self.state = State::Negotiate(byte),
                        // NOP, break, AYT and the other one-byte commands carry nothing a
                        // serial line needs; RFC 2217 uses SET_CONTROL for BREAK.
                        _ => {}
                    }
                }
                State::Negotiate(verb) => {
                    self.state = State::Data;
                    self.negotiate(verb, byte, reply);
                }
                State::Sub => {
                    if byte == IAC {
                        self.state = State::SubIac;
                    } else {
                        self.sub.push(byte);
                    }
                }
                State::SubIac => match byte {
                    IAC => {
                        self.sub.push(IAC);
                        self.state = State::Sub;
                    }
                    SE => {
                        self.state = State::Data;
                        let sub = std::mem::take(&mut self.sub);
                        self.subnegotiation(&sub, events, reply);
                    }
                    // A malformed block (IAC + command inside SB): drop it and read the
                    // command as if the block had ended, as telnet peers do.
                    _ => {
                        self.sub.clear();
                        self.state = State::Iac;
                        self.feed(&[byte], events, reply);
                    }
                },
            }
        }
    }

    /// Answers WILL/WONT/DO/DONT, replying only when our state changes so the two sides
    /// never loop (RFC 854's rule).
    fn negotiate(&mut self, verb: u8, option: u8, reply: &mut Vec<u8>) {
        let i = option as usize;
        match verb {
            // The client offers to enable an option on its side.
            WILL => {
                if !supported(option) {
                    reply.extend_from_slice(&[IAC, DONT, option]);
                } else if !self.theirs[i] {
                    self.theirs[i] = true;
                    reply.extend_from_slice(&[IAC, DO, option]);
                }
            }
            WONT => {
                if self.theirs[i] {
                    self.theirs[i] = false;
                    reply.extend_from_slice(&[IAC, DONT, option]);
                }
            }
            // The client asks us to enable an option on our side.
            DO => {
                if !supported(option) {
                    reply.extend_from_slice(&[IAC, WONT, option]);
                } else if !self.ours[i] {
                    self.ours[i] = true;
                    reply.extend_from_slice(&[IAC, WILL, option]);
                }
            }
            DONT => {
                if self.ours[i] {
                    self.ours[i] = false;
                    reply.extend_from_slice(&[IAC, WONT, option]);
                }
            }
            _ => unreachable!("only negotiation verbs reach negotiate"),
        }
    }

    fn subnegotiation(&mut self, sub: &[u8], events: &mut Vec<Event>, reply: &mut Vec<u8>) {
        let [COM_PORT_OPTION, command, value @ ..] = sub else {
            return; // Another option's subnegotiation, or an empty block: nothing to answer.
        };
        let byte = value.first().copied();
        let answer: Vec<u8> = match *command {
            cmd::SIGNATURE => {
                if !value.is_empty() {
                    return; // The client told us its name; no answer is due.
                }
                b"esp-sim".to_vec()
            }
            cmd::SET_BAUDRATE => {
                let Ok(raw) = <[u8; 4]>::try_from(value) else {
                    return;
                };
                let baud = u32::from_be_bytes(raw);
                if baud != 0 {
                    self.baud = baud;
                    events.push(Event::SetBaud(baud));
                }
                self.baud.to_be_bytes().to_vec()
            }
            cmd::SET_DATASIZE => {
                match byte {
                    Some(0) | None => {}
                    Some(v) => {
                        self.data_size = v;
                        events.push(Event::SetDataSize(v));
                    }
                }
                vec![self.data_size]
            }
            cmd::SET_PARITY => {
                match byte {
                    Some(0) | None => {}
                    Some(v) => {
                        self.parity = v;
                        events.push(Event::SetParity(v));
                    }
                }
                vec![self.parity]
            }
            cmd::SET_STOPSIZE => {
                match byte {
                    Some(0) | None => {}
                    Some(v) => {
                        self.stop_size = v;
                        events.push(Event::SetStopSize(v));
                    }
                }
                vec![self.stop_size]
            }
            cmd::SET_CONTROL => {
                let Some(v) = byte else { return };
                vec![self.control(v, events)]
            }
            // A poll: a UART bridge with nothing on its inputs reports no line activity.
            cmd::NOTIFY_LINESTATE | cmd::NOTIFY_MODEMSTATE => vec![0],
            cmd::FLOWCONTROL_SUSPEND | cmd::FLOWCONTROL_RESUME => {
                // No answer is defined for these; the client just expects us to obey.
                events.push(Event::SuspendOutput(*command == cmd::FLOWCONTROL_SUSPEND));
                return;
            }
            cmd::SET_LINESTATE_MASK | cmd::SET_MODEMSTATE_MASK => vec![byte.unwrap_or(0)],
            cmd::PURGE_DATA => {
                let Some(v) = byte else { return };
                events.push(Event::Purge {
                    receive: v & 1 != 0,
                    transmit: v & 2 != 0,
                });
                vec![v]
            }
            _ => return, // Unknown command: no answer rather than a wrong one.
        };
        reply.extend_from_slice(&[IAC, SB, COM_PORT_OPTION, command + cmd::SERVER]);
        escape_into(&answer, reply);
        reply.extend_from_slice(&[IAC, SE]);
    }

    /// Applies one SET_CONTROL value and returns the value to acknowledge: the value itself
    /// for a change (pyserial checks the echo), the current state for a query.
    fn control(&mut self, value: u8, events: &mut Vec<Event>) -> u8 {
        let mut set = |flag: &mut bool, on: bool, event: fn(bool) -> Event| {
            *flag = on;
            events.push(event(on));
            value
        };
        match value {
            ctl::REQ_FLOW => self.flow,
            ctl::REQ_BREAK => {
                if self.brk {
                    ctl::BREAK_ON
                } else {
                    ctl::BREAK_OFF
                }
            }
            ctl::BREAK_ON | ctl::BREAK_OFF => {
                set(&mut self.brk, value == ctl::BREAK_ON, Event::Break)
            }
            ctl::REQ_DTR => {
                if self.dtr {
                    ctl::DTR_ON
                } else {
                    ctl::DTR_OFF
                }
            }
            ctl::DTR_ON | ctl::DTR_OFF => set(&mut self.dtr, value == ctl::DTR_ON, Event::Dtr),
            ctl::REQ_RTS => {
                if self.rts {
                    ctl::RTS_ON
                } else {
                    ctl::RTS_OFF
                }
            }
            ctl::RTS_ON | ctl::RTS_OFF => set(&mut self.rts, value == ctl::RTS_ON, Event::Rts),
            // 1-3 and 13-19: outbound/inbound flow-control choices. Record the outbound one.
            _ => {
                if (1..=3).contains(&value) {
                    self.flow = value;
                }
                events.push(Event::FlowControl(value));
                value
            }
        }
    }
}

/// A NOTIFY-MODEMSTATE message for the client (CTS/DSR/RI/CD bits as RFC 2217 defines them).
pub fn modem_state(state: u8) -> Vec<u8> {
    let mut out = vec![
        IAC,
        SB,
        COM_PORT_OPTION,
        cmd::NOTIFY_MODEMSTATE + cmd::SERVER,
    ];
    escape_into(&[state], &mut out);
    out.extend_from_slice(&[IAC, SE]);
    out
}

/// Appends serial data for the client, doubling IAC so it cannot be read as a command.
pub fn escape_into(data: &[u8], out: &mut Vec<u8>) {
    for &b in data {
        out.push(b);
        if b == IAC {
            out.push(IAC);
        }
    }
}

fn push_data(events: &mut Vec<Event>, byte: u8) {
    if let Some(Event::Data(run)) = events.last_mut() {
        run.push(byte);
    } else {
        events.push(Event::Data(vec![byte]));
    }
}

#[cfg(test)]
mod tests;
