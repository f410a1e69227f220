//! Step 3 for a pyboard (STM32): install MicroPython from a `.dfu` file over WebUSB. It lives in
//! the card's module, in the same place as the Pico's install step (`ui::uf2` decides when).
//!
//! The file is read whole and checked against the board's flash first ([`crate::boards::dfu`];
//! a running pyboard's layout is the F405's, so a file for another board is refused before the
//! board leaves MicroPython); the board goes into its DFU bootloader (asked through MicroPython's
//! `machine.bootloader()`, or by the DFU jumper); the user picks it ("Choose the board in DFU
//! mode"); the DFU client ([`crate::dfu`]) erases only the sectors the file covers, writes,
//! reads every part back and compares SHA-256, and leaves DFU; the install is called done only
//! when the board is back on its serial port and MicroPython answers `print('hello')`.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use sha2::{Digest, Sha256};

use super::{with_host, Page, PortState};
use crate::boards::dfu::file::{self as dfu_file, DfuFile, Element, Target};
use crate::boards::dfu::layout::{self, Layout};
use crate::boards::identify::Family;
use crate::dfu::{Dfu, DfuError};
use crate::i18n::{kb, number, t};
use crate::tf;
use crate::ui::firmware::Firmware;
use crate::ui::uf2::is_dfu;
use crate::usb_device::UsbError;
use crate::web::webusb::{self, Kind, WebUsbDevice};

/// ST's DFU bootloader (the STM32 system ROM, and mboot as MicroPython builds it).
const STM32_DFU: (u16, u16) = (0x0483, 0xDF11);
/// Where the firmware starts once DFU is left.
const FLASH_START: u32 = 0x0800_0000;

/// Where the install stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    Idle,
    /// MicroPython was asked for its bootloader.
    EnteringDfu,
    /// The DFU device should be there: the user picks it.
    NeedsDevice,
    Installing {
        what: &'static str,
        percent: u32,
    },
    /// Left DFU: the board restarts and comes back on its serial port.
    Restarting,
}

/// `MicroPython v1.25.0 on 2025-04-15; PYBv1.1 with STM32F405RG` in the file, if there.
fn banner(data: &[u8]) -> Option<String> {
    let needle = b"MicroPython v";
    let at = data.windows(needle.len()).position(|w| w == needle)?;
    let rest = &data[at..data.len().min(at + 120)];
    let end = rest
        .iter()
        .position(|&b| b == 0 || b == b'\r' || b == b'\n')
        .unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok().map(str::to_string)
}

/// One line about a `.dfu` file: name, size, SHA-256, what it holds.
fn describe(name: &str, data: &[u8], file: &DfuFile) -> String {
    let sha = crate::firmware::manifest::hex(&Sha256::digest(data)[..8]);
    let parts: Vec<String> = file
        .elements()
        .map(|(_, e)| {
            tf!(
                "{size} at {address}",
                size = kb(e.data.len() as u64),
                address = format!("0x{:08X}", e.address)
            )
        })
        .collect();
    let version = banner(data).unwrap_or_else(|| t("no MicroPython banner found").into());
    tf!(
        "{file}: {size}, SHA-256 {sha}…, {parts}; {version}",
        file = name,
        size = kb(data.len() as u64),
        sha = sha,
        parts = parts.join(", "),
        version = version
    )
}

/// What to install: a `.dfu` read whole, or (expert) a plain `.bin` at an address the user
/// typed; the reason when it is neither.
fn file_for(data: &[u8], address: Option<u32>) -> Result<DfuFile, String> {
    if is_dfu(data) {
        return dfu_file::parse(data).map_err(|e| e.to_string());
    }
    let address = address.ok_or(t("This is not a .dfu file. Choose the .dfu for your board (from micropython.org/download), or, if you know where a plain .bin goes, type its start address under \"Expert\"."))?;
    Ok(DfuFile {
        targets: vec![Target {
            alt: 0,
            name: None,
            elements: vec![Element {
                address,
                data: data.to_vec(),
            }],
        }],
        vendor: 0xFFFF,
        product: 0xFFFF,
        device: 0xFFFF,
    })
}

/// `file` checked against `layout` (when known): the reason if it does not fit.
fn check(file: &DfuFile, layout: Option<&Layout>) -> Result<(), String> {
    match layout {
        Some(layout) => layout
            .sectors_to_erase(file)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

/// A typed address: `0x08000000` or decimal.
fn parse_address(text: &str) -> Option<u32> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// Asks MicroPython for its bootloader: the serial port goes, the DFU device comes.
async fn enter_dfu() {
    super::ask_for_bootloader(
        t("Asking MicroPython to start the board's DFU bootloader…"),
        t("The board is in DFU mode. Press \"Choose the board in DFU mode\" and pick STM32 BOOTLOADER."),
    )
    .await;
}

/// What to tell the student when the install stopped on `e`.
fn failure(e: &DfuError) -> String {
    match e {
        DfuError::Usb(UsbError::Disconnected) => t("The board disconnected during the install, so MicroPython is NOT verified on it. Plug it back in, put it in DFU mode again (DFU jumper or BOOT0 to 3.3V, then RESET), and press \"Choose the board in DFU mode\" to start over.").into(),
        e => tf!("{error} Nothing is verified on the board yet: press \"Choose the board in DFU mode\" to try again.", error = e),
    }
}

/// Picks the DFU device, installs, verifies, leaves DFU and follows the board back.
async fn install(
    data: Vec<u8>,
    file: DfuFile,
    name: String,
    stage: RwSignal<Stage>,
    problems: RwSignal<Vec<String>>,
) {
    let state = Page;
    // The demo pyboard's bootloader is in the page (it appears a moment after the board left
    // MicroPython); a real one is chosen in the browser's list.
    let opened = if with_host(|h| h.is_demo()).unwrap_or(false) {
        let mut device = None;
        for _ in 0..30 {
            device = with_host(|h| h.demo_usb()).flatten();
            if device.is_some() {
                break;
            }
            crate::web::time::sleep(Duration::from_millis(100)).await;
        }
        match device {
            Some(device) => WebUsbDevice::open(device, Kind::Dfu).await,
            None => Err(webusb::OpenError::NoneChosen),
        }
    } else {
        WebUsbDevice::choose(&[STM32_DFU], Kind::Dfu).await
    };
    let dev = match opened {
        Ok(dev) => dev,
        Err(e) => return state.warn(e.to_string()),
    };
    let Some(layout) = layout::parse(&dev.layout) else {
        dev.close().await;
        return state.warn(tf!("The board's DFU bootloader did not describe its flash (it says \"{layout}\"). Choose the STM32 BOOTLOADER device.", layout = dev.layout));
    };
    if let Err(reason) = check(&file, Some(&layout)) {
        dev.close().await;
        state.warn(t("Nothing was written. See the reason below."));
        return problems.set(vec![reason]);
    }
    problems.set(Vec::new());
    state.say(tf!(
        "Installing {firmware}…",
        firmware = describe(&name, &data, &file)
    ));
    let (interface, transfer) = (dev.interface, dev.transfer_size);
    let mut dfu = Dfu::new(dev, interface, transfer);
    let installed = dfu
        .install(&file, &layout, false, |what, done, total| {
            let what = match what {
                "erase" => t("Erasing"),
                "write" => t("Writing"),
                _ => t("Reading back"),
            };
            let percent = (done * 100 / total.max(1)) as u32;
            stage.set(Stage::Installing { what, percent });
        })
        .await;
    let installed = match installed {
        Ok(i) => i,
        Err(e) => {
            dfu.into_device().close().await;
            stage.set(Stage::NeedsDevice);
            return state.warn(failure(&e));
        }
    };
    super::record_install("STM32 (pyboard)", "DFU", &name, &data, true);
    if let Err(e) = dfu.leave(FLASH_START).await {
        stage.set(Stage::NeedsDevice);
        return state.warn(failure(&e));
    }
    stage.set(Stage::Restarting);
    state.say(tf!("Written and read back: {size} in {sectors} erased sectors match the file (SHA-256). The board restarts into MicroPython; waiting for its serial port…", size = kb(installed.bytes_written as u64), sectors = number(installed.sectors_erased as u64)));
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

/// Step 3 for a pyboard; `firmware` is the page's choice, `port` whether a board is open.
#[component]
pub fn DfuPanel(firmware: RwSignal<Option<Firmware>>, port: PortState) -> impl IntoView {
    let state = Page;
    let stage = RwSignal::new(Stage::Idle);
    let problems = RwSignal::new(Vec::<String>::new());
    // Expert: where a plain .bin goes.
    let address = RwSignal::new(String::new());
    let chosen = move || match firmware.get() {
        Some(Firmware::Single { label, data, .. })
            if !crate::ui::uf2::has_uf2(firmware.get().as_ref()) =>
        {
            Some((label, data))
        }
        _ => None,
    };
    let file = move || {
        let (_, data) = chosen()?;
        Some(file_for(&data, parse_address(&address.get())))
    };
    let plain = move || chosen().is_some_and(|(_, data)| !is_dfu(&data));
    let summary = move || {
        match chosen() {
        Some((label, data)) if is_dfu(&data) => match dfu_file::parse(&data) {
            Ok(file) => describe(&label, &data, &file),
            Err(e) => format!("{label}: {e}"),
        },
        Some((label, data)) => tf!("{file}: {size}, a plain .bin (no addresses in it). Choose the board's .dfu, or type where it goes under \"Expert\".", file = label, size = kb(data.len() as u64)),
        None => t("Choose the .dfu file for your board in step 2 (from micropython.org/download, e.g. PYBV11-….dfu).").into(),
    }
    };
    let running = move || {
        port.open.get_untracked()
            && super::board_mcu()
                .is_some_and(|m| Family::from_mcu(&m.get_untracked()) == Family::Stm32)
    };
    let on_install = move |_| {
        let Some(file) = file() else { return };
        problems.set(Vec::new());
        // A pyboard running MicroPython is an F405: a file for another board is refused now,
        // before it leaves MicroPython.
        let known = running()
            .then(|| layout::parse(layout::STM32F405))
            .flatten();
        if let Err(reason) = file.and_then(|f| check(&f, known.as_ref())) {
            state.warn(t(
                "Nothing was written: the file does not fit this board. See the reason below.",
            ));
            return problems.set(vec![reason]);
        }
        if running() {
            stage.set(Stage::EnteringDfu);
            spawn_local(async move {
                enter_dfu().await;
                stage.set(Stage::NeedsDevice);
            });
        } else {
            stage.set(Stage::NeedsDevice);
            state.say(t("Put the board in DFU mode: connect its BOOT0 pin to 3.3V (the pyboard's DFU jumper: P1 to 3V3), press RESET, then press \"Choose the board in DFU mode\"."));
        }
    };
    let on_choose = move |_| {
        if let (Some((label, data)), Some(Ok(file))) = (chosen(), file()) {
            spawn_local(install(data.to_vec(), file, label, stage, problems));
        }
    };
    let busy = move || {
        matches!(
            stage.get(),
            Stage::EnteringDfu | Stage::Installing { .. } | Stage::Restarting
        )
    };
    view! {
        <div class="install">
            <p class="hint" data-field="dfu">{summary}</p>
            <Show when=move || webusb::supported() || with_host(|h| h.is_demo()).unwrap_or(false) fallback=|| view! {
                <p class="hint">{t("This browser has no WebUSB, which installing over DFU needs. Use Chrome or Edge on a computer or a Chromebook.")}</p>
            }>
                <Show when=plain>
                    <details class="expert">
                        <summary>{t("Expert: write a plain .bin")}</summary>
                        <label>{t("Start address")}" "<input type="text" placeholder="0x08000000" aria-label=t("Start address (expert)")
                            prop:value=move || address.get() on:input=move |e| address.set(event_target_value(&e))/></label>
                        <p class="hint">{t("Only if you know where this file goes: nothing checks that it is MicroPython for this board. The flash sectors it covers are erased.")}</p>
                    </details>
                </Show>
                <div class="row">
                    <button class="primary" disabled=move || !matches!(file(), Some(Ok(_))) || stage.get() != Stage::Idle
                        on:click=on_install>{t("Install")}</button>
                    <Show when=move || stage.get() == Stage::NeedsDevice>
                        <button class="primary" disabled=busy on:click=on_choose>{t("Choose the board in DFU mode")}</button>
                    </Show>
                </div>
            </Show>
            {move || match stage.get() {
                Stage::Installing { what, percent } => view! {
                    <p class="hint">{what}</p>
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
