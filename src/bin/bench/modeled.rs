//! Whole jobs against the simulator under its virtual clock: the modeled time of every phase,
//! deterministic, as long as the real board would take by the timing model (`sim::timing`).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use webflash::firmware::erase::{decide, BoardFlash, Erase, NewFirmware};
use webflash::loader::{Baud, Event, FlashJob, Loader, Region, Stage, WriteOptions};
use webflash::port::Port;
use webflash::protocol::chip::Chip;
use webflash::protocol::stub::StubImage;
use webflash::sim::{block_on, Clock, Device, DeviceConfig, SimPort, StartMode};
use webflash::usb::ResetWiring;

/// A virtual clock the event sink can read too.
#[derive(Clone, Default)]
pub struct SharedClock(Rc<Cell<Duration>>);

impl Clock for SharedClock {
    fn now(&self) -> Duration {
        self.0.get()
    }
    async fn wait_until(&mut self, t: Duration) {
        if t > self.0.get() {
            self.0.set(t);
        }
    }
}

/// Modeled seconds per phase, in the order phases first ran.
pub type Phases = Vec<(&'static str, f64)>;

pub fn phase_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Connecting => "reset+sync",
        Stage::UploadingStub => "stub",
        Stage::ChangingBaud => "baud",
        Stage::Erasing => "erase",
        Stage::Writing => "write",
        Stage::Verifying => "verify",
        Stage::Reading => "read",
        Stage::Resetting => "reset",
    }
}

/// Splits the clock's time among stages as the loader announces them.
#[derive(Default)]
struct Recorder {
    current: Option<(&'static str, Duration)>,
    totals: Vec<(&'static str, Duration)>,
}

impl Recorder {
    fn switch(&mut self, next: Option<&'static str>, now: Duration) {
        if let Some((name, since)) = self.current.take() {
            match self.totals.iter_mut().find(|(n, _)| *n == name) {
                Some((_, t)) => *t += now - since,
                None => self.totals.push((name, now - since)),
            }
        }
        self.current = next.map(|n| (n, now));
    }
}

/// One simulated board, a loader on it, and the phase recorder.
pub struct Bench {
    pub loader: Loader<SimPort<SharedClock>>,
    clock: SharedClock,
    recorder: Rc<RefCell<Recorder>>,
}

pub const WIRING: Option<ResetWiring> = Some(ResetWiring::UartBridge);

impl Bench {
    /// A board running some firmware, its flash holding `contents` (from address 0).
    pub fn new(chip: Chip, contents: &[u8]) -> Bench {
        let mut config = DeviceConfig::new(chip);
        config.start = StartMode::Reset;
        let mut device = Device::new(config);
        device.load_flash(contents);
        let clock = SharedClock::default();
        let mut port = SimPort::with_clock(device, clock.clone());
        port.log_tx = false;
        let mut loader = Loader::new(port);
        let recorder = Rc::new(RefCell::new(Recorder::default()));
        let (r, c) = (recorder.clone(), clock.clone());
        loader.on_event(move |e| match e {
            Event::Stage(stage) => r.borrow_mut().switch(Some(phase_name(stage)), c.now()),
            Event::Note(_) | Event::Progress { .. } | Event::Part { .. } => {}
        });
        Bench {
            loader,
            clock,
            recorder,
        }
    }

    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Closes the books: seconds per phase.
    pub fn phases(&self) -> Phases {
        let mut r = self.recorder.borrow_mut();
        r.switch(None, self.clock.now());
        r.totals
            .iter()
            .map(|(n, t)| (*n, t.as_secs_f64()))
            .collect()
    }
}

/// How the job is run: ours, or with a speed feature turned off to show what it buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Baud raised in the ROM, skip unchanged blocks, streaming deflate.
    Fast,
    /// esptool's order on our core: stub at 115200, then baud; write everything.
    Plain,
    /// As the page does it by default: [`Flow::Fast`], erasing first only when what the board
    /// holds calls for it (`firmware::erase`).
    PageDefaults,
    /// The page's old default: erase everything first, then write.
    EraseAll,
}

/// Result of one modeled job.
pub struct Run {
    pub seconds: f64,
    pub phases: Phases,
    pub baud: u32,
    pub sent: u64,
    pub written: u64,
    pub skipped: u64,
    pub flash_after: Vec<u8>,
    /// With [`Flow::PageDefaults`]: whether it erased everything, and why.
    pub decision: Option<(bool, String)>,
}

/// connect → stub → baud → write (+ verify) → hard reset, timed on the virtual clock.
pub fn flash_job(
    chip: Chip,
    before: &[u8],
    image: &[u8],
    stub: &StubImage,
    baud: u32,
    flow: Flow,
) -> Run {
    let mut b = Bench::new(chip, before);
    let offset = chip.spec().bootloader_offset;
    let regions = [Region {
        offset,
        data: image,
    }];
    let plan = Baud::Auto { max: baud };
    let mut decision = None;
    let (report, baud) = block_on(async {
        let l = &mut b.loader;
        match flow {
            Flow::Fast | Flow::PageDefaults | Flow::EraseAll => {
                l.prepare_with(WIRING, Some(stub), Some(plan))
                    .await
                    .unwrap();
                let (erase_all, clear) = match flow {
                    Flow::Fast => (false, None),
                    Flow::EraseAll => {
                        decision = Some((true, "the page's old default".to_string()));
                        (true, None)
                    }
                    _ => {
                        let held = l.read_summary().await.unwrap();
                        let board = BoardFlash::from_reads(&held.table, held.app.as_deref());
                        let new = NewFirmware::from_bytes(&[(offset, image)]);
                        let d = decide(Some(&board), &new, 4 << 20);
                        let all = d.erase == Erase::All;
                        let clear = match d.erase {
                            Erase::MoveFiles { to, .. } => Some(to),
                            _ => None,
                        };
                        decision = Some((all, d.reason.to_string()));
                        (all, clear)
                    }
                };
                let job = FlashJob {
                    baud: plan,
                    erase_all,
                    reset_after: true,
                    clear,
                };
                let out = l.flash(&regions, job, WIRING, Some(stub), 4 << 20).await;
                let out = out.unwrap();
                (out.report, out.baud)
            }
            Flow::Plain => {
                l.prepare(WIRING, Some(stub)).await.unwrap();
                l.change_baud(baud).await.unwrap();
                let options = WriteOptions {
                    skip_unchanged: false,
                    ..WriteOptions::default()
                };
                let report = l.write_flash(&regions, options).await.unwrap();
                l.hard_reset(WIRING).await.unwrap();
                (report, baud)
            }
        }
    });
    assert!(report.verified, "{chip}: the benchmark job must verify");
    let flash_after = b.loader.port().device().flash().to_vec();
    let at = offset as usize;
    assert_eq!(
        &flash_after[at..at + image.len()],
        image,
        "{chip}: flash holds the image"
    );
    Run {
        seconds: b.now().as_secs_f64(),
        phases: b.phases(),
        baud,
        sent: report.sent,
        written: report.written,
        skipped: report.skipped,
        flash_after,
        decision,
    }
}

/// Prepares at `baud` with the stub, then runs `op`; returns total and op-only seconds.
pub fn stub_op(
    chip: Chip,
    contents: &[u8],
    stub: &StubImage,
    baud: u32,
    op: impl AsyncFnOnce(&mut Loader<SimPort<SharedClock>>),
) -> (f64, f64, Phases) {
    let mut b = Bench::new(chip, contents);
    let started = block_on(async {
        let plan = Some(Baud::Auto { max: baud });
        b.loader
            .prepare_with(WIRING, Some(stub), plan)
            .await
            .unwrap();
        assert_eq!(b.loader.port().baud(), baud);
        let started = b.now();
        op(&mut b.loader).await;
        started
    });
    let total = b.now();
    (
        total.as_secs_f64(),
        (total - started).as_secs_f64(),
        b.phases(),
    )
}

/// Phases as a JSON-friendly map.
pub fn phase_map(phases: &Phases) -> BTreeMap<String, f64> {
    phases.iter().map(|(n, s)| (n.to_string(), *s)).collect()
}
