//! One ESP session: connect through a noisy line, run the job, then judge it against the
//! simulated flash (which the loader never sees).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use webflash::loader::{Baud, Error, FlashJob, Loader, Region};
use webflash::port::Port;
use webflash::protocol::chip::Chip;
use webflash::protocol::stub::StubImage;
use webflash::sim::noisy::{LineFaults, NoisyLine, Rng};
use webflash::sim::{block_on, firmware_like, Device, DeviceConfig, SimPort, StartMode};
use webflash::usb::ResetWiring;

use crate::plan::{Fault, Op, Spec};
use crate::report::Verdict;

/// The longest session so far on the simulated clock, in milliseconds.
static LONGEST: AtomicU64 = AtomicU64::new(0);

/// The longest session so far on the simulated clock, in seconds.
pub fn longest() -> f64 {
    LONGEST.load(Ordering::Relaxed) as f64 / 1000.0
}

/// Where the campaign's images go.
pub const OFFSET: u32 = 0x10000;

/// How long a session may take on the simulated clock: connecting and the stub, then the job
/// at the ROM's 115200 baud (where every job starts and where a struggling one ends up) five
/// times over, plus the longest stall. A session past it is a hang.
pub fn deadline(spec: &Spec) -> Duration {
    let wire = Duration::from_secs_f64(spec.len as f64 * 10.0 / 115_200.0);
    Duration::from_secs(120) + wire * 5 + Duration::from_secs(10)
}

/// The stub image the page fetches (see `scripts/setup.sh app`).
fn stub(chip: Chip) -> StubImage {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".stubs/stubs");
    let name = StubImage::name(chip.spec().id, webflash::sim::usual_revision(chip));
    let path = dir.join(format!("{name}.stub"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!("{}: {e} (run `scripts/setup.sh app`)", path.display());
    });
    StubImage::from_bytes(&bytes).unwrap()
}

type Line = NoisyLine<SimPort>;

fn device(spec: &Spec, image: &[u8]) -> Device {
    let mut config = DeviceConfig::new(spec.chip);
    config.wiring = spec.wiring;
    // On the ROM's USB-OTG port the reset lines do nothing: the student holds BOOT and taps
    // RESET, as the page tells them to.
    config.start = match spec.wiring {
        ResetWiring::UsbOtg => StartMode::Download,
        _ => StartMode::Reset,
    };
    let size = config.flash_size as usize;
    let mut dev = Device::new(config);
    let mut flash = vec![0xFF; size];
    let at = OFFSET as usize;
    let old = match spec.op {
        Op::Reflash => image.to_vec(),
        _ => firmware_like(spec.len, spec.seed as u32 ^ 0x01D),
    };
    flash[at..at + old.len()].copy_from_slice(&old);
    dev.load_flash(&flash);
    dev
}

/// Bytes the job is expected to move, for placing a fault inside it.
fn job_bytes(spec: &Spec) -> u64 {
    match spec.op {
        Op::Fresh => spec.len as u64 * 7 / 10,
        Op::Reflash => 2_000,
        Op::ReadBack => spec.len as u64 / 40,
        Op::Erase => 200,
    }
}

/// Arms the fault that lands during the job (after connecting).
fn arm(l: &mut Loader<Line>, spec: &Spec, rng: &mut Rng) {
    let into = (job_bytes(spec) as f64 * spec.at) as u64 + 1;
    let port = l.port_mut();
    match spec.fault {
        Fault::ChipReset => {
            let rx = port.inner().device().rx_bytes();
            port.inner_mut().device_mut().faults.reset_at_rx = Some(rx + into);
        }
        Fault::Unplug => {
            let tx = port.inner().tx_log.len() as u64;
            port.inner_mut().disconnect_after_tx = Some(tx + into);
        }
        Fault::Burst { to_chip, len } => {
            let after = if to_chip { into } else { rng.below(4_000) };
            port.arm_burst(to_chip, after, len);
        }
        Fault::Stall(length) => port.arm_stall(into, length),
        _ => {}
    }
}

pub fn run(spec: &Spec) -> Verdict {
    let image = firmware_like(spec.len, spec.seed as u32);
    let line = LineFaults {
        tx_rate: spec.noise,
        rx_rate: spec.noise,
        baud_glitch: match spec.fault {
            Fault::BaudGlitch(n) => n,
            _ => 0,
        },
        ..LineFaults::default()
    };
    let mut sim = SimPort::new(device(spec, &image));
    sim.log_tx = true;
    let mut l = Loader::new(NoisyLine::new(sim, line, spec.seed));
    if std::env::var_os("FAULTS_TRACE").is_some() {
        l.on_event(|e| {
            if !matches!(e, webflash::loader::Event::Progress { .. }) {
                eprintln!("  {e:?}");
            }
        });
    }
    let mut rng = Rng::new(spec.seed ^ 0xFA17);
    let wiring = Some(spec.wiring);
    let stub = spec.stub.then(|| stub(spec.chip));
    let baud = match spec.wiring {
        ResetWiring::UartBridge => Baud::Auto { max: 921_600 },
        _ => Baud::Fixed(115_200),
    };
    let result: Result<Option<Vec<u8>>, Error> = block_on(async {
        l.connect(wiring, 7).await?;
        let info = l.detect().await?;
        if let Some(stub) = &stub {
            if spec.fault == Fault::NeverStub {
                let rx = l.port().inner().device().rx_bytes();
                let hang = rx + 100 + rng.below(3_000);
                l.port_mut().inner_mut().device_mut().faults.hang_at_rx = Some(hang);
            }
            l.start_stub(stub, wiring, Some(baud)).await?;
        }
        let flash_size = info.flash_size.unwrap_or(4 << 20);
        if let Some(size) = info.flash_size {
            l.set_flash_size(size).await?;
        }
        arm(&mut l, spec, &mut rng);
        match spec.op {
            Op::Fresh | Op::Reflash => {
                let job = FlashJob {
                    baud,
                    erase_all: false,
                    reset_after: true,
                    clear: None,
                };
                let region = Region {
                    offset: OFFSET,
                    data: &image,
                };
                let out = l
                    .flash(&[region], job, wiring, stub.as_ref(), flash_size)
                    .await?;
                if !out.report.verified {
                    return Err(Error::Invalid("reported unverified".into()));
                }
                Ok(None)
            }
            Op::ReadBack => Ok(Some(l.read_flash(OFFSET, spec.len as u32).await?)),
            Op::Erase => {
                let len = (spec.len as u32).div_ceil(4096) * 4096;
                l.erase_region(OFFSET, len).await?;
                Ok(None)
            }
        }
    });
    let elapsed = l.port().now();
    LONGEST.fetch_max(elapsed.as_millis() as u64, Ordering::Relaxed);
    let flash = l.port().inner().device().flash();
    let at = OFFSET as usize;
    let verdict = match result {
        Err(e) => {
            let message = e.to_string();
            if message.trim().is_empty() {
                Verdict::Wordless
            } else {
                Verdict::Error(message)
            }
        }
        Ok(read) => {
            let holds = match (spec.op, read) {
                (Op::ReadBack, Some(bytes)) => bytes == flash[at..at + spec.len],
                (Op::Erase, _) => {
                    let len = spec.len.div_ceil(4096) * 4096;
                    flash[at..at + len].iter().all(|&b| b == 0xFF)
                }
                _ => flash[at..at + spec.len] == image[..],
            };
            if holds {
                Verdict::Success
            } else {
                Verdict::FalseSuccess
            }
        }
    };
    if elapsed > deadline(spec) {
        return Verdict::Hang(format!(
            "{:.0} s on the simulated clock, past the {:.0} s deadline",
            elapsed.as_secs_f64(),
            deadline(spec).as_secs_f64()
        ));
    }
    verdict
}
