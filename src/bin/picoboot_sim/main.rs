//! picoboot-sim: the simulated RP2040/RP2350 BOOTSEL ROM's PICOBOOT interface
//! (`webflash::sim::picoboot`) as a process, so a real PICOBOOT host (pypicoboot, through the
//! pyusb backend in `tests/interop/picoboot_backend.py`) can drive it. One JSON request a line
//! on stdin, one JSON reply a line on stdout:
//!
//! ```text
//! {"op":"ctrl_out","request_type":65,"request":65,"value":0,"index":1,"data":"<hex>"}
//! {"op":"ctrl_in", ...,"length":16}          {"op":"bulk_out","endpoint":3,"data":"<hex>"}
//! {"op":"bulk_in","endpoint":4,"length":64}  {"op":"clear_halt","endpoint":4,"in":true}
//! {"op":"sleep","ms":600}                     (time passes on the device's virtual clock)
//! {"op":"state"}                             -> {"ok":true,"exclusive":1,"rebooted":false,"runs_flash":false}
//! replies: {"ok":true[,"data":"<hex>"]} or {"ok":false,"error":"stall"|"disconnected"|"…"}
//! ```
//! `--chip rp2040|rp2350`, `--flash-size BYTES`, `--flash-file PATH` (its contents are the
//! flash at start; the flash is written back there after every request that changed it).

use std::io::{BufRead, Write};

use serde_json::{json, Value};
use webflash::boards::rp2::Rp2Chip;
use webflash::sim::block_on;
use webflash::sim::picoboot::PicobootSim;
use webflash::sim::rp2::{AfterReboot, Bootsel};
use webflash::usb_device::{Setup, UsbDevice, UsbError};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
        .collect()
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn reply(result: Result<Option<Vec<u8>>, UsbError>) -> Value {
    match result {
        Ok(Some(data)) => json!({ "ok": true, "data": hex(&data) }),
        Ok(None) => json!({ "ok": true }),
        Err(UsbError::Stall) => json!({ "ok": false, "error": "stall" }),
        Err(UsbError::Disconnected) => json!({ "ok": false, "error": "disconnected" }),
        Err(UsbError::Other(e)) => json!({ "ok": false, "error": e }),
    }
}

fn main() {
    let chip = match arg("--chip").as_deref() {
        Some("rp2350") => Rp2Chip::Rp2350,
        _ => Rp2Chip::Rp2040,
    };
    let size: usize = arg("--flash-size")
        .and_then(|s| s.parse().ok())
        .unwrap_or(2 << 20);
    let file = arg("--flash-file");
    let contents = file
        .as_ref()
        .and_then(|f| std::fs::read(f).ok())
        .unwrap_or_default();
    let mut sim = PicobootSim::new(Bootsel::new(chip, size, &contents));
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let Ok(req) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let n = |k: &str| req[k].as_u64().unwrap_or(0);
        let setup = Setup {
            request_type: n("request_type") as u8,
            request: n("request") as u8,
            value: n("value") as u16,
            index: n("index") as u16,
        };
        let data = unhex(req["data"].as_str().unwrap_or(""));
        let before = sim.rom.flash().to_vec();
        let out = match req["op"].as_str().unwrap_or("") {
            "ctrl_out" => reply(block_on(sim.control_out(setup, &data)).map(|_| None)),
            "ctrl_in" => reply(block_on(sim.control_in(setup, n("length") as u16)).map(Some)),
            "bulk_out" => reply(block_on(sim.bulk_out(n("endpoint") as u8, &data)).map(|_| None)),
            "bulk_in" => {
                reply(block_on(sim.bulk_in(n("endpoint") as u8, n("length") as usize)).map(Some))
            }
            "clear_halt" => {
                let inward = req["in"].as_bool().unwrap_or(false);
                reply(block_on(sim.clear_halt(inward, n("endpoint") as u8)).map(|_| None))
            }
            "sleep" => {
                block_on(sim.sleep(std::time::Duration::from_millis(n("ms"))));
                json!({ "ok": true })
            }
            "state" => json!({
                "ok": true,
                "exclusive": sim.exclusive,
                "rebooted": sim.rebooted(),
                "runs_flash": sim.rom.after_reboot() == AfterReboot::RunsFlash,
                "erases": sim.erases,
            }),
            op => json!({ "ok": false, "error": format!("unknown op {op}") }),
        };
        if let Some(f) = &file {
            if sim.rom.flash() != &before[..] {
                let _ = std::fs::write(f, sim.rom.flash());
            }
        }
        let mut w = stdout.lock();
        let _ = writeln!(w, "{out}");
        let _ = w.flush();
    }
}
