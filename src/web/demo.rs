//! Opens the demo board: the simulator, loaded on first use as its own wasm module and wrapped
//! in the Web Serial port interface (`demo_port.js`); and the demo Pico and pyboard
//! (`demo_pico.js`), a serial port while MicroPython runs, a drive in BOOTSEL mode (Pico), a
//! WebUSB device in DFU mode (pyboard). Both JS files are copied beside the page and imported
//! by `modules.js` when a demo board is first opened, so the page does not fetch them before.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::SerialPort;

use super::OpenError;
use crate::protocol::chip::Chip;

#[wasm_bindgen(module = "/src/web/modules.js")]
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

#[wasm_bindgen(module = "/src/web/modules.js")]
extern "C" {
    #[wasm_bindgen(js_name = openDemoPico, catch)]
    async fn open_demo_pico() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = demoPicoPort)]
    fn demo_pico_port() -> JsValue;
    #[wasm_bindgen(js_name = demoPicoDrive)]
    fn demo_pico_drive() -> JsValue;
    #[wasm_bindgen(js_name = openDemoPyboard, catch)]
    async fn open_demo_pyboard() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = demoUsbDevice)]
    fn demo_usb_device() -> JsValue;
}

/// The demo pyboard (a simulated pyboard running MicroPython), as a Web Serial port.
pub async fn demo_pyboard() -> Result<SerialPort, OpenError> {
    open_demo_pyboard()
        .await
        .map(JsCast::unchecked_into)
        .map_err(|e| OpenError::DemoUnavailable(super::js::error_message(&e)))
}

/// The demo pyboard's DFU bootloader (shaped like a WebUSB `USBDevice`) while it is in DFU mode.
pub fn pyboard_usb() -> Option<JsValue> {
    let device = demo_usb_device();
    (!device.is_null() && !device.is_undefined()).then_some(device)
}

/// The demo Pico (a simulated Raspberry Pi Pico running MicroPython), as a Web Serial port.
pub async fn demo_pico() -> Result<SerialPort, OpenError> {
    open_demo_pico()
        .await
        .map(JsCast::unchecked_into)
        .map_err(|e| OpenError::DemoUnavailable(super::js::error_message(&e)))
}

/// The demo Pico's serial port while its MicroPython runs (a new object after each reboot).
pub fn pico_port() -> Option<SerialPort> {
    let port = demo_pico_port();
    (!port.is_null() && !port.is_undefined()).then(|| port.unchecked_into())
}

/// The demo Pico's BOOTSEL drive (a directory handle) while it is in BOOTSEL mode.
pub fn pico_drive() -> Option<JsValue> {
    let drive = demo_pico_drive();
    (!drive.is_null() && !drive.is_undefined()).then_some(drive)
}
