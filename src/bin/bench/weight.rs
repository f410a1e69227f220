//! Page weight: what the browser must download before it can flash and open the REPL (the
//! built `dist/`: HTML, wasm, JS, CSS, terminal), compressed as a server would send it. The
//! stub images are fetched per chip at flash time, so they are listed separately.
//!
//! gzip -9 and brotli -q 11 are the system tools (Debian's gzip, and Debian's `brotli` 1.0.9
//! package when installed); a missing brotli is reported, not guessed.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

/// Sizes in bytes.
#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    pub file: String,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageWeight {
    pub page: Vec<Asset>,
    pub page_gzip: u64,
    pub page_brotli: Option<u64>,
    /// The budget for the page, compressed.
    pub target_bytes: u64,
    pub stubs: Vec<Asset>,
    pub note: String,
}

fn compressed(tool: &str, args: &[&str], path: &Path) -> Option<u64> {
    let out = Command::new(tool).args(args).arg(path).output().ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

fn asset(path: &Path, base: &Path) -> Result<Asset, String> {
    let raw = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let gzip = compressed("gzip", &["-9", "-n", "-c"], path)
        .ok_or_else(|| format!("gzip failed on {}", path.display()))?;
    Ok(Asset {
        file: path
            .strip_prefix(base)
            .unwrap_or(path)
            .display()
            .to_string(),
        raw,
        gzip,
        brotli: compressed("brotli", &["-q", "11", "-c"], path),
    })
}

/// Files directly in `dir` (sorted), skipping hidden ones.
fn files(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    paths.sort();
    Ok(paths)
}

pub fn measure(dist: &Path) -> Result<PageWeight, String> {
    if !dist.join("index.html").exists() {
        return Err(format!(
            "{} is missing: run `make build` (trunk build --release --offline) first",
            dist.display()
        ));
    }
    let page: Vec<Asset> = files(dist)?
        .iter()
        .map(|p| asset(p, dist))
        .collect::<Result<_, _>>()?;
    let stubs: Vec<Asset> = files(&dist.join("stubs"))?
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| asset(p, dist))
        .collect::<Result<_, _>>()?;
    let page_gzip = page.iter().map(|a| a.gzip).sum();
    let page_brotli: Option<u64> = page.iter().map(|a| a.brotli).sum();
    let note = if page_brotli.is_none() {
        "brotli not installed (apt-get install brotli); gzip only".into()
    } else {
        String::new()
    };
    Ok(PageWeight {
        page,
        page_gzip,
        page_brotli,
        target_bytes: 230 * 1024,
        stubs,
        note,
    })
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

pub fn print(w: &PageWeight) {
    println!("\nPage weight (dist/, before the first flash)");
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "file", "raw", "gzip -9", "brotli"
    );
    for a in &w.page {
        let br = a.brotli.map_or("-".into(), kb);
        println!(
            "{:<44} {:>10} {:>10} {:>10}",
            a.file,
            kb(a.raw),
            kb(a.gzip),
            br
        );
    }
    let br = w.page_brotli.map_or("-".into(), kb);
    let best = w.page_brotli.unwrap_or(w.page_gzip).min(w.page_gzip);
    let verdict = if best <= w.target_bytes { "ok" } else { "MISS" };
    println!(
        "{:<44} {:>10} {:>10} {:>10}  target ≤ {} compressed: {verdict}",
        "total",
        "",
        kb(w.page_gzip),
        br,
        kb(w.target_bytes)
    );
    let stub_gzip: u64 = w.stubs.iter().map(|a| a.gzip).sum();
    let largest = w.stubs.iter().map(|a| a.gzip).max().unwrap_or(0);
    println!(
        "stub images (fetched per chip when flashing): {} files, {} gzip in all, largest {}",
        w.stubs.len(),
        kb(stub_gzip),
        kb(largest)
    );
    if !w.note.is_empty() {
        println!("note: {}", w.note);
    }
}
