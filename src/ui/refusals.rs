//! The list of reasons a firmware was refused (step 3, ESP or Pico): one place, one
//! accessible name ("Why the firmware was refused").

use leptos::prelude::*;

/// Shows `problems` while there are any.
#[component]
pub fn Refusals(problems: RwSignal<Vec<String>>) -> impl IntoView {
    view! {
        <Show when=move || !problems.get().is_empty()>
            <ul class="problems" aria-label=crate::i18n::t("Why the firmware was refused")>
                {move || problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
            </ul>
        </Show>
    }
}
