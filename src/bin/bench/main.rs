//! `bench` (run by `make bench`): how fast flashing is, measured honestly.
//!
//! 1. Modeled: whole jobs against the simulator under its virtual clock (wire time per byte at
//!    the current baud, USB latency per transfer, datasheet erase/program times), split by
//!    phase and compared with a lower bound (`bound`).
//! 2. Side by side: the same write by the real esptool and by our core, each over RFC 2217 to
//!    `esp-sim --realtime` (bytes paced at the negotiated baud), in wall time.
//!    Files on MicroPython at 115200 baud: the real mpremote's `fs cp` and our REPL client.
//! 3. Page weight: what the browser downloads before it can flash, compressed.
//!
//! Prints tables and writes `target/bench/bench.json`. Options: `--no-side` skips part 2;
//! `--files` runs only the file-transfer rows and `--weight` only the page weight (neither
//! writes anything).

mod bound;
mod cases;
mod files;
mod image;
mod modeled;
mod pico;
mod report;
mod rfc2217_port;
mod side;
mod weight;

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use webflash::protocol::chip::Chip;
use webflash::protocol::stub::StubImage;

use report::{print_table, write_json, Row};

#[derive(Serialize)]
struct Doc {
    modeled: Vec<Row>,
    side_by_side: Vec<Row>,
    page_weight: weight::PageWeight,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn stub(chip: Chip) -> Result<StubImage, String> {
    let path = root()
        .join(".stubs/stubs")
        .join(format!("{}.stub", StubImage::name(chip.spec().id, 300)));
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("{}: {e} (run `scripts/setup.sh app`)", path.display()))?;
    StubImage::from_bytes(&bytes)
}

/// `bench --files`: only the file-transfer rows (modeled and side by side).
fn files_only() -> Result<(), String> {
    print_table("Files (modeled)", &files::modeled()?);
    print_table("Files side by side (wall time)", &files::side(&root())?);
    Ok(())
}

fn run(side: bool) -> Result<Doc, String> {
    let mut modeled = Vec::new();
    for chip in [Chip::Esp32, Chip::Esp32C3, Chip::Esp8266] {
        cases::write_cases(chip, &stub(chip)?, &mut modeled);
    }
    cases::default_cases(&stub(Chip::Esp32)?, &mut modeled);
    cases::stub_cases(&stub(Chip::Esp32)?, &mut modeled);
    modeled.push(cases::first_block_row());
    modeled.extend(files::modeled()?);
    modeled.extend(pico::modeled()?);
    print_table(
        &format!("Modeled (virtual clock, {} baud, with stub)", cases::BAUD),
        &modeled,
    );

    let side_by_side = if side {
        let mut rows = side::run(&root(), &stub(Chip::Esp32)?)?;
        rows.extend(files::side(&root())?);
        print_table("Side by side on esp-sim --realtime (wall time)", &rows);
        rows
    } else {
        Vec::new()
    };

    let page_weight = weight::measure(&root().join("dist"))?;
    weight::print(&page_weight);
    Ok(Doc {
        modeled,
        side_by_side,
        page_weight,
    })
}

fn main() -> ExitCode {
    let side = !std::env::args().any(|a| a == "--no-side");
    if std::env::args().any(|a| a == "--weight") {
        return match weight::measure(&root().join("dist")) {
            Ok(w) => {
                weight::print(&w);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("bench: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if std::env::args().any(|a| a == "--files") {
        return match files_only() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match run(side) {
        Ok(doc) => {
            let path = root().join("target/bench/bench.json");
            if let Err(e) = write_json(&path, &doc) {
                eprintln!("bench: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            println!("\nwrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}
