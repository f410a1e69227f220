//! The Leptos app: one component per step, the shared [`state::AppState`], and the
//! [`session`] that owns the board.

mod automation;
mod connect;
mod device;
mod erase;
mod firmware;
mod flash;
mod follow;
mod intro;
mod micropython;
mod plan;
mod refusals;
pub mod repl;
pub mod session;
mod state;
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
        </footer>
    }
}
