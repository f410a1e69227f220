//! Step 4's place on the page. The MicroPython card itself (terminal, hello check, files) is
//! its own wasm module, `webflash-repl` (`ui::repl`, built by `src/bin/repl`): flashing does
//! not need it, so it is fetched once a board is connected. This is the page's side of the
//! bridge it talks through: the card borrows the board (the session's lease, held across
//! several calls), writes to the status line and reports its board checks.

use std::cell::RefCell;
use std::time::Duration;

use js_sys::{Object, Promise, Reflect, Uint8Array};
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::session::{self, Board, DEFAULT_BAUD};
use super::state::{AppState, Check, Link};
use crate::port::{Port, PortError, Signals};
use crate::web::js::call;
use crate::web::modules;

thread_local! {
    /// The card module's exports, once mounted.
    static MODULE: RefCell<Option<JsValue>> = const { RefCell::new(None) };
    /// The board while the card has it borrowed.
    static LENT: RefCell<Option<Board>> = const { RefCell::new(None) };
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

    Effect::new(move |started: Option<bool>| {
        if started == Some(true) || state.link.get().usb().is_none() {
            return started.unwrap_or(false);
        }
        let Some(parent) = mount_point.get_untracked() else {
            return false;
        };
        status.set(Status::Loading);
        spawn_local(async move {
            match modules::load("repl", "webflash-repl").await {
                Ok(module) => {
                    let bridge = bridge(state, check);
                    let parent: web_sys::HtmlElement = parent.unchecked_into();
                    if call(&module, "mount", &[parent.into(), bridge.into()]).is_ok() {
                        MODULE.with(|m| *m.borrow_mut() = Some(module));
                        status.set(Status::Ready);
                    } else {
                        status.set(Status::Failed("it did not start".into()));
                    }
                }
                Err(e) => status.set(Status::Failed(e)),
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
            <section class="card repl" aria-labelledby="repl-title">
                <h2 id="repl-title">"4. MicroPython"</h2>
                <p class="hint">{move || match status.get() {
                    Status::Waiting => "Connect a board: the terminal and the board's files appear here.".to_string(),
                    Status::Loading | Status::Ready => "Loading the terminal and file tools…".to_string(),
                    Status::Failed(e) => format!("The terminal and file tools could not be loaded ({e}). Flashing still works; reload the page to try again."),
                }}</p>
            </section>
        </Show>
        <div class="repl-mount" node_ref=mount_point></div>
    }
}

/// Restarts nothing; waits for MicroPython on the freshly flashed board and runs the hello
/// check in the card (which reports through the bridge). Waits for the card to load.
pub async fn check_board() {
    call_card("check_board", &[false.into()]).await;
}

/// Calls the card's async export `name` (waiting for the card to load) and its result.
async fn call_card(name: &str, args: &[JsValue]) -> Option<JsValue> {
    for _ in 0..200 {
        if MODULE.with(|m| m.borrow().is_some()) {
            break;
        }
        crate::web::time::sleep(Duration::from_millis(50)).await;
    }
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
    let reset = Closure::<dyn Fn() -> Promise>::new(|| {
        future_to_promise(with_lent(async move |board: &mut Board| {
            let (vid, pid) = board.loader.port().usb_ids();
            if vid
                .zip(pid)
                .is_some_and(|(v, p)| crate::usb::is_native_firmware_usb(v, p))
            {
                // The firmware's own USB device: its control lines reach no reset circuit.
                return Err(PortError::Other(
                    "this board's USB port cannot reset it; press the board's RESET button (or use Soft reset)".into(),
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
    let checked = Closure::<dyn Fn(bool, String)>::new(move |works: bool, text: String| {
        check.set(if works {
            Check::Works { text }
        } else {
            Check::Problem(text)
        })
    });
    set_fn(&b, "checked", checked.into_js_value());
    b
}
