//! The device history: every flash and every board check, kept in the browser (IndexedDB, by
//! `history.js`, which `modules.js` fetches only when something is recorded or, at Connect, when
//! this browser has a history). An entry holds the date, `kind` ("flash" or "check"), the board
//! (chip or MicroPython's board name), its `id` (MAC or `machine.unique_id()`), the USB device,
//! the firmware's name and `source` (its URL, when it came from one), its version (the image's
//! app descriptor, or MicroPython's banner), its SHA-256 and whether it was verified. A firmware
//! flashed from a file also keeps its bytes (the last few), so it can be flashed again.
//! The history view and its exports live in the organisers' tools (`ui::tools::history`).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/modules.js")]
extern "C" {
    #[wasm_bindgen(js_name = historyRecord)]
    #[allow(clippy::too_many_arguments)]
    fn history_record(
        kind: &str,
        board: &str,
        id: &str,
        usb: &str,
        firmware: &str,
        source: &str,
        version: &str,
        sha256: &str,
        verified: bool,
        bytes: Option<js_sys::Uint8Array>,
    );
    /// Shows what a returning board (`id`) ran last in the device card's `#seen` line.
    #[wasm_bindgen(js_name = historySeen)]
    pub fn seen(id: &str);
    /// history.js's exports (a promise), for the history view.
    #[wasm_bindgen(js_name = historyApi)]
    pub fn api() -> js_sys::Promise;
}

/// One flash or board check.
pub struct Entry<'a> {
    /// "flash" or "check".
    pub kind: &'a str,
    pub board: &'a str,
    pub id: &'a str,
    pub usb: &'a str,
    pub firmware: &'a str,
    /// The URL the firmware came from (a link or a manifest), or empty for a file.
    pub source: &'a str,
    pub version: &'a str,
    /// Hex, or empty.
    pub sha256: &'a str,
    pub verified: bool,
}

/// Records `entry`; `file` is the firmware's bytes when it came from a file (kept so it can be
/// flashed again). Never fails the caller: a browser without storage records nothing.
pub fn record(entry: &Entry, file: Option<&[u8]>) {
    history_record(
        entry.kind,
        entry.board,
        entry.id,
        entry.usb,
        entry.firmware,
        entry.source,
        entry.version,
        entry.sha256,
        entry.verified,
        file.map(js_sys::Uint8Array::from),
    );
}
