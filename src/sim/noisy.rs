//! [`NoisyLine`]: a bad cable between the host and any [`Port`], for fault campaigns.
//!
//! Byte errors in both directions at a per-byte rate (a flipped bit, a lost byte or a doubled
//! one), bursts of garbage, stalls (nothing moves for a while) and a baud glitch (the first
//! bytes after a rate change are garbage, as when a bridge's clock settles late). Every fault
//! comes from a seeded generator, so a session replays exactly from its seed. Faults in the
//! chip itself (a reset, a hang, the cable pulled) are the simulated [`super::Device`]'s and
//! [`super::SimPort`]'s.

use std::time::Duration;

use crate::port::{Port, PortError, Signals};

/// A small deterministic generator (xorshift64*): fault positions must replay from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Never zero, and nearby seeds start far apart.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// How many bytes pass before the next error at `rate` per byte (geometric), so a clean
    /// megabyte costs one draw, not a million.
    fn gap(&mut self, rate: f64) -> u64 {
        if rate <= 0.0 {
            return u64::MAX;
        }
        let u = self.unit().max(f64::MIN_POSITIVE);
        (u.ln() / (1.0 - rate).ln())
            .floor()
            .min(u64::MAX as f64 / 2.0) as u64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// What goes wrong on the line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineFaults {
    /// Per byte, host to chip.
    pub tx_rate: f64,
    /// Per byte, chip to host.
    pub rx_rate: f64,
    /// Garbage replacing this many bytes the host sends from this index on.
    pub tx_burst: Option<(u64, usize)>,
    /// Garbage replacing this many bytes the host receives from this index on.
    pub rx_burst: Option<(u64, usize)>,
    /// Nothing moves for this long once the host has sent this many bytes.
    pub stall: Option<(u64, Duration)>,
    /// The first this-many bytes received after the host changes the baud rate are garbage.
    pub baud_glitch: usize,
}

/// What the line did (for the campaign's report and replay).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    pub flipped: u64,
    pub dropped: u64,
    pub doubled: u64,
    pub garbage: u64,
    pub stalls: u32,
}

/// One direction's byte errors.
struct Direction {
    rate: f64,
    /// Bytes until the next error.
    next: u64,
    /// Bytes that passed so far.
    count: u64,
    burst: Option<(u64, usize)>,
}

impl Direction {
    fn new(rate: f64, burst: Option<(u64, usize)>, rng: &mut Rng) -> Direction {
        Direction {
            rate,
            next: rng.gap(rate),
            count: 0,
            burst,
        }
    }

    /// `bytes` as the other end gets them.
    fn carry(&mut self, bytes: &[u8], rng: &mut Rng, counts: &mut LineCounts) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len() + 1);
        for &b in bytes {
            let index = self.count;
            self.count += 1;
            if let Some((at, len)) = self.burst {
                if index >= at && index < at + len as u64 {
                    out.push(rng.next_u64() as u8);
                    counts.garbage += 1;
                    continue;
                }
            }
            if self.next > 0 {
                self.next -= 1;
                out.push(b);
                continue;
            }
            self.next = rng.gap(self.rate);
            match rng.below(10) {
                0..=6 => {
                    out.push(b ^ 1 << rng.below(8));
                    counts.flipped += 1;
                }
                7 | 8 => counts.dropped += 1,
                _ => {
                    out.extend([b, b]);
                    counts.doubled += 1;
                }
            }
        }
        out
    }
}

/// A [`Port`] whose line has [`LineFaults`].
pub struct NoisyLine<P: Port> {
    inner: P,
    rng: Rng,
    tx: Direction,
    rx: Direction,
    stall: Option<(u64, Duration)>,
    /// Nothing reaches the host before then (a stall in progress).
    stalled_until: Duration,
    baud_glitch: usize,
    /// Received bytes still to garble after a baud change.
    glitch_left: usize,
    pub counts: LineCounts,
}

impl<P: Port> NoisyLine<P> {
    pub fn new(inner: P, faults: LineFaults, seed: u64) -> NoisyLine<P> {
        let mut rng = Rng::new(seed);
        NoisyLine {
            tx: Direction::new(faults.tx_rate, faults.tx_burst, &mut rng),
            rx: Direction::new(faults.rx_rate, faults.rx_burst, &mut rng),
            rng,
            inner,
            stall: faults.stall,
            stalled_until: Duration::ZERO,
            baud_glitch: faults.baud_glitch,
            glitch_left: 0,
            counts: LineCounts::default(),
        }
    }

    pub fn inner(&self) -> &P {
        &self.inner
    }

    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }

    /// Bytes the host has handed to the line.
    pub fn sent(&self) -> u64 {
        self.tx.count
    }

    /// From now on, the line has `faults` (burst and stall positions count from now).
    pub fn arm(&mut self, faults: LineFaults) {
        let (tx, rx) = (self.tx.count, self.rx.count);
        self.tx = Direction::new(faults.tx_rate, None, &mut self.rng);
        self.rx = Direction::new(faults.rx_rate, None, &mut self.rng);
        self.tx.count = tx;
        self.rx.count = rx;
        if let Some((after, len)) = faults.tx_burst {
            self.arm_burst(true, after, len);
        }
        if let Some((after, len)) = faults.rx_burst {
            self.arm_burst(false, after, len);
        }
        self.stall = faults.stall.map(|(after, length)| (tx + after, length));
        self.baud_glitch = faults.baud_glitch;
    }

    /// A clean line from now on.
    pub fn calm(&mut self) {
        self.arm(LineFaults::default());
        self.stalled_until = Duration::ZERO;
        self.glitch_left = 0;
    }

    /// Garbage in place of `len` bytes, `after` more bytes from now, towards the chip or the
    /// host.
    pub fn arm_burst(&mut self, to_chip: bool, after: u64, len: usize) {
        let d = if to_chip { &mut self.tx } else { &mut self.rx };
        d.burst = Some((d.count + after, len));
    }

    /// A stall of `length` once the host has sent `after` more bytes.
    pub fn arm_stall(&mut self, after: u64, length: Duration) {
        self.stall = Some((self.tx.count + after, length));
    }

    /// Starts the stall once the host has sent enough.
    fn maybe_stall(&mut self) {
        if let Some((at, length)) = self.stall {
            if self.tx.count >= at {
                self.stall = None;
                self.stalled_until = self.inner.now() + length;
                self.counts.stalls += 1;
            }
        }
    }
}

impl<P: Port> Port for NoisyLine<P> {
    async fn write(&mut self, data: &[u8]) -> Result<(), PortError> {
        if self.inner.now() < self.stalled_until {
            let wait = self.stalled_until - self.inner.now();
            self.inner.sleep(wait).await;
        }
        let carried = self.tx.carry(data, &mut self.rng, &mut self.counts);
        self.maybe_stall();
        self.inner.write(&carried).await
    }

    async fn read(&mut self, buf: &mut Vec<u8>, deadline: Duration) -> Result<usize, PortError> {
        let now = self.inner.now();
        if now < self.stalled_until {
            let until = self.stalled_until.min(deadline);
            self.inner.sleep(until.saturating_sub(now)).await;
            if self.inner.now() < self.stalled_until {
                return Ok(0);
            }
        }
        let mut raw = Vec::new();
        let n = self.inner.read(&mut raw, deadline).await?;
        if n == 0 {
            return Ok(0);
        }
        let mut got = self.rx.carry(&raw, &mut self.rng, &mut self.counts);
        let glitched = self.glitch_left.min(got.len());
        for b in &mut got[..glitched] {
            *b = self.rng.next_u64() as u8;
        }
        self.glitch_left -= glitched;
        self.counts.garbage += glitched as u64;
        buf.extend_from_slice(&got);
        Ok(got.len())
    }

    async fn set_signals(&mut self, signals: Signals) -> Result<(), PortError> {
        self.inner.set_signals(signals).await
    }

    async fn set_baud(&mut self, baud: u32) -> Result<(), PortError> {
        if baud != self.inner.baud() {
            self.glitch_left = self.baud_glitch;
        }
        self.inner.set_baud(baud).await
    }

    fn baud(&self) -> u32 {
        self.inner.baud()
    }

    async fn sleep(&mut self, duration: Duration) {
        self.inner.sleep(duration).await
    }

    fn now(&self) -> Duration {
        self.inner.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_arrive_at_about_the_rate_asked_and_replay_from_the_seed() {
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut d = Direction::new(1e-3, None, &mut rng);
            let mut counts = LineCounts::default();
            let data = vec![0x55u8; 1_000_000];
            let out = d.carry(&data, &mut rng, &mut counts);
            (out, counts)
        };
        let (a, ca) = run(7);
        let (b, cb) = run(7);
        assert_eq!(a, b);
        assert_eq!(ca, cb);
        let errors = ca.flipped + ca.dropped + ca.doubled;
        assert!(
            (800..1200).contains(&errors),
            "{errors} errors in 1e6 bytes at 1e-3"
        );
        assert!(ca.flipped > ca.dropped && ca.dropped > 0 && ca.doubled > 0);
        assert_eq!(
            a.len() as i64,
            1_000_000 - ca.dropped as i64 + ca.doubled as i64
        );
        let (c, _) = run(8);
        assert_ne!(a, c);
    }

    #[test]
    fn a_clean_line_changes_nothing() {
        let mut rng = Rng::new(1);
        let mut d = Direction::new(0.0, None, &mut rng);
        let mut counts = LineCounts::default();
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(d.carry(&data, &mut rng, &mut counts), data);
        assert_eq!(counts, LineCounts::default());
    }

    #[test]
    fn a_burst_replaces_exactly_its_bytes() {
        let mut rng = Rng::new(3);
        let mut d = Direction::new(0.0, Some((10, 5)), &mut rng);
        let mut counts = LineCounts::default();
        let data = vec![0u8; 30];
        let out = d.carry(&data, &mut rng, &mut counts);
        assert_eq!(out.len(), 30);
        assert!(out[..10].iter().chain(&out[15..]).all(|&b| b == 0));
        assert_eq!(counts.garbage, 5);
    }
}
