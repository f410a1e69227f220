//! Calling plain JS objects: the optional modules' exports and the bridge between the page and
//! the MicroPython card.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// `target[name](...args)`.
pub fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &name.into())?.dyn_into()?;
    let args: js_sys::Array = args.iter().collect();
    f.apply(target, &args)
}

/// An exception's message, or its debug form.
pub fn error_message(err: &JsValue) -> String {
    Reflect::get(err, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| format!("{err:?}"))
}
