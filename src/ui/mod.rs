//! The Leptos app: one component per step, the shared [`state::AppState`], and the
//! [`session`] that owns the board.

mod automation;
mod connect;
mod device;
mod erase;
mod firmware;
mod flash;
mod follow;
mod history;
mod intro;
mod micropython;
mod plan;
mod refusals;
pub mod repl;
pub mod session;
mod state;
pub mod tools;
mod uf2;

pub use firmware::Firmware;

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
    let uf2_step = Memo::new(move |_| uf2::applies(firmware.get().as_ref(), state));
    // The page is kept for offline use once a board answered (never before the first flash),
    // or at once when an earlier visit kept it.
    let kept = crate::web::offline::kept();
    Effect::new(move |started: Option<bool>| {
        started == Some(true) || {
            let start = kept || state.board.with(Option::is_some);
            if start {
                crate::web::offline::start();
            }
            start
        }
    });
    view! {
        <header class="top">
            <h1>"webflash"</h1>
            <p class="tagline">"Put MicroPython on an ESP32, ESP8266, Raspberry Pi Pico or pyboard, straight from the browser. Nothing to install."</p>
        </header>
        <main>
            <intro::Steps/>
            {(!supported).then(|| view! { <intro::Unsupported/> })}
            <p role="status" aria-live="polite" class=move || if notice.get().is_error { "notice error" } else { "notice" }>
                {move || notice.get().text}
            </p>
            <connect::ConnectPanel/>
            <firmware::FirmwarePanel firmware/>
            // Step 3 fits the board: the ESP's serial bootloader, or a Pico's UF2 drive.
            <Show when=move || !uf2_step.get()>
                <flash::FlashPanel firmware check/>
            </Show>
            <uf2::Uf2Slot firmware shown=uf2_step/>
            <micropython::MicroPythonCard check/>
        </main>
        <footer>
            <p>"webflash speaks Espressif's serial bootloader protocol over Web Serial, writes UF2 files to a Pico's drive and .dfu files to a pyboard over WebUSB. Your files never leave this computer."</p>
            // Offline use: filled by offline.js (see `web::offline`) once the page is kept.
            // modules.js adds the link to the organisers' tools (`?organiser`) after it.
            <p id="offline" class="offline" aria-live="polite"></p>
        </footer>
    }
}
