//! Opens the demo board: the simulator, loaded on first use as its own wasm module and wrapped
//! in the Web Serial port interface (`demo_port.js`).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::SerialPort;

use super::OpenError;
use crate::protocol::chip::Chip;

#[wasm_bindgen(module = "/src/web/demo_port.js")]
extern "C" {
    #[wasm_bindgen(js_name = openDemoPort, catch)]
    async fn open_demo_port(chip: &str) -> Result<JsValue, JsValue>;
}

/// A simulated `chip` board behind something that behaves like a Web Serial port.
pub async fn demo_port(chip: Chip) -> Result<SerialPort, OpenError> {
    open_demo_port(chip.spec().id)
        .await
        .map(JsCast::unchecked_into)
        .map_err(|e| OpenError::DemoUnavailable(super::js::error_message(&e)))
}
