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

/// Adds the stylesheet `href` (beside the page) once: an optional module brings its own
/// styles, so the page a student downloads before flashing carries none of them.
pub fn add_stylesheet(href: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let id = format!("css-{href}");
    if doc.get_element_by_id(&id).is_some() {
        return;
    }
    if let (Ok(link), Some(head)) = (doc.create_element("link"), doc.head()) {
        let _ = link.set_attribute("id", &id);
        let _ = link.set_attribute("rel", "stylesheet");
        let _ = link.set_attribute("href", href);
        let _ = head.append_child(&link);
    }
}

/// Puts `text` on the clipboard (the Clipboard API; false where it is missing).
pub fn copy_text(text: &str) -> bool {
    let clipboard = web_sys::window()
        .map(|w| w.navigator())
        .and_then(|n| Reflect::get(&n, &"clipboard".into()).ok())
        .filter(|c| c.is_object());
    clipboard.is_some_and(|c| call(&c, "writeText", &[JsValue::from_str(text)]).is_ok())
}
