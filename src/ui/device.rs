//! The device card under step 1: what the connected board is. An ESP in its bootloader: chip,
//! revision, MAC, flash, USB device, crystal, loader. A board running MicroPython: what
//! MicroPython reports about itself (version, build date, board, MCU, free space, files).

use leptos::prelude::*;

use super::state::BoardCard;
use crate::i18n::t;
use crate::protocol::chip::format_size;
use crate::repl::facts::BoardFacts;
use crate::tf;

/// Chip, revision, MAC, flash, bridge, crystal.
#[component]
pub fn DeviceCard(card: BoardCard) -> impl IntoView {
    let info = card.info;
    let flash = info
        .flash_size
        .map(format_size)
        .unwrap_or_else(|| tf!("unknown (id {id})", id = format!("{:06x}", info.flash_id)));
    let crystal = info
        .crystal_mhz
        .map(|m| format!("{m} MHz"))
        .unwrap_or_else(|| t("not known").into());
    let loader = if card.stub {
        t("flasher stub (fast)")
    } else {
        t("built-in ROM loader")
    };
    view! {
        <dl class="device" aria-label=t("Connected board")>
            <dt>{t("Chip")}</dt><dd data-field="chip">{tf!("{chip} (revision {revision})", chip = info.chip, revision = info.revision_text())}</dd>
            <dt>"MAC"</dt><dd data-field="mac">{info.mac_text()}</dd>
            <dt>{t("Flash memory")}</dt><dd data-field="flash">{flash}</dd>
            <dt>{t("USB device")}</dt><dd data-field="usb">{card.usb}</dd>
            <dt>{t("Crystal")}</dt><dd data-field="crystal">{crystal}</dd>
            <dt>{t("Talking to")}</dt><dd data-field="loader">{loader}</dd>
        </dl>
    }
}

/// A board running MicroPython, by what it reported at the last check.
#[component]
pub fn MicroPythonFacts(usb: String, facts: RwSignal<Option<BoardFacts>>) -> impl IntoView {
    let kb = |bytes: u64| crate::i18n::kb(bytes / 1024 * 1024);
    view! {
        <dl class="device" aria-label=t("Connected board")>
            <dt>{t("USB device")}</dt><dd data-field="usb">{usb}</dd>
            {move || facts.get().map(|f| view! {
                <dt>{t("Firmware")}</dt><dd data-field="running">{format!("MicroPython {} ({})", f.version, f.date)}</dd>
                <dt>{t("Board")}</dt><dd data-field="board">{f.board.clone()}</dd>
                <dt>{t("Chip")}</dt><dd data-field="chip">{f.mcu.clone()}</dd>
                <dt>{t("Files")}</dt><dd data-field="files">{match (f.files, f.free) {
                    (Some(n), Some(free)) => tf!("{n} in /, {size} free", n = n, size = kb(free)),
                    (Some(n), None) => tf!("{n} in /", n = n),
                    (None, Some(free)) => tf!("{size} free", size = kb(free)),
                    (None, None) => t("not reported").to_string(),
                }}</dd>
            })}
        </dl>
    }
}
