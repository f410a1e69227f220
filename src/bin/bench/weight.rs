//! Page weight of the built `dist/`, compressed as a server would send it, by when the browser
//! fetches it: from opening the page through the first Flash click (the page, and the flasher
//! stub Connect fetches for the chip: the largest is counted), once a flash starts or a running
//! board is checked (the MicroPython card module and the terminal), on "Demo board" (the
//! simulator), and when a demo board boots MicroPython (the official WebAssembly port and the
//! shell around it). Every stub image is also listed. Last, the offline cache: every file the
//! service worker keeps (`dist/sw.js` lists them), fetched in the background once the page has
//! loaded and the browser is idle.
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

/// One stage of the page's downloads.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub name: String,
    pub assets: Vec<Asset>,
    pub gzip: u64,
    pub brotli: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageWeight {
    /// Through the first Flash click: index.html and what it references (all the browser
    /// fetches before Connect; the browser tests check that nothing else is), and the largest
    /// flasher stub (Connect fetches the chip's; the tests check that the card is not fetched).
    pub to_flash: Stage,
    /// Fetched when a flash starts, or a board running MicroPython is checked: the MicroPython
    /// card module and the terminal.
    pub micropython: Stage,
    /// Fetched when "Demo board" is pressed.
    pub demo: Stage,
    /// Fetched when a demo board boots MicroPython: the official WebAssembly port and the
    /// shell that plays the board around it (in a worker).
    pub demo_micropython: Stage,
    /// The service worker's cache for offline use: every file of the deployment and the worker.
    pub offline: Stage,
    /// The translations a page in another language fetches before it starts (`i18n/<lang>.json`:
    /// an English page fetches none), and with the MicroPython card (`i18n/<lang>-repl.json`).
    pub languages: Vec<(Asset, Asset)>,
    /// The budget before the first flash, compressed.
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

/// The dist files `index.html` references (stylesheets, the app's JS and wasm, preloaded
/// snippets), as paths relative to `dist`.
fn referenced(dist: &Path) -> Result<Vec<String>, String> {
    let html = std::fs::read_to_string(dist.join("index.html")).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for quote in ['"', '\''] {
        for piece in html.split(quote).skip(1).step_by(2) {
            let path = piece.trim_start_matches("./").trim_start_matches('/');
            if !path.is_empty() && !out.iter().any(|p| p == path) && dist.join(path).is_file() {
                out.push(path.to_string());
            }
        }
    }
    Ok(out)
}

fn stage(name: &str, dist: &Path, files: &[String]) -> Result<Stage, String> {
    let assets: Vec<Asset> = files
        .iter()
        .map(|f| asset(&dist.join(f), dist))
        .collect::<Result<_, _>>()?;
    Ok(Stage {
        name: name.into(),
        gzip: assets.iter().map(|a| a.gzip).sum(),
        brotli: assets.iter().map(|a| a.brotli).sum(),
        assets,
    })
}

/// The files `dist/sw.js` keeps for offline use (its `FILES` line, written by
/// scripts/post-build.mjs), and the worker itself.
fn offline_files(dist: &Path) -> Result<Vec<String>, String> {
    let sw = std::fs::read_to_string(dist.join("sw.js"))
        .map_err(|e| format!("dist/sw.js: {e} (built by scripts/post-build.mjs)"))?;
    let list = sw
        .lines()
        .find_map(|l| l.strip_prefix("const FILES = "))
        .and_then(|l| serde_json::from_str::<Vec<String>>(l.trim_end_matches(';')).ok())
        .ok_or("dist/sw.js has no FILES list")?;
    Ok(list.into_iter().chain(["sw.js".to_string()]).collect())
}

pub fn measure(dist: &Path) -> Result<PageWeight, String> {
    if !dist.join("index.html").exists() {
        return Err(format!(
            "{} is missing: run `make build` (trunk build --release --offline) first",
            dist.display()
        ));
    }
    let mut first = vec!["index.html".to_string()];
    first.extend(referenced(dist)?);
    let present = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .filter(|n| dist.join(n).is_file())
            .map(|n| n.to_string())
            .collect()
    };
    let micropython = present(&[
        "repl/webflash-repl.js",
        "repl/webflash-repl_bg.wasm",
        "card.css",
        "xterm.js",
        "xterm.css",
        "addon-fit.js",
    ]);
    let demo = present(&[
        "demo_pico.js",
        "demo_port.js",
        "board_client.js",
        "demo/webflash-demo.js",
        "demo/webflash-demo_bg.wasm",
    ]);
    let demo_micropython = present(&[
        "micropython-webassembly-pyscript/micropython.mjs",
        "micropython-webassembly-pyscript/micropython.wasm",
        "board_shell.mjs",
        "board_worker.mjs",
    ]);
    let stubs: Vec<Asset> = files(&dist.join("stubs"))?
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "stub"))
        .map(|p| asset(p, dist))
        .collect::<Result<_, _>>()?;
    if let Some(largest) = stubs.iter().max_by_key(|a| a.gzip) {
        first.push(largest.file.clone());
    }
    let to_flash = stage(
        "through the first Flash click (page + the largest chip's stub)",
        dist,
        &first,
    )?;
    let note = if to_flash.brotli.is_none() {
        "brotli not installed (apt-get install brotli); gzip only".into()
    } else {
        String::new()
    };
    Ok(PageWeight {
        to_flash,
        micropython: stage(
            "when a flash starts or a running board is checked: MicroPython card + terminal",
            dist,
            &micropython,
        )?,
        demo: stage("on \"Demo board\": the simulator", dist, &demo)?,
        demo_micropython: stage(
            "when a demo board boots MicroPython: the official port + the board's shell",
            dist,
            &demo_micropython,
        )?,
        offline: stage(
            "offline cache: what the service worker keeps, in the background after load",
            dist,
            &offline_files(dist)?,
        )?,
        languages: ["de", "es", "fr"]
            .iter()
            .map(|lang| {
                let page = asset(&dist.join(format!("i18n/{lang}.json")), dist)?;
                let card = asset(&dist.join(format!("i18n/{lang}-repl.json")), dist)?;
                Ok((page, card))
            })
            .collect::<Result<_, String>>()?,
        target_bytes: 230 * 1024,
        stubs,
        note,
    })
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

pub fn print(w: &PageWeight) {
    println!("\nPage weight (dist/, compressed as a server sends it)");
    println!(
        "{:<62} {:>10} {:>10} {:>10}",
        "file", "raw", "gzip -9", "brotli"
    );
    for stage in [&w.to_flash, &w.micropython, &w.demo, &w.demo_micropython] {
        println!("{}:", stage.name);
        for a in &stage.assets {
            let br = a.brotli.map_or("-".into(), kb);
            println!(
                "  {:<60} {:>10} {:>10} {:>10}",
                a.file,
                kb(a.raw),
                kb(a.gzip),
                br
            );
        }
        let br = stage.brotli.map_or("-".into(), kb);
        println!(
            "  {:<60} {:>10} {:>10} {:>10}",
            "subtotal",
            "",
            kb(stage.gzip),
            br
        );
    }
    let verdict = if w.to_flash.gzip <= w.target_bytes {
        "ok"
    } else {
        "MISS"
    };
    println!(
        "through the first Flash click: {} gzip (target ≤ {}: {verdict}); with the MicroPython card and terminal: {} gzip",
        kb(w.to_flash.gzip),
        kb(w.target_bytes),
        kb(w.to_flash.gzip + w.micropython.gzip)
    );
    for (page, card) in &w.languages {
        println!(
            "  a page in another language also fetches its texts: {} {} before the first flash, {} {} with the card",
            page.file,
            kb(page.gzip),
            card.file,
            kb(card.gzip)
        );
    }
    println!(
        "offline cache (every file of the page, kept by the service worker after the first visit): {} files, {} gzip, {} raw",
        w.offline.assets.len(),
        kb(w.offline.gzip),
        kb(w.offline.assets.iter().map(|a| a.raw).sum())
    );
    let stub_gzip: u64 = w.stubs.iter().map(|a| a.gzip).sum();
    let largest = w.stubs.iter().map(|a| a.gzip).max().unwrap_or(0);
    println!(
        "stub images (fetched per chip when connecting): {} files, {} gzip in all, largest {}",
        w.stubs.len(),
        kb(stub_gzip),
        kb(largest)
    );
    if !w.note.is_empty() {
        println!("note: {}", w.note);
    }
}
