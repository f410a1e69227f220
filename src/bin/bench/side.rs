//! Side by side, in wall time: the same write done by the real esptool (pinned 5.6.0 in
//! `.venv`, over `rfc2217://`) and by our core (over [`Rfc2217Port`]), each against a fresh
//! `esp-sim --realtime` that paces bytes at the negotiated baud and keeps its timing model.
//!
//! A 256 KB MicroPython-like image at 921600 baud keeps the run to about a minute; the flash
//! starts with another build (fresh flash), then holds the image (identical re-flash), then
//! takes the next release over it. Both tools use their defaults: esptool writes every byte
//! (no erase), our core decides the erase as the page does (none for an update of the same
//! MicroPython) and writes only the 64 KiB blocks that differ.
//! Both tools pay the same RFC 2217 costs for line changes (pyserial and our port wait 50 ms
//! per SET_CONTROL); esptool additionally re-sends the port settings whenever it changes the
//! read timeout, which pyserial's RFC 2217 client acknowledges at ~50 ms per setting.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use webflash::firmware::erase::{decide, BoardFlash, Erase, NewFirmware};
use webflash::loader::{Baud, FlashJob, Loader, Region};
use webflash::protocol::stub::StubImage;
use webflash::sim::block_on;

use crate::image::{micropython_like, newer_build};
use crate::modeled::WIRING;
use crate::report::Row;
use crate::rfc2217_port::Rfc2217Port;

const LEN: usize = 256 * 1024;
const BAUD: u32 = 921_600;
const OFFSET: u32 = 0x1000;
const FLASH: usize = 4 << 20;

/// One `esp-sim --realtime` process (ours to stop).
pub struct SimProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl SimProcess {
    /// Starts an ESP32 with `extra` arguments (`--raw`, `--app micropython`).
    pub fn start(bin: &Path, flash_file: &Path, extra: &[&str]) -> Result<SimProcess, String> {
        let mut child = Command::new(bin)
            .args(["--chip", "esp32", "--listen", "127.0.0.1:0", "--realtime"])
            .args(extra)
            .arg("--flash-file")
            .arg(flash_file)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e} (make bench builds it)", bin.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let addr = line
            .trim()
            .strip_prefix("esp-sim listening on ")
            .and_then(|a| a.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("esp-sim said {line:?}"))?;
        Ok(SimProcess { child, addr })
    }

    /// Waits until the flash file holds `image` at OFFSET (esp-sim saves it when the host
    /// closes the port), then stops the simulator.
    fn finish(self, flash_file: &Path, image: &[u8]) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let ok = loop {
            let flash = std::fs::read(flash_file).unwrap_or_default();
            if flash.get(OFFSET as usize..OFFSET as usize + image.len()) == Some(image) {
                break true;
            }
            if Instant::now() > deadline {
                break false;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        drop(self);
        ok.then_some(())
            .ok_or_else(|| "the flash file does not hold the image after the write".into())
    }

    pub fn stop(self) {}
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn esptool(root: &Path, addr: SocketAddr, image: &Path, raw: bool) -> Result<f64, String> {
    let t = Instant::now();
    let url = if raw {
        format!("socket://{addr}")
    } else {
        format!("rfc2217://{addr}")
    };
    let out = Command::new(root.join(".venv/bin/esptool"))
        .args(["--chip", "esp32", "--port", &url])
        .args(
            raw.then_some(["--before", "no-reset"])
                .into_iter()
                .flatten(),
        )
        .args([
            "--baud",
            &BAUD.to_string(),
            "write-flash",
            &format!("0x{OFFSET:x}"),
        ])
        .arg(image)
        .output()
        .map_err(|e| format!("esptool: {e} (scripts/setup.sh test installs it)"))?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "esptool failed: {}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    Ok(secs)
}

fn ours(addr: SocketAddr, image: &[u8], stub: &StubImage, raw: bool) -> Result<f64, String> {
    let t = Instant::now();
    let port = if raw {
        Rfc2217Port::connect_raw(addr, 115_200)
    } else {
        Rfc2217Port::connect(addr, 115_200)
    };
    let port = port.map_err(|e| e.to_string())?;
    let mut l = Loader::new(port);
    let plan = Baud::Auto { max: BAUD };
    let regions = [Region {
        offset: OFFSET,
        data: image,
    }];
    let out = block_on(async {
        l.prepare_with(WIRING, Some(stub), Some(plan)).await?;
        // The page's default: decided by what the board holds.
        let held = l.read_summary().await?;
        let board = BoardFlash::from_reads(&held.table, held.app.as_deref());
        let decision = decide(
            Some(&board),
            &NewFirmware::from_bytes(&[(OFFSET, image)]),
            FLASH as u32,
        );
        let job = FlashJob {
            baud: plan,
            erase_all: decision.erase == Erase::All,
            reset_after: true,
            clear: None,
        };
        l.flash(&regions, job, WIRING, Some(stub), FLASH as u32)
            .await
    })
    .map_err(|e| format!("our core: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    drop(l);
    if !out.report.verified {
        return Err("our core: not verified".into());
    }
    Ok(secs)
}

/// Runs `tool` against a fresh simulator whose flash starts as `flash`.
fn timed(
    bin: &Path,
    dir: &Path,
    flash: &[u8],
    image: &[u8],
    raw: bool,
    tool: impl FnOnce(SocketAddr) -> Result<f64, String>,
) -> Result<f64, String> {
    let file = dir.join("flash.bin");
    std::fs::write(&file, flash).map_err(|e| e.to_string())?;
    let sim = SimProcess::start(bin, &file, if raw { &["--raw"] } else { &[] })?;
    let secs = tool(sim.addr)?;
    sim.finish(&file, image)?;
    Ok(secs)
}

pub fn run(root: &Path, stub: &StubImage) -> Result<Vec<Row>, String> {
    let bin: PathBuf = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("esp-sim");
    let dir = root.join("target/bench/side");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let image = micropython_like(LEN, 1);
    let newer = newer_build(LEN, 1);
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes)
            .map(|_| path)
            .map_err(|e| e.to_string())
    };
    let image_path = write("image.bin", &image)?;
    let newer_path = write("newer.bin", &newer)?;
    let mut old = vec![0xFF; FLASH];
    old[OFFSET as usize..OFFSET as usize + LEN].copy_from_slice(&micropython_like(LEN, 7));
    let mut same = old.clone();
    same[OFFSET as usize..OFFSET as usize + LEN].copy_from_slice(&image);

    let mut rows = Vec::new();
    let cases = [
        ("fresh", &old, &image, &image_path, Some(0.85)),
        ("identical re-flash", &same, &image, &image_path, Some(0.15)),
        ("next release over it", &same, &newer, &newer_path, None),
    ];
    for raw in [false, true] {
        let via = if raw {
            "socket:// (no reset lines)"
        } else {
            "rfc2217://"
        };
        for (what, before, image, image_path, target) in cases {
            let e = timed(&bin, &dir, before, image, raw, |a| {
                esptool(root, a, image_path, raw)
            })?;
            let o = timed(&bin, &dir, before, image, raw, |a| {
                ours(a, image, stub, raw)
            })?;
            let case = |who: &str| format!("{who} {what} 256 KB, {via}");
            rows.push(Row::new(case("esptool 5.6.0"), e, "wall"));
            rows.push(
                Row::new(case("ours"), o, "wall")
                    .against("esptool wall time", e, target)
                    .detail(format!("{BAUD} baud, ESP32, esp-sim --realtime")),
            );
        }
    }
    Ok(rows)
}
