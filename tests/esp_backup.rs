//! The ESP's whole-flash backup and restore against the simulated chip: the backup is the
//! flash byte for byte and saved only when complete; a restore sends only what differs, ends
//! with the flash exactly as backed up (checked by MD5) and the board restarted; a backup of
//! another chip or flash size is refused before anything is written.

mod common;

use common::{firmware_like, stub};
use webflash::firmware::esp_backup::{EspBackup, EspBackupError};
use webflash::loader::{Baud, Error, Event, Loader, Stage};
use webflash::protocol::chip::Chip;
use webflash::sim::{block_on, Device, DeviceConfig, SimPort, StartMode};
use webflash::usb::ResetWiring;

const UART: Option<ResetWiring> = Some(ResetWiring::UartBridge);

/// A board with 2 MB of flash holding `flash`, in its bootloader with the stub running.
fn ready(chip: Chip, flash: &[u8]) -> Loader<SimPort> {
    let mut config = DeviceConfig::new(chip);
    config.flash_size = flash.len() as u32;
    config.start = StartMode::Reset;
    let mut dev = Device::new(config);
    dev.load_flash(flash);
    let mut l = Loader::new(SimPort::new(dev));
    block_on(l.prepare_with(UART, Some(&stub(chip)), Some(Baud::Auto { max: 921_600 }))).unwrap();
    l
}

#[test]
fn a_backup_is_the_flash_and_a_restore_puts_back_only_what_differs() {
    let original = firmware_like(2 << 20, 17);
    let mut l = ready(Chip::Esp32C3, &original);
    let size = l.chip().map(|_| 2u32 << 20).unwrap();
    let flash = block_on(l.read_flash(0, size)).unwrap();
    assert!(flash == original, "the backup is the flash byte for byte");
    let backup = EspBackup {
        chip: Chip::Esp32C3,
        mac: "24:0a:c4:12:34:56".into(),
        date: "2026-12-06".into(),
        flash,
    };
    let file = backup.encode();
    // The board gets 300 KB of something else at 0x10000.
    let other = firmware_like(300 << 10, 18);
    let mut changed = original.clone();
    changed[0x10000..0x10000 + other.len()].copy_from_slice(&other);
    l.port_mut().device_mut().load_flash(&changed);
    // Restored from the file.
    let back = EspBackup::decode(&file).unwrap();
    back.fits(Chip::Esp32C3, 2 << 20).unwrap();
    let stub = stub(Chip::Esp32C3);
    let boots = l.port().device().boots();
    let out =
        block_on(l.restore_flash(&back.flash, Baud::Auto { max: 921_600 }, UART, Some(&stub)))
            .unwrap();
    assert!(out.report.verified);
    assert!(
        l.port().device().flash() == &original[..],
        "restored byte for byte"
    );
    // Only the 64 KiB blocks that differed went over the wire (5 of 32).
    assert_eq!(out.report.written, 5 * 0x10000, "{:?}", out.report);
    assert_eq!(out.report.skipped, (2 << 20) - 5 * 0x10000);
    assert!(
        l.port().device().boots() > boots,
        "restarted into what it held"
    );
    assert_ne!(l.port().device().state(), "stub", "no longer in the loader");
}

#[test]
fn a_backup_of_another_chip_or_size_is_refused_before_anything_is_written() {
    let c3 = EspBackup {
        chip: Chip::Esp32C3,
        mac: "24:0a:c4:12:34:56".into(),
        date: "2026-12-06".into(),
        flash: firmware_like(2 << 20, 3),
    };
    let err = c3.fits(Chip::Esp32, 2 << 20).unwrap_err();
    assert!(matches!(err, EspBackupError::OtherChip { .. }));
    assert!(
        err.to_string()
            .contains("ESP32-C3, but the board is an ESP32"),
        "{err}"
    );
    let err = c3.fits(Chip::Esp32C3, 4 << 20).unwrap_err();
    assert!(
        err.to_string()
            .contains("2048 KB of flash, but this board has 4096 KB"),
        "{err}"
    );
}

#[test]
fn a_cancelled_backup_returns_no_flash() {
    let mut l = ready(Chip::Esp32, &firmware_like(2 << 20, 5));
    let token = l.cancel_token();
    l.on_event(move |e| {
        if let Event::Progress {
            stage: Stage::Reading,
            done,
            ..
        } = e
        {
            if done >= 512 << 10 {
                token.cancel();
            }
        }
    });
    let read = block_on(l.read_flash(0, 2 << 20));
    assert_eq!(read, Err(Error::Cancelled));
    // The stub was left listening: the next backup reads everything.
    l.on_event(|_| {});
    l.cancel_token().reset();
    let again = block_on(l.read_flash(0, 2 << 20)).unwrap();
    assert!(
        again == l.port().device().flash(),
        "a backup after a cancelled one is whole"
    );
}
