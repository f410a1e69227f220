//! Step 3's whole-flash backup and restore for an ESP board in its bootloader: the rollback for
//! a board whose original firmware was not MicroPython. A backup reads every byte through the
//! stub (each segment checked by MD5) and is saved only when complete; a restore refuses a
//! backup of another chip or flash size before anything is written, writes what differs and
//! checks the whole flash by MD5. Progress as for flashing; the step's Cancel (shown while the
//! board is busy) stops either.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::session::{self, Board};
use super::state::{AppState, Link};
use crate::firmware::esp_backup::EspBackup;
use crate::loader::{Baud, Error, Event, Stage};

/// What the panel's line under the buttons says.
#[derive(Clone, Default)]
struct Line {
    percent: f64,
    text: String,
}

/// Progress events of the leased loader into `line`.
fn report(board: &mut Board, line: RwSignal<Option<Line>>, what: &'static str) {
    board.loader.on_event(move |event| {
        if let Event::Progress {
            stage: Stage::Reading | Stage::Writing,
            done,
            total,
        } = event
        {
            line.set(Some(Line {
                percent: 100.0 * done as f64 / total.max(1) as f64,
                text: format!("{what} {} of {} KB…", done / 1024, total / 1024),
            }));
        }
    });
}

async fn prepared(board: &mut Board) -> Result<crate::loader::Prepared, Error> {
    if board.prepared.is_none() {
        let (wiring, stub) = (board.wiring, board.stub.clone());
        board.prepared = Some(board.loader.prepare(wiring, stub.as_ref()).await?);
    }
    Ok(board.prepared.clone().unwrap())
}

/// Reads the whole flash (refused when its size is unknown).
async fn read_all(board: &mut Board, line: RwSignal<Option<Line>>) -> Result<EspBackup, Error> {
    let ready = prepared(board).await?;
    let size = ready.info.flash_size.ok_or(Error::Invalid(
        "the flash size could not be found, so a whole-flash backup is not possible".into(),
    ))?;
    report(board, line, "Backing up");
    let flash = board.loader.read_flash(0, size).await;
    board.loader.on_event(|_| {});
    Ok(EspBackup {
        chip: ready.info.chip,
        mac: ready.info.mac_text(),
        date: String::from(js_sys::Date::new_0().to_iso_string())[..10].to_string(),
        flash: flash?,
    })
}

/// Writes `backup` back (only what differs is sent; the whole flash is checked by MD5) and
/// restarts the board.
async fn write_all(
    board: &mut Board,
    backup: &EspBackup,
    line: RwSignal<Option<Line>>,
) -> Result<(), Error> {
    let ready = prepared(board).await?;
    let size = ready.info.flash_size.unwrap_or(0) as usize;
    backup
        .fits(ready.info.chip, size)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    report(board, line, "Restoring");
    let baud = Baud::Auto {
        max: board.max_baud,
    };
    let (wiring, stub) = (board.wiring, board.stub.clone());
    let out = board
        .loader
        .restore_flash(&backup.flash, baud, wiring, stub.as_ref())
        .await;
    board.loader.on_event(|_| {});
    board.prepared = None;
    out.map(|_| ())
}

/// Runs `op` on the leased board with the step marked busy; says what went wrong, or
/// `stopped` after Cancel.
async fn busy<T>(
    state: AppState,
    stopped: &'static str,
    op: impl AsyncFnOnce(&mut Board) -> Result<T, Error>,
) -> Option<T> {
    let Some(card) = state.link.get_untracked().card().cloned() else {
        state.warn(
            "Connect the board first (press Connect), then try again. Nothing was read or written.",
        );
        return None;
    };
    state.link.set(Link::Busy(card.clone()));
    let result = session::lease(op).await;
    state.link.set(if session::is_connected() {
        Link::Ready(card)
    } else {
        Link::Idle
    });
    match result {
        Ok(Ok(value)) => Some(value),
        Ok(Err(Error::Cancelled)) => {
            state.warn(stopped);
            None
        }
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

/// "Back up the whole flash" and "Restore the whole flash", with progress.
#[component]
pub fn FlashBackup() -> impl IntoView {
    let state = expect_context::<AppState>();
    let line = RwSignal::new(None::<Line>);
    let ready = move || matches!(state.link.get(), Link::Ready(_));
    let running = RwSignal::new(false);
    let back_up = move |_| {
        running.set(true);
        spawn_local(async move {
            state.say("Reading the whole flash… keep the board plugged in.");
            let stopped = "Backup stopped. Nothing was saved: a backup is saved only when all of the flash was read.";
            if let Some(backup) = busy(state, stopped, async |b: &mut Board| {
                read_all(b, line).await
            })
            .await
            {
                crate::web::download(&backup.file_name(), &backup.encode());
                state.say(format!(
                    "Backed up: all {} KB of the {}'s flash, every part checked by MD5, saved as {}.",
                    backup.flash.len() / 1024,
                    backup.chip,
                    backup.file_name()
                ));
            }
            line.set(None);
            running.set(false);
        });
    };
    let restore = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        running.set(true);
        spawn_local(async move {
            let bytes = match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buf) => js_sys::Uint8Array::new(&buf).to_vec(),
                Err(_) => {
                    state.warn("The backup file could not be read. Nothing was written.");
                    running.set(false);
                    return;
                }
            };
            match EspBackup::decode(&bytes) {
                Err(e) => state.warn(e.to_string()),
                Ok(backup) => {
                    state.say("Restoring the whole flash… keep the board plugged in.");
                    let stopped = "Restore stopped. The flash is partly restored, so the board may not start: restore it again.";
                    let done = busy(state, stopped, async |b: &mut Board| {
                        write_all(b, &backup, line).await
                    });
                    if done.await.is_some() {
                        state.say(format!(
                            "Restored: the {}'s whole flash ({} KB) from the backup of {}, checked by MD5, and the board was restarted.",
                            backup.chip,
                            backup.flash.len() / 1024,
                            backup.date
                        ));
                    }
                }
            }
            line.set(None);
            running.set(false);
        });
    };
    view! {
        <div class="flash-backup" data-field="flash-backup">
            <h3>"Whole-flash backup"</h3>
            <p class="hint">"Save everything on the board before you change it, and put it back later (the way back for a board that did not come with MicroPython)."</p>
            <div class="row">
                <button class="secondary" disabled=move || !ready() || running.get() on:click=back_up>"Back up the whole flash"</button>
                <label class="inline file">"Restore the whole flash "
                    <input type="file" accept=".espbackup" aria-label="Restore the whole flash"
                        disabled=move || !ready() || running.get() on:change=restore/>
                </label>
            </div>
            {move || line.get().map(|l| view! {
                <div class="progress" role="progressbar" aria-label="Backup progress" aria-valuemin="0" aria-valuemax="100"
                    aria-valuenow=(l.percent.round() as u32).to_string()>
                    <div class="bar" style=format!("width: {}%", l.percent.round() as u32)></div>
                </div>
                <p class="detail" data-field="backup-progress">{l.text}</p>
            })}
        </div>
    }
}
