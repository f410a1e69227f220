//! Following a board whose USB device changes: a chip with native USB restarting into its
//! firmware after a flash (the ROM's port goes, the firmware's comes), and MicroPython on an
//! ESP32-S2/S3's own USB asked for its bootloader (the other way round). The page re-opens the
//! board by itself when the browser lets it (same USB id and serial number as a port the user
//! picked before), and otherwise asks for one click: "Pick your board's new port".

use std::cell::RefCell;
use std::time::Duration;

use leptos::prelude::*;

use crate::i18n::t;
use leptos::task::spawn_local;

use super::session::{self, Board};
use super::state::{AppState, BoardCard, Link, Next};
use crate::loader::Restart;
use crate::port::{Port, Signals};
use crate::usb::{self, ResetWiring};

/// How long a board takes to come back as its new USB device before the page asks the user.
const COME_BACK: Duration = Duration::from_secs(8);

thread_local! {
    /// The flash to run once the board's bootloader port is open and prepared.
    static PENDING_FLASH: RefCell<Option<Box<dyn FnOnce()>>> = const { RefCell::new(None) };
}

/// Runs `flash` once the board is in its bootloader (after [`enter_bootloader`]).
pub fn flash_when_ready(flash: impl FnOnce() + 'static) {
    PENDING_FLASH.with(|p| *p.borrow_mut() = Some(Box::new(flash)));
}

fn run_pending_flash() {
    if let Some(flash) = PENDING_FLASH.with(|p| p.borrow_mut().take()) {
        flash();
    }
}

/// A port where the board runs its firmware (after a flash): anything but a ROM's port.
fn is_firmware_port(vid: u16, pid: u16) -> bool {
    !usb::is_esp_rom_usb(vid, pid) || pid == 0x1001
}

/// A port where the ROM waits for us (after `machine.bootloader()`).
fn is_rom_port(vid: u16, pid: u16) -> bool {
    usb::is_esp_rom_usb(vid, pid)
}

/// What the board's port is, once (re)opened: running firmware on its own USB, or a port
/// where the loader can be reached (bridge, USB-Serial-JTAG, ROM USB-OTG).
pub fn link_for(usb: String, card: Option<BoardCard>) -> Link {
    let native_firmware =
        session::usb_ids().is_some_and(|(v, p)| usb::is_native_firmware_usb(v, p));
    match card {
        Some(mut card) if !native_firmware => {
            card.usb = usb;
            Link::Ready(card)
        }
        card => Link::Running { usb, card },
    }
}

/// Whether a firmware on this chip, reached over this wiring, may bring up its own USB
/// device after a restart (MicroPython's TinyUSB on an S3 or P4 whose ROM talks over
/// USB-Serial-JTAG); the page then expects the port to change.
pub fn may_switch_usb(chip: crate::protocol::chip::Chip, wiring: Option<ResetWiring>) -> bool {
    wiring == Some(ResetWiring::UsbJtagSerial)
        && chip.native_usb().is_some_and(|u| u.rom_otg_pid.is_some())
}

/// After a verified flash: tells the truth about the restart, finds the board again when its
/// USB device changed, and runs the MicroPython check.
pub async fn after_flash(
    state: AppState,
    card: BoardCard,
    restart: Restart,
    wiring: Option<ResetWiring>,
) {
    match restart {
        Restart::Watchdog => {}
        // The reset line restarted the chip; its firmware may bring up its own USB device
        // instead of USB-Serial-JTAG: give it a moment to show whether it does.
        Restart::ResetLine if may_switch_usb(card.info.chip, wiring) => {
            crate::web::time::sleep(Duration::from_millis(1500)).await;
            if session::port_alive() {
                session::same_device();
                state.link.set(Link::Ready(card));
                super::micropython::check_board().await;
                return;
            }
        }
        Restart::ResetLine => {
            super::micropython::check_board().await;
            return;
        }
    }
    find_again(state, Some(card), Next::Check).await;
}

/// Waits for the board's new port (opening it if the browser allows), then goes on with `next`.
async fn find_again(state: AppState, card: Option<BoardCard>, next: Next) {
    state.link.set(Link::Following {
        card: card.clone(),
        next,
    });
    let wanted: fn(u16, u16) -> bool = match next {
        Next::Check => is_firmware_port,
        Next::Flash => is_rom_port,
    };
    match session::follow(wanted, COME_BACK).await {
        Some(usb) => arrived(state, usb, card, next).await,
        None => {
            state.link.set(Link::NeedsPick { card, next });
            state.say(match next {
                Next::Check => t("The board restarted as a new USB device, and the browser needs your permission to use it: press \"Pick your board's new port\" and choose it."),
                Next::Flash => t("The board is in its bootloader now, which is a new USB device: press \"Pick your board's new port\" and choose it."),
            });
        }
    }
}

/// The board's new port is open: go on.
async fn arrived(state: AppState, usb: String, card: Option<BoardCard>, next: Next) {
    match next {
        Next::Check => {
            state.say(crate::tf!(
                "Found the board again on {usb}. Checking MicroPython…",
                usb = usb
            ));
            state.link.set(link_for(usb, card));
            super::micropython::check_running_board().await;
        }
        Next::Flash => {
            if super::connect::prepare_open_board(usb, state).await {
                run_pending_flash();
            }
        }
    }
}

/// The "Pick your board's new port" button.
pub fn pick(state: AppState) {
    let Link::NeedsPick { card, next } = state.link.get_untracked() else {
        return;
    };
    spawn_local(async move {
        match session::pick_new(&crate::boards::identify::known_vendors()).await {
            Ok(usb) => arrived(state, usb, card, next).await,
            Err(err) => state.warn(err.to_string()),
        }
    });
}

/// Asks MicroPython on the board's own USB for its bootloader, then follows the board to the
/// ROM's port and flashes (see [`flash_when_ready`]).
pub async fn enter_bootloader(state: AppState) {
    let Link::Running { card, .. } = state.link.get_untracked() else {
        return;
    };
    super::micropython::console_on(false);
    state.say(t("Asking MicroPython to start the board's bootloader…"));
    session::expect_new_device();
    let asked = session::lease(async |board: &mut Board| ask_for_bootloader(board).await).await;
    if let Err(err) = asked {
        state.warn(crate::tf!(
            "Could not ask the board for its bootloader: {error}",
            error = err
        ));
        return;
    }
    find_again(state, card, Next::Flash).await;
}

/// `machine.bootloader()` at the REPL (after interrupting whatever runs); if the port is still
/// there a moment later, esptool's DTR/RTS pattern, which MicroPython's TinyUSB port also
/// takes as a request for the bootloader.
async fn ask_for_bootloader(board: &mut Board) -> Result<(), crate::port::PortError> {
    let port = board.loader.port_mut();
    port.write(b"\r\x03\x03").await?;
    port.sleep(Duration::from_millis(100)).await;
    port.write(b"import machine; machine.bootloader()\r")
        .await?;
    port.sleep(Duration::from_millis(1200)).await;
    if port.is_lost() {
        return Ok(());
    }
    let lines = |dtr, rts| Signals { dtr, rts };
    let _ = port.set_signals(lines(false, true)).await;
    let _ = port.set_signals(lines(true, false)).await;
    port.sleep(Duration::from_millis(400)).await;
    let _ = port.set_signals(lines(false, false)).await;
    Ok(())
}
