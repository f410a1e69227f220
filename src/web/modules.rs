//! The page's optional wasm modules (the demo board, the MicroPython card), fetched on first
//! use so the page a student needs to flash stays small.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/modules.js")]
extern "C" {
    #[wasm_bindgen(js_name = loadModule, catch)]
    async fn load_module(name: &str) -> Result<JsValue, JsValue>;
}

/// The module's exports (its JS namespace), once it is downloaded and initialised.
pub async fn load(name: &str) -> Result<JsValue, String> {
    load_module(name)
        .await
        .map_err(|e| super::js::error_message(&e))
}
