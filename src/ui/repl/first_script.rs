//! "Your first script": the guide's step 6. An editable example that blinks the board's LED
//! (the pin depends on the board: [`crate::boards::first_script`] picks it from the MCU
//! MicroPython reported, and says so), saved as `main.py` with the same safe upload as any
//! file, then a soft reset, so it runs as it will at every start and its output shows in the
//! terminal.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{console_on, send_to_board, with_repl, Page};
use crate::boards::first_script;
use crate::i18n::t;

/// The helper; `mcu` is what the last board check reported (empty before a check).
#[component]
pub fn FirstScript(mcu: RwSignal<String>, open: Signal<bool>) -> impl IntoView {
    let state = Page;
    let code = RwSignal::new(String::new());
    let note = RwSignal::new("");
    Effect::new(move |_| {
        let script = first_script::for_mcu(&mcu.get());
        code.set(script.code);
        note.set(script.note);
    });
    let on_save = move |_| {
        let text = code.get_untracked();
        spawn_local(async move {
            state.say(t("Saving main.py…"));
            let saved = with_repl(state, async move |r| {
                r.write_file("main.py", text.as_bytes(), |_| {}).await
            })
            .await;
            if saved.is_some() {
                state.say(t("Saved main.py. Restarting MicroPython (soft reset) to run it; watch the terminal."));
                console_on(true);
                // Ctrl-C stops whatever runs, Ctrl-D restarts MicroPython, which runs main.py.
                send_to_board(b"\x03\x04");
            }
        });
    };
    view! {
        <details class="first-script">
            <summary>{t("Your first script: blink the LED")}</summary>
            <p class="hint">{move || note.get()}</p>
            <textarea aria-label=t("First script") rows="12" spellcheck="false"
                prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))></textarea>
            <div class="row">
                <button class="primary" disabled=move || !open.get() on:click=on_save>{t("Save as main.py and run")}</button>
            </div>
        </details>
    }
}
