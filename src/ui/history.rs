//! What the page records in the device history (`web::history`): each ESP flash, verified or
//! not, and each board check; and the device card's "seen here before" line for a returning
//! board.

use leptos::prelude::*;
use sha2::{Digest, Sha256};

use super::firmware::Firmware;
use super::state::{AppState, BoardCard, Check};
use crate::firmware::erase::NewFirmware;
use crate::firmware::manifest::hex;
use crate::firmware::plan::PlannedPart;
use crate::web::history::{self, Entry};

/// "micropython v1.24.1", from the app descriptor the parts carry.
pub fn version(parts: &[PlannedPart]) -> String {
    NewFirmware::from_parts(parts)
        .app
        .map(|a| format!("{} {}", a.project, a.version))
        .unwrap_or_default()
}

/// Records a flash of `fw` on the ESP `card`: `version` and `first` (the first part's bytes, as
/// written) come from the plan.
pub fn flashed(fw: &Firmware, card: &BoardCard, version: &str, first: &[u8], verified: bool) {
    let (source, file, sha) = match fw {
        Firmware::Single { data, url, .. } => (
            url.clone().unwrap_or_default(),
            url.is_none().then_some(&data[..]),
            hex(&Sha256::digest(&data[..])),
        ),
        Firmware::Manifest { url, .. } => (url.clone(), None, hex(&Sha256::digest(first))),
    };
    history::record(
        &Entry {
            kind: "flash",
            board: card.info.chip.spec().name,
            id: &card.info.mac_text(),
            usb: &card.usb,
            firmware: &match fw {
                Firmware::Single { label, .. } => label.clone(),
                Firmware::Manifest { url, .. } => format!("manifest {url}"),
            },
            source: &source,
            version,
            sha256: &sha,
            verified,
        },
        file,
    );
}

/// Records a board check (after `checked` set its outcome).
pub fn checked(state: AppState, check: &Check) {
    let facts = state.board.get_untracked();
    let link = state.link.get_untracked();
    let card = match &link {
        super::state::Link::Running { card, .. } => card.as_ref(),
        other => other.card(),
    };
    // An ESP the page identified is known by its MAC, as its flashes are; another board by
    // `machine.unique_id()`.
    let id = card
        .map(|c| c.info.mac_text())
        .or_else(|| facts.as_ref().and_then(|f| f.unique_id.clone()))
        .unwrap_or_default();
    let board = facts
        .as_ref()
        .map(|f| f.board.clone())
        .or_else(|| card.map(|c| c.info.chip.spec().name.to_string()))
        .unwrap_or_default();
    let version = facts
        .as_ref()
        .map(|f| format!("MicroPython {}", f.version))
        .unwrap_or_default();
    history::record(
        &Entry {
            kind: "check",
            board: &board,
            id: &id,
            usb: &link.usb().unwrap_or_default(),
            firmware: "",
            source: "",
            version: &version,
            sha256: "",
            verified: matches!(check, Check::Works { .. }),
        },
        None,
    );
}
