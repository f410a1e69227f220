//! The Leptos app: one component per step, and the [`session`] that owns the port.

mod connect;
mod intro;
pub mod session;

use leptos::prelude::*;

use crate::web::serial_supported;

/// Mounts the app into `<body>` and installs the automation API.
pub fn mount() {
    session::install_automation_api();
    leptos::mount::mount_to_body(App);
}

/// The whole page.
#[component]
fn App() -> impl IntoView {
    let supported = serial_supported();
    view! {
        <header class="top">
            <h1>"webflash"</h1>
            <p class="tagline">"Put MicroPython on an ESP32 or ESP8266 board, straight from the browser. Nothing to install."</p>
        </header>
        <main>
            <intro::Steps/>
            {if supported {
                view! { <connect::ConnectPanel/> }.into_any()
            } else {
                view! { <intro::Unsupported/> }.into_any()
            }}
        </main>
        <footer>
            <p>"webflash speaks Espressif's serial bootloader protocol over Web Serial. Your files never leave this computer."</p>
        </footer>
    }
}
