//! The benchmark's output: a table on stdout and the same rows as JSON under `target/bench/`.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::Serialize;

/// One measured case.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub case: String,
    /// Seconds: modeled (virtual clock) or wall, as `clock` says.
    pub seconds: f64,
    pub clock: &'static str,
    /// What `seconds` is compared with, and how it compares.
    pub reference: Option<f64>,
    pub reference_kind: String,
    pub ratio: Option<f64>,
    /// The target for `ratio`, if the issue sets one, and whether it was met.
    pub target: Option<f64>,
    pub met: Option<bool>,
    pub phases: BTreeMap<String, f64>,
    pub detail: String,
}

impl Row {
    pub fn new(case: impl Into<String>, seconds: f64, clock: &'static str) -> Row {
        Row {
            case: case.into(),
            seconds,
            clock,
            reference: None,
            reference_kind: String::new(),
            ratio: None,
            target: None,
            met: None,
            phases: BTreeMap::new(),
            detail: String::new(),
        }
    }

    /// Compares with `reference` seconds (`kind` says what it is), against an optional target.
    pub fn against(mut self, kind: &str, reference: f64, target: Option<f64>) -> Row {
        let ratio = self.seconds / reference;
        self.reference = Some(reference);
        self.reference_kind = kind.into();
        self.ratio = Some(ratio);
        self.target = target;
        self.met = target.map(|t| ratio <= t);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Row {
        self.detail = detail.into();
        self
    }
}

/// Prints the rows as an aligned table.
pub fn print_table(title: &str, rows: &[Row]) {
    println!("\n{title}");
    println!(
        "{:<60} {:>9} {:>9} {:>7} {:>8}  {}",
        "case", "time s", "ref s", "ratio", "target", "phases / detail"
    );
    for r in rows {
        let reference = r.reference.map_or("-".into(), |v| format!("{v:.3}"));
        let ratio = r.ratio.map_or("-".into(), |v| format!("{v:.3}x"));
        let target = match (r.target, r.met) {
            (Some(t), Some(true)) => format!("≤{t} ok"),
            (Some(t), _) => format!("≤{t} MISS"),
            _ => "-".into(),
        };
        let phases: Vec<String> = r
            .phases
            .iter()
            .map(|(n, s)| format!("{n} {s:.3}"))
            .collect();
        let mut detail = phases.join(", ");
        if !r.detail.is_empty() {
            if !detail.is_empty() {
                detail.push_str(" | ");
            }
            detail.push_str(&r.detail);
        }
        println!(
            "{:<60} {:>9.3} {:>9} {:>7} {:>8}  {}",
            r.case, r.seconds, reference, ratio, target, detail
        );
    }
}

/// Writes everything measured as one JSON document.
pub fn write_json(path: &Path, doc: &impl Serialize) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(doc).map_err(io::Error::other)?;
    std::fs::write(path, text + "\n")
}
