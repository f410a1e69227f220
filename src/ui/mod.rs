//! The Leptos app: one component per step, the shared [`state::AppState`], and the
//! [`session`] that owns the board.

mod connect;
mod device;
mod erase;
mod firmware;
mod flash;
mod follow;
mod history;
mod micropython;
mod notice;
mod plan;
mod refusals;
pub mod repl;
pub mod session;
mod state;
mod steps;
mod summary;
pub mod tools;
mod uf2;

pub use firmware::Firmware;

use leptos::prelude::*;

use crate::i18n::t;

use state::AppState;
use steps::StepId;

/// Mounts the app into the page's `<main id="app">` (the header and footer are static HTML in
/// index.html; the automation API, `window.webflash`, is in `web/modules.js`, on the bridge
/// `ui::micropython` makes).
#[inline(never)]
pub fn mount() {
    use wasm_bindgen::JsCast;
    let main = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"))
        .and_then(|m| m.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(main) = main {
        leptos::mount::mount_to(main, App).forget();
    }
}

/// One step's card, `<section class="card step NAME" id="step-NAME" data-step="NAME">`: its head
/// ([`steps::StepHead`], which [`steps::Steps::provide`] fills in) and its controls in
/// `.step-body`. (A macro, not a component: a component would turn each step's controls into an
/// `AnyView`, about 4 KB gzip more in the page a student downloads first.)
macro_rules! step_card {
    ($name:literal, $id:expr, $($body:tt)*) => {
        view! {
            <section class=concat!("card step ", $name) id=concat!("step-", $name) data-step=$name
                aria-labelledby=concat!($name, "-title")>
                <steps::StepHead id=$id/>
                <div class="step-body" id=concat!($name, "-body")>$($body)*</div>
            </section>
        }
    };
}

/// The status line and the four steps.
#[component]
fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    let firmware = RwSignal::new(None);
    let check = RwSignal::new(state::Check::NotChecked);
    let uf2_step = Memo::new(move |_| uf2::applies(firmware.get().as_ref(), state));
    let facts = Memo::new(move |_| {
        steps::facts(
            state,
            firmware.with(Option::is_some),
            uf2_step.get(),
            &check.get(),
        )
    });
    let steps = steps::Steps::provide(facts, move |id| match id {
        StepId::Connect => (t("Connect your board").into(), summary::connect(state)),
        StepId::Firmware => (t("Choose the firmware").into(), summary::firmware(firmware)),
        StepId::Flash => (
            summary::flash_title(firmware, uf2_step),
            summary::flash(state),
        ),
        StepId::MicroPython => ("MicroPython".into(), summary::micropython(state, check)),
    });
    // Another firmware is not installed yet, whatever the last one was; choosing it leads on to
    // the current step (flashing it), even from a step the user opened by hand.
    Effect::new(move |last: Option<Option<String>>| {
        let now = firmware.with(|f| f.as_ref().map(Firmware::label));
        if last.is_some_and(|l| l != now) {
            state.installed.set(None);
            steps.follow_current();
        }
        now
    });
    // The page is kept for offline use once a board answered (never before the first flash),
    // or at once when an earlier visit kept it.
    let kept = crate::web::offline::kept();
    Effect::new(move |started: Option<bool>| {
        started == Some(true) || {
            let start = kept || state.board.with(Option::is_some);
            if start {
                crate::web::offline::start();
            }
            start
        }
    });
    view! {
        <notice::Notice/>
        // What a returning board ran last (written by history.js, see `web::history`): above
        // the steps, as step 1 closes once the board is connected.
        <p id="seen" class="hint seen" data-field="seen" hidden=move || state.link.with(|l| l.usb().is_none())></p>
        {step_card!("connect", StepId::Connect, <connect::ConnectPanel firmware/>)}
        {step_card!("firmware", StepId::Firmware, <firmware::FirmwarePanel firmware/>)}
        // Step 3 fits the board: the ESP's serial bootloader, or a Pico's UF2 drive.
        {step_card!("flash", StepId::Flash,
            <Show when=move || !uf2_step.get()>
                <flash::FlashPanel firmware check/>
            </Show>
            <uf2::Uf2Slot firmware shown=uf2_step/>
        )}
        {step_card!("micropython", StepId::MicroPython, <micropython::MicroPythonCard check/>)}
    }
}
