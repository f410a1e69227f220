//! Step 3: flash. Checks the firmware against the board before anything is written, then
//! writes with a progress bar, verifies every part by MD5, and restarts the board.

use leptos::prelude::*;

use crate::i18n::{t, tenths};
use crate::tf;
use leptos::task::spawn_local;

use super::erase;
use super::firmware::Firmware;
use super::plan;
use super::session::{self, Board};
use super::state::{AppState, BoardCard, Link};
use crate::firmware::PlannedPart as Planned;
use crate::loader::{Baud, Error, Event, FlashJob, Region, Restart, Stage};
use crate::usb::ResetWiring;
use crate::web::time::now_ms;

/// What the progress bar shows.
#[derive(Debug, Clone, PartialEq, Default)]
struct Progress {
    percent: f64,
    detail: String,
}

fn stage_label(stage: Stage) -> &'static str {
    match stage {
        Stage::Connecting => t("Connecting…"),
        Stage::UploadingStub => t("Starting the flasher helper…"),
        Stage::ChangingBaud => t("Switching to a faster speed…"),
        Stage::Erasing => t("Erasing (this can take a while)…"),
        Stage::Writing => t("Writing…"),
        Stage::Verifying => t("Verifying…"),
        Stage::Reading => t("Reading…"),
        Stage::Resetting => t("Restarting the board…"),
    }
}

/// A size in KB, or in MB with one decimal from 1 MB.
fn kb(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        tf!("{n} MB", n = tenths(bytes as f64 / (1024.0 * 1024.0)))
    } else {
        crate::i18n::kb(bytes)
    }
}

/// What a verified flash reports: baud, seconds, how the board was restarted.
struct Flashed {
    baud: u32,
    secs: f64,
    restart: Option<Restart>,
    wiring: Option<ResetWiring>,
    /// Bytes written, and bytes the flash already held (compared by MD5, not written).
    written: u64,
    skipped: u64,
}

/// Runs the job on the leased board.
async fn run(
    board: &mut Board,
    parts: Vec<Planned>,
    job: FlashJob,
    progress: RwSignal<Option<Progress>>,
) -> Result<Flashed, Error> {
    if board.prepared.is_none() {
        let wiring = board.wiring;
        let stub = board.stub.clone();
        board.prepared = Some(board.loader.prepare(wiring, stub.as_ref()).await?);
    }
    let prepared = board.prepared.clone().unwrap();
    let started = now_ms();
    let names: Vec<String> = parts.iter().map(|p| p.name.clone()).collect();
    let part = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    board.loader.on_event(move |event| match event {
        Event::Part {
            index,
            count,
            offset,
            len,
        } => {
            let name = names.get(index).map(String::as_str).unwrap_or("");
            *part.borrow_mut() = tf!(
                "Part {index} of {count}: {name} at {offset} ({size})",
                index = index + 1,
                count = count,
                name = name,
                offset = format!("0x{offset:x}"),
                size = kb(len as u64)
            ) + " · ";
        }
        Event::Stage(stage) => progress.update(|p| {
            if let Some(p) = p {
                p.detail = stage_label(stage).into();
            }
        }),
        Event::Progress {
            stage: Stage::Writing,
            done,
            total,
        } => {
            let secs = ((now_ms() - started) / 1000.0).max(0.001);
            let rate = done as f64 / secs;
            let left = if rate > 0.0 {
                (total - done) as f64 / rate
            } else {
                0.0
            };
            progress.set(Some(Progress {
                percent: 100.0 * done as f64 / total.max(1) as f64,
                detail: part.borrow().clone()
                    + &tf!(
                        "Writing {done} of {total} · {rate}/s · about {seconds} s left",
                        done = kb(done),
                        total = kb(total),
                        rate = kb(rate as u64),
                        seconds = left.ceil() as u64
                    ),
            }));
        }
        Event::Note(note) => progress.update(|p| {
            if let Some(p) = p {
                p.detail = note;
            }
        }),
        _ => {}
    });
    let regions: Vec<Region> = parts
        .iter()
        .map(|p| Region {
            offset: p.offset,
            data: &p.data,
        })
        .collect();
    let flash_size = prepared.info.flash_size.unwrap_or(4 << 20);
    let stub = board.stub.clone();
    if super::follow::may_switch_usb(prepared.info.chip, board.wiring) {
        // The new firmware may replace this USB device with its own after the reset.
        session::expect_new_device();
    }
    let outcome = board
        .loader
        .flash(&regions, job, board.wiring, stub.as_ref(), flash_size)
        .await;
    board.loader.on_event(|_| {});
    let outcome = outcome?;
    // The board now runs its new firmware; the next flash starts with a fresh reset.
    board.prepared = None;
    if outcome.restart == Some(Restart::Watchdog) {
        // Its USB device goes away now; the firmware's own appears instead.
        session::expect_new_device();
    }
    Ok(Flashed {
        baud: outcome.baud,
        secs: (now_ms() - started) / 1000.0,
        restart: outcome.restart,
        wiring: board.wiring,
        written: outcome.report.written,
        skipped: outcome.report.skipped,
    })
}

/// What to tell the user after a failure, and whether the board is still usable.
fn failure(err: &Error) -> (String, bool) {
    match err {
        Error::Cancelled => (
            t("Flashing stopped. The flash holds a partly written firmware, so the board will not start it; it is still in the bootloader. Press Flash to write it again.").into(),
            true,
        ),
        Error::Port(crate::port::PortError::Disconnected) => (
            t("The board was disconnected while flashing. Plug it back in, press Connect and flash again (a half-written board is safe to flash again).").into(),
            false,
        ),
        other => (other.to_string(), true),
    }
}

/// The flash step's choices and outputs, shared by its button and by a flash that waits for
/// the board to reach its bootloader first.
#[derive(Clone, Copy)]
struct Controls {
    firmware: RwSignal<Option<Firmware>>,
    erase_all: RwSignal<bool>,
    baud: RwSignal<String>,
    progress: RwSignal<Option<Progress>>,
    problems: RwSignal<Vec<String>>,
    expert: RwSignal<bool>,
    /// The user was told that this flash cannot carry the board's files over.
    files_warned: RwSignal<bool>,
}

/// Checks the firmware against the board in its loader, flashes, and follows the board into
/// its new firmware.
fn begin(state: AppState, c: Controls) {
    let (Some(card), Some(fw)) = (
        state.link.get_untracked().card().cloned(),
        c.firmware.get_untracked(),
    ) else {
        return;
    };
    c.problems.set(Vec::new());
    state.installed.set(None);
    spawn_local(async move {
        state.say(t("Checking the firmware against the board…"));
        let parts = match plan::build(&fw, &card, state, c.expert.get_untracked()).await {
            Ok(parts) => parts,
            Err(reasons) => {
                state.warn(t("Nothing was written: the firmware does not fit this board. See the reasons below."));
                c.problems.set(reasons);
                return;
            }
        };
        let erase_all = c.erase_all.get_untracked();
        let decision = erase::for_parts(&card, &parts);
        let clear = erase::region_to_clear(&decision, erase_all);
        let mut card = card;
        let mut archive = None;
        let has_files = card.flash.as_ref().is_some_and(|f| f.runs_micropython());
        if clear.is_some() && has_files && !erase::can_carry_files(&card) {
            // Nothing is lost without the user knowing: the first press only says so.
            if !c.files_warned.get_untracked() {
                c.files_warned.set(true);
                state.warn(t("Nothing was written yet. The new MicroPython keeps its files elsewhere, and this board's files cannot be carried over automatically: press \"Back up files\" in step 4 first, then Flash again (its files area is then cleared)."));
                return;
            }
        } else if clear.is_some() && has_files {
            match erase::back_up_files(state, &card).await {
                Ok(backup) => archive = backup,
                Err(()) => return,
            }
            let Some(again) = state.link.get_untracked().card().cloned() else {
                return;
            };
            card = again;
        }
        let job = Job {
            erase_all,
            clear,
            baud: c.baud.get_untracked(),
        };
        let version = super::history::version(&parts);
        let first = parts.first().map(|p| p.data.clone()).unwrap_or_default();
        let flashed = flash_parts(parts, card.clone(), state, job, c.progress).await;
        super::history::flashed(&fw, &card, &version, &first, flashed.is_some());
        if flashed.is_some() {
            state
                .installed
                .set(Some(tf!("{firmware}, verified", firmware = fw.label())));
        }
        let Some(Flashed {
            restart: Some(restart),
            wiring,
            ..
        }) = flashed
        else {
            return;
        };
        super::follow::after_flash(state, card, restart, wiring).await;
        if let Some(archive) = archive {
            if let Some(n) = super::micropython::restore_files(&archive).await {
                state.say(tf!(
                    "Firmware verified, and the board's {n} file(s) were put back where the new MicroPython keeps them.",
                    n = n
                ));
            }
        }
    });
}

/// How to flash, as chosen in step 3 (and decided for the parts).
struct Job {
    erase_all: bool,
    /// The new filesystem's region, cleared after writing (see [`erase::region_to_clear`]).
    clear: Option<(u32, u32)>,
    baud: String,
}

/// The options, the Flash and Cancel buttons, and the progress bar.
#[component]
pub fn FlashPanel(
    firmware: RwSignal<Option<Firmware>>,
    check: RwSignal<super::state::Check>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let controls = Controls {
        firmware,
        erase_all: RwSignal::new(true),
        baud: RwSignal::new("auto".to_string()),
        progress: RwSignal::new(None::<Progress>),
        problems: RwSignal::new(Vec::<String>::new()),
        expert: RwSignal::new(false),
        files_warned: RwSignal::new(false),
    };
    let Controls {
        erase_all,
        baud,
        progress,
        problems,
        expert,
        ..
    } = controls;
    // The erase default follows the board and the firmware, until the user ticks or unticks it.
    let reason = RwSignal::new(None::<String>);
    let chosen = RwSignal::new(false);
    Effect::new(move |last: Option<Option<String>>| {
        let link = state.link.get();
        let fw = firmware.get();
        let (Some(card), Some(fw)) = (link.card(), fw) else {
            reason.set(None);
            return None;
        };
        let key = Some(format!("{} {}", card.info.mac_text(), fw.label()));
        if last.flatten() != key {
            chosen.set(false);
        }
        let decision = erase::preview(card, &fw);
        if !chosen.get_untracked() {
            erase_all.set(decision.erase == crate::firmware::erase::Erase::All);
        }
        reason.set(Some(decision.reason.to_string()));
        key
    });
    let runs_micropython = move || {
        matches!(check.get(), super::state::Check::Works { .. })
            || state.link.with(|l| {
                l.card()
                    .and_then(|c| c.flash.as_ref())
                    .is_some_and(|f| f.runs_micropython())
            })
    };
    let flashing = move || matches!(state.link.get(), Link::Busy(_));
    // A board running MicroPython that is no ESP (a pyboard, a SAMD board): not flashed here.
    let other_board = move || {
        matches!(state.link.get(), Link::Running { .. })
            && state.board.with(|b| {
                b.as_ref().is_some_and(|f| {
                    crate::boards::identify::Family::from_mcu(&f.mcu)
                        != crate::boards::identify::Family::Esp
                })
            })
    };
    let can_flash = move || {
        matches!(state.link.get(), Link::Ready(_) | Link::Running { .. })
            && firmware.get().is_some()
            && !other_board()
    };

    let on_flash = move |_| {
        if matches!(state.link.get_untracked(), Link::Running { .. }) {
            // MicroPython runs on the chip's own USB: reach the bootloader first.
            super::follow::flash_when_ready(move || begin(state, controls));
            spawn_local(super::follow::enter_bootloader(state));
        } else {
            begin(state, controls);
        }
    };

    view! {
        <div class="flash">
            // First: when the firmware was refused, why is what matters.
            <super::refusals::Refusals problems/>
            <Show when=move || erase_all.get() && runs_micropython()>
                <p class="hint tip">{t("This board runs MicroPython. Erasing removes its files: press \"Back up files\" in step 4 first, and \"Put files back\" after flashing.")}</p>
            </Show>
            <Show when=other_board>
                <p class="hint tip" data-field="install-path">{move || state.board.get().map(|f| tf!(
                    "This board runs MicroPython on {board} ({mcu}). This page installs firmware on ESP32/ESP8266 boards and the Raspberry Pi Pico; for this board use its own installer. Its REPL and files work below.",
                    board = f.board, mcu = f.mcu)).unwrap_or_default()}</p>
            </Show>
            <label class="check">
                <input type="checkbox" prop:checked=erase_all on:change=move |ev| {
                    chosen.set(true);
                    erase_all.set(event_target_checked(&ev));
                }/>
                " "{t("Erase all flash first")}
            </label>
            <p class="hint" data-field="erase-reason">{move || reason.get().unwrap_or_else(|| {
                t("Chosen by what the board runs: everything is erased for a board with other firmware; an update of the same MicroPython writes only what changed and keeps the files.").to_string()
            })}</p>
            <div class="row">
                <label class="inline">{t("Baud rate")}" "
                    <select aria-label=t("Baud rate") on:change=move |ev| baud.set(event_target_value(&ev))>
                        <option value="auto" selected=true>{t("Auto (fastest that works)")}</option>
                        <option value="115200">"115200"</option>
                        <option value="230400">"230400"</option>
                        <option value="460800">"460800"</option>
                        <option value="921600">"921600"</option>
                    </select>
                </label>
                <button class="primary" disabled=move || !can_flash() on:click=on_flash>{t("Flash")}</button>
                <Show when=flashing>
                    <button class="secondary" on:click=move |_| session::cancel()>{t("Cancel")}</button>
                </Show>
            </div>
            {move || progress.get().map(|p| view! {
                <div class="progress" role="progressbar" aria-label=t("Flash progress") aria-valuemin="0" aria-valuemax="100"
                    aria-valuenow=(p.percent.round() as u32).to_string()>
                    <div class="bar" style=format!("width: {}%", p.percent as u32)></div>
                </div>
                <p class="detail" data-field="progress">{p.detail}</p>
            })}
            <details class="expert">
                <summary>{t("Expert options")}</summary>
                <label class="check">
                    <input type="checkbox" prop:checked=expert on:change=move |ev| expert.set(event_target_checked(&ev))/>
                    " "{t("Flash even if the firmware looks wrong for this chip or offset")}
                </label>
                <p class="hint">{t("Only if you know the firmware is right despite the warning. Size, overlap and damaged-file checks always apply.")}</p>
            </details>
        </div>
    }
}

/// Flashes and reports; `Some` when the firmware was verified (and how the board restarted).
async fn flash_parts(
    parts: Vec<Planned>,
    card: BoardCard,
    state: AppState,
    chosen: Job,
    progress: RwSignal<Option<Progress>>,
) -> Option<Flashed> {
    let total: usize = parts.iter().map(|p| p.data.len()).sum();
    let count = parts.len();
    let (erase_all, cleared) = (chosen.erase_all, chosen.clear.is_some());
    let job = FlashJob {
        baud: match chosen.baud.parse() {
            Ok(rate) => Baud::Fixed(rate),
            Err(_) => Baud::Auto { max: 0 },
        },
        erase_all: chosen.erase_all,
        reset_after: true,
        clear: chosen.clear,
    };
    super::micropython::console_on(false);
    state.link.set(Link::Busy(card.clone()));
    progress.set(Some(Progress {
        percent: 0.0,
        detail: t("Starting…").into(),
    }));
    state.say(t("Flashing… keep the board plugged in."));
    let result = session::lease(async move |board: &mut Board| {
        let job = match job.baud {
            Baud::Auto { .. } => FlashJob {
                baud: Baud::Auto {
                    max: board.max_baud,
                },
                ..job
            },
            fixed => FlashJob { baud: fixed, ..job },
        };
        run(board, parts, job, progress).await
    })
    .await;
    match result {
        Ok(Ok(flashed)) => {
            let rate = flashed.baud;
            progress.set(Some(Progress {
                percent: 100.0,
                detail: tf!(
                    "Done in {seconds} s at {rate} baud.",
                    seconds = tenths(flashed.secs),
                    rate = rate
                ),
            }));
            let restarted = match flashed.restart {
                Some(Restart::ResetLine) => t("The board was reset to start it."),
                Some(Restart::Watchdog) => {
                    t("The board's watchdog restarts it now; its USB port changes, and this page follows it.")
                }
                None => "",
            };
            let erased = if erase_all {
                t("Everything was erased first.")
            } else if cleared {
                t("The filesystem's new area was cleared.")
            } else {
                t("Nothing else was erased, so the board's files stayed.")
            };
            let verified = if flashed.skipped > 0 {
                tf!(
                    "Firmware verified: {count} part(s), {total} checked by MD5 at {rate} baud, {written} written ({skipped} were already there).",
                    count = count,
                    total = kb(total as u64),
                    rate = rate,
                    written = kb(flashed.written),
                    skipped = kb(flashed.skipped)
                )
            } else {
                tf!(
                    "Firmware verified: {count} part(s), {total} checked by MD5 at {rate} baud, {written} written.",
                    count = count,
                    total = kb(total as u64),
                    rate = rate,
                    written = kb(flashed.written)
                )
            };
            let mut said = verified + " " + erased;
            if !restarted.is_empty() {
                said = said + " " + restarted;
            }
            state.say(said);
            state.link.set(Link::Ready(card));
            Some(flashed)
        }
        Ok(Err(err)) => {
            session::same_device();
            let (message, usable) = failure(&err);
            state.note(format!("flash failed: {err}"));
            state.warn(message);
            progress.update(|p| {
                if let Some(p) = p {
                    p.detail = t("Stopped.").into();
                }
            });
            state.link.set(if usable && session::is_connected() {
                Link::Ready(card)
            } else {
                Link::Idle
            });
            None
        }
        Err(err) => {
            state.warn(err.to_string());
            state.link.set(Link::Idle);
            None
        }
    }
}
