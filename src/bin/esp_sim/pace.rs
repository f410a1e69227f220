//! `--realtime`: the serial line's own pace in wall time. TCP delivers a host's 16 KiB block
//! at once; a UART at 921600 baud takes 178 ms for it. [`Paced`] holds bytes in each direction
//! until the line would have carried them (10 bits per byte at the sending side's baud, plus
//! one USB transfer latency), the same model `SimPort` applies under its virtual clock, so
//! real tools and our core can be timed against the simulator fairly.
//!
//! Without `--realtime` it passes everything straight through.

use std::collections::VecDeque;
use std::time::Duration;

use webflash::port::Signals;
use webflash::sim::timing::{wire_time, Timing};
use webflash::sim::usb::UsbId;
use webflash::sim::Output;

use crate::session::Target;

/// A [`Target`] whose serial line takes time.
pub struct Paced<T> {
    inner: T,
    enabled: bool,
    latency: Duration,
    /// Host bytes on their way to the chip: arrival time, bytes, the host's baud.
    to_chip: VecDeque<(Duration, Vec<u8>, u32)>,
    to_chip_free: Duration,
    /// Chip bytes on their way to the host, stamped with their arrival.
    to_host: VecDeque<(Duration, Output)>,
    to_host_free: Duration,
}

impl<T: Target> Paced<T> {
    pub fn new(inner: T, enabled: bool) -> Self {
        Paced {
            inner,
            enabled,
            latency: Timing::default().usb_latency,
            to_chip: VecDeque::new(),
            to_chip_free: Duration::ZERO,
            to_host: VecDeque::new(),
            to_host_free: Duration::ZERO,
        }
    }

    /// Hands the chip every host byte that has arrived by `now`.
    fn deliver(&mut self, now: Duration) {
        while self.to_chip.front().is_some_and(|(t, _, _)| *t <= now) {
            let (t, bytes, baud) = self.to_chip.pop_front().unwrap();
            self.inner.receive(t, &bytes, baud);
        }
    }
}

impl<T: Target> Target for Paced<T> {
    fn receive(&mut self, at: Duration, bytes: &[u8], host_baud: u32) {
        if !self.enabled {
            return self.inner.receive(at, bytes, host_baud);
        }
        self.deliver(at);
        let start = at.max(self.to_chip_free);
        self.to_chip_free = start + wire_time(bytes.len(), host_baud);
        let arrival = self.to_chip_free + self.latency;
        self.to_chip.push_back((arrival, bytes.to_vec(), host_baud));
    }

    fn set_signals(&mut self, at: Duration, signals: Signals) {
        self.deliver(at);
        self.inner.set_signals(at, signals);
    }

    fn take_output(&mut self, until: Duration) -> Vec<Output> {
        if !self.enabled {
            return self.inner.take_output(until);
        }
        self.deliver(until);
        for out in self.inner.take_output(until) {
            let start = out.at.max(self.to_host_free);
            self.to_host_free = start + wire_time(out.bytes.len(), out.baud);
            self.to_host
                .push_back((self.to_host_free + self.latency, out));
        }
        let mut due = Vec::new();
        while self.to_host.front().is_some_and(|(t, _)| *t <= until) {
            due.push(self.to_host.pop_front().unwrap().1);
        }
        due
    }

    fn next_output_at(&self) -> Option<Duration> {
        let inner = self.inner.next_output_at();
        if !self.enabled {
            return inner;
        }
        [
            inner,
            self.to_chip.front().map(|(t, _, _)| *t),
            self.to_host.front().map(|(t, _)| *t),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn uart_baud(&self) -> u32 {
        self.inner.uart_baud()
    }
    fn flash(&self) -> &[u8] {
        self.inner.flash()
    }
    fn flash_generation(&self) -> u64 {
        self.inner.flash_generation()
    }
    fn usb_id(&self) -> Option<UsbId> {
        self.inner.usb_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Echoes what it receives at once, at 115200.
    #[derive(Default)]
    struct Echo {
        out: VecDeque<Output>,
        got_at: Vec<Duration>,
    }

    impl Target for Echo {
        fn receive(&mut self, at: Duration, bytes: &[u8], _: u32) {
            self.got_at.push(at);
            self.out.push_back(Output {
                at,
                baud: 115_200,
                bytes: bytes.to_vec(),
            });
        }
        fn set_signals(&mut self, _: Duration, _: Signals) {}
        fn take_output(&mut self, until: Duration) -> Vec<Output> {
            let mut v = Vec::new();
            while self.out.front().is_some_and(|o| o.at <= until) {
                v.push(self.out.pop_front().unwrap());
            }
            v
        }
        fn next_output_at(&self) -> Option<Duration> {
            self.out.front().map(|o| o.at)
        }
        fn uart_baud(&self) -> u32 {
            115_200
        }
        fn flash(&self) -> &[u8] {
            &[]
        }
        fn flash_generation(&self) -> u64 {
            0
        }
        fn usb_id(&self) -> Option<UsbId> {
            None
        }
    }

    #[test]
    fn bytes_take_their_wire_time_each_way() {
        let mut p = Paced::new(Echo::default(), true);
        let ms = Duration::from_millis;
        // 1152 bytes at 115200 baud: 100 ms on the wire, plus 1 ms latency.
        p.receive(Duration::ZERO, &[0x55; 1152], 115_200);
        assert!(p.take_output(ms(100)).is_empty());
        assert!(p.inner.got_at.is_empty(), "not at the chip before 101 ms");
        assert_eq!(p.next_output_at(), Some(ms(101)));
        assert!(p.take_output(ms(101)).is_empty());
        assert_eq!(p.inner.got_at, [ms(101)]);
        // The echo leaves at 101 ms and needs the same again to reach the host.
        assert_eq!(p.next_output_at(), Some(ms(202)));
        assert!(p.take_output(ms(201)).is_empty());
        assert_eq!(p.take_output(ms(202)).len(), 1);
    }

    #[test]
    fn disabled_passes_through() {
        let mut p = Paced::new(Echo::default(), false);
        p.receive(Duration::ZERO, b"x", 115_200);
        assert_eq!(p.take_output(Duration::ZERO).len(), 1);
    }
}
