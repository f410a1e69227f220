//! Step 2: where the firmware comes from — a local file (picker or drag-and-drop), a URL, or an
//! ESP Web Tools manifest (also as `?manifest=<url>`, so a workshop hands out one link).

use std::sync::Arc;

use leptos::prelude::*;

use crate::i18n::t;
use crate::tf;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::state::AppState;
use super::steps::StepId;
use crate::web::fetch;

/// Firmware the user chose, not yet checked against the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Firmware {
    /// One binary (file or URL); its offset is decided from its contents and the chip.
    Single {
        label: String,
        data: Arc<Vec<u8>>,
        /// Where it was downloaded from (`None`: a file from this computer).
        url: Option<String>,
    },
    /// An ESP Web Tools manifest; its parts are fetched for the detected chip at flash time.
    Manifest { url: String, text: Arc<String> },
}

impl Firmware {
    pub fn label(&self) -> String {
        match self {
            Firmware::Single { label, data, .. } => {
                format!("{label} ({})", crate::i18n::kb(data.len() as u64))
            }
            Firmware::Manifest { url, .. } => tf!("manifest {url}", url = url),
        }
    }
}

/// Loads `url`: a manifest if it is JSON, else a binary.
pub async fn load_url(url: String, state: AppState, firmware: RwSignal<Option<Firmware>>) {
    state.say(tf!("Downloading {url}…", url = url));
    let bytes = match fetch::fetch_bytes(&url, |done, total| {
        if total > 0 {
            state.say(tf!(
                "Downloading… {done} of {total}",
                done = crate::i18n::kb(done as u64 / 1024 * 1024),
                total = crate::i18n::kb(total as u64 / 1024 * 1024)
            ));
        }
    })
    .await
    {
        Ok(bytes) => bytes,
        Err(e) => {
            state.warn_in(StepId::Firmware, e.to_string());
            return;
        }
    };
    let looks_json = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    let fw = if looks_json {
        Firmware::Manifest {
            url: url.clone(),
            text: Arc::new(String::from_utf8_lossy(&bytes).into_owned()),
        }
    } else {
        let label = url.rsplit('/').next().unwrap_or(&url).to_string();
        Firmware::Single {
            label,
            data: Arc::new(bytes),
            url: Some(url.clone()),
        }
    };
    state.say(tf!("Loaded {firmware}.", firmware = fw.label()));
    firmware.set(Some(fw));
}

/// The firmware card.
#[component]
pub fn FirmwarePanel(firmware: RwSignal<Option<Firmware>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let url = RwSignal::new(String::new());
    let dragging = RwSignal::new(false);

    // A workshop link: ?manifest=<url> (or ?firmware=<url>) loads it at once.
    if let Some(link) = fetch::query_param("manifest").or_else(|| fetch::query_param("firmware")) {
        url.set(link.clone());
        spawn_local(load_url(link, state, firmware));
    }

    let take_file = move |file: web_sys::File| {
        let label = file.name();
        spawn_local(async move {
            match fetch::read_file(file).await {
                Ok(data) => {
                    let fw = Firmware::Single {
                        label,
                        data: Arc::new(data),
                        url: None,
                    };
                    state.say(tf!("Loaded {firmware}.", firmware = fw.label()));
                    firmware.set(Some(fw));
                }
                Err(e) => state.warn_in(StepId::Firmware, e),
            }
        });
    };
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = ev.target().unwrap().unchecked_into();
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            take_file(file);
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            take_file(file);
        }
    };
    let on_load = move |_| {
        let link = url.get().trim().to_string();
        if link.is_empty() {
            state.warn_in(
                StepId::Firmware,
                t("Type or paste the firmware's link first."),
            );
            return;
        }
        spawn_local(load_url(link, state, firmware));
    };

    view! {
        <div class="firmware">
            <p class="hint">{t("A MicroPython .bin for your ESP chip, .uf2 for your Pico or .dfu for your pyboard (from micropython.org/download), a link to one, or your workshop's manifest link.")}</p>
            <div class=move || if dragging.get() { "drop dragging" } else { "drop" }
                on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop>
                <label class="file">{t("Firmware file")}" "
                    <input type="file" accept=".bin,.uf2,.dfu,application/octet-stream" aria-label=t("Firmware file") on:change=on_file/>
                </label>
                <span class="hint">" "{t("or drop a .bin, .uf2 or .dfu file here")}</span>
            </div>
            <div class="row">
                <input class="url" type="url" placeholder=t("https://…/firmware.bin or manifest.json") aria-label=t("Firmware URL")
                    prop:value=url on:input=move |ev| url.set(event_target_value(&ev))/>
                <button class="secondary" on:click=on_load>{t("Load")}</button>
            </div>
            {move || firmware.get().map(|fw| view! { <p class="loaded" data-field="firmware">{tf!("Selected: {firmware}", firmware = fw.label())}</p> })}
        </div>
    }
}
