//! Runs the simulated chip against one connected host at a time, under wall time.
//!
//! Single-threaded and synchronous: read the host with a short timeout, hand its bytes and
//! line changes to the chip stamped with the time they arrived, and pass the chip's output on
//! once it is due. The chip (flash, mode, baud) outlives connections, like a board on a port.

use std::io;
use std::time::{Duration, Instant};

use webflash::port::Signals;
use webflash::sim::usb::UsbId;
use webflash::sim::{garble, Device, Output};

use crate::bus::Bus;
use crate::flash_file::FlashFile;
use crate::link::{HostEvent, Link};

/// The part of the device model the server uses (a trait so the loop can be tested alone).
pub trait Target {
    fn receive(&mut self, at: Duration, bytes: &[u8], host_baud: u32);
    fn set_signals(&mut self, at: Duration, signals: Signals);
    fn take_output(&mut self, until: Duration) -> Vec<Output>;
    fn next_output_at(&self) -> Option<Duration>;
    /// The chip's UART rate now.
    fn uart_baud(&self) -> u32;
    fn flash(&self) -> &[u8];
    fn flash_generation(&self) -> u64;
    /// The USB device the board shows now (`None`: none).
    fn usb_id(&self) -> Option<UsbId>;
}

impl Target for Device {
    fn receive(&mut self, at: Duration, bytes: &[u8], host_baud: u32) {
        Device::receive(self, at, bytes, host_baud)
    }
    fn set_signals(&mut self, at: Duration, signals: Signals) {
        Device::set_signals(self, at, signals)
    }
    fn take_output(&mut self, until: Duration) -> Vec<Output> {
        Device::take_output(self, until)
    }
    fn next_output_at(&self) -> Option<Duration> {
        Device::next_output_at(self)
    }
    fn uart_baud(&self) -> u32 {
        Device::uart_baud(self)
    }
    fn flash(&self) -> &[u8] {
        Device::flash(self)
    }
    fn flash_generation(&self) -> u64 {
        Device::flash_generation(self)
    }
    fn usb_id(&self) -> Option<UsbId> {
        Device::usb_id(self)
    }
}

/// Longest wait for the host before looking at the chip again (its internal events, such as
/// the end of a reset, may produce output without having announced it).
const MAX_POLL: Duration = Duration::from_millis(5);
/// Quiet time after which changed flash is written to the flash file.
const SAVE_AFTER_IDLE: Duration = Duration::from_millis(50);

/// The chip's clock: wall time since the device was created, minus the time an RFC 2217
/// client spends blocked after each line change waiting for our acknowledgement.
///
/// On a local port `port.dtr = True` takes microseconds, and reset sequences are timed on that
/// assumption (esptool holds GPIO0 low for 50 ms after releasing EN). pyserial's RFC 2217
/// client instead waits at least 50 ms for every SET_CONTROL answer, which stretches the
/// sequence until the strap is no longer low when EN rises; this is why Espressif's own
/// `esp_rfc2217_server` replays reset sequences locally. We keep the client's own sequence
/// and let the chip's time stand still during that wait, so the chip sees the lines change
/// as the tool timed them.
struct Clock {
    start: Instant,
    /// Wall time taken out of the chip's time so far.
    held: Duration,
    /// A hold in progress: wall time it began, and how long it may last.
    hold: Option<(Duration, Duration)>,
}

impl Clock {
    fn current_hold(&self, wall: Duration) -> Duration {
        match self.hold {
            Some((from, max)) => wall.saturating_sub(from).min(max),
            None => Duration::ZERO,
        }
    }

    /// The chip's time now (monotonic).
    fn now(&self) -> Duration {
        let wall = self.start.elapsed();
        wall - self.held - self.current_hold(wall)
    }

    /// Ends any hold, then stops the chip's time for up to `max` (nothing if zero).
    fn hold(&mut self, max: Duration) {
        self.release();
        if !max.is_zero() {
            self.hold = Some((self.start.elapsed(), max));
        }
    }

    /// Ends a hold early: the host is doing something else, so it is no longer waiting.
    fn release(&mut self) {
        let wall = self.start.elapsed();
        self.held += self.current_hold(wall);
        self.hold = None;
    }
}

/// The chip, its clock and its flash file, kept across connections.
pub struct Sim<T> {
    pub target: T,
    clock: Clock,
    flash_file: Option<FlashFile>,
    /// Lines as the last host left them.
    signals: Signals,
    last_activity: Duration,
    /// Where the board's USB device changes are announced (the browser harness's fake USB).
    bus: Option<Bus>,
    /// The USB device the connected host opened.
    opened: Option<UsbId>,
}

impl<T: Target> Sim<T> {
    /// `start` is the instant the device was created (its time zero).
    pub fn new(target: T, start: Instant, flash_file: Option<FlashFile>) -> Self {
        Sim {
            target,
            clock: Clock {
                start,
                held: Duration::ZERO,
                hold: None,
            },
            flash_file,
            signals: Signals::default(),
            last_activity: Duration::ZERO,
            bus: None,
            opened: None,
        }
    }

    /// Announces the board's USB device on `bus` from now on.
    pub fn announce_on(&mut self, bus: Bus) {
        bus.publish(self.target.usb_id());
        self.bus = Some(bus);
    }

    /// Lets the chip live while no host is connected (what it prints is lost, as on a port
    /// nobody opened), announcing a change of its USB device.
    pub fn tick(&mut self) {
        let now = self.now();
        self.target.take_output(now);
        self.announce();
    }

    fn announce(&self) {
        if let Some(bus) = &self.bus {
            bus.publish(self.target.usb_id());
        }
    }

    fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Writes the flash file now if the flash changed since the last save.
    pub fn save_flash(&mut self) -> io::Result<()> {
        if let Some(file) = &mut self.flash_file {
            file.save(self.target.flash(), self.target.flash_generation())?;
        }
        Ok(())
    }

    /// Saves changed flash once the chip has been quiet for a moment, so a test never waits
    /// long and a busy write is not slowed by saving after every block.
    pub fn save_flash_when_idle(&mut self) -> io::Result<()> {
        let stale = match &self.flash_file {
            Some(file) => file.is_stale(self.target.flash_generation()),
            None => false,
        };
        if stale && self.now().saturating_sub(self.last_activity) >= SAVE_AFTER_IDLE {
            self.save_flash()?;
        }
        Ok(())
    }

    /// Serves one host until it disconnects. Errors end only this connection.
    pub fn serve(&mut self, link: &mut impl Link) -> io::Result<()> {
        // Bytes the chip sent while no port was open are lost, as on a real serial port.
        let now = self.now();
        self.target.take_output(now);
        self.last_activity = now;
        self.opened = self.target.usb_id();
        let mut host_baud = link.initial_baud();
        let mut events = Vec::new();
        let result = loop {
            match self.step(link, &mut host_baud, &mut events) {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        // Closing a port releases both lines (Linux drops DTR and RTS on close).
        if self.signals != Signals::default() {
            self.signals = Signals::default();
            let now = self.now();
            self.target.set_signals(now, self.signals);
        }
        self.save_flash()?;
        result
    }

    /// One turn of the loop: deliver due output, wait briefly for the host, apply what it did.
    /// Returns `false` once the host has closed the port.
    fn step(
        &mut self,
        link: &mut impl Link,
        host_baud: &mut Option<u32>,
        events: &mut Vec<HostEvent>,
    ) -> io::Result<bool> {
        let now = self.now();
        for out in self.target.take_output(now) {
            self.last_activity = now;
            // A plain-TCP host has no baud of its own: it always hears the chip at its rate.
            let rx_baud = host_baud.unwrap_or(out.baud);
            if out.baud == rx_baud {
                link.send(&out.bytes)?;
            } else {
                link.send(&garble(&out.bytes, out.baud, rx_baud))?;
            }
        }
        self.save_flash_when_idle()?;

        let wait = match self.target.next_output_at() {
            Some(due) => due.saturating_sub(now),
            None => MAX_POLL,
        };
        events.clear();
        link.poll(wait.min(MAX_POLL), events)?;
        let mut open = true;
        for event in events.drain(..) {
            let now = self.now();
            self.last_activity = now;
            match event {
                HostEvent::Data(bytes) => {
                    self.clock.release();
                    let now = self.now();
                    // A plain-TCP host always talks at the chip's current rate.
                    let baud = host_baud.unwrap_or_else(|| self.target.uart_baud());
                    self.target.receive(now, &bytes, baud);
                }
                HostEvent::Signals { dtr, rts } => {
                    self.clock.release();
                    let now = self.now();
                    self.signals.dtr = dtr.unwrap_or(self.signals.dtr);
                    self.signals.rts = rts.unwrap_or(self.signals.rts);
                    self.target.set_signals(now, self.signals);
                    self.clock.hold(link.line_ack_wait());
                }
                HostEvent::Baud(baud) => *host_baud = Some(baud),
                HostEvent::Close => open = false,
            }
        }
        if open {
            link.flush()?;
        }
        // The USB device the host opened went away (the chip re-enumerated as another one).
        self.announce();
        let usb = self.target.usb_id();
        if open && usb != self.opened {
            if link.device_gone()? {
                return Ok(false);
            }
            self.opened = usb;
        }
        Ok(open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A chip that answers every byte with the same byte, 1 ms later, at 115200 baud, and
    /// records line changes. Flash "changes" whenever it receives `w`.
    #[derive(Default)]
    struct Echo {
        queue: VecDeque<Output>,
        signals: Vec<Signals>,
        signal_times: Vec<Duration>,
        bauds_seen: Vec<u32>,
        /// The UART rate; receiving `B` switches it to 460800 (after echoing at the old rate).
        uart: u32,
        flash: Vec<u8>,
        generation: u64,
    }

    impl Target for Echo {
        fn receive(&mut self, at: Duration, bytes: &[u8], host_baud: u32) {
            self.bauds_seen.push(host_baud);
            if bytes.contains(&b'w') {
                self.flash = bytes.to_vec();
                self.generation += 1;
            }
            self.queue.push_back(Output {
                at: at + Duration::from_millis(1),
                baud: self.uart_baud(),
                bytes: bytes.to_vec(),
            });
            if bytes.contains(&b'B') {
                self.uart = 460_800;
            }
        }
        fn set_signals(&mut self, at: Duration, signals: Signals) {
            self.signals.push(signals);
            self.signal_times.push(at);
        }
        fn take_output(&mut self, until: Duration) -> Vec<Output> {
            let mut out = Vec::new();
            while self.queue.front().is_some_and(|o| o.at <= until) {
                out.push(self.queue.pop_front().unwrap());
            }
            out
        }
        fn next_output_at(&self) -> Option<Duration> {
            self.queue.front().map(|o| o.at)
        }
        fn uart_baud(&self) -> u32 {
            if self.uart == 0 {
                115_200
            } else {
                self.uart
            }
        }
        fn flash(&self) -> &[u8] {
            &self.flash
        }
        fn flash_generation(&self) -> u64 {
            self.generation
        }
        fn usb_id(&self) -> Option<UsbId> {
            Some(UsbId {
                vid: 0x10C4,
                pid: 0xEA60,
                serial: None,
            })
        }
    }

    /// A scripted host: each poll hands out the next batch of events; everything sent is kept.
    struct Script {
        steps: VecDeque<Vec<HostEvent>>,
        sent: Vec<u8>,
        baud: Option<u32>,
        ack_wait: Duration,
    }

    impl Link for Script {
        fn poll(&mut self, timeout: Duration, events: &mut Vec<HostEvent>) -> io::Result<()> {
            std::thread::sleep(timeout);
            events.extend(self.steps.pop_front().unwrap_or_default());
            Ok(())
        }
        fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
            self.sent.extend_from_slice(bytes);
            Ok(())
        }
        fn initial_baud(&self) -> Option<u32> {
            self.baud
        }
        fn line_ack_wait(&self) -> Duration {
            self.ack_wait
        }
    }

    fn script(baud: Option<u32>, steps: Vec<Vec<HostEvent>>) -> Script {
        Script {
            steps: steps.into(),
            sent: Vec::new(),
            baud,
            ack_wait: Duration::ZERO,
        }
    }

    fn quiet(n: usize) -> Vec<Vec<HostEvent>> {
        vec![Vec::new(); n]
    }

    #[test]
    fn echoes_at_the_hosts_baud_and_garbles_at_another() {
        let mut sim = Sim::new(Echo::default(), Instant::now(), None);
        let mut steps = vec![vec![HostEvent::Data(b"hello".to_vec())]];
        steps.extend(quiet(5));
        steps.push(vec![
            HostEvent::Baud(460_800),
            HostEvent::Data(b"x".to_vec()),
        ]);
        steps.extend(quiet(5));
        steps.push(vec![HostEvent::Close]);
        let mut host = script(Some(115_200), steps);
        sim.serve(&mut host).unwrap();
        assert!(host.sent.starts_with(b"hello"));
        // The echo of "x" left the chip at 115200 and reached a 460800 host as garbage.
        assert_eq!(host.sent.len(), 5 + 4);
        assert_eq!(&host.sent[5..], garble(b"x", 115_200, 460_800));
        assert_eq!(sim.target.bauds_seen, [115_200, 460_800]);
    }

    #[test]
    fn lines_merge_per_change_and_are_released_on_close() {
        let mut sim = Sim::new(Echo::default(), Instant::now(), None);
        let steps = vec![
            vec![HostEvent::Signals {
                dtr: Some(true),
                rts: None,
            }],
            vec![HostEvent::Signals {
                dtr: None,
                rts: Some(true),
            }],
            vec![HostEvent::Close],
        ];
        sim.serve(&mut script(None, steps)).unwrap();
        let s = |dtr, rts| Signals { dtr, rts };
        assert_eq!(
            sim.target.signals,
            [s(true, false), s(true, true), s(false, false)]
        );
    }

    #[test]
    fn time_a_client_waits_for_line_acks_does_not_reach_the_chip() {
        let start = Instant::now();
        let mut sim = Sim::new(Echo::default(), start, None);
        let line = |dtr| {
            vec![HostEvent::Signals {
                dtr: Some(dtr),
                rts: None,
            }]
        };
        // Two line changes ~100 ms apart on the wall clock (20 polls of 5 ms), then data.
        let mut steps = vec![line(true)];
        steps.extend(quiet(19));
        steps.push(line(false));
        steps.extend(quiet(19));
        steps.push(vec![HostEvent::Data(b"x".to_vec()), HostEvent::Close]);
        let mut host = script(None, steps);
        host.ack_wait = Duration::from_millis(50);
        sim.serve(&mut host).unwrap();
        let chip_now = sim.now();
        let wall = start.elapsed();
        let t = &sim.target.signal_times;
        assert!(wall >= Duration::from_millis(190), "{wall:?}");
        // The chip's clock lost exactly the two 50 ms holds (each wait was longer than that),
        let lost = wall - chip_now;
        assert!(
            lost >= Duration::from_millis(100) && lost <= Duration::from_millis(110),
            "{lost:?}"
        );
        // and the chip still saw the second change after the first hold ended.
        assert!(t[1] - t[0] >= Duration::from_millis(40), "{t:?}");
    }

    #[test]
    fn plain_tcp_host_follows_the_chips_baud_and_stale_output_is_dropped() {
        let mut echo = Echo::default();
        // Output queued before anyone connected (e.g. a boot log) never reaches the host.
        echo.queue.push_back(Output {
            at: Duration::ZERO,
            baud: 74_880,
            bytes: b"boot".to_vec(),
        });
        let mut sim = Sim::new(echo, Instant::now(), None);
        let mut steps = Vec::new();
        for data in [&b"a"[..], b"B", b"c"] {
            steps.push(vec![HostEvent::Data(data.to_vec())]);
            steps.extend(quiet(5));
        }
        steps.push(vec![HostEvent::Close]);
        let mut host = script(None, steps);
        sim.serve(&mut host).unwrap();
        // Nothing garbled: the host heard each echo at the rate it was sent ...
        assert_eq!(host.sent, b"aBc");
        // ... and spoke at the chip's rate, before and after the switch.
        assert_eq!(sim.target.bauds_seen, [115_200, 115_200, 460_800]);
    }

    #[test]
    fn flash_file_is_written_when_idle_and_on_close() {
        let dir = std::env::temp_dir().join(format!("esp-sim-session-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("flash.bin");
        let mut sim = Sim::new(
            Echo::default(),
            Instant::now(),
            Some(FlashFile::new(path.clone())),
        );
        // After a write, ~100 ms of quiet (20 polls of up to 5 ms) must save it mid-connection.
        let mut steps = vec![vec![HostEvent::Data(b"w1".to_vec())]];
        steps.extend(quiet(20));
        steps.push(vec![HostEvent::Data(b"w2".to_vec()), HostEvent::Close]);
        struct Check<'a>(Script, &'a std::path::Path, Option<Vec<u8>>);
        impl Link for Check<'_> {
            fn poll(&mut self, t: Duration, e: &mut Vec<HostEvent>) -> io::Result<()> {
                if self.0.steps.len() == 1 {
                    self.2 = std::fs::read(self.1).ok(); // just before the last step
                }
                self.0.poll(t, e)
            }
            fn send(&mut self, b: &[u8]) -> io::Result<()> {
                self.0.send(b)
            }
            fn initial_baud(&self) -> Option<u32> {
                self.0.initial_baud()
            }
        }
        let mut host = Check(script(None, steps), &path, None);
        sim.serve(&mut host).unwrap();
        assert_eq!(host.2.as_deref(), Some(&b"w1"[..]));
        assert_eq!(std::fs::read(&path).unwrap(), b"w2");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
