//! The app's two jobs against the simulator: prepare a board, then flash it end to end.

mod common;

use common::{firmware_like, stub_for};
use webflash::loader::{Baud, FlashJob, Loader};
use webflash::protocol::chip::Chip;
use webflash::sim::{block_on, Device, DeviceConfig, SimPort};
use webflash::usb::ResetWiring;

fn loader(chip: Chip, max_baud: u32) -> Loader<SimPort> {
    let mut config = DeviceConfig::new(chip);
    config.max_baud = max_baud;
    Loader::new(SimPort::new(Device::new(config)))
}

/// An image that the simulated ROM will boot (magic byte at the bootloader offset).
fn bootable(len: usize) -> Vec<u8> {
    let mut image = firmware_like(len, 21);
    image[0] = 0xE9;
    image
}

#[test]
fn prepare_then_flash_verifies_and_boots_the_new_firmware() {
    for chip in [Chip::Esp32, Chip::Esp32C3, Chip::Esp32S3, Chip::Esp8266] {
        block_on(async {
            let mut l = loader(chip, 3_000_000);
            let stub = stub_for(chip);
            let ready = l
                .prepare(Some(ResetWiring::UartBridge), Some(&stub))
                .await
                .unwrap();
            assert_eq!(ready.info.chip, chip);
            assert!(ready.stub);
            let image = bootable(100_000);
            let offset = chip.spec().bootloader_offset;
            let job = FlashJob {
                baud: Baud::Auto { max: 921_600 },
                erase_all: true,
                reset_after: true,
            };
            let regions = [webflash::loader::Region {
                offset,
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
            assert!(out.report.verified);
            assert_eq!(out.baud, 921_600);
            let dev = l.port().device();
            assert_eq!(
                &dev.flash()[offset as usize..offset as usize + image.len()],
                &image[..]
            );
            assert!(
                dev.flash()[offset as usize + image.len()..]
                    .iter()
                    .all(|&b| b == 0xFF),
                "erase-all first"
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
        let stub = stub_for(Chip::Esp32);
        l.prepare(Some(ResetWiring::UartBridge), Some(&stub))
            .await
            .unwrap();
        let image = bootable(50_000);
        let job = FlashJob {
            baud: Baud::Auto { max: 921_600 },
            erase_all: false,
            reset_after: false,
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
