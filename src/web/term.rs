//! The terminal: xterm.js (pinned npm `@xterm/xterm`), bound with wasm-bindgen. Colours,
//! scroll-back, copy/paste and resizing are xterm's. It is not needed to flash, so [`load`]
//! fetches it once a board is connected instead of with the page.

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

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
    #[wasm_bindgen(method, js_name = clear)]
    fn clear_screen(this: &Terminal);
    #[wasm_bindgen(method, js_name = selectAll)]
    fn select_all(this: &Terminal);
    #[wasm_bindgen(method, js_name = getSelection)]
    fn get_selection(this: &Terminal) -> String;
    #[wasm_bindgen(method, js_name = clearSelection)]
    fn clear_selection(this: &Terminal);

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

/// Adds xterm.js, its fit add-on and its style sheet to the page (paths relative to the page,
/// so a copy hosted in a sub-folder works) and waits for them. Returns [`available`].
pub async fn load() -> bool {
    if available() {
        return true;
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let Ok(Some(head)) = document.query_selector("head") else {
        return false;
    };
    if let Ok(css) = document.create_element("link") {
        let _ = css.set_attribute("rel", "stylesheet");
        let _ = css.set_attribute("href", "xterm.css");
        let _ = head.append_child(&css);
    }
    // In order: the add-on is useless without the terminal, and both are small.
    for src in ["xterm.js", "addon-fit.js"] {
        let Ok(script) = document.create_element("script") else {
            return false;
        };
        let loaded = Promise::new(&mut |resolve, reject| {
            let _ = script.add_event_listener_with_callback("load", &resolve);
            let _ = script.add_event_listener_with_callback("error", &reject);
        });
        let _ = script.set_attribute("src", src);
        let _ = head.append_child(&script);
        if JsFuture::from(loaded).await.is_err() {
            break;
        }
    }
    available()
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
        // MicroPython ends lines with \r\n, but a program's output or a boot log may end them
        // with a bare \n: drawn as a new line, not a staircase.
        let _ = Reflect::set(&options, &"convertEol".into(), &JsValue::TRUE);
        let _ = Reflect::set(&options, &"scrollback".into(), &JsValue::from(5000));
        // The page's text size (the browser's font-size setting; zoom scales both).
        let _ = Reflect::set(&options, &"fontSize".into(), &JsValue::from(font_size()));
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

    /// Empties the screen and the scroll-back (the prompt line stays).
    pub fn clear(&self) {
        self.term.clear_screen();
    }

    /// Everything in the scroll-back and on the screen, as text.
    pub fn text(&self) -> String {
        self.term.select_all();
        let text = self.term.get_selection();
        self.term.clear_selection();
        text
    }

    /// Resizes to the container (call when the panel's size changes).
    pub fn fit(&self) {
        if let Some(fit) = &self.fit {
            fit.fit();
        }
    }
}

/// 7/8 of the root element's font size in pixels (16 by default: 14 px).
fn font_size() -> f64 {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element());
    let px = root
        .and_then(|el| {
            let window: JsValue = web_sys::window()?.into();
            let style = crate::web::js::call(&window, "getComputedStyle", &[el.into()]).ok()?;
            Reflect::get(&style, &"fontSize".into()).ok()?.as_string()
        })
        // JS's parseFloat: Rust's float parser would add 10 KB to the module.
        .map(|s| js_sys::Number::parse_float(&s))
        .filter(|px| px.is_finite() && *px > 0.0)
        .unwrap_or(16.0);
    (px * 0.875).round()
}
