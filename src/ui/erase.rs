//! The erase choice of step 3: its default, decided by what the board holds and what the
//! chosen firmware brings ([`crate::firmware::erase`]), with the reason in one line; and the
//! files carried over when the new MicroPython keeps its filesystem somewhere else.

use leptos::prelude::*;

use super::firmware::Firmware;
use super::session::{self, Board};
use super::state::{AppState, BoardCard, Link};
use crate::firmware::erase::{decide, Decision, Erase, NewFirmware};
use crate::firmware::{suggest_offset, PlannedPart};
use crate::loader::Restart;
use crate::port::Port;
use crate::usb::ResetWiring;

fn flash_size(card: &BoardCard) -> u32 {
    card.info.flash_size.unwrap_or(4 << 20)
}

/// The default before Flash is pressed. A manifest's parts are downloaded only at Flash, so
/// for a manifest this goes by what the board holds (and is decided again with the parts).
pub fn preview(card: &BoardCard, fw: &Firmware) -> Decision {
    let new = match fw {
        Firmware::Single { data, .. } => {
            let chip = card.info.chip;
            let offset = suggest_offset(data, chip).unwrap_or(chip.spec().bootloader_offset);
            NewFirmware::from_bytes(&[(offset, &data[..])])
        }
        Firmware::Manifest { .. } => NewFirmware::default(),
    };
    decide(card.flash.as_ref(), &new, flash_size(card))
}

/// The decision with the exact parts that will be written.
pub fn for_parts(card: &BoardCard, parts: &[PlannedPart]) -> Decision {
    decide(
        card.flash.as_ref(),
        &NewFirmware::from_parts(parts),
        flash_size(card),
    )
}

/// The new filesystem region to clear, when the files move and the user did not choose to
/// erase everything anyway.
pub fn region_to_clear(decision: &Decision, erase_all: bool) -> Option<(u32, u32)> {
    match decision.erase {
        Erase::MoveFiles { to, .. } if !erase_all => Some(to),
        _ => None,
    }
}

/// Whether the page can carry the files over itself: it must restart the board into
/// MicroPython and back on the same port (a USB-UART bridge or USB-Serial-JTAG whose firmware
/// keeps it). On an S2/S3 whose MicroPython brings its own USB device it cannot, unasked.
pub fn can_carry_files(card: &BoardCard) -> bool {
    let wiring = session::usb_ids()
        .and_then(|(vid, pid)| crate::usb::identify(vid, pid))
        .map(|b| b.wiring);
    wiring != Some(ResetWiring::UsbOtg) && !super::follow::may_switch_usb(card.info.chip, wiring)
}

/// Before a flash that moves the filesystem: restarts the board into MicroPython, backs its
/// files up through the MicroPython card, and prepares the board again (`Err` if that failed:
/// the status says why, and nothing is flashed). `Ok(None)` when no backup could be taken
/// (the flash still clears the new region, so the new MicroPython starts with a clean
/// filesystem rather than a damaged one).
pub async fn back_up_files(state: AppState, card: &BoardCard) -> Result<Option<Vec<u8>>, ()> {
    state.say(crate::i18n::t("The new MicroPython keeps its files elsewhere: restarting the board to back them up first…"));
    let restarted = session::lease(async |board: &mut Board| {
        let wiring = board.wiring;
        board.prepared = None;
        let how = board.loader.restart_into_firmware(wiring).await;
        let _ = board
            .loader
            .port_mut()
            .set_baud(session::DEFAULT_BAUD)
            .await;
        how
    })
    .await;
    let kept_port = matches!(restarted, Ok(Ok(Restart::ResetLine))) && session::port_alive();
    let archive = if kept_port {
        super::micropython::backup_files().await
    } else {
        None
    };
    if archive.is_none() {
        state.warn(crate::i18n::t("The board's files could not be backed up first; they will not be carried over. Use \"Restore backup\" afterwards if you have one."));
    }
    // Back into the bootloader for the flash.
    let usb = card.usb.clone();
    state.link.set(Link::Preparing { usb: usb.clone() });
    if super::connect::prepare_open_board(usb, state).await {
        Ok(archive)
    } else {
        Err(())
    }
}
