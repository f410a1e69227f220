//! The Leptos app: one component per step, the shared [`state::AppState`], and the
//! [`session`] that owns the board.

mod automation;
mod connect;
mod erase;
mod firmware;
mod flash;
mod follow;
mod intro;
mod micropython;
mod plan;
pub mod repl;
pub mod session;
mod state;

use leptos::prelude::*;

use crate::web::serial_supported;
use state::AppState;

/// Mounts the app into `<body>` and installs the automation API.
pub fn mount() {
    automation::install();
    leptos::mount::mount_to_body(App);
}

/// The whole page.
#[component]
fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    let firmware = RwSignal::new(None);
    let check = RwSignal::new(state::Check::NotChecked);
    let supported = serial_supported();
    let notice = state.notice;
    view! {
        <header class="top">
            <h1>"webflash"</h1>
            <p class="tagline">"Put MicroPython on an ESP32 or ESP8266 board, straight from the browser. Nothing to install."</p>
        </header>
        <main>
            <intro::Steps/>
            {(!supported).then(|| view! { <intro::Unsupported/> })}
            <p role="status" aria-live="polite" class=move || if notice.get().is_error { "notice error" } else { "notice" }>
                {move || notice.get().text}
            </p>
            <connect::ConnectPanel/>
            <firmware::FirmwarePanel firmware/>
            <flash::FlashPanel firmware check/>
            <micropython::MicroPythonCard check/>
        </main>
        <footer>
            <p>"webflash speaks Espressif's serial bootloader protocol over Web Serial. Your files never leave this computer."</p>
        </footer>
    }
}
