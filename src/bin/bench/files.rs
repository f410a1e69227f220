//! Files on a board running MicroPython, at 115200 baud (issue 15): a 100 KB binary file up
//! and down through our REPL client, and a directory of 100 files listed.
//!
//! Modeled: against the simulated ESP32 under the virtual clock, compared with the time the
//! file's raw bytes take on the wire (target 1.5×). Side by side: the real mpremote 1.29
//! `fs cp` both ways and our client, each against a fresh `esp-sim --realtime --app
//! micropython` (bytes paced at 115200 baud), in wall time (target: ours at most 0.5× of it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use webflash::port::Port;
use webflash::protocol::chip::Chip;
use webflash::repl::files::Checked;
use webflash::repl::Repl;
use webflash::sim::{block_on, Device, SimPort};

use crate::image::micropython_like;
use crate::report::Row;
use crate::rfc2217_port::Rfc2217Port;
use crate::side::SimProcess;

const BAUD: u32 = 115_200;
const LEN: usize = 100 * 1024;

/// Seconds the file's bytes alone take on the wire (10 bits per byte).
fn wire(len: usize) -> f64 {
    len as f64 * 10.0 / BAUD as f64
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Modeled rows: upload, download and a 100-file listing on the simulated ESP32.
pub fn modeled() -> Result<Vec<Row>, String> {
    let mut port = SimPort::new(Device::running_micropython(Chip::Esp32));
    port.log_tx = false;
    let mut repl = Repl::new(port);
    let data = micropython_like(LEN, 3);
    let e = |e: webflash::repl::ReplError| format!("files: {e}");
    block_on(async {
        repl.watch_boot(Duration::from_secs(10))
            .await
            .map_err(e)?
            .map_err(|p| format!("files: MicroPython did not boot: {p:?}"))?;
        // The session's first program asks what the firmware offers; not part of a transfer.
        repl.transfer().await.map_err(e)?;
        let t = repl.port_mut().now();
        let checked = repl
            .write_file("/data.bin", &data, |_| {})
            .await
            .map_err(e)?;
        let up = secs(repl.port_mut().now() - t);
        let t = repl.port_mut().now();
        let back = repl.read_file("/data.bin", |_| {}).await.map_err(e)?;
        let down = secs(repl.port_mut().now() - t);
        if back != data || checked != Checked::Sha256 {
            return Err("files: the download differs from the upload".into());
        }
        repl.exec(
            "import os\nos.mkdir('/many')\nfor i in range(100):\n f=open('/many/f%d.py'%i,'w')\n f.write('#'*i)\n f.close()",
            Duration::from_secs(60),
        )
        .await
        .map_err(e)?;
        let t = repl.port_mut().now();
        let list = repl.list("/many").await.map_err(e)?;
        let listing = secs(repl.port_mut().now() - t);
        let kind = "the file's raw bytes on the wire";
        let detail = format!("{BAUD} baud, ESP32, checked by SHA-256 on the board");
        Ok(vec![
            Row::new("upload 100 KB binary file", up, "modeled")
                .against(kind, wire(LEN), Some(1.5))
                .detail(&detail),
            Row::new("download 100 KB binary file", down, "modeled")
                .against(kind, wire(LEN), Some(1.5))
                .detail(&detail),
            Row::new(
                format!("list a directory of {} files", list.len()),
                listing,
                "modeled",
            )
            .detail("one program, names and sizes"),
        ])
    })
}

fn mpremote(root: &Path, url: &str, args: &[&str]) -> Result<f64, String> {
    let t = Instant::now();
    let out = Command::new(root.join(".venv/bin/mpremote"))
        .args(["connect", url])
        .args(args)
        .output()
        .map_err(|e| format!("mpremote: {e} (scripts/setup.sh test installs it)"))?;
    if !out.status.success() {
        return Err(format!(
            "mpremote {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(t.elapsed().as_secs_f64())
}

/// A fresh simulated ESP32 running MicroPython, paced in real time.
fn board(bin: &Path, dir: &Path) -> Result<SimProcess, String> {
    let flash = dir.join("flash.bin");
    let _ = std::fs::remove_file(&flash);
    let sim = SimProcess::start(bin, &flash, &["--app", "micropython"])?;
    // Let it finish booting to its prompt.
    std::thread::sleep(Duration::from_millis(800));
    Ok(sim)
}

/// Side by side in wall time: mpremote's `fs cp` up and down, then ours, on fresh boards.
pub fn side(root: &Path) -> Result<Vec<Row>, String> {
    let bin: PathBuf = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("esp-sim");
    let dir = root.join("target/bench/files");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let data = micropython_like(LEN, 3);
    let local = dir.join("data.bin");
    let back = dir.join("back.bin");
    std::fs::write(&local, &data).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&back);

    let sim = board(&bin, &dir)?;
    let url = format!("rfc2217://{}", sim.addr);
    let m_up = mpremote(
        root,
        &url,
        &["fs", "cp", &local.to_string_lossy(), ":data.bin"],
    )?;
    let m_down = mpremote(
        root,
        &url,
        &["fs", "cp", ":data.bin", &back.to_string_lossy()],
    )?;
    sim.stop();
    if std::fs::read(&back).map_err(|e| e.to_string())? != data {
        return Err("mpremote: the download differs from the upload".into());
    }

    let sim = board(&bin, &dir)?;
    let port = Rfc2217Port::connect(sim.addr, BAUD).map_err(|e| e.to_string())?;
    let mut repl = Repl::new(port);
    let e = |e: webflash::repl::ReplError| format!("ours: {e}");
    let (o_up, o_down) = block_on(async {
        // Each mpremote run starts by entering the raw REPL; so does ours (the first program).
        let t = Instant::now();
        repl.write_file("/data.bin", &data, |_| {})
            .await
            .map_err(e)?;
        let up = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let got = repl.read_file("/data.bin", |_| {}).await.map_err(e)?;
        let down = t.elapsed().as_secs_f64();
        if got != data {
            return Err("ours: the download differs from the upload".to_string());
        }
        Ok((up, down))
    })?;
    drop(repl);
    sim.stop();

    let detail = format!("{BAUD} baud, ESP32, esp-sim --realtime --app micropython");
    Ok(vec![
        Row::new("mpremote 1.29 fs cp up 100 KB", m_up, "wall"),
        Row::new("ours upload 100 KB (SHA-256 checked)", o_up, "wall")
            .against("mpremote wall time", m_up, Some(0.5))
            .detail(&detail),
        Row::new("mpremote 1.29 fs cp down 100 KB", m_down, "wall"),
        Row::new("ours download 100 KB (SHA-256 checked)", o_down, "wall")
            .against("mpremote wall time", m_down, Some(0.5))
            .detail(&detail),
    ])
}
