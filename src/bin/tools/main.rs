//! The organisers' tools as their own wasm module, fetched by the page only with `?organiser`
//! (`ui::tools`).

#[cfg(target_arch = "wasm32")]
mod exports {
    use wasm_bindgen::prelude::*;

    /// Shows the tools in `parent`; `page_url` is the student page the handout links to, `host`
    /// the page's bridge (the whole-flash jobs run on its board).
    #[wasm_bindgen]
    pub fn mount(parent: web_sys::HtmlElement, page_url: String, host: JsValue) {
        console_error_panic_hook::set_once();
        webflash::ui::tools::mount(parent, page_url, host);
    }
}

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("webflash-tools is the page's organiser tools (wasm): `make serve` builds it.");
}
