//! The PICOBOOT client against the simulated RP2040/RP2350 BOOTSEL ROM (`src/sim/picoboot.rs`):
//! a UF2 installed, read back and compared, the chip rebooting into it; what the ROM refuses
//! (and that the next command works after it); a bad cell caught by the read-back; an unplug
//! mid-write, then a clean second attempt; the flash size found as picotool finds it; a whole
//! flash read for a backup.

mod common;

use common::firmware_like;
use webflash::boards::picoboot::{code, Command, FLASH_BASE};
use webflash::boards::rp2::{self, Rp2Chip};
use webflash::boards::uf2::{self, family};
use webflash::picoboot::{Picoboot, PicobootError};
use webflash::sim::block_on;
use webflash::sim::picoboot::PicobootSim;
use webflash::sim::rp2::{bootable_image, AfterReboot, Bootsel};
use webflash::usb_device::UsbDevice;

const MB: usize = 1 << 20;

/// A MicroPython-like image for `chip` (bootable, with a banner) of `len` bytes, as a UF2.
fn uf2_for(chip: Rp2Chip, len: usize, banner: &str) -> (Vec<u8>, Vec<u8>) {
    let mut image = bootable_image(chip, banner, 4096);
    image.extend(firmware_like(len - image.len(), 5));
    let fam = match chip {
        Rp2Chip::Rp2040 => family::RP2040,
        Rp2Chip::Rp2350 => family::RP2350_ARM_S,
    };
    (uf2::build(&image, FLASH_BASE, fam), image)
}

fn pico(chip: Rp2Chip, flash: &[u8]) -> Picoboot<PicobootSim> {
    let size = match chip {
        Rp2Chip::Rp2040 => 2 * MB,
        Rp2Chip::Rp2350 => 4 * MB,
    };
    Picoboot::new(PicobootSim::new(Bootsel::new(chip, size, flash)), 1, chip)
}

#[test]
fn a_uf2_is_installed_read_back_and_the_pico_reboots_into_it() {
    for chip in [Rp2Chip::Rp2040, Rp2Chip::Rp2350] {
        block_on(async {
            let banner = "MicroPython v1.25.0 on 2025-04-15; Raspberry Pi Pico with RP2040";
            let (file, image) = uf2_for(chip, 300 * 1024 + 512, banner);
            rp2::check(&file, chip, None).unwrap();
            // Files at the end of the flash: an update must not touch them.
            let mut flash = vec![0xFF; 2 * MB];
            flash[MB + 5..MB + 11].copy_from_slice(b"files!");
            let mut p = pico(chip, &flash);
            p.connect().await.unwrap();
            assert_eq!(
                p.device().exclusive,
                1,
                "the drive takes no writes meanwhile"
            );
            let mut phases = Vec::new();
            let done = p
                .install(&rp2::pages(&file, chip), |what, _, _| {
                    if phases.last() != Some(&what.to_string()) {
                        phases.push(what.to_string());
                    }
                })
                .await
                .unwrap();
            assert!(done.verified);
            assert_eq!(phases, ["write", "verify"]);
            assert_eq!(done.sectors_erased, image.len().div_ceil(4096));
            let sim = p.device();
            assert_eq!(
                sim.erases, done.sectors_erased,
                "only the sectors the image covers"
            );
            assert_eq!(
                sim.without_exit_xip, 0,
                "EXIT_XIP before every flash change"
            );
            assert_eq!(&sim.rom.flash()[..image.len()], &image[..]);
            // The last sector was partly the image's: its tail kept what it held (erased).
            assert!(
                sim.rom.flash()[image.len()..image.len().next_multiple_of(4096)]
                    .iter()
                    .all(|&b| b == 0xFF)
            );
            assert_eq!(&sim.rom.flash()[MB + 5..MB + 11], b"files!");
            p.reboot().await.unwrap();
            p.device_mut()
                .sleep(std::time::Duration::from_millis(600))
                .await;
            assert!(p.device().rebooted());
            assert_eq!(p.device().rom.after_reboot(), AfterReboot::RunsFlash);
            assert_eq!(p.device().rom.micropython_banner().as_deref(), Some(banner));
        });
    }
}

#[test]
fn the_rom_refuses_what_it_refuses_and_the_next_command_works() {
    block_on(async {
        let mut p = pico(Rp2Chip::Rp2350, &[]);
        p.connect().await.unwrap();
        // Unaligned reads and writes, addresses outside flash: the status says which.
        let err = p.read(FLASH_BASE + 3, 256).await.unwrap_err();
        assert_eq!(
            err,
            PicobootError::Refused {
                what: "reading 0x10000003".into(),
                code: code::BAD_ALIGNMENT
            }
        );
        let err = p.read(0x3000_0000, 256).await.unwrap_err();
        assert!(
            matches!(
                err,
                PicobootError::Refused {
                    code: code::INVALID_ADDRESS,
                    ..
                }
            ),
            "{err:?}"
        );
        // After each refusal the interface was reset: reading works again.
        assert_eq!(p.read(FLASH_BASE, 256).await.unwrap(), vec![0xFF; 256]);
        // A command block that is not one stalls both endpoints; only a reset brings them back.
        let mut dev = p.into_device();
        assert!(dev.bulk_out(3, &[1, 2, 3]).await.is_ok());
        assert!(dev.bulk_out(3, &Command::ExitXip.encode(1)).await.is_err());
        let mut p = Picoboot::new(dev, 1, Rp2Chip::Rp2350);
        p.connect().await.unwrap();
        assert_eq!(p.read(FLASH_BASE, 256).await.unwrap().len(), 256);
        // The ROM's magic is readable (picotool identifies the chip by it).
        assert_eq!(p.read(0x10, 4).await.unwrap(), [0x4D, 0x75, 0x02, 0x02]);
    });
}

#[test]
fn a_bad_cell_is_caught_by_the_read_back_and_nothing_is_called_verified() {
    block_on(async {
        let (file, _) = uf2_for(Rp2Chip::Rp2040, 64 * 1024, "MicroPython v1.25.0 on x");
        let mut p = pico(Rp2Chip::Rp2040, &[]);
        p.connect().await.unwrap();
        p.device_mut().faults.flip_after_write = Some(FLASH_BASE + 40_000);
        let err = p
            .install(&rp2::pages(&file, Rp2Chip::Rp2040), |_, _, _| {})
            .await
            .unwrap_err();
        assert_eq!(
            err,
            PicobootError::Verify {
                address: FLASH_BASE
            }
        );
        assert!(err.to_string().contains("NOT verified"));
    });
}

#[test]
fn unplugged_mid_write_then_a_clean_second_attempt() {
    block_on(async {
        let (file, image) = uf2_for(Rp2Chip::Rp2040, 200 * 1024, "MicroPython v1.25.0 on x");
        let pages = rp2::pages(&file, Rp2Chip::Rp2040);
        let mut p = pico(Rp2Chip::Rp2040, &[]);
        p.connect().await.unwrap();
        p.device_mut().faults.unplug_after_written = Some(100 * 1024);
        let err = p.install(&pages, |_, _, _| {}).await.unwrap_err();
        assert_eq!(
            err,
            PicobootError::Usb(webflash::usb_device::UsbError::Disconnected)
        );
        assert!(err.to_string().contains("NOT verified"));
        // Plugged back in with BOOTSEL held: the same flash, a fresh ROM state.
        let half = p.into_device().rom.flash().to_vec();
        let mut p = pico(Rp2Chip::Rp2040, &half);
        p.connect().await.unwrap();
        assert!(p.install(&pages, |_, _, _| {}).await.unwrap().verified);
        assert_eq!(&p.device().rom.flash()[..image.len()], &image[..]);
    });
}

#[test]
fn the_flash_size_is_found_as_picotool_finds_it_and_a_backup_reads_all_of_it() {
    block_on(async {
        let (file, _) = uf2_for(Rp2Chip::Rp2040, 64 * 1024, "MicroPython v1.25.0 on x");
        let mut p = pico(Rp2Chip::Rp2040, &[]);
        p.connect().await.unwrap();
        // Blank flash reads the same everywhere: its size cannot be told.
        assert_eq!(p.flash_size().await.unwrap(), None);
        assert_eq!(
            p.read_flash(|_, _| {}).await.unwrap_err(),
            PicobootError::UnknownSize
        );
        p.install(&rp2::pages(&file, Rp2Chip::Rp2040), |_, _, _| {})
            .await
            .unwrap();
        assert_eq!(p.flash_size().await.unwrap(), Some(2 * MB as u32));
        let all = p.read_flash(|_, _| {}).await.unwrap();
        assert_eq!(all.len(), 2 * MB);
        assert_eq!(&all[..], p.device().rom.flash());
    });
}

#[test]
fn a_misaligned_erase_is_refused_by_the_rp2350_and_silently_skipped_by_the_rp2040() {
    block_on(async {
        let erase = Command::FlashErase {
            address: FLASH_BASE + 256,
            size: 4096,
        };
        // RP2350: the status says BAD_ALIGNMENT and the ack endpoint stalls.
        let mut dev = pico(Rp2Chip::Rp2350, &[0u8; 8192]).into_device();
        dev.bulk_out(3, &erase.encode(1)).await.unwrap();
        assert!(dev.bulk_in(4, 64).await.is_err());
        // RP2040 (its ROM's no-data path): acknowledged, nothing erased, status OK — only a
        // read-back can tell, which is why the client reads back and never sends one.
        let mut dev = pico(Rp2Chip::Rp2040, &[0u8; 8192]).into_device();
        dev.bulk_out(3, &erase.encode(1)).await.unwrap();
        assert_eq!(dev.bulk_in(4, 64).await.unwrap(), Vec::<u8>::new());
        assert_eq!(dev.erases, 0);
        assert!(dev.rom.flash()[..8192].iter().all(|&b| b == 0));
    });
}

#[test]
fn a_whole_flash_backup_restores_byte_exact_and_another_chips_is_refused() {
    use webflash::boards::rp2_backup::{Backup, BackupError};
    block_on(async {
        let (file, _) = uf2_for(Rp2Chip::Rp2040, 128 * 1024, "MicroPython v1.24.1 on x");
        let mut flash = vec![0xFF; 2 * MB];
        flash[MB..MB + 6].copy_from_slice(b"files!");
        let mut p = pico(Rp2Chip::Rp2040, &flash);
        p.connect().await.unwrap();
        p.install(&rp2::pages(&file, Rp2Chip::Rp2040), |_, _, _| {})
            .await
            .unwrap();
        let saved = p.read_flash(|_, _| {}).await.unwrap();
        let backup = Backup {
            chip: Rp2Chip::Rp2040,
            unique_id: "E6613852834A202C".into(),
            date: "2026-12-06".into(),
            flash: saved.clone(),
        };
        let bytes = backup.encode();
        // Later: another firmware and other files.
        let (other, _) = uf2_for(Rp2Chip::Rp2040, 300 * 1024, "MicroPython v1.25.0 on x");
        p.install(&rp2::pages(&other, Rp2Chip::Rp2040), |_, _, _| {})
            .await
            .unwrap();
        assert_ne!(p.device().rom.flash(), &saved[..]);
        // Restored from the file: byte-exact, read back whole.
        let back = Backup::decode(&bytes).unwrap();
        let size = p.flash_size().await.unwrap().map(|s| s as usize);
        back.fits(Rp2Chip::Rp2040, size).unwrap();
        assert!(
            p.install(&back.pages(), |_, _, _| {})
                .await
                .unwrap()
                .verified
        );
        assert_eq!(p.device().rom.flash(), &saved[..]);
        // An RP2350's backup is refused on an RP2040 before anything is written.
        let mut pico2 = pico(Rp2Chip::Rp2350, &bootable_image(Rp2Chip::Rp2350, "x", 4096));
        pico2.connect().await.unwrap();
        let of_pico2 = Backup {
            chip: Rp2Chip::Rp2350,
            flash: pico2.read_flash(|_, _| {}).await.unwrap(),
            ..backup
        };
        assert!(matches!(
            of_pico2.fits(Rp2Chip::Rp2040, size),
            Err(BackupError::OtherChip { .. })
        ));
    });
}

#[test]
fn a_cancelled_install_stops_between_sectors_says_so_and_the_next_one_works() {
    block_on(async {
        let (file, image) = uf2_for(Rp2Chip::Rp2040, 64 * 1024, "MicroPython v1.25.0 on x");
        let pages = rp2::pages(&file, Rp2Chip::Rp2040);
        let mut p = pico(Rp2Chip::Rp2040, &[]);
        p.connect().await.unwrap();
        let written = std::cell::Cell::new(0);
        let err = p
            .install_unless(
                &pages,
                |_, done, _| written.set(done),
                || written.get() >= 3,
            )
            .await
            .unwrap_err();
        assert_eq!(
            err,
            PicobootError::Cancelled {
                written: 4,
                sectors: 16
            }
        );
        assert!(err.to_string().contains("incomplete and NOT verified"));
        assert_eq!(
            p.device().erases,
            4,
            "stopped between sectors, not inside one"
        );
        assert_eq!(p.device().exclusive, 0, "the drive works again");
        p.connect().await.unwrap();
        assert!(p.install(&pages, |_, _, _| {}).await.unwrap().verified);
        assert_eq!(&p.device().rom.flash()[..image.len()], &image[..]);
    });
}
