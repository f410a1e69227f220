//! Boards with native USB (issue 10): the watchdogs USB-Serial-JTAG leaves running, leaving the
//! ROM on USB-OTG by the watchdog, the USB device changing between ROM and MicroPython, and the
//! ESP32 ROM's baud correction. Each test fails without the behaviour it names.

mod common;

use std::time::Duration;

use common::{firmware_like, stub_for};
use webflash::loader::{Baud, Error, FlashJob, Loader, Region, Restart};
use webflash::port::{Port, PortError};
use webflash::protocol::chip::{Chip, MAGIC_REG};
use webflash::protocol::command::Command;
use webflash::protocol::native_usb::WDT_KEY;
use webflash::protocol::slip;
use webflash::repl::Repl;
use webflash::sim::micropython::micropython_image;
use webflash::sim::usb::UsbId;
use webflash::sim::{block_on, Device, DeviceConfig, SimPort, StartMode};
use webflash::usb::ResetWiring;

const USJ: Option<ResetWiring> = Some(ResetWiring::UsbJtagSerial);
const OTG: Option<ResetWiring> = Some(ResetWiring::UsbOtg);

fn device(chip: Chip, wiring: ResetWiring, start: StartMode) -> Device {
    let mut config = DeviceConfig::new(chip);
    config.wiring = wiring;
    config.start = start;
    Device::new(config)
}

/// A C3 "SuperMini": USB-Serial-JTAG, running a firmware that armed both watchdogs.
fn supermini() -> Loader<SimPort> {
    let mut config = DeviceConfig::new(Chip::Esp32C3);
    config.wiring = ResetWiring::UsbJtagSerial;
    config.firmware_arms_watchdogs = true;
    let mut dev = Device::new(config);
    install(&mut dev);
    Loader::new(SimPort::new(dev))
}

/// Writes MicroPython into the flash and reboots into it (a board as it comes).
fn install(dev: &mut Device) {
    dev.install_micropython();
    dev.power_on(Duration::ZERO);
}

/// MicroPython's image set, the app followed by data up to `app_len` bytes (the regions the
/// loader writes). `incompressible` padding makes the write take its full wire time.
fn micropython_regions(chip: Chip, app_len: usize) -> Vec<(u32, Vec<u8>)> {
    padded(chip, app_len, false)
}

fn padded(chip: Chip, app_len: usize, incompressible: bool) -> Vec<(u32, Vec<u8>)> {
    micropython_image(chip.spec())
        .into_iter()
        .map(|(at, mut bytes)| {
            if at == 0x10000 {
                let n = app_len.saturating_sub(bytes.len());
                let pad = if incompressible {
                    let mut x = 0x9E37_79B9u32;
                    (0..n)
                        .map(|_| {
                            x ^= x << 13;
                            x ^= x >> 17;
                            x ^= x << 5;
                            x as u8
                        })
                        .collect()
                } else {
                    firmware_like(n, 5)
                };
                bytes.extend_from_slice(&pad);
            }
            (at as u32, bytes)
        })
        .collect()
}

fn regions(parts: &[(u32, Vec<u8>)]) -> Vec<Region<'_>> {
    parts
        .iter()
        .map(|(offset, data)| Region {
            offset: *offset,
            data,
        })
        .collect()
}

fn job() -> FlashJob {
    FlashJob {
        baud: Baud::Auto { max: 921_600 },
        erase_all: false,
        reset_after: true,
        clear: None,
    }
}

#[test]
fn usb_jtag_watchdogs_left_armed_are_disabled_and_a_long_flash_survives() {
    block_on(async {
        let mut l = supermini();
        let stub = stub_for(Chip::Esp32C3, 4);
        l.prepare(USJ, Some(&stub)).await.unwrap();
        assert!(
            !l.port().device().watchdog_armed(),
            "detect() disables both watchdogs on USB-Serial-JTAG"
        );
        let boots = l.port().device().boots();
        let parts = padded(Chip::Esp32C3, 1_500_000, true);
        let out = l
            .flash(&regions(&parts), job(), USJ, Some(&stub), 4 << 20)
            .await
            .unwrap();
        assert!(out.report.verified);
        assert_eq!(out.restart, Some(Restart::ResetLine));
        // One boot: the reset into the new firmware. None in the middle of the write.
        assert_eq!(l.port().device().boots(), boots + 1);
        assert!(
            l.port().now() > Duration::from_secs(12),
            "a write longer than both timeouts: {:?}",
            l.port().now()
        );
    });
}

/// Connects and identifies the chip without `detect()` (which would tame the watchdogs).
async fn connect_only(l: &mut Loader<SimPort>) {
    l.connect(USJ, 3).await.unwrap();
    l.detect_chip().await.unwrap();
}

#[test]
fn the_super_watchdog_alone_reboots_the_chip_in_download_mode() {
    block_on(async {
        let mut l = supermini();
        connect_only(&mut l).await;
        // Only the RTC watchdog is disabled.
        let usb = Chip::Esp32C3.native_usb().unwrap();
        l.write_reg(usb.rtc_wdt.wprotect, WDT_KEY).await.unwrap();
        l.write_reg(usb.rtc_wdt.config0, 0).await.unwrap();
        l.write_reg(usb.rtc_wdt.wprotect, 0).await.unwrap();
        let boots = l.port().device().boots();
        l.port_mut().sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            l.port().device().boots(),
            boots + 1,
            "the super watchdog fired"
        );
        assert_eq!(
            l.port().device().state(),
            "app",
            "and the firmware runs again"
        );
        assert!(matches!(
            l.read_reg(MAGIC_REG).await,
            Err(Error::Timeout(_))
        ));
    });
}

#[test]
fn the_rtc_watchdog_alone_reboots_the_chip_in_download_mode() {
    block_on(async {
        let mut l = supermini();
        connect_only(&mut l).await;
        let swd = Chip::Esp32C3.native_usb().unwrap().swd.unwrap();
        l.write_reg(swd.wprotect, swd.key).await.unwrap();
        l.write_reg(swd.conf, swd.auto_feed).await.unwrap();
        l.write_reg(swd.wprotect, 0).await.unwrap();
        let boots = l.port().device().boots();
        l.port_mut().sleep(Duration::from_secs(5)).await;
        assert_eq!(l.port().device().boots(), boots, "not yet");
        l.port_mut().sleep(Duration::from_secs(5)).await;
        assert_eq!(
            l.port().device().boots(),
            boots + 1,
            "the RTC watchdog fired"
        );
    });
}

#[test]
fn writes_without_the_key_do_not_disable_the_watchdogs() {
    block_on(async {
        let mut l = supermini();
        connect_only(&mut l).await;
        let usb = Chip::Esp32C3.native_usb().unwrap();
        l.write_reg(usb.rtc_wdt.config0, 0).await.unwrap();
        let swd = usb.swd.unwrap();
        l.write_reg(swd.conf, swd.auto_feed).await.unwrap();
        assert!(l.port().device().watchdog_armed());
    });
}

#[test]
fn a_port_the_browser_cannot_name_is_asked_for_its_console() {
    block_on(async {
        // Unknown USB ids: the ROM's UARTDEV_BUF_NO says USB-Serial-JTAG, so the watchdogs go.
        let mut l = supermini();
        l.prepare(None, None).await.unwrap();
        assert!(!l.port().device().watchdog_armed());
        // The same chip behind a UART bridge: nothing to do, nothing written.
        let mut config = DeviceConfig::new(Chip::Esp32C3);
        config.firmware_arms_watchdogs = true;
        let mut l = Loader::new(SimPort::new(Device::new(config)));
        l.connect(None, 3).await.unwrap();
        l.detect_chip().await.unwrap();
        assert!(!l.disable_watchdogs().await.unwrap());
    });
}

fn tinyusb(serial: [u8; 6]) -> UsbId {
    UsbId {
        vid: 0x303A,
        pid: 0x4001,
        serial: Some(serial.iter().map(|b| format!("{b:02X}")).collect()),
    }
}

/// Waits (virtually) for the board's USB device to come back, then opens it.
async fn reopen(port: &mut SimPort) -> UsbId {
    for _ in 0..50 {
        port.idle(Duration::from_millis(100)).await;
        if let Some(id) = port.reopen() {
            return id;
        }
    }
    panic!("the board never came back");
}

async fn hello(port: &mut SimPort) -> String {
    let mut repl = Repl::new(port);
    repl.interrupt().await.unwrap();
    let out = repl
        .exec("print('hello')", Duration::from_secs(5))
        .await
        .unwrap();
    out.stdout_text()
}

#[test]
fn s2_on_usb_otg_leaves_the_rom_by_watchdog_and_comes_back_as_micropython() {
    block_on(async {
        // Held in download mode by its BOOT button: the ROM's own USB-OTG CDC port.
        let dev = device(Chip::Esp32S2, ResetWiring::UsbOtg, StartMode::Download);
        let mac = DeviceConfig::new(Chip::Esp32S2).mac;
        let mut l = Loader::new(SimPort::new(dev));
        assert_eq!(l.port().usb_id().map(|id| id.pid), Some(0x0002));
        let stub = stub_for(Chip::Esp32S2, 100);
        l.prepare(OTG, Some(&stub)).await.unwrap();
        let parts = micropython_regions(Chip::Esp32S2, 300_000);
        let out = l
            .flash(&regions(&parts), job(), OTG, Some(&stub), 4 << 20)
            .await
            .unwrap();
        assert!(out.report.verified);
        assert_eq!(out.restart, Some(Restart::Watchdog));
        let mut port = l.into_port();
        // The ROM's device is gone ...
        assert_eq!(
            port.write(b"\r").await,
            Err(PortError::Disconnected),
            "the old port died"
        );
        // ... and MicroPython's TinyUSB device appears.
        assert_eq!(reopen(&mut port).await, tinyusb(mac));
        assert_eq!(hello(&mut port).await, "hello\r\n");
    });
}

#[test]
fn reset_lines_do_nothing_on_the_roms_usb_otg_port() {
    block_on(async {
        let dev = device(Chip::Esp32S2, ResetWiring::UsbOtg, StartMode::Download);
        let mut l = Loader::new(SimPort::new(dev));
        l.prepare(OTG, None).await.unwrap();
        let boots = l.port().device().boots();
        l.hard_reset(OTG).await.unwrap();
        l.port_mut().sleep(Duration::from_millis(300)).await;
        assert_eq!(
            l.port().device().boots(),
            boots,
            "RTS reaches no reset circuit"
        );
        assert_eq!(l.port().device().state(), "rom");
    });
}

#[test]
fn s3_micropython_enters_its_bootloader_and_the_flash_clears_force_download() {
    block_on(async {
        let mut dev = device(Chip::Esp32S3, ResetWiring::UsbOtg, StartMode::Reset);
        install(&mut dev);
        let mac = DeviceConfig::new(Chip::Esp32S3).mac;
        let mut port = SimPort::new(dev);
        assert_eq!(port.usb_id(), Some(&tinyusb(mac)), "MicroPython's TinyUSB");
        {
            let mut repl = Repl::new(&mut port);
            repl.interrupt().await.unwrap();
        }
        port.write(b"import machine; machine.bootloader()\r")
            .await
            .unwrap();
        port.sleep(Duration::from_millis(200)).await;
        assert_eq!(port.write(b"\r").await, Err(PortError::Disconnected));
        // The S3's ROM is on USB-Serial-JTAG.
        assert_eq!(reopen(&mut port).await.pid, 0x1001);
        let mut l = Loader::new(port);
        let stub = stub_for(Chip::Esp32S3, 2);
        l.prepare(USJ, Some(&stub)).await.unwrap();
        let parts = micropython_regions(Chip::Esp32S3, 200_000);
        let out = l
            .flash(&regions(&parts), job(), USJ, Some(&stub), 4 << 20)
            .await
            .unwrap();
        assert_eq!(out.restart, Some(Restart::ResetLine));
        let mut port = l.into_port();
        // The new firmware runs and brings up its own USB again.
        assert_eq!(reopen(&mut port).await, tinyusb(mac));
        assert_eq!(hello(&mut port).await, "hello\r\n");
    });
}

#[test]
fn without_clearing_force_download_the_s3_returns_to_the_rom() {
    block_on(async {
        let mut dev = device(Chip::Esp32S3, ResetWiring::UsbOtg, StartMode::Reset);
        install(&mut dev);
        let mut port = SimPort::new(dev);
        port.write(b"\x03import machine; machine.bootloader()\r")
            .await
            .unwrap();
        port.sleep(Duration::from_millis(200)).await;
        assert_eq!(reopen(&mut port).await.pid, 0x1001);
        let mut l = Loader::new(port);
        l.prepare(USJ, None).await.unwrap();
        // A plain reset (what a host that does not clear the flag does).
        l.hard_reset(USJ).await.unwrap();
        l.port_mut().sleep(Duration::from_millis(300)).await;
        assert_eq!(l.port().device().state(), "rom");
        assert_eq!(l.port().device().usb_id().map(|id| id.pid), Some(0x1001));
    });
}

#[test]
fn esptools_reset_pattern_asks_tinyusb_micropython_for_the_bootloader() {
    block_on(async {
        let mut dev = device(Chip::Esp32S2, ResetWiring::UsbOtg, StartMode::Reset);
        install(&mut dev);
        let mut port = SimPort::new(dev);
        // A plain RTS pulse does nothing there ...
        let lines = |dtr, rts| webflash::port::Signals { dtr, rts };
        port.set_signals(lines(false, true)).await.unwrap();
        port.set_signals(lines(false, false)).await.unwrap();
        port.sleep(Duration::from_millis(400)).await;
        assert_eq!(port.device().state(), "app");
        // ... esptool's pattern does, 250 ms later.
        port.set_signals(lines(false, true)).await.unwrap();
        port.set_signals(lines(true, false)).await.unwrap();
        port.sleep(Duration::from_millis(300)).await;
        assert_eq!(port.device().state(), "rom");
        assert_eq!(reopen(&mut port).await.pid, 0x0002);
    });
}

#[test]
fn the_esp32_rom_needs_its_baud_request_scaled_by_its_clock_estimate() {
    block_on(async {
        let mut config = DeviceConfig::new(Chip::Esp32);
        config.start = StartMode::Download;
        let mut l = Loader::new(SimPort::new(Device::new(config)));
        l.connect(Some(ResetWiring::UartBridge), 3).await.unwrap();
        l.detect_chip().await.unwrap();
        // Scaled (what the loader does): the link works at the new rate.
        l.change_baud(921_600).await.unwrap();
        assert_eq!(l.port().device().uart_baud(), 921_600);

        // Unscaled: the ROM's UART runs 5 % slow and nothing gets through.
        let mut config = DeviceConfig::new(Chip::Esp32);
        config.start = StartMode::Download;
        let mut l = Loader::new(SimPort::new(Device::new(config)));
        l.connect(Some(ResetWiring::UartBridge), 3).await.unwrap();
        l.detect_chip().await.unwrap();
        let raw = Command::ChangeBaud {
            new_baud: 921_600,
            old_baud: 0,
        };
        l.port_mut()
            .write(&slip::encode(&raw.encode()))
            .await
            .unwrap();
        l.port_mut().sleep(Duration::from_millis(20)).await;
        l.port_mut().set_baud(921_600).await.unwrap();
        l.port_mut().discard_input().await.unwrap();
        assert_ne!(l.port().device().uart_baud(), 921_600);
        assert!(l.read_reg(MAGIC_REG).await.is_err());
    });
}

#[test]
fn a_stub_built_for_another_chip_never_starts() {
    block_on(async {
        let mut config = DeviceConfig::new(Chip::Esp32);
        config.start = StartMode::Download;
        let mut l = Loader::new(SimPort::new(Device::new(config)));
        l.connect(Some(ResetWiring::UartBridge), 3).await.unwrap();
        l.detect().await.unwrap();
        let boots = l.port().device().boots();
        // The C3's stub loads at 0x40380000, which is no RAM on an ESP32.
        let wrong = common::stub(Chip::Esp32C3);
        assert!(l.run_stub(&wrong, false).await.is_err());
        assert_eq!(
            l.port().device().boots(),
            boots + 1,
            "the chip faulted and rebooted"
        );
        // Its own stub works after a reconnect.
        l.connect(Some(ResetWiring::UartBridge), 3).await.unwrap();
        l.detect().await.unwrap();
        l.run_stub(&common::stub(Chip::Esp32), false).await.unwrap();
    });
}

#[test]
fn without_an_arming_firmware_download_mode_stays_put_on_usb_jtag() {
    block_on(async {
        let mut dev = device(Chip::Esp32C3, ResetWiring::UsbJtagSerial, StartMode::Reset);
        install(&mut dev);
        let mut l = Loader::new(SimPort::new(dev));
        connect_only(&mut l).await;
        let boots = l.port().device().boots();
        l.port_mut().sleep(Duration::from_secs(12)).await;
        assert_eq!(l.port().device().boots(), boots);
        assert_eq!(l.read_reg(MAGIC_REG).await.unwrap(), 0x1B31_506F);
    });
}

#[test]
fn after_a_manual_boot_entry_usb_jtag_reset_keeps_download_mode_and_the_check_says_so() {
    block_on(async {
        // The student held BOOT while plugging in: the strap was latched low.
        let dev = device(
            Chip::Esp32C3,
            ResetWiring::UsbJtagSerial,
            StartMode::Download,
        );
        let mut l = Loader::new(SimPort::new(dev));
        let stub = stub_for(Chip::Esp32C3, 4);
        l.prepare(USJ, Some(&stub)).await.unwrap();
        let parts = micropython_regions(Chip::Esp32C3, 100_000);
        let out = l
            .flash(&regions(&parts), job(), USJ, Some(&stub), 4 << 20)
            .await
            .unwrap();
        assert_eq!(out.restart, Some(Restart::ResetLine));
        // USB-Serial-JTAG's reset restarts the CPU only: the ROM runs again, and says so.
        assert_eq!(l.port().device().state(), "rom");
        let mut repl = Repl::new(l.into_port());
        let verdict = repl.watch_boot(Duration::from_secs(2)).await.unwrap();
        let problem = verdict.unwrap_err();
        assert!(
            problem
                .to_string()
                .contains("press the board's RESET (EN) button"),
            "{problem}"
        );
    });
}
