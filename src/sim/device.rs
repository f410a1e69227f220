//! [`Device`]: one simulated board. Routes bytes to whatever runs on the chip (ROM loader,
//! stub, or the firmware in flash), schedules what it sends back, and models resets.

use std::collections::VecDeque;
use std::time::Duration;

use super::boot::Boot as BootResult;
use super::flash::NorFlash;
use super::loader::SimLoader;
use super::micropython::{micropython_image, Board, Firmware, MicroPython};
use super::regs::Registers;
use super::reset::{Boot, ResetCircuit};
use super::timing::Timing;
use super::usb::{asks_for_bootloader, UsbFunction, UsbId};
use super::watchdog::Watchdogs;
use crate::port::Signals;
use crate::protocol::chip::{Chip, ChipSpec};
use crate::protocol::native_usb::NativeUsb;
use crate::protocol::slip::{Decoder, Item};
use crate::usb::ResetWiring;

mod download;
use download::ReadStream;

/// How the board starts when the simulation begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// Already in the ROM serial loader (as if the user held BOOT and tapped RESET; the chip
    /// keeps that strap until its next system reset).
    Download,
    /// Powered and running its firmware quietly: the host must reset it into the loader.
    Reset,
    /// Boots from flash at time zero, printing its boot log.
    App,
}

/// From the end of the boot log to MicroPython's first output (its start-up work).
const APP_START: Duration = Duration::from_millis(50);
/// MicroPython's TinyUSB port acts on esptool's DTR/RTS pattern after this delay.
const BOOTLOADER_TRIGGER_DELAY: Duration = Duration::from_millis(250);
/// A USB device that a restart replaces shows up again this long after the reset (the new
/// code starting its USB stack, and the host enumerating it).
const REENUMERATION: Duration = Duration::from_millis(300);

/// How the chip was reset, which decides what survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResetKind {
    /// Power-on or the EN pin: everything starts over, the straps are sampled.
    System,
    /// A watchdog or brownout: like [`ResetKind::System`], but the RTC's "force download" stays.
    Watchdog,
    /// USB-Serial-JTAG's reset line, `esp_restart()`: the CPU restarts; the RTC domain (its
    /// watchdogs, "force download") and the latched straps stay.
    Core,
}

/// The board being simulated.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    pub chip: Chip,
    pub flash_size: u32,
    pub mac: [u8; 6],
    /// major × 100 + minor, as eFuse (and the image checks at boot) see it.
    pub revision: u32,
    pub wiring: ResetWiring,
    pub start: StartMode,
    pub timing: Timing,
    /// Above this baud the link corrupts bytes (a bridge or cable that cannot keep up).
    pub max_baud: u32,
    /// The firmware in flash runs with the RTC watchdog and the super watchdog armed (and
    /// feeds them); a core reset into download mode leaves them counting.
    pub firmware_arms_watchdogs: bool,
}

impl DeviceConfig {
    /// A typical board: 4 MB flash, a UART bridge, running its firmware.
    pub fn new(chip: Chip) -> Self {
        DeviceConfig {
            chip,
            flash_size: 4 << 20,
            mac: [0x24, 0x0A, 0xC4, 0x12, 0x34, 0x56],
            revision: usual_revision(chip),
            wiring: ResetWiring::UartBridge,
            start: StartMode::Reset,
            timing: Timing::default(),
            max_baud: 3_000_000,
            firmware_arms_watchdogs: false,
        }
    }

    /// The JEDEC id of a Winbond flash of this size (capacity byte = log2(size)).
    pub fn jedec_id(&self) -> u32 {
        let capacity = self.flash_size.trailing_zeros();
        0xEF | 0x40 << 8 | capacity << 16
    }
}

/// A revision the chips of each family sold today commonly have (ESP32 ECO3; a C3 new enough
/// for MicroPython's images, which ask for v0.3 or later).
pub fn usual_revision(chip: Chip) -> u32 {
    match chip {
        Chip::Esp8266 => 0,
        Chip::Esp32 => 300,
        Chip::Esp32S3 => 2,
        Chip::Esp32C3 => 4,
        Chip::Esp32C6 | Chip::Esp32H2 => 1,
        Chip::Esp32S2 | Chip::Esp32C2 | Chip::Esp32C5 | Chip::Esp32P4 => 100,
    }
}

/// Bytes the chip sends: when they start leaving, and at which UART baud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub at: Duration,
    pub baud: u32,
    pub bytes: Vec<u8>,
}

/// Deliberate misbehaviour, counted in bytes the chip has received since the fault was set.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Flip bit 0 of the received byte with this index.
    pub corrupt_rx: Vec<u64>,
    /// Lose the received byte with this index.
    pub drop_rx: Vec<u64>,
    /// The chip resets by itself (brownout, watchdog) when this many bytes were received.
    pub reset_at_rx: Option<u64>,
    /// The chip stops answering when this many bytes were received.
    pub hang_at_rx: Option<u64>,
    /// Sent before the next reply (noise on the line).
    pub inject_tx: Vec<u8>,
}

enum Mode {
    /// Held in reset, or stuck in the ROM (no valid firmware).
    Quiet,
    Loader(SimLoader),
    /// Running firmware that ignores the port (not MicroPython).
    App,
    /// Powered long before the host arrived, running whatever the flash holds (the
    /// firmware's boot output is long gone). MicroPython there wakes up at its prompt.
    Settled(Box<BootResult>),
    /// Running MicroPython from flash.
    Python(Box<MicroPython>),
    Hung,
}

/// A simulated board.
pub struct Device {
    config: DeviceConfig,
    spec: &'static ChipSpec,
    flash: NorFlash,
    regs: Registers,
    reset: ResetCircuit,
    mode: Mode,
    decoder: Decoder,
    /// The chip's UART baud; `None` while the ROM waits to measure it from the first SYNC.
    uart_baud: Option<u32>,
    out: VecDeque<Output>,
    /// The chip's CPU is busy until then (work queues behind it).
    busy_until: Duration,
    read: Option<ReadStream>,
    rx_count: u64,
    pub faults: Faults,
    boots: u32,
    native: Option<NativeUsb>,
    watchdogs: Watchdogs,
    /// GPIO0 was low at the last system reset (BOOT held): a core reset returns to the ROM.
    strap_latched_download: bool,
    /// The host's control lines as last set.
    lines: Signals,
    /// MicroPython was asked for its bootloader by the DTR/RTS pattern; it restarts then.
    bootloader_due: Option<Duration>,
    /// The latest time the device model has been brought to.
    clock: Duration,
    /// After a restart that changed the USB function, no USB device until then.
    usb_down_until: Duration,
}

impl Device {
    pub fn new(config: DeviceConfig) -> Device {
        let spec = config.chip.spec();
        let mut device = Device {
            flash: NorFlash::new(config.flash_size as usize),
            regs: Registers::new(spec, config.mac, config.jedec_id(), config.revision),
            reset: ResetCircuit::new(config.timing.en_release_delay),
            mode: Mode::Quiet,
            decoder: Decoder::new(),
            uart_baud: Some(115_200),
            out: VecDeque::new(),
            busy_until: Duration::ZERO,
            read: None,
            rx_count: 0,
            faults: Faults::default(),
            boots: 0,
            native: spec.chip.native_usb(),
            watchdogs: Watchdogs::default(),
            strap_latched_download: false,
            lines: Signals::default(),
            bootloader_due: None,
            clock: Duration::ZERO,
            usb_down_until: Duration::ZERO,
            spec,
            config,
        };
        // Powered on: the watchdogs start out off (whatever the firmware does with them next).
        if let Some(usb) = device.native {
            device.watchdogs.system_reset(&mut device.regs, &usb);
        }
        match device.config.start {
            StartMode::Download => device.boot(Duration::ZERO, Boot::Download, ResetKind::System),
            StartMode::App => device.boot(Duration::ZERO, Boot::Flash, ResetKind::System),
            StartMode::Reset => device.settle(),
        }
        // The host meets the board after it enumerated.
        device.usb_down_until = Duration::ZERO;
        device
    }

    /// Running the firmware in flash since long ago.
    fn settle(&mut self) {
        self.mode = Mode::Settled(Box::new(self.boot_from_flash()));
        self.firmware_started();
    }

    /// What booting from flash prints and finds.
    fn boot_from_flash(&self) -> BootResult {
        super::bootlog::flash_boot(self.spec, self.flash.contents(), self.config.revision)
    }

    pub fn chip(&self) -> Chip {
        self.config.chip
    }

    pub fn flash(&self) -> &[u8] {
        self.flash.contents()
    }

    pub fn load_flash(&mut self, data: &[u8]) {
        self.flash.load(data);
        if matches!(self.mode, Mode::Settled(_)) {
            // It has been running what is now in flash all along.
            self.settle();
        }
    }

    /// Fault: from now on erases do nothing, so writes land on old data.
    pub fn set_erase_fails(&mut self, fails: bool) {
        self.flash.erase_fails = fails;
    }

    /// Bytes the chip has received (the index [`Faults`] count in).
    pub fn rx_bytes(&self) -> u64 {
        self.rx_count
    }

    pub fn flash_generation(&self) -> u64 {
        self.flash.generation()
    }

    /// How many times the chip has booted (any mode).
    pub fn boots(&self) -> u32 {
        self.boots
    }

    /// A short name of what runs on the chip: "rom", "stub", "app", "reset", "hung".
    pub fn state(&self) -> &'static str {
        match &self.mode {
            _ if self.reset.in_reset() => "reset",
            Mode::Loader(l) if l.stub => "stub",
            Mode::Loader(_) => "rom",
            Mode::App | Mode::Settled(_) | Mode::Python(_) => "app",
            Mode::Quiet => "quiet",
            Mode::Hung => "hung",
        }
    }

    /// The chip's UART baud right now.
    pub fn uart_baud(&self) -> u32 {
        self.uart_baud.unwrap_or(self.spec.boot_log_baud)
    }

    fn emit(&mut self, at: Duration, bytes: Vec<u8>) {
        let baud = self.uart_baud();
        self.emit_at_baud(at, baud, bytes);
    }

    fn emit_at_baud(&mut self, at: Duration, baud: u32, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let at = at.max(self.out.back().map_or(Duration::ZERO, |o| o.at));
        self.out.push_back(Output { at, baud, bytes });
    }

    /// The next output due, if any.
    pub fn next_output_at(&self) -> Option<Duration> {
        let out = self.out.front().map(|o| o.at);
        let app = match &self.mode {
            Mode::Python(app) => app.next_event_at(),
            _ => None,
        };
        [
            out,
            self.reset.release_due(),
            app,
            self.bootloader_due,
            self.watchdogs.due(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Everything the chip sends up to `until`.
    pub fn take_output(&mut self, until: Duration) -> Vec<Output> {
        self.poll(until);
        let mut taken = Vec::new();
        while self.out.front().is_some_and(|o| o.at <= until) {
            taken.push(self.out.pop_front().unwrap());
        }
        taken
    }

    /// Lets time pass to `now`: a pending reset release happens, a watchdog fires.
    fn poll(&mut self, now: Duration) {
        self.clock = self.clock.max(now);
        if let Some(due) = self.reset.release_due() {
            if let Some(boot) = self.reset.poll(now) {
                self.boot(due, boot, ResetKind::System);
            }
        }
        if let Some(due) = self.bootloader_due.filter(|due| *due <= now) {
            self.bootloader_due = None;
            self.enter_bootloader(due);
        }
        if let Some(due) = self.watchdogs.due().filter(|due| *due <= now) {
            // A system reset: the straps are sampled again, and nobody holds BOOT.
            self.boot(due, Boot::Flash, ResetKind::Watchdog);
        }
        if let Mode::Python(app) = &mut self.mode {
            app.advance(now, &mut self.flash);
            self.collect_app_output();
        }
    }

    /// Starts what the flash holds, at `at` (after the boot log).
    fn run_firmware(&mut self, at: Duration, boot: BootResult) {
        self.mode = match boot.firmware {
            Firmware::MicroPython { version, date } => {
                let board = self.board(&version, &date, boot.fs);
                Mode::Python(Box::new(MicroPython::boot(at, board, &mut self.flash)))
            }
            Firmware::Other => Mode::App,
            Firmware::Invalid => Mode::Quiet,
        };
        self.collect_app_output();
    }

    fn board(&self, version: &str, date: &str, fs: Option<(usize, usize)>) -> Board {
        Board::new(
            self.config.chip,
            version,
            date,
            self.config.mac,
            self.flash.size(),
            fs,
        )
    }

    /// Moves what MicroPython printed to the UART, and reboots the chip if it asked to.
    fn collect_app_output(&mut self) {
        let Mode::Python(app) = &mut self.mode else {
            return;
        };
        let printed = app.take_output();
        let reset = app.take_hard_reset();
        let bootloader = app.take_bootloader();
        for (at, bytes) in printed {
            self.emit(at, bytes);
        }
        let at = self.out.back().map_or(Duration::ZERO, |o| o.at) + Duration::from_millis(1);
        if bootloader {
            self.enter_bootloader(at);
        } else if reset {
            self.boot(at, Boot::Flash, ResetKind::Core);
        }
    }

    /// MicroPython's `machine.bootloader()`: set the RTC's "force download boot" (where the
    /// chip has one) and restart, so the ROM's download mode starts.
    fn enter_bootloader(&mut self, at: Duration) {
        if let Some(flag) = self.native.and_then(|usb| usb.force_download) {
            let value = self.regs.read(flag.addr, 0) | flag.mask();
            self.regs.set(flag.addr, value);
            self.boot(at, Boot::Flash, ResetKind::Core);
        } else {
            self.boot(at, Boot::Download, ResetKind::Core);
        }
    }

    /// Boots from flash now, as after power-on (e.g. `esp-sim --app micropython`).
    pub fn power_on(&mut self, at: Duration) {
        self.boot(at, Boot::Flash, ResetKind::System);
        // Plugged in: the host meets it once it enumerated.
        self.usb_down_until = Duration::ZERO;
    }

    /// What answers on the board's USB connector now; `None` while nothing does (in reset,
    /// or a firmware without USB on a chip whose own USB is the connector).
    pub fn usb_function(&self) -> Option<UsbFunction> {
        if self.clock < self.usb_down_until {
            return None;
        }
        self.usb_function_when_up()
    }

    fn usb_function_when_up(&self) -> Option<UsbFunction> {
        match self.config.wiring {
            ResetWiring::UartBridge => Some(UsbFunction::Bridge),
            ResetWiring::UsbJtagSerial => Some(UsbFunction::UsbJtag),
            // The chip's own USB: MicroPython switches it to its TinyUSB device; otherwise
            // it stays with USB-Serial-JTAG (a hardware peripheral, there in reset too) on
            // chips that have one, and with the ROM's USB-OTG CDC in download mode on the S2.
            ResetWiring::UsbOtg => {
                let usb = self.native?;
                let micropython = match &self.mode {
                    Mode::Python(_) => true,
                    Mode::Settled(boot) => matches!(boot.firmware, Firmware::MicroPython { .. }),
                    _ => false,
                };
                match &self.mode {
                    _ if micropython && !self.reset.in_reset() => Some(UsbFunction::TinyUsb),
                    _ if usb.usb_jtag => Some(UsbFunction::UsbJtag),
                    Mode::Loader(_) if !self.reset.in_reset() => {
                        usb.rom_otg_pid.map(|pid| UsbFunction::RomCdc { pid })
                    }
                    _ => None,
                }
            }
        }
    }

    /// The USB device the host sees now (see [`super::usb`]).
    pub fn usb_id(&self) -> Option<UsbId> {
        self.usb_function().map(|f| f.id(self.config.mac))
    }

    /// Whether a watchdog is counting towards a reset.
    pub fn watchdog_armed(&self) -> bool {
        self.watchdogs.due().is_some()
    }

    /// A firmware starts: it feeds the watchdogs (and arms them, if it is that kind).
    fn firmware_started(&mut self) {
        self.watchdogs.stop();
        if let Some(usb) = self.native.filter(|_| self.config.firmware_arms_watchdogs) {
            Watchdogs::arm_as_firmware(&mut self.regs, &usb);
        }
    }

    /// A board that was just powered on with MicroPython in its flash (as `esp-sim --app
    /// micropython`): it prints its boot log and comes to the prompt on its own.
    pub fn running_micropython(chip: Chip) -> Device {
        let mut config = DeviceConfig::new(chip);
        config.start = StartMode::Reset;
        let mut dev = Device::new(config);
        dev.install_micropython();
        dev.power_on(Duration::ZERO);
        dev
    }

    /// Writes a minimal image that boots as MicroPython (see [`micropython_image`]); the
    /// filesystem region is left as it is.
    pub fn install_micropython(&mut self) {
        for (at, bytes) in micropython_image(self.spec) {
            self.flash.erase(at, bytes.len());
            self.flash.program(at, &bytes);
        }
    }

    /// The host changed DTR/RTS. What they do depends on what answers on the connector.
    pub fn set_signals(&mut self, at: Duration, signals: Signals) {
        self.poll(at);
        let before = std::mem::replace(&mut self.lines, signals);
        let wiring = match self.usb_function() {
            Some(UsbFunction::Bridge) => ResetWiring::UartBridge,
            Some(UsbFunction::UsbJtag) => ResetWiring::UsbJtagSerial,
            Some(UsbFunction::TinyUsb) => {
                if asks_for_bootloader(before, signals) {
                    self.bootloader_due = Some(at + BOOTLOADER_TRIGGER_DELAY);
                }
                return;
            }
            Some(UsbFunction::RomCdc { .. }) | None => return,
        };
        let was_in_reset = self.reset.in_reset();
        let boot = self.reset.set_lines(at, signals, wiring);
        if self.reset.in_reset() && !was_in_reset {
            // Reset asserted: whatever ran stops, and nothing more comes out.
            self.mode = Mode::Quiet;
            self.read = None;
            self.watchdogs.stop();
            self.out.retain(|o| o.at <= at);
        }
        if let Some(boot) = boot {
            // The bridge's EN reset releases later (in `poll`); USB-Serial-JTAG's is a core reset.
            self.boot(at, boot, ResetKind::Core);
        }
    }

    /// The chip starts after a reset of `kind`, in the mode `boot` (the strap now) selects,
    /// unless what survived the reset decides otherwise.
    fn boot(&mut self, at: Duration, boot: Boot, kind: ResetKind) {
        let usb_before = self.usb_function_when_up();
        self.boot_into(at, boot, kind);
        if self.usb_function_when_up() != usb_before {
            self.usb_down_until = at + REENUMERATION;
        }
    }

    fn boot_into(&mut self, at: Duration, boot: Boot, kind: ResetKind) {
        self.boots += 1;
        self.decoder.clear();
        self.read = None;
        self.bootloader_due = None;
        self.out.retain(|o| o.at <= at);
        self.busy_until = at;
        let boot = match kind {
            // The straps were latched at the last system reset.
            ResetKind::Core if self.strap_latched_download => Boot::Download,
            ResetKind::Core => boot,
            ResetKind::System | ResetKind::Watchdog => {
                self.strap_latched_download = boot == Boot::Download;
                boot
            }
        };
        let mut forced = false;
        if let Some(usb) = self.native {
            if kind != ResetKind::Core {
                self.watchdogs.system_reset(&mut self.regs, &usb);
            }
            if let Some(flag) = usb.force_download {
                if kind == ResetKind::System {
                    self.regs.set(flag.addr, 0);
                }
                forced = self.regs.read(flag.addr, 0) & flag.mask() != 0;
            }
            if let Some(strap) = usb.strap {
                let spi_boot = if self.strap_latched_download {
                    0
                } else {
                    strap.mask()
                };
                self.regs.set(strap.addr, spi_boot);
            }
        }
        let start = at + self.config.timing.boot_delay;
        let log_baud = self.spec.boot_log_baud;
        match if forced { Boot::Download } else { boot } {
            Boot::Download => {
                let text = super::bootlog::download(self.spec, self.config.wiring);
                self.emit_at_baud(start, log_baud, text.into_bytes());
                self.uart_baud = None;
                self.mode = Mode::Loader(SimLoader::new(self.spec, false, self.flash.size()));
                self.loader_started(at);
            }
            Boot::Flash => {
                let boot = self.boot_from_flash();
                let log = boot.log.clone().into_bytes();
                let app_at = start + super::timing::wire_time(log.len(), log_baud) + APP_START;
                self.emit_at_baud(start, log_baud, log);
                self.uart_baud = Some(115_200);
                self.firmware_started();
                self.run_firmware(app_at, boot);
            }
        }
    }

    /// The ROM's download mode starts: it tells which console it serves (UARTDEV_BUF_NO) and,
    /// feeding no watchdog, lets armed ones count.
    fn loader_started(&mut self, at: Duration) {
        let Some(usb) = self.native else { return };
        if let Some(console) = usb.console {
            let value = match self.usb_function() {
                Some(UsbFunction::UsbJtag) => console.usb_jtag,
                Some(UsbFunction::RomCdc { .. }) => console.usb_otg,
                _ => None,
            };
            self.regs.set(console.addr, value.unwrap_or(0) as u32);
        }
        self.watchdogs.start(at, &self.regs, &usb);
    }

    /// Bytes from the host arrive at the chip at `at`, sent at `host_baud`.
    pub fn receive(&mut self, at: Duration, bytes: &[u8], host_baud: u32) {
        self.poll(at);
        if self.reset.in_reset() {
            return;
        }
        let mut kept = Vec::with_capacity(bytes.len());
        for &b in bytes {
            let i = self.rx_count;
            self.rx_count += 1;
            if self.faults.reset_at_rx == Some(i) {
                self.faults.reset_at_rx = None;
                self.boot(at, Boot::Flash, ResetKind::Watchdog);
                return;
            }
            if self.faults.hang_at_rx == Some(i) {
                self.mode = Mode::Hung;
            }
            if self.faults.drop_rx.contains(&i) {
                continue;
            }
            kept.push(if self.faults.corrupt_rx.contains(&i) {
                b ^ 1
            } else {
                b
            });
        }
        if host_baud > self.config.max_baud {
            kept = super::garble(&kept, host_baud, host_baud / 3);
        }
        match &self.mode {
            Mode::Loader(_) => {
                // The ROM measures the host's baud from the first SYNC's 0x55 run.
                let baud = *self.uart_baud.get_or_insert(host_baud);
                let kept = super::garble(&kept, host_baud, baud);
                self.decoder.push(&kept);
                while let Some(item) = self.decoder.next_item() {
                    if let Item::Frame(frame) = item {
                        self.handle_frame(at, &frame);
                    }
                }
                self.decoder.take_noise();
            }
            Mode::Settled(boot) => {
                if let Firmware::MicroPython { version, date } = boot.firmware.clone() {
                    let board = self.board(&version, &date, boot.fs);
                    let app = MicroPython::resume(at, board, &mut self.flash);
                    self.mode = Mode::Python(Box::new(app));
                    self.receive_app(at, kept, host_baud);
                }
            }
            Mode::Python(_) => self.receive_app(at, kept, host_baud),
            Mode::App | Mode::Quiet | Mode::Hung => {}
        }
    }

    fn receive_app(&mut self, at: Duration, bytes: Vec<u8>, host_baud: u32) {
        let bytes = super::garble(&bytes, host_baud, self.uart_baud());
        if let Mode::Python(app) = &mut self.mode {
            app.receive(at, &bytes, &mut self.flash);
        }
        self.collect_app_output();
    }
}
