//! Step 3's place for a Raspberry Pi Pico or a pyboard: whether the page installs a UF2 (Pico)
//! or a `.dfu` over WebUSB (pyboard) instead of flashing an ESP, and the slot where that install
//! step appears. The steps themselves live in the card's module (`ui::repl::uf2`,
//! `ui::repl::dfu`), loaded when such a board shows up: an ESP's first flash does not need them.

use leptos::html;
use leptos::prelude::*;

use crate::i18n::t;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::firmware::Firmware;
use super::state::{AppState, Link};
use crate::boards::identify::Family;
use crate::boards::uf2;
use crate::firmware::manifest;

/// Whether `data` is a DfuSe `.dfu` file (its prefix): a pyboard's install.
pub fn is_dfu(data: &[u8]) -> bool {
    data.starts_with(b"DfuSe")
}

/// Whether the install step is the pyboard's (DFU over WebUSB) rather than the Pico's: the
/// chosen file is a `.dfu`, or the board running MicroPython is an STM32 one.
pub fn dfu_applies(fw: Option<&Firmware>, mcu: &str) -> bool {
    matches!(fw, Some(Firmware::Single { data, .. }) if is_dfu(data))
        || Family::from_mcu(mcu) == Family::Stm32
}

/// Whether `fw` can go on a Pico: a UF2 file, or a manifest with a UF2 build.
pub fn has_uf2(fw: Option<&Firmware>) -> bool {
    match fw {
        Some(Firmware::Single { data, .. }) => {
            uf2::block(&data[..data.len().min(uf2::BLOCK)]).is_some()
        }
        Some(Firmware::Manifest { text, .. }) => {
            manifest::parse(text).is_ok_and(|m| m.uf2_build(None).is_some())
        }
        None => false,
    }
}

/// Whether step 3 is an install step in the card's module rather than the ESP flash: the
/// connected board is a Pico or a pyboard, the chosen file is a UF2 or a `.dfu` (or a manifest
/// with only UF2 builds), or the user said the board is a Pico (and no ESP is connected) with
/// firmware that has a UF2.
pub fn applies(fw: Option<&Firmware>, state: AppState) -> bool {
    let pico = state.board.with(|b| {
        b.as_ref()
            .is_some_and(|f| matches!(Family::from_mcu(&f.mcu), Family::Rp2 | Family::Stm32))
    });
    let dfu = matches!(fw, Some(Firmware::Single { data, .. }) if is_dfu(data));
    let esp = state
        .link
        .with(|l| matches!(l, Link::Ready(_) | Link::Busy(_) | Link::NotReady { .. }));
    let chosen = state.pico_chosen.get() && !esp && has_uf2(fw);
    pico || chosen
        || dfu
        || match fw {
            Some(Firmware::Manifest { text, .. }) => manifest::parse(text).is_ok_and(|m| {
                m.uf2_build(None).is_some() && m.builds.iter().all(|b| b.rp2().is_some())
            }),
            single => has_uf2(single),
        }
}

/// Where the Pico's install step appears (`shown`), loading it the first time.
#[component]
pub fn Uf2Slot(firmware: RwSignal<Option<Firmware>>, shown: Memo<bool>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let mount_point = NodeRef::<html::Div>::new();
    let mounted = RwSignal::new(false);
    let failed = RwSignal::new(false);
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) || !shown.get() {
            return started.unwrap_or(false);
        }
        let Some(el) = mount_point.get() else {
            return false;
        };
        spawn_local(async move {
            if super::micropython::mount_uf2(el.unchecked_into()).await {
                mounted.set(true);
            } else {
                failed.set(true);
            }
        });
        true
    });
    Effect::new(move |_| {
        let fw = firmware.get();
        if mounted.get() {
            super::micropython::push_firmware(fw.as_ref());
        }
    });
    let loading = move || shown.get() && !mounted.get();
    view! {
        <div class="uf2-mount" node_ref=mount_point style:display=move || if shown.get() { "" } else { "none" }></div>
        <Show when=loading>
            <div class="flash">
                <p class="hint">{move || if failed.get() {
                    t("The install step could not be loaded. Check the internet connection and reload the page.")
                } else {
                    t("Loading the install step…")
                }}</p>
            </div>
        </Show>
        <Show when=move || shown.get() && state.pico_chosen.get() && state.board.with(|b| b.is_none())>
            <p class="hint">{t("Not a Pico after all?")}" "
                <button class="secondary" on:click=move |_| state.pico_chosen.set(false)>{t("Not a Pico")}</button>
            </p>
        </Show>
    }
}
