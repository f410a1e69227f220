//! Step 1: choose the port (or the demo board), reset the board into its bootloader, and show
//! what it is.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::device::{DeviceCard, MicroPythonFacts};
use super::session::{self, Board, PortChoice};
use super::state::{AppState, BoardCard, Link};
use crate::boards::identify::{self, PortKind};
use crate::firmware::erase::BoardFlash;
use crate::i18n::t;
use crate::loader::{Baud, Event, Stage};
use crate::port::Port;
use crate::protocol::chip::Chip;
use crate::tf;
use crate::web::serial_supported;

/// Resets into the loader, identifies the chip, starts the flasher stub.
async fn prepare(board: &mut Board, state: AppState) -> Result<BoardCard, String> {
    board.loader.on_event(move |e| {
        if let Event::Stage(Stage::UploadingStub) = e {
            state.say(t("Starting the flasher helper on the board…"));
        }
    });
    let wiring = board.wiring;
    let mut ready = board
        .loader
        .prepare(wiring, None)
        .await
        .map_err(|e| e.to_string())?;
    state.say(tf!(
        "Found {chip}. Starting the flasher helper…",
        chip = ready.info.chip
    ));
    match session::fetch_stub(ready.info.chip, ready.info.revision).await {
        Ok(stub) => {
            // Raise the rate in the ROM first where it can, so the stub goes over the fast
            // link; flashing keeps this rate unless another one is chosen.
            let baud = Baud::Auto {
                max: board.max_baud,
            };
            board
                .loader
                .start_stub(&stub, wiring, Some(baud))
                .await
                .map_err(|e| e.to_string())?;
            if let Some(size) = ready.info.flash_size {
                board
                    .loader
                    .set_flash_size(size)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            ready.stub = true;
            board.stub = Some(stub);
        }
        Err(e) => state.warn(tf!(
            "The flasher helper could not be loaded ({error}); using the slower built-in loader.",
            error = e
        )),
    }
    board.prepared = Some(ready.clone());
    // What it runs now decides whether to erase before flashing (two short reads).
    let flash = board
        .loader
        .read_summary()
        .await
        .ok()
        .map(|s| BoardFlash::from_reads(&s.table, s.app.as_deref()));
    let usb = String::new();
    Ok(BoardCard {
        usb,
        info: ready.info,
        stub: ready.stub,
        demo: board.demo,
        flash,
    })
}

/// Resets the open board into its loader and identifies it, updating the shared state.
/// Returns whether it is ready.
pub(super) async fn prepare_open_board(usb: String, state: AppState) -> bool {
    state.link.set(Link::Preparing { usb: usb.clone() });
    state.say(tf!(
        "Connected to {usb}. Resetting the board into its bootloader…",
        usb = usb
    ));
    let result = session::lease(async move |board: &mut Board| prepare(board, state).await).await;
    if !session::is_connected() {
        // Disconnected (by the user or the cable) while preparing: that state already shows.
        return false;
    }
    match result {
        Ok(Ok(mut card)) => {
            card.usb = usb;
            state.say(if card.stub {
                tf!(
                    "{chip} is ready. Choose the firmware.",
                    chip = card.info.chip
                )
            } else {
                tf!(
                    "{chip} is ready (built-in loader). Choose the firmware.",
                    chip = card.info.chip
                )
            });
            crate::web::history::seen(&card.info.mac_text());
            state.link.set(Link::Ready(card));
            true
        }
        Ok(Err(message)) => {
            // The port stays open: the user can put the board into download mode by hand and
            // press Try again without choosing the port again.
            state.warn(message);
            state.link.set(Link::NotReady { usb });
            false
        }
        Err(err) => {
            state.link.set(Link::Idle);
            state.warn(err.to_string());
            false
        }
    }
}

/// A board that runs MicroPython on its own USB (a Pico, a pyboard, an ESP32-S2/S3 on
/// TinyUSB): resetting lines or SYNC bytes would do nothing good there, so the page asks
/// MicroPython, and reaches a bootloader only when installing.
async fn open_running_board(usb: String, state: AppState) {
    state.say(tf!(
        "Connected to {usb}: the board runs its own firmware on its USB port. Checking MicroPython…",
        usb = usb
    ));
    state.link.set(Link::Running { usb, card: None });
    super::micropython::check_running_board().await;
}

/// Where the open port leads, asking the board politely when its USB id does not say:
/// Ctrl-C makes MicroPython print its prompt and does nothing to an ESP's ROM loader.
async fn port_kind() -> PortKind {
    let kind = session::usb_ids().map_or(PortKind::Unknown, |(v, p)| identify::port_kind(v, p));
    if kind != PortKind::Unknown {
        return kind;
    }
    let reply = session::lease(async |board: &mut Board| {
        let port = board.loader.port_mut();
        port.write(identify::PROBE).await?;
        let mut reply = Vec::new();
        let deadline = port.now() + std::time::Duration::from_millis(400);
        while port.read(&mut reply, deadline).await? > 0 {}
        Ok::<_, crate::port::PortError>(reply)
    })
    .await;
    match reply {
        Ok(Ok(reply)) if identify::probe_found_micropython(&reply) => PortKind::MicroPython(None),
        _ => PortKind::Unknown,
    }
}

/// Opens `choice` and prepares the board.
fn start(choice: PortChoice, state: AppState) {
    super::micropython::console_on(false);
    state.link.set(Link::Choosing);
    state.say(match choice {
        PortChoice::Serial => t("Choose your board's port in the browser's list…"),
        PortChoice::Demo(_) | PortChoice::DemoPico | PortChoice::DemoPyboard => {
            t("Starting the demo board…")
        }
    });
    spawn_local(async move {
        let on_lost = move |err: crate::port::PortError| {
            state.link.set(Link::Idle);
            state.warn(tf!("Connection lost: {error}.", error = err));
        };
        state.board.set(None);
        match session::open(choice, on_lost).await {
            Ok(usb) if matches!(choice, PortChoice::Demo(_)) => {
                prepare_open_board(usb, state).await;
            }
            Ok(usb) => match port_kind().await {
                PortKind::MicroPython(_) => open_running_board(usb, state).await,
                PortKind::EspLoader(_) | PortKind::Unknown => {
                    prepare_open_board(usb, state).await;
                }
            },
            Err(err) => {
                state.link.set(Link::Idle);
                state.warn(err.to_string());
            }
        }
    });
}

/// The Connect / Demo board / Disconnect card and the device card.
#[component]
pub fn ConnectPanel(firmware: RwSignal<Option<super::Firmware>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let link = state.link;
    // The firmware has a Pico build and no board is connected: the Pico may be the board, and a
    // Pico in BOOTSEL mode has no port to connect.
    let pico_possible = move || {
        matches!(link.get(), Link::Idle | Link::Choosing)
            && firmware.with(|fw| super::uf2::has_uf2(fw.as_ref()))
    };
    let demo_chip = RwSignal::new("esp32".to_string());
    let busy = move || {
        matches!(
            link.get(),
            Link::Choosing | Link::Preparing { .. } | Link::Busy(_)
        )
    };
    let open = move || link.get().usb().is_some();

    let on_disconnect = move |_| {
        spawn_local(async move {
            session::disconnect().await;
            state.link.set(Link::Idle);
            state.say(t("Disconnected. You can unplug the board."));
        });
    };
    let on_retry = move |_| {
        if let Some(usb) = link.get_untracked().usb() {
            spawn_local(async move {
                prepare_open_board(usb, state).await;
            });
        }
    };
    let following = move || matches!(link.get(), Link::Following { .. } | Link::NeedsPick { .. });

    view! {
        <div class="connect">
            <p class="hint">{t("Use a USB cable that carries data (some charge-only cables do not). No board? Try the demo board.")}</p>
            <div class="row">
                <Show when=open fallback=move || view! {
                    <Show when=move || matches!(link.get(), Link::NeedsPick { .. })>
                        <button class="primary" on:click=move |_| super::follow::pick(state)>{t("Pick your board's new port")}</button>
                    </Show>
                    {move || (!following() && serial_supported()).then(|| view! {
                        <button class="primary" disabled=busy on:click=move |_| start(PortChoice::Serial, state)>{t("Connect")}</button>
                    })}
                    <button class="secondary" disabled=move || busy() || following()
                        on:click=move |_| {
                            let choice = match demo_chip.get().as_str() {
                                "pico" => PortChoice::DemoPico,
                                "pyboard" => PortChoice::DemoPyboard,
                                name => PortChoice::Demo(Chip::from_name(name).unwrap_or(Chip::Esp32)),
                            };
                            start(choice, state)
                        }>{t("Demo board")}</button>
                    <label class="inline">{t("Demo chip")}" "
                        <select aria-label=t("Demo chip") on:change=move |ev| demo_chip.set(event_target_value(&ev))>
                            <option value="esp32" selected=true>"ESP32"</option>
                            <option value="esp32c3">"ESP32-C3"</option>
                            <option value="esp32s3">"ESP32-S3"</option>
                            <option value="esp8266">"ESP8266"</option>
                            <option value="pico">"Raspberry Pi Pico"</option>
                            <option value="pyboard">"pyboard (STM32)"</option>
                        </select>
                    </label>
                }>
                    <Show when=move || matches!(link.get(), Link::NotReady { .. })>
                        <button class="primary" on:click=on_retry>{t("Try again")}</button>
                    </Show>
                    <button class="secondary" disabled=move || matches!(link.get(), Link::Busy(_)) on:click=on_disconnect>{t("Disconnect")}</button>
                </Show>
            </div>
            <Show when=pico_possible>
                <p class="hint tip">{t("A Raspberry Pi Pico has no port to connect until MicroPython runs on it.")}" "
                    <button class="secondary" on:click=move |_| state.pico_chosen.set(true)>{t("My board is a Raspberry Pi Pico")}</button>
                </p>
            </Show>
            {move || match link.get() {
                Link::Ready(card) | Link::Busy(card) => view! { <DeviceCard card/> }.into_any(),
                Link::Running { card: Some(card), usb } => view! { <DeviceCard card=BoardCard { usb, ..card }/> }.into_any(),
                Link::Running { card: None, usb } => view! { <MicroPythonFacts usb facts=state.board/> }.into_any(),
                Link::Following { card: Some(card), .. } | Link::NeedsPick { card: Some(card), .. } => {
                    view! { <DeviceCard card/> }.into_any()
                }
                other => other.usb().map(|usb| view! {
                    <dl class="device" aria-label=t("Connected board")>
                        <dt>{t("USB device")}</dt><dd data-field="usb">{usb}</dd>
                    </dl>
                }.into_any()).unwrap_or_else(|| ().into_any()),
            }}
        </div>
    }
}
