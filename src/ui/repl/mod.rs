//! Step 4: MicroPython on the same port — the hello check, a terminal, and the board's files.
//!
//! Built into its own wasm module (`webflash-repl`, see `src/bin/repl`), which the page loads
//! once a board is connected: flashing does not need it. The page lends the board through
//! [`Host`]; `ui::micropython` is the page's side. Here: the hello check and the terminal;
//! `files.rs` the board's files; `first_script.rs` the first script; `uf2.rs`, `picoboot.rs` and
//! `dfu.rs` the Pico's and the pyboard's install steps.

mod dfu;
mod files;
mod first_script;
mod host;
mod picoboot;
mod uf2;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

pub use files::{backup_for_page, restore_for_page};
pub use host::{Host, HostPort};

use super::state::Check;
use crate::i18n::t;
use crate::port::{Port, PortError};
use crate::repl::{BootProblem, Repl};
use crate::tf;
use crate::web::term::{self, Term};

/// The status line of the page, as the card uses it.
#[derive(Clone, Copy)]
struct Page;

impl Page {
    fn say(&self, text: impl Into<String>) {
        with_host(|h| h.say(&text.into()));
    }
    fn warn(&self, text: impl Into<String>) {
        with_host(|h| h.warn(&text.into()));
    }
}

/// Whether the page has a board, and whether something else (flashing) is using it.
#[derive(Clone, Copy)]
struct PortState {
    open: RwSignal<bool>,
    busy: RwSignal<bool>,
}

fn with_host<T>(f: impl FnOnce(&Host) -> T) -> Option<T> {
    HOST.with(|h| h.borrow().as_ref().map(f))
}

/// Borrows the board from the page for `op`.
async fn with_port<T>(
    wait: bool,
    op: impl AsyncFnOnce(&mut HostPort) -> T,
) -> Result<T, PortError> {
    let host = with_host(Host::clone).ok_or(PortError::Closed)?;
    let mut port = host.borrow(wait).await?;
    let out = op(&mut port).await;
    host.release().await;
    Ok(out)
}

/// Asks the board's MicroPython for its bootloader (`machine.bootloader()`, after Ctrl-C), and
/// waits until its serial port goes: the page is told to expect the board's next USB device.
/// `asking` and `done` are what the page says before and after.
async fn ask_for_bootloader(asking: &str, done: &str) {
    let state = Page;
    console_on(false);
    state.say(asking);
    with_host(|h| h.expect_new_device());
    let _ = with_port(true, async |port: &mut HostPort| {
        port.write(b"\r\x03\x03").await?;
        port.sleep(Duration::from_millis(100)).await;
        port.write(b"import machine; machine.bootloader()\r")
            .await?;
        // The port goes within a moment; reading notices.
        let mut sink = Vec::new();
        for _ in 0..30 {
            let deadline = port.now() + Duration::from_millis(100);
            if let Err(PortError::Disconnected | PortError::Closed) =
                port.read(&mut sink, deadline).await
            {
                break;
            }
        }
        Ok::<_, PortError>(())
    })
    .await;
    with_host(|h| h.board_gone());
    state.say(done);
}

/// Mounts the card into `parent`, talking to the page through `host`.
pub fn mount(parent: web_sys::HtmlElement, host: Host) {
    crate::web::js::add_stylesheet("card.css");
    HOST.with(|h| *h.borrow_mut() = Some(host));
    let port = PortState {
        open: RwSignal::new(false),
        busy: RwSignal::new(false),
    };
    let check = RwSignal::new(Check::NotChecked);
    SIGNALS.with(|s| s.set(Some((port, check))));
    MCU.with(|m| m.set(Some(RwSignal::new(String::new()))));
    leptos::mount::mount_to(parent, move || view! { <ReplPanel port check/> }).forget();
}

/// Shows the install step (the Pico's, see [`uf2`], or the pyboard's, see [`dfu`]) in
/// `parent`, after [`mount`].
pub fn mount_uf2(parent: web_sys::HtmlElement) {
    let Some((port, _)) = SIGNALS.with(|s| s.get()) else {
        return;
    };
    let firmware = RwSignal::new(None);
    FIRMWARE.with(|f| f.set(Some(firmware)));
    // The pyboard's step for a .dfu or an STM32 board, else the Pico's.
    let dfu = Memo::new(move |_| {
        let mcu = board_mcu().map(|m| m.get()).unwrap_or_default();
        crate::ui::uf2::dfu_applies(firmware.get().as_ref(), &mcu)
    });
    leptos::mount::mount_to(parent, move || {
        view! {
            {move || if dfu.get() {
                view! { <dfu::DfuPanel firmware port/> }.into_any()
            } else {
                view! { <uf2::Uf2Panel firmware port/> }.into_any()
            }}
        }
    })
    .forget();
}

/// The firmware the page's step 2 holds, for the Pico's install step.
pub fn set_firmware(firmware: Option<super::firmware::Firmware>) {
    if let Some(signal) = FIRMWARE.with(|f| f.get()) {
        signal.set(firmware);
    }
}

/// The MCU the last check reported (empty before one).
fn board_mcu() -> Option<RwSignal<String>> {
    MCU.with(|m| m.get())
}

/// `machine.unique_id()` from the last check, in hex, when the firmware had it.
fn board_unique_id() -> Option<String> {
    UNIQUE_ID.with(|u| u.borrow().clone())
}

/// Records an install by UF2 drive, PICOBOOT or DFU (`how`) in the device history: `board` is
/// the chip ("RP2040"), the board's id its `machine.unique_id()` from the check before (empty
/// for a board that never answered). Writes on a drive are not read back: `verified` says so.
fn record_install(board: &str, how: &str, name: &str, data: &[u8], verified: bool) {
    use sha2::{Digest, Sha256};
    // Only a drive's writes are not read back (`how` is "BOOTSEL drive" then).
    let summary = if verified {
        tf!(
            "{file}, installed by {method} and verified",
            file = name,
            method = how
        )
    } else {
        tf!("{file}, written to the BOOTSEL drive", file = name)
    };
    with_host(|h| h.installed(&summary));
    crate::web::history::record(
        &crate::web::history::Entry {
            kind: "flash",
            board,
            id: &board_unique_id().unwrap_or_default(),
            usb: how,
            firmware: name,
            source: "",
            version: "",
            sha256: &crate::firmware::manifest::hex(&Sha256::digest(data)),
            verified,
        },
        Some(data),
    );
}

/// The page tells the card whether a board is connected and whether it is busy.
pub fn set_port(open: bool, busy: bool) {
    if let Some((port, _)) = SIGNALS.with(|s| s.get()) {
        port.open.set(open);
        port.busy.set(busy);
    }
}

/// Runs the board check (see [`check_board`]) from the page, e.g. after a verified flash.
pub async fn check_from_page(reset: bool) {
    if let Some((_, check)) = SIGNALS.with(|s| s.get()) {
        check_board(check, reset).await;
    }
}

/// The check of a board that has been running a while (just connected): nothing to wait for,
/// MicroPython is asked for its banner at once.
pub async fn check_running_from_page() {
    if let Some((_, check)) = SIGNALS.with(|s| s.get()) {
        check_with(check, false, Duration::from_millis(300)).await;
    }
}

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
    static UNIQUE_ID: RefCell<Option<String>> = const { RefCell::new(None) };
    static SIGNALS: std::cell::Cell<Option<(PortState, RwSignal<Check>)>> = const { std::cell::Cell::new(None) };
    /// Keystrokes waiting to go to the board, and the terminal they came from.
    static CONSOLE: RefCell<(Vec<u8>, Option<Rc<Term>>)> = const { RefCell::new((Vec::new(), None)) };
    /// The last backup taken in this page, so it can be put back after flashing.
    static LAST_BACKUP: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
    /// The terminal reads the port only while someone uses it: after a board check, or once the
    /// user clicks into it. Otherwise it would take bytes meant for the loader or a script.
    static CONSOLE_ON: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The MCU the last check reported (the first script's LED depends on it).
    static MCU: std::cell::Cell<Option<RwSignal<String>>> = const { std::cell::Cell::new(None) };
    /// The page's chosen firmware, for the Pico's install step.
    static FIRMWARE: std::cell::Cell<Option<RwSignal<Option<super::firmware::Firmware>>>> = const { std::cell::Cell::new(None) };
}

/// Queues keystrokes for the board (the terminal sends them when it has the port).
fn send_to_board(bytes: &[u8]) {
    CONSOLE.with(|c| c.borrow_mut().0.extend_from_slice(bytes));
}

/// Starts or stops the terminal's use of the port (flashing and a new connection stop it).
pub fn console_on(on: bool) {
    CONSOLE_ON.with(|c| c.set(on));
}

/// Empties the terminal (its "Clear" button).
fn term_clear() {
    CONSOLE.with(|c| {
        if let Some(t) = &c.borrow().1 {
            t.clear();
        }
    });
}

/// Puts the terminal's text on the clipboard (its "Copy" button); says so on the page.
fn term_copy(state: Page) {
    let text = CONSOLE.with(|c| c.borrow().1.as_ref().map(|t| t.text()));
    match text {
        Some(text) if crate::web::js::copy_text(text.trim_end()) => {
            state.say(t("The terminal's text is on the clipboard."))
        }
        _ => state.warn(t("The terminal's text could not be copied: select it with the mouse and press Ctrl+C (Ctrl+Shift+C on some keyboards).")),
    }
}

fn term_write(bytes: &[u8]) {
    CONSOLE.with(|c| {
        if let Some(t) = &c.borrow().1 {
            t.write(bytes);
        }
    });
}

/// Resets the board into its firmware (or just listens, if `reset` is false), waits for the
/// MicroPython banner, interrupting a running main.py, and runs `print('hello')`.
async fn check_board(check: RwSignal<Check>, reset: bool) {
    check_with(check, reset, Duration::from_secs(6)).await
}

/// [`check_board`], listening for the boot for up to `listen`.
async fn check_with(check: RwSignal<Check>, reset: bool, listen: Duration) {
    let state = Page;
    check.set(Check::Checking);
    let result = with_port(true, async move |port: &mut HostPort| {
        if reset {
            port.hard_reset().await.map_err(|e| e.to_string())?;
        }
        port.set_baud(115_200).await.map_err(|e| e.to_string())?;
        let mut repl = Repl::new(port);
        let boot = repl.watch_boot(listen).await.map_err(|e| e.to_string())?;
        let banner = boot.map_err(|problem| problem.to_string())?;
        let damaged = BootProblem::classify(&repl.boot_log) == BootProblem::CorruptFilesystem;
        let hello = repl.hello().await.map_err(|e| e.to_string())?;
        // For the device card and the first script: what the board says it is.
        if let Ok(facts) = repl.facts(&banner).await {
            with_host(|h| h.board(&facts));
            if let Some(mcu) = MCU.with(|m| m.get()) {
                mcu.set(facts.mcu.clone());
            }
            UNIQUE_ID.with(|u| *u.borrow_mut() = facts.unique_id.clone());
        }
        repl.exit_raw().await.map_err(|e| e.to_string())?;
        if !hello {
            return Err(t("MicroPython answered, but print('hello') did not print hello.").to_string());
        }
        // The terminal tells the story: the board's banner, what the page typed (in the raw
        // REPL, so it is summarised), and the prompt the board is at now.
        let log = String::from_utf8_lossy(&repl.boot_log).into_owned();
        // (A board whose banner came in answer to Ctrl-B, after main.py was stopped, has none
        // in its boot log: its parsed banner is written out.)
        let line = log
            .lines()
            .rev()
            .find(|l| l.contains("MicroPython v"))
            .map_or_else(|| banner.line(), |l| l.trim().to_string());
        let ran = t("[webflash ran print('hello'): it printed hello]");
        term_write(format!("\r\n{line}\r\n\x1b[2m{ran}\x1b[0m\r\n>>> ").as_bytes());
        let mut text = if banner.board.is_empty() {
            tf!("MicroPython {version} works: it answered print('hello') with hello.", version = banner.version)
        } else {
            tf!("MicroPython {version} on {board} works: it answered print('hello') with hello.", version = banner.version, board = banner.board)
        };
        if damaged {
            text.push(' ');
            text.push_str(t("But its filesystem is damaged: back up what you can, then flash again with \"Erase all flash first\" ticked."));
        }
        Ok(text)
    })
    .await;
    console_on(true);
    let outcome = match result {
        Ok(Ok(text)) => {
            state.say(text.clone());
            Check::Works { text }
        }
        Ok(Err(problem)) => {
            state.warn(problem.clone());
            Check::Problem(problem)
        }
        Err(e) => Check::Problem(e.to_string()),
    };
    match &outcome {
        Check::Works { text } => with_host(|h| h.checked(true, text)),
        Check::Problem(p) => with_host(|h| h.checked(false, p)),
        _ => None,
    };
    check.set(outcome);
}

/// Moves bytes between the terminal and the board whenever nothing else uses the port.
fn start_console(port: PortState) {
    spawn_local(async move {
        loop {
            crate::web::time::sleep(Duration::from_millis(40)).await;
            let idle = !CONSOLE_ON.with(|c| c.get()) || port.busy.get_untracked();
            if idle || !port.open.get_untracked() || CONSOLE.with(|c| c.borrow().1.is_none()) {
                continue;
            }
            let input = CONSOLE.with(|c| std::mem::take(&mut c.borrow_mut().0));
            let got = with_port(false, async move |port: &mut HostPort| {
                if !input.is_empty() {
                    port.write(&input).await?;
                }
                let mut buf = Vec::new();
                let deadline = port.now() + Duration::from_millis(15);
                port.read(&mut buf, deadline).await?;
                Ok::<_, crate::port::PortError>(buf)
            })
            .await;
            if let Ok(Ok(bytes)) = got {
                if !bytes.is_empty() {
                    term_write(&bytes);
                }
            }
        }
    });
}

/// Runs a REPL operation on the board, showing errors in the status line.
async fn with_repl<T: 'static>(
    state: Page,
    op: impl AsyncFnOnce(&mut Repl<&mut HostPort>) -> crate::repl::Result<T>,
) -> Option<T> {
    let result = with_port(true, async move |port: &mut HostPort| {
        let mut repl = Repl::new(port);
        let out = op(&mut repl).await;
        let _ = repl.exit_raw().await;
        out
    })
    .await;
    match result {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            state.warn(e.to_string());
            None
        }
        Err(e) => {
            state.warn(e.to_string());
            None
        }
    }
}

/// The MicroPython card.
#[component]
fn ReplPanel(port: PortState, check: RwSignal<Check>) -> impl IntoView {
    let state = Page;
    let term_box = NodeRef::<html::Div>::new();
    let open = move || port.open.get() && !port.busy.get();

    // The terminal's script arrives once a board is connected; flashing does not wait for it.
    let term_loaded = RwSignal::new(false);
    Effect::new(move |requested: Option<bool>| {
        let wanted = requested.unwrap_or(false) || port.open.get();
        if wanted && requested != Some(true) {
            spawn_local(async move {
                if term::load().await {
                    term_loaded.set(true);
                } else {
                    state.warn(t("The terminal could not be loaded (xterm.js). Flashing still works; reload the page to try again."));
                }
            });
        }
        wanted
    });
    Effect::new(move |_| {
        if let (Some(el), true) = (term_box.get(), term_loaded.get()) {
            if CONSOLE.with(|c| c.borrow().1.is_none()) {
                let t = Rc::new(Term::new(&el, |data: String| {
                    CONSOLE.with(|c| c.borrow_mut().0.extend_from_slice(data.as_bytes()))
                }));
                // Follow the panel's size (window resizes, phone rotation).
                let fit = t.clone();
                let on_resize = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || fit.fit());
                if let Some(w) = web_sys::window() {
                    let _ = w.add_event_listener_with_callback(
                        "resize",
                        on_resize.as_ref().unchecked_ref(),
                    );
                }
                on_resize.forget();
                CONSOLE.with(|c| c.borrow_mut().1 = Some(t));
                start_console(port);
            }
        }
    });

    let send = |bytes: &'static [u8]| send_to_board(bytes);
    let mcu = board_mcu().unwrap_or_else(|| RwSignal::new(String::new()));
    let hard_reset = move |_| {
        spawn_local(async move {
            let reset = with_port(true, async |port: &mut HostPort| port.hard_reset().await).await;
            if let Err(e) | Ok(Err(e)) = reset {
                state.warn(e.to_string());
            }
        })
    };
    view! {
        <div class="repl">
            <p class="hint">{t("After flashing, webflash restarts the board and checks that MicroPython answers. The terminal below is the board's REPL.")}</p>
            <div class="row">
                <button class="primary" disabled=move || !open() on:click=move |_| { spawn_local(check_board(check, true)); }>{t("Check board")}</button>
                <button class="secondary" disabled=move || !open() on:click=move |_| send(b"\x03")>{t("Interrupt")}</button>
                <button class="secondary" disabled=move || !open() on:click=move |_| send(b"\x04")>{t("Soft reset")}</button>
                <button class="secondary" disabled=move || !open() on:click=hard_reset>{t("Hard reset")}</button>
                <button class="secondary" on:click=move |_| term_clear()>{t("Clear terminal")}</button>
                <button class="secondary" on:click=move |_| term_copy(state)>{t("Copy terminal")}</button>
            </div>
            {move || match check.get() {
                Check::Works { text } => view! { <p class="works" data-field="micropython">{text}</p> }.into_any(),
                Check::Problem(p) => view! { <p class="notice error" data-field="micropython">{p}</p> }.into_any(),
                Check::Checking => view! { <p class="hint" data-field="micropython">{t("Restarting the board and waiting for MicroPython…")}</p> }.into_any(),
                Check::NotChecked => ().into_any(),
            }}
            <div class="term-box" node_ref=term_box aria-label=t("Terminal") on:click=move |_| console_on(true)></div>
            <first_script::FirstScript mcu open=Signal::derive(open)/>
            <files::FilesPanel open=Signal::derive(open) check/>
        </div>
    }
}
