//! `esp-sim`: one simulated ESP chip served as a serial port, so real tools drive it.
//!
//! RFC 2217 (default) lets esptool and mpremote use `rfc2217://host:port` with their own
//! DTR/RTS reset sequences; `--raw` serves plain TCP with the chip already in download mode;
//! `--ws` serves the browser test harness; `--app micropython` boots a simulated MicroPython
//! board (also over `--raw`, for mpremote's `socket://`). One host at a time, like a real port; the chip and
//! its flash persist between connections. See `args::USAGE`.

mod args;
mod bus;
mod flash_file;
mod link;
mod pace;
mod session;

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use webflash::sim::{Device, DeviceConfig, StartMode};

use crate::args::Options;
use crate::bus::Bus;
use crate::flash_file::FlashFile;
use crate::link::{Link, RawLink, TelnetLink, WsLink};
use crate::pace::Paced;
use crate::session::{Sim, Target};

/// How often an idle server looks for a new connection.
const ACCEPT_POLL: Duration = Duration::from_millis(10);

fn main() -> ExitCode {
    let options = match args::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            print!("{}", args::USAGE); // --help
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("esp-sim: {message}\n");
            eprint!("{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("esp-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: Options) -> io::Result<()> {
    let mut config = DeviceConfig::new(options.chip);
    if let Some(size) = options.flash_size {
        config.flash_size = size;
    }
    if let Some(mac) = options.mac {
        config.mac = mac;
    }
    config.wiring = options.wiring;
    config.firmware_arms_watchdogs = options.firmware_watchdogs;
    // Plain TCP has no control lines to reset the chip with, so it must already be listening
    // (or, with --app, already running the app).
    config.start = options
        .start
        .unwrap_or(if options.raw && options.app.is_none() {
            StartMode::Download
        } else {
            StartMode::Reset
        });
    let mut device = Device::new(config);
    let start = Instant::now();
    let flash_file = options.flash_file.clone().map(FlashFile::new);
    if let Some(file) = &flash_file {
        if let Some(data) = file.load()? {
            device.load_flash(&data);
        }
    }
    if options.app == Some(args::App::MicroPython) {
        device.install_micropython();
        device.power_on(start.elapsed());
    }
    let mut sim = Sim::new(Paced::new(device, options.realtime), start, flash_file);
    // Write the file at once, so it exists (erased, or as loaded) before any host connects.
    sim.save_flash()?;

    let listener = TcpListener::bind(options.listen)?;
    listener.set_nonblocking(true)?;
    let ws_listener = match options.ws {
        Some(addr) => {
            let l = TcpListener::bind(addr)?;
            l.set_nonblocking(true)?;
            Some(l)
        }
        None => None,
    };
    let mut ready = format!("esp-sim listening on {}", listener.local_addr()?);
    if let Some(l) = &ws_listener {
        ready.push_str(&format!(" ws {}", l.local_addr()?));
    }
    if let Some(addr) = options.bus {
        let (bus, addr) = Bus::start(addr)?;
        sim.announce_on(bus);
        ready.push_str(&format!(" bus {addr}"));
    }
    let mut stdout = io::stdout();
    writeln!(stdout, "{ready}")?;
    stdout.flush()?;

    loop {
        if let Some(stream) = accept(&listener)? {
            if options.raw {
                serve(&mut sim, RawLink::new(stream));
            } else {
                match TelnetLink::new(stream) {
                    Ok(link) => serve(&mut sim, link),
                    Err(e) => eprintln!("esp-sim: connection failed: {e}"),
                }
            }
        } else if let Some(stream) = ws_listener.as_ref().map(accept).transpose()?.flatten() {
            match WsLink::accept(stream) {
                Ok(link) => serve(&mut sim, link),
                Err(e) => eprintln!("esp-sim: WebSocket handshake failed: {e}"),
            }
        } else {
            sim.tick();
            sim.save_flash_when_idle()?;
            std::thread::sleep(ACCEPT_POLL);
        }
    }
}

/// Takes a waiting connection, if any, set up for low-latency blocking reads.
fn accept(listener: &TcpListener) -> io::Result<Option<TcpStream>> {
    match listener.accept() {
        Ok((stream, _)) => {
            stream.set_nonblocking(false)?;
            stream.set_nodelay(true)?;
            Ok(Some(stream))
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// Serves one host; its failure (reset by peer, bad data) ends only that connection.
fn serve<T: Target>(sim: &mut Sim<T>, mut link: impl Link) {
    if let Err(e) = sim.serve(&mut link) {
        eprintln!("esp-sim: connection ended: {e}");
    }
}
