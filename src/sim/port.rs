//! [`SimPort`]: a [`Port`] wired to a simulated [`Device`] under a virtual clock.
//!
//! Time moves only when the host waits (read, sleep), so tests run instantly and a whole job's
//! modeled duration is `port.now()` at the end. Bytes take their wire time at the current baud
//! plus one USB latency per transfer; the chip's own work (erase, program, hashing) delays its
//! replies as the device model says.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::device::Device;
use super::timing::wire_time;
use crate::port::{Port, PortError, Signals};

/// The host side of a simulated serial connection.
pub struct SimPort {
    device: Device,
    now: Duration,
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
}

impl SimPort {
    /// Opens a connection to `device` at 115200 baud.
    pub fn new(device: Device) -> Self {
        SimPort {
            latency: Duration::from_millis(1),
            device,
            now: Duration::ZERO,
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
            _ => Ok(()),
        }
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

impl Port for SimPort {
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
        let start = self.now.max(self.tx_free);
        self.tx_free = start + wire_time(data.len(), self.baud);
        let arrival = self.tx_free + self.latency;
        self.pump(arrival);
        self.device.receive(arrival, data, self.baud);
        self.check()
    }

    async fn read(&mut self, buf: &mut Vec<u8>, deadline: Duration) -> Result<usize, PortError> {
        self.check()?;
        self.pump(deadline.max(self.now));
        let first = self.rx.iter().map(|(t, _)| *t).min();
        match first {
            Some(t) if t <= deadline.max(self.now) => {
                self.now = self.now.max(t);
                let mut n = 0;
                while self.rx.front().is_some_and(|(t, _)| *t <= self.now) {
                    let (_, bytes) = self.rx.pop_front().unwrap();
                    n += bytes.len();
                    buf.extend_from_slice(&bytes);
                }
                Ok(n)
            }
            _ => {
                self.now = self.now.max(deadline);
                Ok(0)
            }
        }
    }

    async fn set_signals(&mut self, signals: Signals) -> Result<(), PortError> {
        self.check()?;
        self.pump(self.now);
        self.device.set_signals(self.now, signals);
        Ok(())
    }

    async fn set_baud(&mut self, baud: u32) -> Result<(), PortError> {
        self.check()?;
        self.pump(self.now);
        self.baud = baud;
        Ok(())
    }

    fn baud(&self) -> u32 {
        self.baud
    }

    async fn sleep(&mut self, duration: Duration) {
        self.now += duration;
    }

    fn now(&self) -> Duration {
        self.now
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
