//! Offline use: the page's service worker (`src/web/sw.js`, completed at build time by
//! `scripts/post-build.mjs`) is registered by `offline.js`, which `modules.js` fetches when the
//! page is first kept for offline use, so nothing of it is downloaded before the first flash.
//! `offline.js` also writes the footer's line (`#offline`: preparing, ready, a new version with
//! its Reload button) and adds the web app manifest, so the page is installable once it works
//! offline. Its text lives there, not in the app module: every byte of wasm is in the download
//! a student waits for before flashing.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/modules.js")]
extern "C" {
    /// A service worker of this page serves it already (kept on an earlier visit).
    #[wasm_bindgen(js_name = offlineKept)]
    pub fn kept() -> bool;
    /// Keeps the page for offline use (again: a no-op).
    #[wasm_bindgen(js_name = startOffline)]
    pub fn start();
}
