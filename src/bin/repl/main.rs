//! The MicroPython card (step 4: hello check, terminal, files, backups) as its own wasm module,
//! fetched by the page once a board is connected (`ui::micropython`), so the page a student
//! needs to flash stays small. The card is `webflash::ui::repl`.

#[cfg(target_arch = "wasm32")]
mod exports {
    use wasm_bindgen::prelude::*;
    use webflash::ui::repl;

    /// Shows the card in `parent`; `host` is the page's bridge (see `ui::repl::Host`).
    #[wasm_bindgen]
    pub fn mount(parent: web_sys::HtmlElement, host: JsValue) {
        console_error_panic_hook::set_once();
        repl::mount(parent, repl::Host::new(host));
    }

    /// Whether the page has a board open, and whether something else is using it.
    #[wasm_bindgen]
    pub fn set_port(open: bool, busy: bool) {
        repl::set_port(open, busy);
    }

    /// The board check, started by the page (after a verified flash).
    #[wasm_bindgen]
    pub async fn check_board(reset: bool) {
        repl::check_from_page(reset).await;
    }

    /// Backs up the board's files (a tar archive), or `undefined` if that failed.
    #[wasm_bindgen]
    pub async fn backup_files() -> Option<Vec<u8>> {
        repl::backup_for_page().await
    }

    /// Writes an archive's files back to the board; how many, or `undefined`.
    #[wasm_bindgen]
    pub async fn restore_files(archive: Vec<u8>) -> Option<u32> {
        repl::restore_for_page(archive).await.map(|n| n as u32)
    }

    /// Starts or stops the terminal's reading of the port.
    #[wasm_bindgen]
    pub fn console_on(on: bool) {
        repl::console_on(on);
    }
}

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("webflash-repl is the page's MicroPython card (wasm): `make serve` builds it.");
}
