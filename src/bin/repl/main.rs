//! The MicroPython card (step 4: hello check, terminal, files, backups) and the Pico's install
//! step (a UF2 onto its BOOTSEL drive) as their own wasm module, fetched by the page when it
//! needs them (`ui::micropython`): an ESP's first flash does not, so the page a student waits
//! for stays small. The card is `webflash::ui::repl`.

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

    /// Shows the Pico's install step in `parent` (after `mount`).
    #[wasm_bindgen]
    pub fn mount_uf2(parent: web_sys::HtmlElement) {
        repl::mount_uf2(parent);
    }

    /// The firmware chosen in step 2: `kind` "file" (`name`, `data`), "manifest" (`name` is
    /// its URL, `data` its text) or "none".
    #[wasm_bindgen]
    pub fn set_firmware(kind: &str, name: String, data: Vec<u8>) {
        use std::sync::Arc;
        use webflash::ui::Firmware;
        repl::set_firmware(match kind {
            "file" => Some(Firmware::Single {
                label: name,
                data: Arc::new(data),
                url: None,
            }),
            "manifest" => Some(Firmware::Manifest {
                url: name,
                text: Arc::new(String::from_utf8_lossy(&data).into_owned()),
            }),
            _ => None,
        });
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

    /// The check of a board just connected while running MicroPython (no restart to wait for).
    #[wasm_bindgen]
    pub async fn check_running() {
        repl::check_running_from_page().await;
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
