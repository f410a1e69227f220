//! Faults on the line and in the chip: every write ends either verified with the right bytes
//! in flash, or with an error. Never a success that is not true.

mod common;

use common::{board, firmware_like};
use webflash::loader::{Error, Loader, Region, SyncFailure, WriteOptions, WriteReport};
use webflash::port::PortError;
use webflash::protocol::chip::Chip;
use webflash::sim::{block_on, SimPort};
use webflash::usb::ResetWiring;

const OFFSET: u32 = 0x10000;

/// A connected loader (stub or ROM) and the byte count sent so far, so faults can be placed
/// inside the write that follows.
fn ready(chip: Chip, stub: bool) -> (Loader<SimPort>, u64) {
    block_on(async {
        let mut l = board(chip, ResetWiring::UartBridge);
        l.connect(Some(ResetWiring::UartBridge), 7).await.unwrap();
        l.detect().await.unwrap();
        if stub {
            l.run_stub(&common::stub(chip), false).await.unwrap();
        }
        l.set_flash_size(4 << 20).await.unwrap();
        let sent = l.port().tx_log.len() as u64;
        (l, sent)
    })
}

fn write(l: &mut Loader<SimPort>, data: &[u8]) -> Result<WriteReport, Error> {
    block_on(l.write_flash(
        &[Region {
            offset: OFFSET,
            data,
        }],
        WriteOptions::default(),
    ))
}

/// The rule every scenario must keep.
fn assert_honest(l: &Loader<SimPort>, data: &[u8], result: &Result<WriteReport, Error>) {
    if let Ok(report) = result {
        assert!(report.verified);
        let flash = &l.port().device().flash()[OFFSET as usize..OFFSET as usize + data.len()];
        assert!(
            flash == data,
            "reported success but the flash holds other bytes"
        );
    }
}

#[test]
fn corrupted_byte_restarts_the_region_and_ends_verified() {
    for stub in [false, true] {
        let (mut l, sent) = ready(Chip::Esp32, stub);
        let data = firmware_like(40_000, 3);
        l.port_mut().device_mut().faults.corrupt_rx = vec![sent + 3000];
        let result = write(&mut l, &data);
        assert_honest(&l, &data, &result);
        let report = result.unwrap_or_else(|e| panic!("stub={stub}: {e}"));
        assert_eq!(report.restarts, 1, "stub={stub}");
    }
}

#[test]
fn dropped_byte_times_out_and_restarts() {
    let (mut l, sent) = ready(Chip::Esp32C3, true);
    let data = firmware_like(40_000, 4);
    l.port_mut().device_mut().faults.drop_rx = vec![sent + 5000];
    let result = write(&mut l, &data);
    assert_honest(&l, &data, &result);
    assert_eq!(result.unwrap().restarts, 1);
}

#[test]
fn noise_before_a_reply_is_skipped() {
    let (mut l, _) = ready(Chip::Esp32S3, true);
    let data = firmware_like(20_000, 5);
    l.port_mut().device_mut().faults.inject_tx =
        b"\r\nets Jun  8 2016 00:22:57\r\n\xff\x00garbage".to_vec();
    let result = write(&mut l, &data);
    assert_honest(&l, &data, &result);
    assert!(result.is_ok());
}

#[test]
fn writing_over_unerased_flash_is_caught() {
    for (chip, stub) in [
        (Chip::Esp32, false),
        (Chip::Esp32, true),
        (Chip::Esp8266, true),
        (Chip::Esp32C3, false),
    ] {
        let (mut l, _) = ready(chip, stub);
        let data = firmware_like(30_000, 6);
        // Old contents that an erase would clear, and an erase that does not happen.
        let mut old = vec![0xFFu8; 4 << 20];
        old[OFFSET as usize..OFFSET as usize + 30_000].fill(0x00);
        l.port_mut().device_mut().load_flash(&old);
        l.port_mut().device_mut().set_erase_fails(true);
        let result = write(&mut l, &data);
        assert_honest(&l, &data, &result);
        match result {
            // The ROM reads back each block and reports a flash write error...
            Err(Error::Device(e)) if !stub => {
                assert!(e.to_string().contains("flash write error"), "{e}")
            }
            // ...the stub does not, so the MD5 check catches it.
            Err(Error::Verify { .. }) if stub => {}
            other => panic!("{chip} stub={stub}: {other:?}"),
        }
    }
}

#[test]
fn chip_that_stops_answering_gives_a_timeout() {
    let (mut l, sent) = ready(Chip::Esp32, true);
    let data = firmware_like(60_000, 7);
    l.port_mut().device_mut().faults.hang_at_rx = Some(sent + 6_000);
    let result = write(&mut l, &data);
    assert_honest(&l, &data, &result);
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(err.to_string().contains("stopped answering"));
}

#[test]
fn spontaneous_reset_mid_write_is_an_error() {
    for stub in [false, true] {
        let (mut l, sent) = ready(Chip::Esp32, stub);
        let data = firmware_like(60_000, 8);
        l.port_mut().device_mut().faults.reset_at_rx = Some(sent + 6_000);
        let result = write(&mut l, &data);
        assert_honest(&l, &data, &result);
        assert!(result.is_err(), "stub={stub}");
        // The chip rebooted from its (half-written, invalid) flash: no loader answers any more.
        assert_eq!(l.port().device().state(), "quiet");
    }
}

#[test]
fn unplugged_mid_write_says_disconnected() {
    let (mut l, sent) = ready(Chip::Esp32C3, true);
    let data = firmware_like(60_000, 9);
    l.port_mut().disconnect_after_tx = Some(sent + 6_000);
    let result = write(&mut l, &data);
    assert_honest(&l, &data, &result);
    let err = result.unwrap_err();
    assert_eq!(err, Error::Port(PortError::Disconnected));
    assert!(err.to_string().contains("disconnected"));
}

#[test]
fn cancel_stops_between_blocks() {
    let (mut l, _) = ready(Chip::Esp32, true);
    let data = firmware_like(200_000, 10);
    let token = l.cancel_token();
    let mut blocks = 0;
    l.on_event(move |e| {
        if matches!(e, webflash::loader::Event::Progress { .. }) {
            blocks += 1;
            if blocks == 2 {
                token.cancel();
            }
        }
    });
    let result = write(&mut l, &data);
    assert_eq!(result.unwrap_err(), Error::Cancelled);
    // The board is still in the loader and takes a new write after the token is reset.
    l.cancel_token().reset();
    let result = write(&mut l, &data);
    assert_honest(&l, &data, &result);
    assert!(result.is_ok());
}

#[test]
fn board_that_never_syncs_gets_coaching() {
    block_on(async {
        // A ROM USB-OTG port cannot be reset over the lines: nothing answers.
        let mut l = board(Chip::Esp32S3, ResetWiring::UsbOtg);
        let err = l.connect(Some(ResetWiring::UsbOtg), 2).await.unwrap_err();
        assert_eq!(err, Error::NoSync(SyncFailure::Silence));
        assert!(err.to_string().contains("hold the BOOT button"), "{err}");
        assert!(
            err.to_string().contains("charge-only cables do not"),
            "{err}"
        );
    });
}
