//! The status line under the header: what just happened. Bad news reads as help (what
//! happened and the one thing to try next, written where the error is made), with "Show
//! details" under it: the visit's timestamped log (kept and written out by `web::modules`), to
//! copy for the organiser.

use leptos::prelude::*;

use super::state::AppState;

/// The status line and, under bad news, the log.
#[component]
pub fn Notice() -> impl IntoView {
    let notice = expect_context::<AppState>().notice;
    let is_error = move || notice.with(|n| n.is_error);
    view! {
        <div class=move || if is_error() { "notice error" } else { "notice" }>
            <p role="status" aria-live="polite">{move || notice.get().text}</p>
            <details class="log" hidden=move || !is_error()>
                <summary>{crate::i18n::t("Show details")}</summary>
                <pre data-field="log" tabindex="0"></pre>
                <button class="secondary">{crate::i18n::t("Copy details")}</button>
            </details>
        </div>
    }
}
