//! One file session on a simulated ESP32 running the real MicroPython: upload or download
//! through a noisy line, maybe with the cable pulled. An upload ends byte-exact, or the file
//! under its real name is untouched (the old bytes, never a truncated or mixed file); a
//! download ends with exactly the file's bytes, or an error.

use std::time::Duration;

use webflash::protocol::chip::Chip;
use webflash::repl::Repl;
use webflash::sim::noisy::{LineFaults, NoisyLine, Rng};
use webflash::sim::{block_on, firmware_like, Device, SimPort};

use crate::plan::NOISE;
use crate::report::Verdict;

const PATH: &str = "/data.bin";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Upload,
    Download,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub seed: u64,
    pub op: Op,
    pub noise: f64,
    /// The cable is pulled after the host sent this share of the transfer.
    pub unplug_at: Option<f64>,
    pub old_len: usize,
    pub new_len: usize,
}

impl Spec {
    pub fn from_seed(seed: u64) -> Spec {
        let mut r = Rng::new(seed ^ 0xF11E);
        Spec {
            seed,
            op: if r.below(3) == 0 {
                Op::Download
            } else {
                Op::Upload
            },
            // Text over raw-paste has no checksum of its own: sweep up to 1e-4.
            noise: *r.pick(&NOISE[..4]),
            unplug_at: (r.below(4) == 0).then(|| r.unit()),
            old_len: 1 + r.below(12_000) as usize,
            new_len: 1 + r.below(12_000) as usize,
        }
    }

    pub fn fault_name(&self) -> &'static str {
        match self.unplug_at {
            Some(_) => "cable pulled",
            None => "none",
        }
    }
}

type Line = NoisyLine<SimPort>;

/// Boots the board, then writes the old file over a clean line.
fn board(spec: &Spec, old: &[u8]) -> Result<Repl<Line>, String> {
    let sim = SimPort::new(Device::running_micropython(Chip::Esp32));
    let mut repl = Repl::new(NoisyLine::new(sim, LineFaults::default(), spec.seed));
    block_on(async {
        repl.watch_boot(Duration::from_secs(10))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("{e:?}"))?;
        repl.write_file(PATH, old, |_| {})
            .await
            .map_err(|e| format!("setting up: {e}"))?;
        Ok(repl)
    })
}

/// Power-cycles the board (a pulled cable is also a power cut) and reads the file over a clean
/// line: what a student finds when they try again.
fn file_after(repl: Repl<Line>) -> Result<Vec<u8>, String> {
    let mut line = repl.into_port();
    line.calm();
    let sim = line.inner_mut();
    sim.disconnect_after_tx = None;
    let now = webflash::port::Port::now(sim);
    sim.device_mut().power_on(now);
    sim.reopen();
    let mut repl = Repl::new(line);
    block_on(async {
        repl.watch_boot(Duration::from_secs(10))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("{e:?}"))?;
        repl.read_file(PATH, |_| {})
            .await
            .map_err(|e| e.to_string())
    })
}

pub fn run(spec: &Spec) -> Verdict {
    let old = firmware_like(spec.old_len, spec.seed as u32);
    let new = firmware_like(spec.new_len, spec.seed as u32 ^ 0x4E57);
    let mut repl = match board(spec, &old) {
        Ok(repl) => repl,
        Err(e) => return Verdict::Panic(format!("the board did not get ready: {e}")),
    };
    let line = repl.port_mut();
    line.arm(LineFaults {
        tx_rate: spec.noise,
        rx_rate: spec.noise,
        ..LineFaults::default()
    });
    if let Some(share) = spec.unplug_at {
        let moved = match spec.op {
            Op::Upload => spec.new_len * 4 / 3 + 600,
            Op::Download => 400,
        };
        let tx = line.inner().tx_log.len() as u64;
        line.inner_mut().disconnect_after_tx = Some(tx + (moved as f64 * share) as u64);
    }
    let result = block_on(async {
        match spec.op {
            Op::Upload => repl.write_file(PATH, &new, |_| {}).await.map(|_| None),
            Op::Download => repl.read_file(PATH, |_| {}).await.map(Some),
        }
    });
    let after = match file_after(repl) {
        Ok(bytes) => bytes,
        Err(e) => return Verdict::Panic(format!("the file could not be read back: {e}")),
    };
    match (spec.op, result) {
        (Op::Upload, Ok(_)) if after == new => Verdict::Success,
        (Op::Download, Ok(Some(bytes))) if bytes == old && after == old => Verdict::Success,
        (_, Ok(_)) => Verdict::FalseSuccess,
        // A failed upload leaves the old file, or (when only the last answer was lost) the
        // whole new one; never anything else under the real name.
        (Op::Upload, Err(e)) if after == old || after == new => Verdict::Error(e.to_string()),
        (Op::Download, Err(e)) if after == old => Verdict::Error(e.to_string()),
        (_, Err(e)) => Verdict::Damaged(format!(
            "{} bytes under the real name after: {e}",
            after.len()
        )),
    }
}
