//! The page's optional wasm modules (the demo board, the MicroPython card), fetched on first
//! use so the page a student needs to flash stays small.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/modules.js")]
extern "C" {
    /// Starts the page: its language (the translations, when it is not English, and the
    /// switcher), the log's buttons, the unsupported-browser notice and the organisers' link.
    /// The app mounts once it resolves.
    #[wasm_bindgen(js_name = startPage)]
    pub fn start_page() -> js_sys::Promise;
    #[wasm_bindgen(js_name = loadModule, catch)]
    async fn load_module(folder: &str, name: &str) -> Result<JsValue, JsValue>;
    /// Hands the page's bridge (`ui::micropython`) to the organisers' tools.
    #[wasm_bindgen(js_name = setHost)]
    pub fn set_host(bridge: &js_sys::Object);
    /// Adds a line to the technical log behind "Show details" (`ui::notice`).
    #[wasm_bindgen(js_name = logLine)]
    pub fn log_line(line: &str);
    /// Writes a step's state into its card (`ui::steps`; here in JS, a third of the bytes).
    #[wasm_bindgen(js_name = showStep)]
    pub fn show_step(
        name: &str,
        state: &str,
        open: bool,
        mark: &str,
        title: &str,
        label: &str,
        summary: &str,
    );
    /// Scrolls to a step that became current and gives it the focus when the focus was lost.
    #[wasm_bindgen(js_name = takeToStep)]
    pub fn take_to_step(name: &str);
}

/// The exports (JS namespace) of module `name` in `folder` of the page, once it is downloaded
/// and initialised.
pub async fn load(folder: &str, name: &str) -> Result<JsValue, String> {
    load_module(folder, name)
        .await
        .map_err(|e| super::js::error_message(&e))
}
