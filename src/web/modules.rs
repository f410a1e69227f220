//! The page's optional wasm modules (the demo board, the MicroPython card), fetched on first
//! use so the page a student needs to flash stays small.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/modules.js")]
extern "C" {
    #[wasm_bindgen(js_name = loadModule, catch)]
    async fn load_module(folder: &str, name: &str) -> Result<JsValue, JsValue>;
    /// Hands the page's bridge (`ui::micropython`) to the organisers' tools.
    #[wasm_bindgen(js_name = setHost)]
    pub fn set_host(bridge: &js_sys::Object);
}

/// The exports (JS namespace) of module `name` in `folder` of the page, once it is downloaded
/// and initialised.
pub async fn load(folder: &str, name: &str) -> Result<JsValue, String> {
    load_module(folder, name)
        .await
        .map_err(|e| super::js::error_message(&e))
}
