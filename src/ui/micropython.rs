//! Step 4's place on the page. The MicroPython card itself (terminal, hello check, files) is
//! its own wasm module, `webflash-repl` (`ui::repl`, built by `src/bin/repl`): flashing does
//! not need it, so it is fetched when it is needed — a board found running MicroPython, a
//! flash started (it downloads while the flash runs), a check asked for — never at Connect of
//! a board waiting in its bootloader. This is the page's side of the
//! bridge it talks through: the card borrows the board (the session's lease, held across
//! several calls), writes to the status line and reports its board checks.

use std::cell::RefCell;
use std::time::Duration;

use js_sys::{Object, Promise, Reflect, Uint8Array};
use leptos::html;
use leptos::prelude::*;

use crate::i18n::t;
use crate::tf;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::session::{self, Board, DEFAULT_BAUD};
use super::state::{AppState, Check, Link, Next};
use crate::boards::identify::{self, PortKind};
use crate::port::{Port, PortError, Signals};
use crate::web::js::call;
use crate::web::modules;

thread_local! {
    /// The card module's exports, once mounted.
    static MODULE: RefCell<Option<JsValue>> = const { RefCell::new(None) };
    /// The board while the card has it borrowed.
    static LENT: RefCell<Option<Board>> = const { RefCell::new(None) };
    /// Set to load the card (see [`want_card`]).
    static WANTED: std::cell::Cell<Option<RwSignal<bool>>> = const { std::cell::Cell::new(None) };
    /// The card could not be loaded: nobody should wait for it.
    static FAILED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Loads the card if it is not loaded yet.
pub fn want_card() {
    if let Some(wanted) = WANTED.with(|w| w.get()) {
        wanted.set(true);
    }
}

/// Whether the page needs the card with the board in this state: anything but a board that
/// waits in its bootloader for a flash (or no board).
fn needs_card(link: &Link) -> bool {
    !matches!(
        link,
        Link::Idle | Link::Choosing | Link::Preparing { .. } | Link::Ready(_)
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Waiting,
    Loading,
    Ready,
    Failed(String),
}

/// Step 4 until the card is loaded, then the card.
#[component]
pub fn MicroPythonCard(check: RwSignal<Check>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let status = RwSignal::new(Status::Waiting);
    let mount_point = NodeRef::<html::Div>::new();
    let wanted = RwSignal::new(false);
    WANTED.with(|w| w.set(Some(wanted)));
    // The bridge, made now: the organisers' tools use it too (its whole-flash jobs).
    let host = bridge(state, check);
    crate::web::modules::set_host(&host);

    Effect::new(move |started: Option<bool>| {
        let need = wanted.get() || state.link.with(needs_card);
        if started == Some(true) || !need {
            return started.unwrap_or(false);
        }
        let Some(parent) = mount_point.get_untracked() else {
            return false;
        };
        status.set(Status::Loading);
        let bridge = host.clone();
        spawn_local(async move {
            match modules::load("repl", "webflash-repl").await {
                Ok(module) => {
                    let parent: web_sys::HtmlElement = parent.unchecked_into();
                    if call(&module, "mount", &[parent.into(), bridge.into()]).is_ok() {
                        MODULE.with(|m| *m.borrow_mut() = Some(module));
                        status.set(Status::Ready);
                    } else {
                        FAILED.with(|f| f.set(true));
                        status.set(Status::Failed(t("it did not start").into()));
                    }
                }
                Err(e) => {
                    FAILED.with(|f| f.set(true));
                    status.set(Status::Failed(e));
                }
            }
        });
        true
    });

    // The card follows the connection: usable while a board is open and nothing else runs.
    Effect::new(move |_| {
        let link = state.link.get();
        if status.get() == Status::Ready {
            let (open, busy) = (link.usb().is_some(), matches!(link, Link::Busy(_)));
            with_module(|m| call(m, "set_port", &[open.into(), busy.into()]));
        }
    });

    view! {
        <Show when=move || status.get() != Status::Ready>
            <div class="repl">
                <p class="hint">{move || match status.get() {
                    Status::Waiting if state.link.get().usb().is_some() => t("After flashing, MicroPython is checked here, with a terminal and the board's files. Already flashed? Check the board.").to_string(),
                    Status::Waiting => t("Connect a board: the terminal and the board's files appear here.").to_string(),
                    Status::Loading | Status::Ready => t("Loading the terminal and file tools…").to_string(),
                    Status::Failed(e) => tf!("The terminal and file tools could not be loaded ({error}). Flashing still works; reload the page to try again.", error = e),
                }}</p>
                <Show when=move || status.get() == Status::Waiting && state.link.get().usb().is_some()>
                    <button class="secondary" on:click=move |_| spawn_local(restart_and_check())>{t("Check board")}</button>
                </Show>
            </div>
        </Show>
        <div class="repl-mount" node_ref=mount_point></div>
    }
}

/// Restarts nothing; waits for MicroPython on the freshly flashed board and runs the hello
/// check in the card (which reports through the bridge). Waits for the card to load.
pub async fn check_board() {
    call_card("check_board", &[false.into()]).await;
}

/// The card's "Check board" before the card is loaded: restarts the board into its firmware
/// (it may wait in its bootloader) and runs the hello check.
async fn restart_and_check() {
    call_card("check_board", &[true.into()]).await;
}

/// The hello check of a board found running (at Connect, or back after an install): it is
/// asked for its banner at once instead of listening for a boot.
pub async fn check_running_board() {
    call_card("check_running", &[]).await;
}

/// Loads the card if needed and waits for it (up to a minute: ~200 KB on slow venue Wi-Fi);
/// false if it could not be loaded.
async fn card_loaded() -> bool {
    want_card();
    for _ in 0..1200 {
        if MODULE.with(|m| m.borrow().is_some()) {
            return true;
        }
        if FAILED.with(|f| f.get()) {
            return false;
        }
        crate::web::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Calls the card's async export `name` (waiting for the card to load) and its result.
async fn call_card(name: &str, args: &[JsValue]) -> Option<JsValue> {
    card_loaded().await;
    let promise = with_module(|m| call(m, name, args))?.ok()?;
    let promise = promise.dyn_into::<Promise>().ok()?;
    JsFuture::from(promise).await.ok()
}

/// Backs up the board's files through the card (MicroPython must be running).
pub async fn backup_files() -> Option<Vec<u8>> {
    let archive = call_card("backup_files", &[]).await?;
    (!archive.is_undefined()).then(|| Uint8Array::new(&archive).to_vec())
}

/// Puts backed-up files back through the card; how many.
pub async fn restore_files(archive: &[u8]) -> Option<u32> {
    let n = call_card("restore_files", &[Uint8Array::from(archive).into()]).await?;
    n.as_f64().map(|n| n as u32)
}

/// Starts or stops the terminal's use of the port (flashing and a new connection stop it).
pub fn console_on(on: bool) {
    with_module(|m| call(m, "console_on", &[on.into()]));
}

fn with_module<T>(f: impl FnOnce(&JsValue) -> T) -> Option<T> {
    MODULE.with(|m| m.borrow().as_ref().map(f))
}

/// A JS error the card can turn back into a [`PortError`].
fn js_port_error(err: PortError) -> JsValue {
    let e = js_sys::Error::new(&err.to_string());
    let kind = match err {
        PortError::Disconnected => "disconnected",
        PortError::Closed => "closed",
        PortError::Other(_) => "other",
    };
    let _ = Reflect::set(&e, &"kind".into(), &kind.into());
    e.into()
}

/// Runs `op` on the lent board and puts it back.
async fn with_lent<T: Into<JsValue>>(
    op: impl AsyncFnOnce(&mut Board) -> Result<T, PortError>,
) -> Result<JsValue, JsValue> {
    let mut board = LENT
        .with(|l| l.borrow_mut().take())
        .ok_or_else(|| js_port_error(PortError::Other("the board is not lent".into())))?;
    let result = op(&mut board).await;
    LENT.with(|l| *l.borrow_mut() = Some(board));
    result.map(Into::into).map_err(js_port_error)
}

fn set_fn(target: &Object, name: &str, f: JsValue) {
    let _ = Reflect::set(target, &name.into(), &f);
}

/// The object the card's `Host` calls (see `ui::repl::host`). Made once per page.
fn bridge(state: AppState, check: RwSignal<Check>) -> Object {
    let b = Object::new();
    let lease = Closure::<dyn Fn(bool) -> Promise>::new(|wait: bool| {
        future_to_promise(async move {
            // The session waits for (or refuses) a board that is out, also to the card itself.
            let board = session::checkout(wait).await.map_err(js_port_error)?;
            let baud = board.loader.port().baud();
            LENT.with(|l| *l.borrow_mut() = Some(board));
            Ok(baud.into())
        })
    });
    set_fn(&b, "lease", lease.into_js_value());
    let release = Closure::<dyn Fn() -> Promise>::new(|| {
        future_to_promise(async move {
            if let Some(board) = LENT.with(|l| l.borrow_mut().take()) {
                session::checkin(board).await;
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    set_fn(&b, "release", release.into_js_value());
    let write = Closure::<dyn Fn(Uint8Array) -> Promise>::new(|data: Uint8Array| {
        let bytes = data.to_vec();
        future_to_promise(with_lent(async move |board: &mut Board| {
            board
                .loader
                .port_mut()
                .write(&bytes)
                .await
                .map(|_| JsValue::UNDEFINED)
        }))
    });
    set_fn(&b, "write", write.into_js_value());
    let read = Closure::<dyn Fn(f64) -> Promise>::new(|ms: f64| {
        future_to_promise(with_lent(async move |board: &mut Board| {
            let port = board.loader.port_mut();
            let deadline = port.now() + Duration::from_secs_f64(ms.max(0.0) / 1000.0);
            let mut buf = Vec::new();
            port.read(&mut buf, deadline).await?;
            Ok(Uint8Array::from(&buf[..]))
        }))
    });
    set_fn(&b, "read", read.into_js_value());
    let signals = Closure::<dyn Fn(bool, bool) -> Promise>::new(|dtr: bool, rts: bool| {
        future_to_promise(with_lent(async move |board: &mut Board| {
            let port = board.loader.port_mut();
            port.set_signals(Signals { dtr, rts })
                .await
                .map(|_| JsValue::UNDEFINED)
        }))
    });
    set_fn(&b, "setSignals", signals.into_js_value());
    let baud = Closure::<dyn Fn(u32) -> Promise>::new(|baud: u32| {
        future_to_promise(with_lent(async move |board: &mut Board| {
            board
                .loader
                .port_mut()
                .set_baud(baud)
                .await
                .map(|_| JsValue::UNDEFINED)
        }))
    });
    set_fn(&b, "setBaud", baud.into_js_value());
    // For `window.webflash` (the automation API in web/modules.js).
    let connected = Closure::<dyn Fn() -> bool>::new(session::is_connected);
    set_fn(&b, "connected", connected.into_js_value());
    let _ = Reflect::set(&b, &"version".into(), &env!("CARGO_PKG_VERSION").into());
    let reset = Closure::<dyn Fn() -> Promise>::new(|| {
        future_to_promise(with_lent(async move |board: &mut Board| {
            let (vid, pid) = board.loader.port().usb_ids();
            if vid
                .zip(pid)
                .is_some_and(|(v, p)| crate::usb::is_native_firmware_usb(v, p))
            {
                // The firmware's own USB device: its control lines reach no reset circuit.
                return Err(PortError::Other(
                    t("this board's USB port cannot reset it; press the board's RESET button (or use Soft reset)").into(),
                ));
            }
            let wiring = board.wiring;
            let reset = board.loader.hard_reset(wiring).await;
            // Out of the loader now: the next flash starts from a fresh connection.
            board.prepared = None;
            reset.map_err(|e| PortError::Other(e.to_string()))?;
            board.loader.port_mut().set_baud(DEFAULT_BAUD).await?;
            Ok(JsValue::UNDEFINED)
        }))
    });
    set_fn(&b, "hardReset", reset.into_js_value());
    let say = Closure::<dyn Fn(String)>::new(move |text: String| state.say(text));
    set_fn(&b, "say", say.into_js_value());
    let warn = Closure::<dyn Fn(String)>::new(move |text: String| state.warn(text));
    set_fn(&b, "warn", warn.into_js_value());
    let board = Closure::<dyn Fn(String)>::new(move |line: String| {
        let facts = crate::repl::facts::BoardFacts::decode(&line);
        // A returning board found running MicroPython (no ESP card) is known by its unique id.
        if state
            .link
            .with_untracked(|l| matches!(l, Link::Running { card: None, .. }))
        {
            if let Some(id) = facts.as_ref().and_then(|f| f.unique_id.as_deref()) {
                crate::web::history::seen(id);
            }
        }
        state.board.set(facts);
    });
    set_fn(&b, "board", board.into_js_value());
    let checked = Closure::<dyn Fn(bool, String)>::new(move |works: bool, text: String| {
        let outcome = if works {
            Check::Works { text }
        } else {
            Check::Problem(text)
        };
        super::history::checked(state, &outcome);
        check.set(outcome);
    });
    set_fn(&b, "checked", checked.into_js_value());
    install_bridge(&b, state);
    esp_bridge(&b, state);
    b
}

/// The bridge's calls for the organisers' whole-flash backup and restore of an ESP
/// (`ui::tools::esp_backup`), which runs its own loader on the borrowed port.
fn esp_bridge(b: &Object, state: AppState) {
    // "chip-id\tMAC\tflash bytes\twiring\tstub\tin its loader\trevision\tmax baud" of the
    // connected ESP, or null.
    let info = Closure::<dyn Fn() -> JsValue>::new(move || {
        // The board as lent to the tools (after their borrow), else as the page holds it.
        let (wiring, prepared, max_baud) = LENT
            .with(|l| {
                l.borrow()
                    .as_ref()
                    .map(|b| (b.wiring, b.prepared.is_some(), b.max_baud))
            })
            .unwrap_or_else(session::wiring_and_prepared);
        state.link.with_untracked(|l| match l {
            Link::Ready(c) | Link::Running { card: Some(c), .. } => JsValue::from(format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{max_baud}",
                c.info.chip.spec().id,
                c.info.mac_text(),
                c.info.flash_size.unwrap_or(0),
                crate::usb::wiring_name(wiring),
                c.stub,
                prepared,
                c.info.revision
            )),
            _ => JsValue::NULL,
        })
    });
    set_fn(b, "espBoard", info.into_js_value());
    // The borrowed board's whole flash was put back and it restarted into its firmware: the
    // next job starts from Connect, and what step 3 installed is gone.
    let restarted = Closure::<dyn Fn()>::new(move || {
        LENT.with(|l| {
            if let Some(board) = l.borrow_mut().as_mut() {
                board.prepared = None;
            }
        });
        state.installed.set(None);
    });
    set_fn(b, "restarted", restarted.into_js_value());
    // The terminal stops reading the port, as for a flash, so the board can be lent.
    let quiet = Closure::<dyn Fn()>::new(|| console_on(false));
    set_fn(b, "quiet", quiet.into_js_value());
}

/// The bridge's calls for the Pico's install step (which lives in the card's module).
fn install_bridge(b: &Object, state: AppState) {
    let installed = Closure::<dyn Fn(String)>::new(move |summary: String| {
        state.installed.set(Some(summary));
    });
    set_fn(b, "installed", installed.into_js_value());
    let expect = Closure::<dyn Fn()>::new(session::expect_new_device);
    set_fn(b, "expectNewDevice", expect.into_js_value());
    let gone = Closure::<dyn Fn()>::new(move || state.link.set(Link::Away));
    set_fn(b, "boardGone", gone.into_js_value());
    let demo = Closure::<dyn Fn() -> bool>::new(session::is_demo);
    set_fn(b, "isDemo", demo.into_js_value());
    let drive = Closure::<dyn Fn() -> JsValue>::new(|| {
        crate::web::demo::pico_drive().unwrap_or(JsValue::NULL)
    });
    set_fn(b, "demoDrive", drive.into_js_value());
    let usb = Closure::<dyn Fn() -> JsValue>::new(|| {
        crate::web::demo::pyboard_usb().unwrap_or(JsValue::NULL)
    });
    set_fn(b, "demoUsb", usb.into_js_value());
    let follow = Closure::<dyn Fn() -> Promise>::new(move || {
        future_to_promise(async move {
            let wanted =
                |v: u16, p: u16| matches!(identify::port_kind(v, p), PortKind::MicroPython(_));
            match session::follow(wanted, Duration::from_secs(12)).await {
                Some(usb) => {
                    state.link.set(Link::Running { usb, card: None });
                    Ok(JsValue::TRUE)
                }
                None => {
                    state.link.set(Link::NeedsPick {
                        card: None,
                        next: Next::Check,
                    });
                    state.say(t("The Pico restarted as a new USB device, and the browser needs your permission to use it: press \"Pick your board's new port\" and choose it."));
                    Ok(JsValue::FALSE)
                }
            }
        })
    });
    set_fn(b, "followMicroPython", follow.into_js_value());
}

/// Shows the Pico's install step (from the card's module) in `parent`; false if the module
/// could not be loaded.
pub async fn mount_uf2(parent: web_sys::HtmlElement) -> bool {
    if !card_loaded().await {
        return false;
    }
    with_module(|m| call(m, "mount_uf2", &[parent.into()]).is_ok()).unwrap_or(false)
}

/// Hands step 2's firmware to the Pico's install step.
pub fn push_firmware(fw: Option<&super::firmware::Firmware>) {
    use super::firmware::Firmware;
    let (kind, name, data) = match fw {
        Some(Firmware::Single { label, data, .. }) => {
            ("file", label.clone(), Uint8Array::from(&data[..]))
        }
        Some(Firmware::Manifest { url, text }) => {
            ("manifest", url.clone(), Uint8Array::from(text.as_bytes()))
        }
        None => ("none", String::new(), Uint8Array::new_with_length(0)),
    };
    with_module(|m| call(m, "set_firmware", &[kind.into(), name.into(), data.into()]));
}
