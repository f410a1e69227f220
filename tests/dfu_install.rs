//! The DFU client against the simulated STM32F405 bootloader (a pyboard in DFU mode): a
//! MicroPython-shaped `.dfu` installs verified, erasing only the sectors it covers (the board's
//! filesystem sectors keep their bytes); what does not fit is refused before anything is
//! erased; a flash that does not take the bytes is never reported verified; a bootloader left
//! in another state by an earlier tool is brought back; leaving DFU starts the firmware.

mod common;

use webflash::boards::dfu::file::{self, DfuFile, Element, Target};
use webflash::boards::dfu::layout;
use webflash::dfu::{Dfu, DfuError};
use webflash::sim::block_on;
use webflash::sim::stm32_dfu::{Stm32Dfu, TRANSFER_SIZE};
use webflash::usb_device::UsbDevice;

const FS: u32 = 0x0800_4000; // sectors 1-4: the pyboard's internal filesystem

fn micropython_dfu() -> DfuFile {
    file::parse(&file::build(
        &common::pyboard_targets(300_000),
        0x0483,
        0xDF11,
    ))
    .unwrap()
}

fn board_with_files() -> Stm32Dfu {
    let mut dev = Stm32Dfu::new();
    let at = (FS - 0x0800_0000) as usize;
    dev.flash[at..at + 5].copy_from_slice(b"files");
    dev
}

#[test]
fn micropython_installs_verified_and_the_filesystem_sectors_keep_their_bytes() {
    block_on(async {
        let f = micropython_dfu();
        let l = layout::parse(Stm32Dfu::new().layout_string()).unwrap();
        let mut dfu = Dfu::new(board_with_files(), 0, TRANSFER_SIZE);
        let mut phases = Vec::new();
        let done = dfu
            .install(&f, &l, false, |p, _, _| {
                if phases.last() != Some(&p.to_string()) {
                    phases.push(p.to_string())
                }
            })
            .await
            .unwrap();
        assert!(done.verified);
        assert_eq!(phases, ["erase", "write", "verify"]);
        // Sector 0 and three 128 KiB sectors from 0x08020000; sectors 1-4 untouched.
        assert_eq!(done.sectors_erased, 4);
        dfu.leave(0x0800_0000).await.unwrap();
        let dev = dfu.into_device();
        assert!(dev.left, "the firmware was started");
        for (_, e) in f.elements() {
            assert!(dev.read(e.address, e.data.len()) == &e.data[..]);
        }
        assert_eq!(dev.read(FS, 5), b"files");
        // The time it took is the datasheet's erase times plus the transfers.
        assert!(dev.now().as_secs_f64() > 0.25 + 3.0 * 1.0);
    });
}

#[test]
fn an_image_for_another_board_is_refused_before_anything_is_erased() {
    block_on(async {
        let bytes = file::build(
            &[Target {
                alt: 0,
                name: None,
                elements: vec![Element {
                    address: 0x0810_0000, // past the F405's 1 MiB (a 2 MiB F429 image)
                    data: vec![0; 4096],
                }],
            }],
            0x0483,
            0xDF11,
        );
        let f = file::parse(&bytes).unwrap();
        let l = layout::parse(layout::STM32F405).unwrap();
        let mut dfu = Dfu::new(board_with_files(), 0, TRANSFER_SIZE);
        let err = dfu.install(&f, &l, false, |_, _, _| {}).await.unwrap_err();
        assert!(matches!(err, DfuError::Fit(_)), "{err:?}");
        assert!(err.to_string().contains("Nothing was written"));
        let dev = dfu.into_device();
        assert_eq!(dev.erases, 0);
        assert_eq!(dev.read(FS, 5), b"files");
    });
}

#[test]
fn a_flash_that_does_not_take_the_bytes_is_never_reported_verified() {
    block_on(async {
        let f = micropython_dfu();
        let l = layout::parse(layout::STM32F405).unwrap();
        let mut dev = Stm32Dfu::new();
        dev.worn.push(0x0802_8000);
        let mut dfu = Dfu::new(dev, 0, TRANSFER_SIZE);
        let err = dfu.install(&f, &l, false, |_, _, _| {}).await.unwrap_err();
        assert_eq!(
            err,
            DfuError::Verify {
                address: 0x0802_0000
            }
        );
        assert!(err.to_string().contains("NOT verified"));
    });
}

#[test]
fn writing_over_bytes_that_were_not_erased_is_refused_by_the_chip() {
    block_on(async {
        let mut dfu = Dfu::new(board_with_files(), 0, TRANSFER_SIZE);
        dfu.to_idle().await.unwrap();
        let err = dfu.write(FS, b"other", |_| {}).await.unwrap_err();
        assert!(
            matches!(err, DfuError::Status { status: 0x06, .. }),
            "{err:?}"
        );
        // The client cleared the error: the bootloader takes requests again.
        dfu.erase_sector(FS).await.unwrap();
        dfu.write(FS, b"other", |_| {}).await.unwrap();
        assert_eq!(dfu.read(FS, 5).await.unwrap(), b"other");
    });
}

#[test]
fn a_bootloader_left_mid_upload_or_in_error_is_brought_back_to_idle() {
    block_on(async {
        let mut dfu = Dfu::new(Stm32Dfu::new(), 0, TRANSFER_SIZE);
        // An earlier tool read and stopped half way (dfuUPLOAD-IDLE) ...
        dfu.read(0x0800_0000, 16).await.unwrap();
        let mut dev = dfu.into_device();
        let setup = webflash::usb_device::Setup {
            request_type: 0xA1,
            request: 2,
            value: 2,
            index: 0,
        };
        dev.control_in(setup, 16).await.unwrap();
        // ... and then sent a request the state does not allow (dfuERROR).
        let bad = webflash::usb_device::Setup {
            request_type: 0x21,
            request: 9,
            value: 0,
            index: 0,
        };
        assert!(dev.control_out(bad, &[]).await.is_err());
        let mut dfu = Dfu::new(dev, 0, TRANSFER_SIZE);
        dfu.to_idle().await.unwrap();
        let f = micropython_dfu();
        let l = layout::parse(layout::STM32F405).unwrap();
        assert!(
            dfu.install(&f, &l, false, |_, _, _| {})
                .await
                .unwrap()
                .verified
        );
    });
}
