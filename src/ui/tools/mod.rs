//! The organisers' tools (`?organiser`): their own wasm module (`webflash-tools`), fetched only
//! when an organiser opens them, so a student's page carries none of it: the handout builder (a
//! workshop manifest, its link, a QR code and a printable handout), the device history, and the
//! whole-flash backup and restore of an ESP.

mod esp_backup;
mod handout;
mod history;
mod sheet;

use leptos::prelude::*;

use crate::i18n::t;

/// Shows the tools in `parent`; `page_url` is the student page the handout links to, `host`
/// the page's bridge (`ui::micropython`), through which the whole-flash jobs run on its board.
pub fn mount(parent: web_sys::HtmlElement, page_url: String, host: wasm_bindgen::JsValue) {
    crate::web::js::add_stylesheet("tools.css");
    leptos::mount::mount_to(parent, move || {
        view! {
            <h2>{t("For workshop organisers")}</h2>
            <p class="hint">{t("Make the one link your students open: pick the firmware, give the workshop a title, publish the manifest beside this page, and print the handout with its QR code.")}</p>
            <handout::HandoutBuilder page_url=page_url.clone()/>
            <history::HistoryView/>
            {host.is_object().then(|| view! { <esp_backup::EspBackupPanel page=esp_backup::Page(host.clone())/> })}
        }
    })
    .forget();
}
