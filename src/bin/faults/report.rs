//! How sessions ended, tallied into the table and JSON under `target/faults/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// How one session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Reported success, and the simulated flash (or board file) holds exactly what it should.
    Success,
    /// Reported an error, with this message.
    Error(String),
    /// Reported success, but the bytes are wrong. Must never happen.
    FalseSuccess,
    /// An error without a message. Must never happen.
    Wordless,
    /// Failed, and the board's file under its real name is neither the old nor the new one.
    /// Must never happen.
    Damaged(String),
    /// Ran past its deadline (simulated clock) or its wall-clock guard. Must never happen.
    Hang(String),
    /// Panicked. Must never happen.
    Panic(String),
}

impl Verdict {
    pub fn is_bad(&self) -> bool {
        !matches!(self, Verdict::Success | Verdict::Error(_))
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Tally {
    pub sessions: u32,
    pub successes: u32,
    pub clean_errors: u32,
    pub false_successes: u32,
    pub wordless_errors: u32,
    pub damaged_files: u32,
    pub hangs: u32,
    pub panics: u32,
}

impl Tally {
    fn add(&mut self, v: &Verdict) {
        self.sessions += 1;
        match v {
            Verdict::Success => self.successes += 1,
            Verdict::Error(_) => self.clean_errors += 1,
            Verdict::FalseSuccess => self.false_successes += 1,
            Verdict::Wordless => self.wordless_errors += 1,
            Verdict::Damaged(_) => self.damaged_files += 1,
            Verdict::Hang(_) => self.hangs += 1,
            Verdict::Panic(_) => self.panics += 1,
        }
    }

    pub fn success_rate(&self) -> f64 {
        self.successes as f64 / self.sessions.max(1) as f64
    }
}

/// A session worth replaying: every bad one, and every clean error (so a change in the error
/// rate can be traced to sessions).
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub seed: u64,
    pub kind: &'static str,
    pub session: String,
    pub outcome: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub first_seed: u64,
    pub total: Tally,
    /// Keyed by the line's error rate per byte.
    pub by_noise: BTreeMap<String, Tally>,
    /// Sessions with line noise and nothing else going wrong, keyed by the error rate: what
    /// a bad cable alone does.
    pub by_noise_alone: BTreeMap<String, Tally>,
    /// Keyed by the extra fault.
    pub by_fault: BTreeMap<String, Tally>,
    /// Keyed by the job.
    pub by_job: BTreeMap<String, Tally>,
    pub failures: Vec<Failure>,
    /// The longest session on the simulated clock, in seconds.
    pub longest_simulated_s: f64,
}

impl Report {
    pub fn add(&mut self, seed: u64, keys: [String; 3], session: String, verdict: &Verdict) {
        self.total.add(verdict);
        let [noise, fault, job] = keys;
        if fault == "none" {
            self.by_noise_alone
                .entry(noise.clone())
                .or_default()
                .add(verdict);
        }
        self.by_noise.entry(noise).or_default().add(verdict);
        self.by_fault.entry(fault).or_default().add(verdict);
        self.by_job.entry(job).or_default().add(verdict);
        let (kind, outcome) = match verdict {
            Verdict::Success => return,
            Verdict::Error(m) => ("clean error", m.clone()),
            Verdict::FalseSuccess => ("FALSE SUCCESS", "reported success, wrong bytes".into()),
            Verdict::Wordless => ("WORDLESS ERROR", String::new()),
            Verdict::Damaged(m) => ("DAMAGED FILE", m.clone()),
            Verdict::Hang(m) => ("HANG", m.clone()),
            Verdict::Panic(m) => ("PANIC", m.clone()),
        };
        self.failures.push(Failure {
            seed,
            kind,
            session,
            outcome,
        });
    }

    pub fn bad(&self) -> u32 {
        let t = &self.total;
        t.false_successes + t.wordless_errors + t.damaged_files + t.hangs + t.panics
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let row = |out: &mut String, name: &str, t: &Tally| {
            let _ = writeln!(
                out,
                "| {name:<26} | {:>8} | {:>9} | {:>12} | {:>15} | {:>7} | {:>5} | {:>6} | {:>8} | {:>7.1} % |",
                t.sessions,
                t.successes,
                t.clean_errors,
                t.false_successes,
                t.damaged_files,
                t.hangs,
                t.panics,
                t.wordless_errors,
                100.0 * t.success_rate()
            );
        };
        let _ = writeln!(
            out,
            "| {:<26} | sessions | successes | clean errors | false successes | damaged | hangs | panics | wordless | success |",
            ""
        );
        let _ = writeln!(out, "|{}|", ["---"; 10].join("|"));
        row(&mut out, "all", &self.total);
        for (name, t) in &self.by_noise {
            row(&mut out, &format!("noise {name} per byte"), t);
        }
        for (name, t) in &self.by_noise_alone {
            row(&mut out, &format!("noise {name} alone"), t);
        }
        for (name, t) in &self.by_fault {
            row(&mut out, &format!("fault: {name}"), t);
        }
        for (name, t) in &self.by_job {
            row(&mut out, &format!("job: {name}"), t);
        }
        if self.longest_simulated_s > 0.0 {
            let _ = writeln!(
                out,
                "\nLongest session: {:.0} s on the simulated clock.",
                self.longest_simulated_s
            );
        }
        let bad: Vec<_> = self
            .failures
            .iter()
            .filter(|f| f.kind != "clean error")
            .collect();
        if !bad.is_empty() {
            let _ = writeln!(out, "\nReplay with `faults --replay SEED`:");
            for f in bad {
                let _ = writeln!(
                    out,
                    "  {} seed {}: {} — {}",
                    f.kind, f.seed, f.session, f.outcome
                );
            }
        }
        out
    }
}
