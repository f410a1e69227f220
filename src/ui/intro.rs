//! The static parts of the page: how it works, and what to do without Web Serial.

use leptos::prelude::*;

/// The four steps, so a first-time visitor knows what will happen.
#[component]
pub fn Steps() -> impl IntoView {
    view! {
        <ol class="steps" aria-label="How it works">
            <li><strong>"Connect"</strong><span>"Plug in the board and pick its port."</span></li>
            <li><strong>"Choose firmware"</strong><span>"A MicroPython .bin, .uf2 or .dfu file, a link, or your workshop's manifest."</span></li>
            <li><strong>"Flash"</strong><span>"Written, then checked byte for byte."</span></li>
            <li><strong>"Try the REPL"</strong><span>"MicroPython answers print('hello')."</span></li>
        </ol>
    }
}

/// Shown instead of the tool when the browser has no Web Serial.
#[component]
pub fn Unsupported() -> impl IntoView {
    let secure = web_sys::window()
        .map(|w| w.is_secure_context())
        .unwrap_or(false);
    view! {
        <section class="card unsupported" role="alert">
            <h2>"This browser cannot talk to USB serial devices"</h2>
            {if secure {
                view! {
                    <p>"webflash needs Web Serial, which Google Chrome, Microsoft Edge and Opera have on computers and Chromebooks (version 89 or newer). Firefox and Safari do not support it."</p>
                    <p>"Open this page in Chrome or Edge to flash a real board. You can still try the demo board here."</p>
                }.into_any()
            } else {
                view! {
                    <p>"Web Serial only works on secure pages. Open this page over https:// (or from http://localhost on this computer) in Google Chrome, Microsoft Edge or Opera."</p>
                }.into_any()
            }}
        </section>
    }
}
