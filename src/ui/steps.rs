//! The four steps as an accordion (see [`crate::journey`] for which step is current): each
//! shows whether it is done, current, waiting or needs attention, with a one-line summary; only
//! the open step shows its controls. The open step is the current one until the user opens
//! another (one click on its header); the next change of the current step opens that one.

use leptos::prelude::*;

use crate::web::modules;

use super::state::{AppState, Check, Link, Next};
pub use crate::journey::StepId;
use crate::journey::{progress, Checked, Connection, Facts, StepState};

/// What the steps need to know, from the page's state.
pub fn facts(state: AppState, firmware: bool, install_without_port: bool, check: &Check) -> Facts {
    let connection = state.link.with(|link| match link {
        Link::Idle => Connection::None,
        Link::Choosing | Link::Preparing { .. } => Connection::Opening,
        Link::NotReady { .. } | Link::NeedsPick { .. } => Connection::NeedsUser,
        Link::Ready(_) => Connection::Connected,
        Link::Running { .. } => Connection::Running,
        Link::Busy(_) | Link::Away => Connection::Flashing,
        Link::Following { next, .. } => match next {
            Next::Flash => Connection::Flashing,
            Next::Check => Connection::Running,
        },
    });
    let notice = state.notice.get();
    Facts {
        connection,
        firmware,
        install_without_port,
        installed: state.installed.with(Option::is_some),
        check: match check {
            Check::NotChecked => Checked::No,
            Check::Checking => Checked::Checking,
            Check::Works { .. } => Checked::Works,
            Check::Problem(_) => Checked::Problem,
        },
        error: notice.is_error.then_some(notice.step),
    }
}

/// The step the user opened by hand, until the current step changes; provided as context.
#[derive(Clone, Copy)]
pub struct Steps {
    chosen: RwSignal<Option<StepId>>,
}

impl Steps {
    /// Keeps the four step cards (headed by [`StepHead`]) in line with `facts`, with each step's
    /// title and one-line summary from `texts` (read in the effect, so they follow what they
    /// read). One effect writes their state, summary and open/closed attributes into the DOM
    /// (through `web::modules`): as reactive Leptos views the same cost about 11 KB gzip of wasm
    /// in the page a student downloads first.
    pub fn provide(
        facts: Memo<Facts>,
        texts: impl Fn(StepId) -> (String, String) + 'static,
    ) -> Steps {
        let chosen = RwSignal::new(None::<StepId>);
        let steps = Steps { chosen };
        provide_context(steps);
        Effect::new(move |last: Option<StepId>| {
            let (states, current) = facts.with(progress);
            // Progress opens the new current step again, and takes the user there.
            let moved = last.is_some_and(|l| l != current);
            if moved {
                chosen.set(None);
            }
            let open = chosen.get().unwrap_or(current);
            for id in StepId::ALL {
                let (title, summary) = texts(id);
                show(id, states[id.index()], id == open, &title, &summary);
            }
            if moved {
                modules::take_to_step(open.name());
            }
            current
        });
        steps
    }

    /// Opens `id` (a click on its header).
    pub fn open(self, id: StepId) {
        self.chosen.set(Some(id));
    }

    /// Back to the current step (another firmware was chosen in a step the user opened).
    pub fn follow_current(self) {
        self.chosen.set(None);
    }
}

/// Writes one step's state into its card.
fn show(id: StepId, state: StepState, open: bool, title: &str, summary: &str) {
    let n = id.index() + 1;
    let mark = match state {
        StepState::Done => "✓",
        StepState::Attention => "!",
        _ => "",
    };
    modules::show_step(
        id.name(),
        state.name(),
        open,
        mark,
        &format!("{n}. {title}"),
        state.label(),
        summary,
    );
}

/// One step's header (number, title, state, the button that opens it) and summary (shown while
/// closed), at the top of its card `<section class="card step" id="step-NAME">`, whose
/// `.step-body` holds the step's controls (shown while open). [`Steps::provide`] fills it in.
/// (The App writes the four cards with its `step_card!` macro.)
#[component]
pub fn StepHead(id: StepId) -> impl IntoView {
    let steps = expect_context::<Steps>();
    let name = id.name();
    let n = id.index() + 1;
    view! {
        <div class="step-head">
            <span class="mark" data-n=n aria-hidden="true"></span>
            <h2 id=format!("{name}-title") tabindex="-1"></h2>
            <span class="state" data-field="step-state"></span>
            <button class="link open" aria-label=crate::tf!("Open step {n}", n = n)
                aria-controls=format!("{name}-body") on:click=move |_| steps.open(id)>{crate::i18n::t("Open")}</button>
        </div>
        <p class="summary" data-field="step-summary"></p>
    }
}
