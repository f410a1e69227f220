//! [`SimPort`]: a [`Port`] wired to a simulated [`Device`].
//!
//! Under the default [`VirtualClock`], time moves only when the host waits (read, sleep), so
//! tests run instantly and a whole job's modeled duration is `port.now()` at the end. Under a
//! wall clock (the browser's demo board) the same model runs in real time. Bytes take their wire time at the current baud
//! plus one USB latency per transfer; the chip's own work (erase, program, hashing) delays its
//! replies as the device model says.
//!
//! A port is one USB device: when the board's USB function changes (a chip with native USB
//! restarting into firmware with its own USB, see [`super::usb`]), this port reports
//! [`PortError::Disconnected`] from then on, as a browser's port does; [`SimPort::reopen`]
//! is the host opening the device that appeared instead.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::device::Device;
use super::timing::wire_time;
use super::usb::UsbId;
use crate::port::{Port, PortError, Signals};

/// A full-speed USB bulk packet: how a host's write reaches a USB-UART bridge.
const USB_PACKET: usize = 64;

/// Where a [`SimPort`] gets its time from.
#[allow(async_fn_in_trait)]
pub trait Clock {
    fn now(&self) -> Duration;
    /// Returns once the clock has reached `t` (at once if it already has).
    async fn wait_until(&mut self, t: Duration);
}

/// Time that passes only when someone waits: instant tests, deterministic benchmarks.
#[derive(Debug, Clone, Copy, Default)]
pub struct VirtualClock {
    now: Duration,
}

impl Clock for VirtualClock {
    fn now(&self) -> Duration {
        self.now
    }
    async fn wait_until(&mut self, t: Duration) {
        self.now = self.now.max(t);
    }
}

/// The host side of a simulated serial connection.
pub struct SimPort<C: Clock = VirtualClock> {
    device: Device,
    clock: C,
    baud: u32,
    /// The host→chip line is busy until then.
    tx_free: Duration,
    /// The chip→host line is busy until then.
    rx_free: Duration,
    /// Bytes on their way to the host, with their arrival times.
    rx: VecDeque<(Duration, Vec<u8>)>,
    latency: Duration,
    tx_count: u64,
    /// The port disappears (USB unplugged) once the host has sent this many bytes.
    pub disconnect_after_tx: Option<u64>,
    /// Every byte the host sent, for tests that check what went over the wire.
    pub tx_log: Vec<u8>,
    /// Keep `tx_log` (off for long benchmarks).
    pub log_tx: bool,
    /// The USB device this port was opened on.
    usb: Option<UsbId>,
}

impl SimPort<VirtualClock> {
    /// Opens a connection to `device` at 115200 baud, under a virtual clock.
    pub fn new(device: Device) -> Self {
        SimPort::with_clock(device, VirtualClock::default())
    }
}

impl<C: Clock> SimPort<C> {
    /// Opens a connection to `device` at 115200 baud, timed by `clock`.
    pub fn with_clock(device: Device, clock: C) -> Self {
        SimPort {
            usb: device.usb_id(),
            latency: Duration::from_millis(1),
            device,
            clock,
            baud: 115_200,
            tx_free: Duration::ZERO,
            rx_free: Duration::ZERO,
            rx: VecDeque::new(),
            tx_count: 0,
            disconnect_after_tx: None,
            tx_log: Vec::new(),
            log_tx: true,
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn device_mut(&mut self) -> &mut Device {
        &mut self.device
    }

    /// Sets the per-transfer USB latency (the device's timing default is 1 ms).
    pub fn set_latency(&mut self, latency: Duration) {
        self.latency = latency;
    }

    fn check(&self) -> Result<(), PortError> {
        match self.disconnect_after_tx {
            Some(limit) if self.tx_count >= limit => Err(PortError::Disconnected),
            _ if self.usb.is_none() || self.device.usb_id() != self.usb => {
                Err(PortError::Disconnected)
            }
            _ => Ok(()),
        }
    }

    /// The USB device this port was opened on (`None`: nothing was there).
    pub fn usb_id(&self) -> Option<&UsbId> {
        self.usb.as_ref()
    }

    /// Lets `duration` pass on the clock without using the port (the host waits for a USB
    /// device to come back).
    pub async fn idle(&mut self, duration: Duration) {
        let until = self.clock.now() + duration;
        self.clock.wait_until(until).await;
        self.device.take_output(self.clock.now());
    }

    /// Opens the board's USB device as it is now (after a re-enumeration): a fresh port at
    /// 115200 baud with nothing in flight. `None` while the board shows no USB device.
    pub fn reopen(&mut self) -> Option<UsbId> {
        let now = self.clock.now();
        self.device.take_output(now);
        self.usb = self.device.usb_id();
        self.rx.clear();
        self.baud = 115_200;
        self.tx_free = now;
        self.rx_free = now;
        self.usb.clone()
    }

    /// Moves what the chip has sent by `until` onto the wire towards the host.
    fn pump(&mut self, until: Duration) {
        for out in self.device.take_output(until) {
            let start = out.at.max(self.rx_free);
            self.rx_free = start + wire_time(out.bytes.len(), out.baud);
            let bytes = super::garble(&out.bytes, out.baud, self.baud);
            self.rx.push_back((self.rx_free + self.latency, bytes));
        }
    }
}

impl<C: Clock> SimPort<C> {
    /// Appends what has reached the host by now; returns how many bytes. Never waits, so a
    /// wall-clock host (the page's demo board) can poll it.
    pub fn take_arrived(&mut self, buf: &mut Vec<u8>) -> usize {
        let now = self.clock.now();
        self.pump(now);
        let mut n = 0;
        while self.rx.front().is_some_and(|(t, _)| *t <= now) {
            let (_, bytes) = self.rx.pop_front().unwrap();
            n += bytes.len();
            buf.extend_from_slice(&bytes);
        }
        n
    }

    /// The first time after `now` when something reaches the host or the chip produces output.
    pub fn next_arrival_after(&self, now: Duration) -> Option<Duration> {
        let arrivals = self.rx.iter().map(|(t, _)| *t);
        arrivals
            .chain(self.device.next_output_at())
            .filter(|t| *t > now)
            .min()
    }

    /// The port's clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }
}

impl<C: Clock> Port for SimPort<C> {
    async fn write(&mut self, data: &[u8]) -> Result<(), PortError> {
        self.check()?;
        let mut data = data;
        if let Some(limit) = self.disconnect_after_tx {
            let room = (limit - self.tx_count) as usize;
            data = &data[..data.len().min(room)];
        }
        self.tx_count += data.len() as u64;
        if self.log_tx {
            self.tx_log.extend_from_slice(data);
        }
        // The bytes reach the chip one after another, as the line carries them: handed over
        // in USB-packet-sized pieces, each when its last byte has arrived (a chip that answers
        // part way, like raw-paste's window credit, answers while the rest is on the wire).
        let now = self.clock.now();
        let mut at = now.max(self.tx_free);
        for piece in data.chunks(USB_PACKET) {
            at += wire_time(piece.len(), self.baud);
            let arrival = at + self.latency;
            self.pump(arrival);
            self.device.receive(arrival, piece, self.baud);
            if self.device.usb_id() != self.usb {
                break; // Its USB device went away (a native-USB chip restarting).
            }
        }
        self.tx_free = at;
        self.check()
    }

    async fn read(&mut self, buf: &mut Vec<u8>, deadline: Duration) -> Result<usize, PortError> {
        loop {
            self.check()?;
            let n = self.take_arrived(buf);
            if n > 0 {
                return Ok(n);
            }
            let now = self.clock.now();
            if now >= deadline {
                return Ok(0);
            }
            // Sleep until the next byte lands, the chip's next output is due, or the deadline.
            let wake = self
                .next_arrival_after(now)
                .map_or(deadline, |t| t.min(deadline));
            self.clock.wait_until(wake).await;
        }
    }

    async fn set_signals(&mut self, signals: Signals) -> Result<(), PortError> {
        self.check()?;
        let now = self.clock.now();
        self.pump(now);
        self.device.set_signals(now, signals);
        Ok(())
    }

    async fn set_baud(&mut self, baud: u32) -> Result<(), PortError> {
        self.check()?;
        self.pump(self.clock.now());
        self.baud = baud;
        Ok(())
    }

    fn baud(&self) -> u32 {
        self.baud
    }

    async fn sleep(&mut self, duration: Duration) {
        let until = self.clock.now() + duration;
        self.clock.wait_until(until).await;
        // The chip lives on meanwhile (a reset completes, boot text is sent).
        self.pump(self.clock.now());
    }

    fn now(&self) -> Duration {
        self.clock.now()
    }
}

/// Runs a future to completion on the current thread. Enough for code that only awaits a
/// [`SimPort`] (which never blocks) or other futures that complete when polled.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}
