//! The device card under step 1: what the connected board is. An ESP in its bootloader: chip,
//! revision, MAC, flash, USB device, crystal, loader. A board running MicroPython: what
//! MicroPython reports about itself (version, build date, board, MCU, free space, files).

use leptos::prelude::*;

use super::state::BoardCard;
use crate::protocol::chip::format_size;
use crate::repl::facts::BoardFacts;

/// Chip, revision, MAC, flash, bridge, crystal.
#[component]
pub fn DeviceCard(card: BoardCard) -> impl IntoView {
    let info = card.info;
    let flash = info
        .flash_size
        .map(format_size)
        .unwrap_or_else(|| format!("unknown (id {:06x})", info.flash_id));
    let crystal = info
        .crystal_mhz
        .map(|m| format!("{m} MHz"))
        .unwrap_or_else(|| "not known".into());
    let loader = if card.stub {
        "flasher stub (fast)"
    } else {
        "built-in ROM loader"
    };
    view! {
        <dl class="device" aria-label="Connected board">
            <dt>"Chip"</dt><dd data-field="chip">{format!("{} (revision {})", info.chip, info.revision_text())}</dd>
            <dt>"MAC"</dt><dd data-field="mac">{info.mac_text()}</dd>
            <dt>"Flash"</dt><dd data-field="flash">{flash}</dd>
            <dt>"USB device"</dt><dd data-field="usb">{card.usb}</dd>
            <dt>"Crystal"</dt><dd data-field="crystal">{crystal}</dd>
            <dt>"Talking to"</dt><dd data-field="loader">{loader}</dd>
        </dl>
    }
}

/// A board running MicroPython, by what it reported at the last check.
#[component]
pub fn MicroPythonFacts(usb: String, facts: RwSignal<Option<BoardFacts>>) -> impl IntoView {
    let kb = |bytes: u64| format!("{} KB", bytes / 1024);
    view! {
        <dl class="device" aria-label="Connected board">
            <dt>"USB device"</dt><dd data-field="usb">{usb}</dd>
            {move || facts.get().map(|f| view! {
                <dt>"Firmware"</dt><dd data-field="running">{format!("MicroPython {} ({})", f.version, f.date)}</dd>
                <dt>"Board"</dt><dd data-field="board">{f.board.clone()}</dd>
                <dt>"Chip"</dt><dd data-field="chip">{f.mcu.clone()}</dd>
                <dt>"Files"</dt><dd data-field="files">{match (f.files, f.free) {
                    (Some(n), Some(free)) => format!("{n} in /, {} free", kb(free)),
                    (Some(n), None) => format!("{n} in /"),
                    (None, Some(free)) => format!("{} free", kb(free)),
                    (None, None) => "not reported".to_string(),
                }}</dd>
            })}
        </dl>
    }
}
