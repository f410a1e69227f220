//! The loader against the simulated device, for every chip in the table, ROM-only and with the
//! flasher stub: connect, detect, write (compressed and not), verify, read back, erase.

mod common;

use common::{board, firmware_like, stub};
use webflash::loader::{Error, Region, Responder, WriteOptions};
use webflash::port::Port;
use webflash::protocol::chip::{Chip, CHIPS};
use webflash::protocol::stub::StubImage;
use webflash::sim::block_on;
use webflash::usb::ResetWiring;

/// Compares without printing megabytes: the first differing offset is enough.
fn assert_same(actual: &[u8], expected: &[u8], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    if let Some(i) = actual.iter().zip(expected).position(|(a, b)| a != b) {
        panic!(
            "{what}: first difference at +0x{i:x}: {:02x?} != {:02x?}",
            &actual[i..(i + 8).min(actual.len())],
            &expected[i..(i + 8).min(expected.len())]
        );
    }
}

const MAC: [u8; 6] = [0x24, 0x0A, 0xC4, 0x12, 0x34, 0x56];

fn exercise(chip: Chip, use_stub: bool) {
    block_on(async {
        let mut l = board(chip, ResetWiring::UartBridge);
        let sync = l
            .connect(Some(ResetWiring::UartBridge), 7)
            .await
            .expect("connect");
        assert!(!sync.stub_already_running);
        let info = l.detect().await.expect("detect");
        assert_eq!(info.chip, chip);
        assert_eq!(info.mac, MAC);
        assert_eq!(info.flash_size, Some(4 << 20));
        if use_stub {
            l.run_stub(&stub(chip), false).await.expect("stub");
            assert_eq!(l.responder(), Responder::Stub);
        }
        l.set_flash_size(4 << 20).await.unwrap();
        let spec = chip.spec();
        let can_verify = use_stub || spec.rom_has_md5;

        let app = firmware_like(48 * 1024 + 3, 1);
        let small = firmware_like(1000, 2);
        let regions = [
            Region {
                offset: 0x10000,
                data: &app,
            },
            Region {
                offset: 0x8400,
                data: &small,
            },
        ];
        if !can_verify {
            // Without MD5 a verified write is refused before anything is written...
            let refused = l.write_flash(&regions, WriteOptions::default()).await;
            assert!(matches!(refused, Err(Error::Unsupported(_))), "{refused:?}");
            assert!(l.port().device().flash().iter().all(|&b| b == 0xFF));
        }
        for compress in [true, false] {
            // ...and an unverified one must say so.
            let options = WriteOptions {
                compress,
                verify: can_verify,
                ..WriteOptions::default()
            };
            let report = l
                .write_flash(&regions, options)
                .await
                .unwrap_or_else(|e| panic!("{chip} stub={use_stub} compress={compress}: {e}"));
            assert_eq!(report.verified, can_verify);
            assert_eq!(report.restarts, 0);
            let flash = l.port().device().flash();
            assert_same(
                &flash[0x10000..0x10000 + app.len()],
                &app,
                &format!("{chip} stub={use_stub} compress={compress}"),
            );
            assert_same(&flash[0x8400..0x8400 + small.len()], &small, "small region");
            // Written regions are padded to 4 bytes with 0xFF, nothing else is touched.
            assert_eq!(flash[0x10000 + app.len()], 0xFF);
        }

        if chip != Chip::Esp8266 || use_stub {
            let back = l
                .read_flash(0x10000, if use_stub { app.len() as u32 } else { 512 })
                .await
                .expect("read");
            assert_same(&back, &app[..back.len()], "read back");
        }

        l.erase_region(0x10000, 0x4000).await.expect("erase region");
        let flash = l.port().device().flash();
        assert!(flash[0x10000..0x14000].iter().all(|&b| b == 0xFF));
        assert_same(
            &flash[0x14000..0x10000 + app.len()],
            &app[0x4000..],
            "after erase",
        );
        assert_same(
            &flash[0x8400..0x8400 + small.len()],
            &small,
            "erase must stay inside its region",
        );

        l.erase_flash(4 << 20).await.expect("erase all");
        assert!(l.port().device().flash().iter().all(|&b| b == 0xFF));
        assert!(l.port().now().as_secs_f64() > 0.0);
    });
}

#[test]
fn every_chip_rom_only() {
    for spec in CHIPS {
        exercise(spec.chip, false);
    }
}

#[test]
fn every_chip_with_stub() {
    for spec in CHIPS {
        exercise(spec.chip, true);
    }
}

#[test]
fn usb_jtag_serial_board_needs_its_own_reset() {
    block_on(async {
        let mut l = board(Chip::Esp32C3, ResetWiring::UsbJtagSerial);
        let sync = l
            .connect(Some(ResetWiring::UsbJtagSerial), 3)
            .await
            .expect("usb-jtag reset");
        assert!(
            sync.boot_log.contains("USB_UART_CHIP_RESET"),
            "{}",
            sync.boot_log
        );
        // The classic UART sequence boots such a board into its firmware instead.
        let mut l = board(Chip::Esp32C3, ResetWiring::UsbJtagSerial);
        let err = l
            .connect(Some(ResetWiring::UartBridge), 2)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::NoSync(webflash::loader::SyncFailure::WrongBootMode { .. })
            ),
            "{err}"
        );
        assert!(err.to_string().contains("Hold the BOOT button"));
    });
}

#[test]
fn unknown_bridge_tries_both_reset_kinds() {
    block_on(async {
        let mut l = board(Chip::Esp32S3, ResetWiring::UsbJtagSerial);
        let sync = l.connect(None, 7).await.expect("connect");
        assert_eq!(
            sync.strategy,
            webflash::loader::ResetStrategy::UsbJtagSerial
        );
    });
}

#[test]
fn baud_change_works_on_rom_and_stub() {
    for (chip, stub) in [
        (Chip::Esp32, false),
        (Chip::Esp32, true),
        (Chip::Esp32C3, false),
        (Chip::Esp8266, true),
    ] {
        block_on(async {
            let mut l = board(chip, ResetWiring::UartBridge);
            l.connect(Some(ResetWiring::UartBridge), 7).await.unwrap();
            l.detect().await.unwrap();
            if stub {
                l.run_stub(&common::stub(chip), false).await.unwrap();
            }
            l.change_baud(921_600)
                .await
                .unwrap_or_else(|e| panic!("{chip} stub={stub}: {e}"));
            assert_eq!(l.port().baud(), 921_600);
            assert_eq!(l.port().device().uart_baud(), 921_600);
            let data = firmware_like(20_000, 9);
            l.write_flash(
                &[Region {
                    offset: 0x20000,
                    data: &data,
                }],
                WriteOptions::default(),
            )
            .await
            .unwrap();
        });
    }
    block_on(async {
        let mut l = board(Chip::Esp8266, ResetWiring::UartBridge);
        l.connect(Some(ResetWiring::UartBridge), 7).await.unwrap();
        l.detect().await.unwrap();
        assert!(matches!(
            l.change_baud(921_600).await,
            Err(Error::Unsupported(_))
        ));
    });
}

#[test]
fn stub_left_running_is_reused() {
    block_on(async {
        let mut l = board(Chip::Esp32, ResetWiring::UartBridge);
        l.connect(Some(ResetWiring::UartBridge), 7).await.unwrap();
        l.detect().await.unwrap();
        l.run_stub(&stub(Chip::Esp32), false).await.unwrap();
        // A new session on the same board, with no reset possible (lines ignored).
        let port = l.into_port();
        let mut l = webflash::loader::Loader::new(port);
        let sync = l.connect(Some(ResetWiring::UsbOtg), 1).await.unwrap();
        assert!(sync.stub_already_running);
        assert_eq!(l.responder(), Responder::Stub);
    });
}

#[test]
fn streamed_compression_round_trips() {
    // The loader compresses in slices; the simulated stub inflates what it was sent.
    block_on(async {
        let mut l = board(Chip::Esp32, ResetWiring::UartBridge);
        l.connect(Some(ResetWiring::UartBridge), 7).await.unwrap();
        l.detect().await.unwrap();
        l.run_stub(&stub(Chip::Esp32), false).await.unwrap();
        let big = firmware_like(700_000, 77);
        let report = l
            .write_flash(
                &[Region {
                    offset: 0x10000,
                    data: &big,
                }],
                WriteOptions::default(),
            )
            .await
            .unwrap();
        assert!(
            report.sent < report.written / 2,
            "compressed: {} of {}",
            report.sent,
            report.written
        );
        assert_same(
            &l.port().device().flash()[0x10000..0x10000 + big.len()],
            &big,
            "700 KB",
        );
    });
}

/// The `.stub` files the page fetches (written by `scripts/setup.sh` from esptool's JSON) hold
/// exactly what esptool's JSON describes: entry, segment addresses and bytes.
#[test]
fn every_stub_file_matches_esptools_json() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".stubs");
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("esptool")).expect("run scripts/setup.sh app") {
        let json = entry.unwrap().path();
        if json.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let name = json.file_stem().unwrap().to_string_lossy().into_owned();
        let want = StubImage::from_json(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let bytes = std::fs::read(root.join("stubs").join(format!("{name}.stub"))).unwrap();
        assert_eq!(StubImage::from_bytes(&bytes).unwrap(), want, "{name}");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} stubs");
}
