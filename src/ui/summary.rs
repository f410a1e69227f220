//! Each step's one-line summary, shown when the step is not open: what was done ("ESP32-C3
//! (v0.4) · 4 MB · USB-JTAG-Serial", "MicroPython v1.24.1 answered hello"), or what the step
//! will do.

use leptos::prelude::*;

use super::firmware::Firmware;
use super::state::{AppState, Check, Link};
use crate::i18n::t;
use crate::journey::short_usb;
use crate::protocol::chip::format_size;
use crate::tf;

/// Step 1: the board, or what to do.
pub fn connect(state: AppState) -> String {
    let facts = state.board.get();
    state.link.with(|link| match link {
        Link::Ready(card)
        | Link::Busy(card)
        | Link::Running {
            card: Some(card), ..
        } => {
            let chip = format!("{} ({})", card.info.chip, card.info.revision_text());
            let mut line = if card.demo {
                tf!("Demo {chip}", chip = chip)
            } else {
                chip
            };
            if let Some(size) = card.info.flash_size {
                line.push_str(" · ");
                line.push_str(&format_size(size));
            }
            line.push_str(" · ");
            line.push_str(short_usb(&card.usb));
            line
        }
        Link::Running { usb, card: None } => match facts {
            Some(f) => format!("{} · {}", f.board, short_usb(usb)),
            None => short_usb(usb).to_string(),
        },
        Link::Following { .. } => t("The board restarts as a new USB device…").into(),
        Link::Away => t("The board is in its bootloader for step 3.").into(),
        Link::NeedsPick { .. } => t("Pick the board's new port.").into(),
        Link::NotReady { .. } => t("The board did not enter its bootloader.").into(),
        Link::Idle | Link::Choosing | Link::Preparing { .. } => {
            t("Plug in the board and pick its port.").into()
        }
    })
}

/// Step 2: the chosen firmware.
pub fn firmware(firmware: RwSignal<Option<Firmware>>) -> String {
    firmware.with(|f| match f {
        Some(fw) => fw.label(),
        None => {
            t("A MicroPython .bin, .uf2 or .dfu file, a link, or your workshop's manifest.").into()
        }
    })
}

/// Step 3's title: flashing an ESP, or installing on a Pico or pyboard.
pub fn flash_title(firmware: RwSignal<Option<Firmware>>, uf2_step: Memo<bool>) -> String {
    if !uf2_step.get() {
        t("Flash").into()
    } else if firmware
        .with(|f| matches!(f, Some(Firmware::Single { data, .. }) if super::uf2::is_dfu(data)))
    {
        t("Install on the pyboard").into()
    } else {
        t("Install on the Pico").into()
    }
}

/// Step 3: what was installed.
pub fn flash(state: AppState) -> String {
    state
        .installed
        .get()
        .unwrap_or_else(|| t("Written, then checked byte for byte.").into())
}

/// Step 4: what MicroPython answered.
pub fn micropython(state: AppState, check: RwSignal<Check>) -> String {
    match check.get() {
        Check::Works { .. } => match state.board.get() {
            Some(f) => tf!(
                "MicroPython {version} answered print('hello')",
                version = f.version
            ),
            None => t("MicroPython answered print('hello')").into(),
        },
        Check::Problem(problem) => problem,
        Check::Checking => t("Checking MicroPython…").into(),
        Check::NotChecked => {
            t("MicroPython answers print('hello'), with a terminal and the board's files.").into()
        }
    }
}
