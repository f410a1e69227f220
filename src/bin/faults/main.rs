//! `faults` (run by `make faults`): the fault campaign. Seeded sessions against the simulated
//! boards through a bad line ([`webflash::sim::noisy`]) and a faulty chip; each must end in a
//! verified success that is true, or an error with a message. Never a success with the wrong
//! bytes, never a hang, never a panic.
//!
//! `faults [--sessions N] [--seed S] [--files N]` runs N ESP sessions (seeds S, S+1, …) and N
//! file sessions on MicroPython, prints the table, writes `target/faults/faults.json` and
//! `target/faults/table.md`, and exits non-zero on any false success, wordless error, hang or
//! panic. `faults --replay SEED [--files]` runs one session and tells what happened.

mod esp;
mod files;
mod plan;
mod report;

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use plan::{Fault, Spec};
use report::{Report, Verdict};

/// A session that takes longer than this in wall time is stuck in a loop that does not move
/// the simulated clock (which [`esp::deadline`] would catch).
const WALL_GUARD: Duration = Duration::from_secs(120);

/// Runs `session` on its own thread: a panic becomes a verdict, and so does a loop that never
/// ends (the thread is left behind; the process ends after the report).
fn guarded(session: impl FnOnce() -> Verdict + Send + 'static) -> Verdict {
    let (done, result) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(session));
            let _ = done.send(outcome);
        })
        .expect("a thread for the session");
    match result.recv_timeout(WALL_GUARD) {
        Ok(Ok(verdict)) => {
            let _ = thread.join();
            verdict
        }
        Ok(Err(payload)) => {
            let text = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".into());
            Verdict::Panic(text)
        }
        Err(_) => Verdict::Hang(format!("still running after {WALL_GUARD:?} of wall time")),
    }
}

fn fault_name(f: &Fault) -> String {
    match f {
        Fault::None => "none".into(),
        Fault::Burst { to_chip: true, .. } => "burst to the chip".into(),
        Fault::Burst { .. } => "burst to the host".into(),
        Fault::Stall(_) => "stall 0.1-10 s".into(),
        Fault::ChipReset => "chip resets mid-job".into(),
        Fault::Unplug => "cable pulled".into(),
        Fault::BaudGlitch(_) => "baud glitch".into(),
        Fault::NeverStub => "stub never answers".into(),
    }
}

/// Runs ESP sessions `first..first + n` into `report`.
pub fn esp_sessions(first: u64, n: u64, report: &mut Report, quiet: bool) {
    for seed in first..first + n {
        let spec = Spec::from_seed(seed);
        let verdict = guarded({
            let spec = spec.clone();
            move || esp::run(&spec)
        });
        let keys = [
            format!("{:e}", spec.noise),
            fault_name(&spec.fault),
            format!("{:?}", spec.op),
        ];
        if !quiet && verdict.is_bad() {
            eprintln!("seed {seed}: {verdict:?} ({spec:?})");
        }
        report.add(seed, keys, format!("{spec:?}"), &verdict);
    }
}

/// Runs MicroPython file sessions `first..first + n` into `report`.
pub fn file_sessions(first: u64, n: u64, report: &mut Report, quiet: bool) {
    for seed in first..first + n {
        let spec = files::Spec::from_seed(seed);
        let verdict = guarded({
            let spec = spec.clone();
            move || files::run(&spec)
        });
        let keys = [
            format!("{:e}", spec.noise),
            spec.fault_name().into(),
            format!("file {:?}", spec.op),
        ];
        if !quiet && verdict.is_bad() {
            eprintln!("file seed {seed}: {verdict:?} ({spec:?})");
        }
        report.add(seed, keys, format!("{spec:?}"), &verdict);
    }
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::panic::set_hook(Box::new(|_| {})); // Panics are reported as verdicts.
    if let Some(seed) = arg::<u64>(&args, "--replay") {
        let mut report = Report::default();
        if args.iter().any(|a| a == "--files") {
            println!("{:?}", files::Spec::from_seed(seed));
            file_sessions(seed, 1, &mut report, false);
        } else {
            println!("{:?}", Spec::from_seed(seed));
            esp_sessions(seed, 1, &mut report, false);
        }
        println!("{}", report.table());
        return if report.bad() == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let sessions = arg(&args, "--sessions").unwrap_or(1000);
    let first = arg(&args, "--seed").unwrap_or(1);
    let file_n = arg(&args, "--files").unwrap_or(sessions / 10);

    let mut esp = Report {
        first_seed: first,
        ..Report::default()
    };
    let started = std::time::Instant::now();
    esp_sessions(first, sessions, &mut esp, false);
    esp.longest_simulated_s = esp::longest();
    let mut mp = Report {
        first_seed: first,
        ..Report::default()
    };
    file_sessions(first, file_n, &mut mp, false);

    let mut text = format!(
        "# Fault campaign: {sessions} flashing sessions and {file_n} file sessions from seed \
         {first} ({:.0} s)\n\n## Flashing (ESP ROM and stub, every chip, UART bridge and native USB)\n\n{}\n\
         ## Files on MicroPython (upload and download)\n\n{}",
        started.elapsed().as_secs_f64(),
        esp.table(),
        mp.table()
    );
    text.push('\n');
    print!("{text}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/faults");
    let _ = std::fs::create_dir_all(&dir);
    let json = serde_json::json!({ "flashing": esp, "files": mp });
    let _ = std::fs::write(
        dir.join("faults.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    );
    let _ = std::fs::write(dir.join("table.md"), &text);
    println!("Written: target/faults/faults.json, target/faults/table.md");
    if esp.bad() + mp.bad() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slice of the campaign that runs in `make test`: a few dozen seeded sessions, the
    /// same rule (`make faults` runs a thousand).
    #[test]
    fn a_seeded_slice_of_the_campaign_has_no_false_success_hang_or_panic() {
        let mut report = Report::default();
        esp_sessions(1, 40, &mut report, false);
        file_sessions(1, 3, &mut report, false);
        assert_eq!(report.bad(), 0, "{}", report.table());
        assert!(report.total.successes > 0, "{}", report.table());
    }

    /// Sessions the campaign once caught in a false success, kept as regressions: seed 21, a
    /// ROM read (READ_FLASH_SLOW has no checksum) that returned a damaged byte as flash; seed
    /// 193, a stub read re-tried while the stub still streamed the damaged segment, whose
    /// leftover packets and MD5 were taken for the new read's.
    #[test]
    fn sessions_that_once_ended_in_a_false_success_end_honestly() {
        for seed in [21, 193] {
            let mut report = Report::default();
            esp_sessions(seed, 1, &mut report, false);
            assert_eq!(report.bad(), 0, "seed {seed}: {}", report.table());
            assert_eq!(report.total.successes, 1, "seed {seed}: {}", report.table());
        }
    }
}
