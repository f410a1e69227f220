//! The terminal: xterm.js (pinned npm `@xterm/xterm`, loaded by index.html as a plain script),
//! bound with wasm-bindgen. Colours, scroll-back, copy/paste and resizing are xterm's.

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `window.Terminal` from xterm.js.
    pub type Terminal;
    #[wasm_bindgen(constructor, js_class = "Terminal")]
    fn new(options: &JsValue) -> Terminal;
    #[wasm_bindgen(method)]
    pub fn open(this: &Terminal, parent: &web_sys::HtmlElement);
    #[wasm_bindgen(method, js_name = write)]
    fn write_bytes(this: &Terminal, data: &Uint8Array);
    #[wasm_bindgen(method, js_name = onData)]
    fn on_data(this: &Terminal, callback: &Closure<dyn FnMut(String)>) -> JsValue;
    #[wasm_bindgen(method, js_name = loadAddon)]
    fn load_addon(this: &Terminal, addon: &JsValue);
    #[wasm_bindgen(method)]
    pub fn clear(this: &Terminal);

    /// `window.FitAddon.FitAddon`: sizes the terminal to its container.
    #[wasm_bindgen(js_namespace = FitAddon, js_name = FitAddon)]
    type Fit;
    #[wasm_bindgen(constructor, js_namespace = FitAddon, js_class = "FitAddon")]
    fn new_fit() -> Fit;
    #[wasm_bindgen(method)]
    fn fit(this: &Fit);
}

/// True when xterm.js loaded (it is a separate file; a broken deploy must not break flashing).
pub fn available() -> bool {
    web_sys::window()
        .is_some_and(|w| Reflect::get(&w, &"Terminal".into()).is_ok_and(|t| t.is_function()))
}

/// A terminal in `parent`; keystrokes go to `on_input`.
pub struct Term {
    term: Terminal,
    fit: Option<Fit>,
    _on_data: Closure<dyn FnMut(String)>,
}

impl Term {
    pub fn new(parent: &web_sys::HtmlElement, on_input: impl FnMut(String) + 'static) -> Term {
        let options = Object::new();
        let _ = Reflect::set(&options, &"convertEol".into(), &JsValue::FALSE);
        let _ = Reflect::set(&options, &"scrollback".into(), &JsValue::from(5000));
        let _ = Reflect::set(&options, &"fontSize".into(), &JsValue::from(14));
        let term = Terminal::new(&options);
        let fit = web_sys::window()
            .and_then(|w| Reflect::get(&w, &"FitAddon".into()).ok())
            .filter(|f| f.is_object())
            .map(|_| Fit::new_fit());
        if let Some(fit) = &fit {
            term.load_addon(fit);
        }
        term.open(parent);
        let on_data = Closure::<dyn FnMut(String)>::new(on_input);
        term.on_data(&on_data);
        let t = Term {
            term,
            fit,
            _on_data: on_data,
        };
        t.fit();
        t
    }

    pub fn write(&self, bytes: &[u8]) {
        self.term.write_bytes(&Uint8Array::from(bytes));
    }

    /// Resizes to the container (call when the panel's size changes).
    pub fn fit(&self) {
        if let Some(fit) = &self.fit {
            fit.fit();
        }
    }
}
