//! The app's two jobs against the simulator: prepare a board, then flash it end to end.

mod common;

use common::{firmware_like, stub};
use webflash::loader::{Baud, FlashJob, Loader};
use webflash::protocol::chip::Chip;
use webflash::sim::micropython::micropython_image;
use webflash::sim::{block_on, Device, DeviceConfig, SimPort};
use webflash::usb::ResetWiring;

fn loader(chip: Chip, max_baud: u32) -> Loader<SimPort> {
    let mut config = DeviceConfig::new(chip);
    config.max_baud = max_baud;
    Loader::new(SimPort::new(Device::new(config)))
}

/// Firmware the simulated chip boots: MicroPython's parts (bootloader, partition table, app).
fn bootable(chip: Chip) -> Vec<(u32, Vec<u8>)> {
    micropython_image(chip.spec())
        .into_iter()
        .map(|(at, bytes)| (at as u32, bytes))
        .collect()
}

#[test]
fn prepare_then_flash_verifies_and_boots_the_new_firmware() {
    for chip in [Chip::Esp32, Chip::Esp32C3, Chip::Esp32S3, Chip::Esp8266] {
        block_on(async {
            let mut l = loader(chip, 3_000_000);
            let stub = stub(chip);
            let ready = l
                .prepare(Some(ResetWiring::UartBridge), Some(&stub))
                .await
                .unwrap();
            assert_eq!(ready.info.chip, chip);
            assert!(ready.stub);
            let parts = bootable(chip);
            let job = FlashJob {
                baud: Baud::Auto { max: 921_600 },
                erase_all: true,
                reset_after: true,
                clear: None,
            };
            let regions: Vec<_> = parts
                .iter()
                .map(|(offset, data)| webflash::loader::Region {
                    offset: *offset,
                    data,
                })
                .collect();
            let out = l
                .flash(
                    &regions,
                    job,
                    Some(ResetWiring::UartBridge),
                    Some(&stub),
                    4 << 20,
                )
                .await
                .unwrap();
            assert!(out.report.verified);
            assert_eq!(out.baud, 921_600);
            let dev = l.port().device();
            let mut expected = vec![0xFF; 4 << 20];
            for (offset, data) in &parts {
                expected[*offset as usize..*offset as usize + data.len()].copy_from_slice(data);
            }
            // Everything else erased (the filesystem, from 1 MB on the ESP8266 and 2 MB on the
            // others, is formatted at first boot).
            let fs_start = 0x10_0000;
            assert!(
                dev.flash()[..fs_start] == expected[..fs_start],
                "{chip}: the parts written, the rest erased"
            );
            assert_eq!(
                dev.state(),
                "app",
                "{chip}: the board runs the new firmware"
            );
        });
    }
}

#[test]
fn auto_baud_steps_down_when_the_link_cannot_keep_up() {
    block_on(async {
        let mut l = loader(Chip::Esp32, 460_800);
        let notes = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let sink = notes.clone();
        l.on_event(move |e| {
            if let webflash::loader::Event::Note(n) = e {
                sink.borrow_mut().push(n)
            }
        });
        let stub = stub(Chip::Esp32);
        l.prepare(Some(ResetWiring::UartBridge), Some(&stub))
            .await
            .unwrap();
        let image = firmware_like(50_000, 21);
        let job = FlashJob {
            baud: Baud::Auto { max: 921_600 },
            erase_all: false,
            reset_after: false,
            clear: None,
        };
        let regions = [webflash::loader::Region {
            offset: 0x1000,
            data: &image,
        }];
        let out = l
            .flash(
                &regions,
                job,
                Some(ResetWiring::UartBridge),
                Some(&stub),
                4 << 20,
            )
            .await
            .unwrap();
        assert_eq!(out.baud, 460_800);
        assert!(out.report.verified);
        assert!(
            notes
                .borrow()
                .iter()
                .any(|n| n.contains("921600 baud did not work")),
            "{:?}",
            notes.borrow()
        );
    });
}
