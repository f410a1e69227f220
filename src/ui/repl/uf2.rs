//! Step 3 for a Raspberry Pi Pico (RP2040/RP2350): install MicroPython from a UF2 file. It lives
//! in the card's module (the page shows it in step 3's place, `ui::uf2`): an ESP's first flash
//! does not need it, and a Pico needs the card anyway for its hello check.
//!
//! The file is checked first (blocks, family, addresses: [`crate::boards::rp2`]); the Pico goes
//! into BOOTSEL (asked through MicroPython's `machine.bootloader()`, or by its button); the user
//! picks its drive ("Choose the Pico's drive"), whose `INFO_UF2.TXT` must say it is a BOOTSEL
//! drive of the chip the file is for; the file is written; and only when the Pico comes back on
//! its serial port and MicroPython answers `print('hello')` is the install called done. Without
//! the File System Access API the file is offered as a download with drag-and-drop steps.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sha2::{Digest, Sha256};

use super::picoboot::Job;
use super::{with_host, Page, PortState};
use crate::boards::rp2::{self, DriveInfo, Rp2Chip};
use crate::boards::uf2;
use crate::firmware::manifest;
use crate::i18n::{kb, t};
use crate::tf;
use crate::ui::firmware::Firmware;
use crate::web::drive::{self, Drive};
use crate::web::fetch;

/// Where the install stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stage {
    Idle,
    /// MicroPython was asked for its bootloader.
    EnteringBootsel,
    /// The drive should be there: the user picks it.
    NeedsDrive,
    Writing {
        percent: u32,
    },
    /// Written: the Pico restarts and comes back on its serial port.
    Restarting,
}

/// The UF2 to write for `chip`: the chosen file, or the manifest's build for that chip.
pub(super) async fn uf2_for(
    fw: &Firmware,
    chip: Option<Rp2Chip>,
) -> Result<(String, Vec<u8>), String> {
    match fw {
        Firmware::Single { label, data, .. } => Ok((label.clone(), data.to_vec())),
        Firmware::Manifest { url, text } => {
            let m = manifest::parse(text).map_err(|e| e.to_string())?;
            let build = m.uf2_build(chip).ok_or_else(|| {
                tf!(
                    "{firmware} has no UF2 build for this board.",
                    firmware = m.name
                )
            })?;
            let part = manifest::resolve_parts(build, url, &fetch::page_url())
                .into_iter()
                .next()
                .ok_or(t("the manifest's UF2 build has no file"))?;
            let data = fetch::fetch_bytes(&part.url, |_, _| {})
                .await
                .map_err(|e| e.to_string())?;
            manifest::verify_sha256(&part.part, &data).map_err(|e| e.to_string())?;
            Ok((part.part.path, data))
        }
    }
}

/// One line about a UF2 file: name, size, SHA-256, what it holds.
pub(super) fn describe(name: &str, data: &[u8]) -> String {
    let sha = crate::firmware::manifest::hex(&Sha256::digest(data)[..8]);
    let version =
        uf2::micropython_banner(data).unwrap_or_else(|| t("no MicroPython banner found").into());
    tf!(
        "{file}: {size}, SHA-256 {sha}…, {version}",
        file = name,
        size = kb(data.len() as u64),
        sha = sha,
        version = version
    )
}

/// Asks MicroPython for the bootloader; the serial port goes and the BOOTSEL drive comes.
async fn enter_bootsel() {
    super::ask_for_bootloader(
        t("Asking MicroPython to start the Pico's bootloader (BOOTSEL)…"),
        t("The Pico is in BOOTSEL mode: a drive named RPI-RP2 (Pico 2: RP2350) appeared. Press \"Choose the Pico's drive\" and pick it."),
    )
    .await;
}

/// Picks the drive, checks it and the file, writes, and follows the Pico back.
async fn write_to_drive(fw: Firmware, stage: RwSignal<Stage>, problems: RwSignal<Vec<String>>) {
    let state = Page;
    let refuse = |text: String| {
        state.warn(t("Nothing was written. See the reason below."));
        problems.set(vec![text]);
        stage.set(Stage::NeedsDrive);
    };
    let demo = with_host(|h| h.is_demo()).unwrap_or(false);
    let picked = if demo {
        with_host(|h| h.demo_drive())
            .flatten()
            .map(Drive::from_handle)
            .ok_or_else(|| {
                drive::DriveError::Other(t("the demo Pico is not in BOOTSEL mode").into())
            })
    } else {
        Drive::pick().await
    };
    let drive = match picked {
        Ok(d) => d,
        Err(e) => return state.warn(e.to_string()),
    };
    let info = drive
        .read_text("INFO_UF2.TXT")
        .await
        .ok()
        .and_then(|t| DriveInfo::parse(&t));
    let Some(chip) = info.as_ref().and_then(DriveInfo::rp2) else {
        return refuse(tf!("\"{drive}\" is not a Pico in BOOTSEL mode (it has no INFO_UF2.TXT naming an RP2040 or RP2350). Choose the drive named RPI-RP2 (Pico 2: RP2350); if there is none, hold BOOTSEL while plugging the Pico in.", drive = drive.name()));
    };
    let (name, data) = match uf2_for(&fw, Some(chip)).await {
        Ok(found) => found,
        Err(e) => return refuse(e),
    };
    if let Err(refusal) = rp2::check(&data, chip, None) {
        return refuse(refusal.to_string());
    }
    problems.set(Vec::new());
    state.say(tf!(
        "Writing {firmware}…",
        firmware = describe(&name, &data)
    ));
    let written = drive
        .write("micropython.uf2", &data, |done, total| {
            stage.set(Stage::Writing {
                percent: (done * 100 / total.max(1)) as u32,
            });
        })
        .await;
    if let Err(e) = written {
        stage.set(Stage::NeedsDrive);
        return state.warn(tf!(
            "The file could not be written to the drive ({error}). Choose the Pico's drive again.",
            error = e
        ));
    }
    super::record_install(chip.name(), "BOOTSEL drive", &name, &data, false);
    stage.set(Stage::Restarting);
    state.say(t(
        "Written. The Pico restarts into MicroPython by itself; waiting for its serial port…",
    ));
    let Some(host) = with_host(|h| h.clone()) else {
        return;
    };
    let back = host.follow_micropython().await;
    stage.set(Stage::Idle);
    if back {
        super::check_running_from_page().await;
    }
    // Otherwise the page asks for "Pick your board's new port" and checks the board after it.
}

/// The chip of the board MicroPython runs on now (after a check), if it is an RP2.
fn running_chip(port: PortState) -> Option<Rp2Chip> {
    let mcu = super::board_mcu()?.get_untracked();
    (port.open.get_untracked())
        .then(|| Rp2Chip::from_mcu(&mcu))
        .flatten()
}

/// Step 3 for a Pico; `firmware` is the page's choice, `port` whether a board is open.
#[component]
pub fn Uf2Panel(firmware: RwSignal<Option<Firmware>>, port: PortState) -> impl IntoView {
    let state = Page;
    let stage = RwSignal::new(Stage::Idle);
    let problems = RwSignal::new(Vec::<String>::new());
    let job = RwSignal::new(Job::Install);
    // Set by Cancel during a PICOBOOT write (the drive path's write is one file, not stopped).
    let cancel = RwSignal::new(false);
    let by_usb = RwSignal::new(false);
    let summary = move || match firmware.get() {
        Some(Firmware::Single { label, data, .. }) => describe(&label, &data),
        Some(Firmware::Manifest { url, .. }) => {
            tf!("UF2 build of {url}, chosen for the Pico's chip", url = url)
        }
        None => t("Choose the .uf2 for your Pico in step 2 (from micropython.org/download).")
            .to_string(),
    };
    let on_install = move |_| {
        let Some(fw) = firmware.get_untracked() else {
            return;
        };
        job.set(Job::Install);
        problems.set(Vec::new());
        let chip = running_chip(port);
        if let (Some(chip), Firmware::Single { data, .. }) = (chip, &fw) {
            if let Err(refusal) = rp2::check(data, chip, None) {
                state.warn(t(
                    "Nothing was written: the UF2 does not fit this board. See the reason below.",
                ));
                return problems.set(vec![refusal.to_string()]);
            }
        }
        if chip.is_some() {
            stage.set(Stage::EnteringBootsel);
            spawn_local(async move {
                enter_bootsel().await;
                stage.set(Stage::NeedsDrive);
            });
        } else {
            stage.set(Stage::NeedsDrive);
            state.say(t("Hold the BOOTSEL button on the Pico while you plug it in, then let go: a drive named RPI-RP2 (Pico 2: RP2350) appears. Then press \"Choose the Pico's drive\"."));
        }
    };
    let on_drive = move |_| {
        if let Some(fw) = firmware.get_untracked() {
            spawn_local(write_to_drive(fw, stage, problems));
        }
    };
    // What "Choose the Pico's bootloader" does: the install, or a whole-flash backup/restore.
    let on_bootloader = move |_| {
        by_usb.set(true);
        spawn_local(async move {
            let fw = firmware.get_untracked();
            super::picoboot::run(job.get_untracked(), fw, stage, problems, cancel).await;
            by_usb.set(false);
        });
    };
    // Backup and restore need the Pico in BOOTSEL; from MicroPython it is asked for it first.
    let start_flash_job = move |j: Job| {
        problems.set(Vec::new());
        job.set(j);
        if running_chip(port).is_some() {
            stage.set(Stage::EnteringBootsel);
            spawn_local(async move {
                enter_bootsel().await;
                stage.set(Stage::NeedsDrive);
            });
        } else {
            stage.set(Stage::NeedsDrive);
            state.say(t("Hold the BOOTSEL button on the Pico while you plug it in, then press \"Choose the Pico's bootloader\"."));
        }
    };
    let on_backup = move |_| start_flash_job(Job::Backup);
    let on_restore = move |e: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let input: web_sys::HtmlInputElement = e.target().unwrap().unchecked_into();
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        spawn_local(async move {
            if let Ok(buf) = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                start_flash_job(Job::Restore(js_sys::Uint8Array::new(&buf).to_vec()));
            }
        });
    };
    // PICOBOOT first where the browser has WebUSB (the demo Pico has only its drive).
    let usb =
        move || crate::web::webusb::supported() && !with_host(|h| h.is_demo()).unwrap_or(false);
    let on_download = move |_| {
        if let Some(Firmware::Single { data, .. }) = firmware.get_untracked() {
            crate::web::download("micropython.uf2", &data);
        }
    };
    let can_write = move || drive::supported() || with_host(|h| h.is_demo()).unwrap_or(false);
    view! {
        <div class="install">
            <p class="hint" data-field="uf2">{summary}</p>
            <Show when=can_write fallback=move || view! {
                <p class="hint">{t("This browser cannot write to the Pico's drive itself. Download the file, hold BOOTSEL while plugging the Pico in, drag micropython.uf2 onto the drive named RPI-RP2 (Pico 2: RP2350) in your file manager, wait until the drive disappears (the Pico restarts), then press Connect.")}</p>
                <button class="primary" disabled=move || firmware.get().is_none() on:click=on_download>{t("Download micropython.uf2")}</button>
            }>
                <div class="row">
                    <button class="primary" disabled=move || firmware.get().is_none() || stage.get() != Stage::Idle
                        on:click=on_install>{t("Install")}</button>
                    <Show when=move || stage.get() == Stage::NeedsDrive && usb()>
                        <button class="primary" on:click=on_bootloader>{t("Choose the Pico's bootloader")}</button>
                    </Show>
                    <Show when=move || stage.get() == Stage::NeedsDrive>
                        <button class=move || if usb() { "secondary" } else { "primary" } on:click=on_drive>{t("Choose the Pico's drive")}</button>
                    </Show>
                </div>
            </Show>
            <Show when=move || usb() && stage.get() == Stage::Idle>
                <div class="row">
                    <button class="secondary" on:click=on_backup>{t("Back up the whole flash")}</button>
                    <label class="hint">{t("Restore the whole flash")}" "
                        <input type="file" accept=".picobackup" aria-label=t("Restore the whole flash") on:change=on_restore/></label>
                </div>
            </Show>
            {move || match stage.get() {
                Stage::Writing { percent } => view! {
                    <Show when=move || by_usb.get()>
                        <button class="secondary" disabled=move || cancel.get() on:click=move |_| cancel.set(true)>{t("Cancel")}</button>
                    </Show>
                    <div class="progress" role="progressbar" aria-label=t("Install progress") aria-valuemin="0" aria-valuemax="100"
                        aria-valuenow=percent.to_string()>
                        <div class="bar" style=format!("width: {percent}%")></div>
                    </div>
                }.into_any(),
                _ => ().into_any(),
            }}
            <crate::ui::refusals::Refusals problems/>
        </div>
    }
}
