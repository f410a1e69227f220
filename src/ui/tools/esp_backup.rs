//! "Back up the whole flash" and "Restore the whole flash" for an ESP in its bootloader: the
//! way back for a board whose original firmware was not MicroPython. The page lends its board
//! (the bridge the MicroPython card uses, `ui::micropython`); this module runs its own loader on
//! it, resumed where the page's left off (the chip, the flasher stub), so the page carries none
//! of this code. A backup reads every byte (each segment checked by MD5) and is saved only when
//! complete; a restore checks the file against the board (chip, flash size, SHA-256) before
//! anything is written, sends only the 64 KiB blocks that differ, checks the whole flash by MD5
//! and restarts the board. Cancel stops either between blocks. Messages go to the page's status
//! line.

use js_sys::{Function, Reflect};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::firmware::esp_backup::EspBackup;
use crate::i18n::{kb, t};
use crate::loader::{Baud, CancelToken, Error, Event, Loader, Responder, Stage};
use crate::protocol::chip::Chip;
use crate::ui::repl::{Host, HostPort};
use crate::usb::{wiring_from_name, ResetWiring};
use crate::web::{download, fetch};

/// The page's bridge, as these buttons use it.
#[derive(Clone)]
pub struct Page(pub JsValue);

/// The connected ESP, as the page identified it.
struct Esp {
    chip: Chip,
    mac: String,
    size: usize,
    wiring: Option<ResetWiring>,
    stub: bool,
    /// In its loader still (not restarted into its firmware since the page prepared it).
    prepared: bool,
    revision: u32,
    /// The fastest baud the board's bridge is known to sustain.
    max_baud: u32,
}

impl Page {
    fn call(&self, name: &str, arg: Option<&JsValue>) -> Option<JsValue> {
        let f: Function = Reflect::get(&self.0, &name.into()).ok()?.dyn_into().ok()?;
        match arg {
            Some(a) => f.call1(&self.0, a).ok(),
            None => f.call0(&self.0).ok(),
        }
    }
    fn say(&self, text: &str) {
        self.call("say", Some(&text.into()));
    }
    fn warn(&self, text: &str) {
        self.call("warn", Some(&text.into()));
    }
    fn board(&self) -> Option<Esp> {
        let line = self.call("espBoard", None)?.as_string()?;
        let f: Vec<&str> = line.split('\t').collect();
        Some(Esp {
            chip: Chip::from_name(f.first()?)?,
            mac: f.get(1)?.to_string(),
            size: f.get(2)?.parse().ok()?,
            wiring: wiring_from_name(f.get(3)?),
            stub: *f.get(4)? == "true",
            prepared: *f.get(5)? == "true",
            revision: f.get(6)?.parse().ok()?,
            max_baud: f.get(7)?.parse().ok()?,
        })
    }
}

/// Runs `job` with a loader on the page's board, resumed where the page's left it; gives the
/// port back whatever happens. `cancel` receives the job's token while it runs.
async fn with_loader<T>(
    page: &Page,
    starting: &str,
    esp: &Esp,
    cancel: StoredValue<Option<CancelToken>, LocalStorage>,
    percent: RwSignal<Option<f64>>,
    job: impl AsyncFnOnce(&mut Loader<HostPort>, &Esp) -> Result<T, Error>,
) -> Result<T, Error> {
    let host = Host::new(page.0.clone());
    page.call("quiet", None);
    // The page may be busy for a while (the check after a flash watches the board boot): each
    // borrow waits a few seconds; up to half a minute in all.
    let mut port = host.borrow(true).await;
    for _ in 0..10 {
        if port.is_ok() {
            break;
        }
        port = host.borrow(true).await;
    }
    let port = port.map_err(Error::from)?;
    // Asked again now the board is lent: how it is wired, whether it is still in its loader.
    let Some(esp) = page
        .board()
        .filter(|now| now.chip == esp.chip && now.size == esp.size)
    else {
        host.release().await;
        return Err(Error::Invalid(
            t("the board changed; connect it again (step 1). Nothing was read or written.").into(),
        ));
    };
    let esp = &esp;
    // Said once the board is ours (a check the page was running has ended by now).
    page.say(starting);
    let out = run_on(port, esp, cancel, percent, job).await;
    host.release().await;
    out
}

async fn run_on<T>(
    port: HostPort,
    esp: &Esp,
    cancel: StoredValue<Option<CancelToken>, LocalStorage>,
    percent: RwSignal<Option<f64>>,
    job: impl AsyncFnOnce(&mut Loader<HostPort>, &Esp) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut loader = if esp.prepared {
        let responder = if esp.stub {
            Responder::Stub
        } else {
            Responder::Rom
        };
        Loader::resume(port, esp.chip.spec(), responder, esp.wiring)
    } else {
        // Restarted into its firmware since the page prepared it: into its loader again, with
        // the stub, as Connect does.
        let stub = crate::ui::session::fetch_stub(esp.chip, esp.revision)
            .await
            .ok();
        let mut loader = Loader::new(port);
        let baud = Some(Baud::Auto { max: esp.max_baud });
        loader.prepare_with(esp.wiring, stub.as_ref(), baud).await?;
        loader
    };
    loader.on_event(move |event| {
        if let Event::Progress {
            stage: Stage::Reading | Stage::Writing,
            done,
            total,
        } = event
        {
            percent.set(Some(100.0 * done as f64 / total.max(1) as f64));
        }
    });
    cancel.set_value(Some(loader.cancel_token()));
    let out = job(&mut loader, esp).await;
    cancel.set_value(None);
    out
}

/// What the user reads when a job did not finish.
fn failed(e: Error, stopped: &str) -> String {
    match e {
        Error::Cancelled => stopped.to_string(),
        e => crate::tf!(
            "{error} Nothing was saved or changed beyond what this says.",
            error = e
        ),
    }
}

#[component]
pub fn EspBackupPanel(page: Page) -> impl IntoView {
    let percent = RwSignal::new(None::<f64>);
    let running = RwSignal::new(false);
    let cancel = StoredValue::new_local(None::<CancelToken>);
    let no_board = t("Connect the ESP board first (step 1: Connect), then try again. Nothing was read or written.");
    let host = page.clone();
    let back_up = move |_| {
        let page = host.clone();
        let Some(esp) = page.board() else {
            return page.warn(no_board);
        };
        running.set(true);
        spawn_local(async move {
            let size = esp.size as u32;
            let reading = t("Reading the whole flash… keep the board plugged in.");
            let read = with_loader(
                &page,
                reading,
                &esp,
                cancel,
                percent,
                async move |l: &mut Loader<HostPort>, _: &Esp| l.read_flash(0, size).await,
            )
            .await;
            match read {
                Ok(flash) => {
                    let backup = EspBackup {
                        chip: esp.chip,
                        mac: esp.mac,
                        date: String::from(js_sys::Date::new_0().to_iso_string())[..10].to_string(),
                        flash,
                    };
                    download(&backup.file_name(), &backup.encode());
                    page.say(&crate::tf!(
                        "Backed up: all {size} of the {chip}'s flash, every part checked by MD5, saved as {file}.",
                        size = kb(backup.flash.len() as u64),
                        chip = backup.chip,
                        file = backup.file_name()
                    ));
                }
                Err(e) => page.warn(&failed(e, t("Backup stopped. Nothing was saved: a backup is saved only when all of the flash was read."))),
            }
            percent.set(None);
            running.set(false);
        });
    };
    let restore = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        let page = page.clone();
        running.set(true);
        spawn_local(async move {
            let checked = fetch::read_file(file)
                .await
                .map_err(|_| {
                    t("The backup file could not be read. Nothing was written.").to_string()
                })
                .and_then(|bytes| EspBackup::decode(&bytes).map_err(|e| e.to_string()))
                .and_then(|backup| match page.board() {
                    None => Err(no_board.to_string()),
                    Some(esp) => backup
                        .fits(esp.chip, esp.size)
                        .map(|_| (backup, esp))
                        .map_err(|e| e.to_string()),
                });
            match checked {
                Err(why) => page.warn(&why),
                Ok((backup, esp)) => {
                    let image = &backup.flash;
                    let restoring = t("Restoring the whole flash… keep the board plugged in.");
                    let lender = page.clone();
                    let done = with_loader(
                        &page,
                        restoring,
                        &esp,
                        cancel,
                        percent,
                        async move |l: &mut Loader<HostPort>, now: &Esp| {
                            let baud = Baud::Auto { max: now.max_baud };
                            let outcome = l.restore_flash(image, baud, now.wiring, None).await?;
                            // Told while the board is still lent: the page prepares it again
                            // for its next job, since it now runs what the backup held.
                            lender.call("restarted", None);
                            Ok(outcome)
                        },
                    )
                    .await;
                    match done {
                        Ok(outcome) => {
                            let size = kb(backup.flash.len() as u64);
                            page.say(&if outcome.restart.is_some() {
                                crate::tf!(
                                    "Restored: the {chip}'s whole flash ({size}) from the backup of {date}, checked by MD5, and the board was restarted.",
                                    chip = backup.chip,
                                    size = size,
                                    date = backup.date
                                )
                            } else {
                                crate::tf!(
                                    "Restored: the {chip}'s whole flash ({size}) from the backup of {date}, checked by MD5.",
                                    chip = backup.chip,
                                    size = size,
                                    date = backup.date
                                )
                            });
                        }
                        Err(e) => page.warn(&failed(e, t("Restore stopped. The flash is partly restored, so the board may not start: restore it again."))),
                    }
                }
            }
            percent.set(None);
            running.set(false);
        });
    };
    view! {
        <h3>{t("Whole-flash backup (ESP)")}</h3>
        <p class="hint">{t("Save everything on a connected ESP board before a workshop changes it, and put it back later: the way back for a board that did not come with MicroPython.")}</p>
        <div class="row">
            <button class="secondary" disabled=move || running.get() on:click=back_up>{t("Back up the whole flash")}</button>
            <label class="secondary">{t("Restore the whole flash")}" "
                <input type="file" accept=".espbackup" aria-label=t("Restore the whole flash") disabled=move || running.get() on:change=restore/>
            </label>
            <Show when=move || running.get()>
                <button class="secondary" on:click=move |_| cancel.with_value(|t| if let Some(t) = t { t.cancel() })>{t("Cancel")}</button>
            </Show>
        </div>
        {move || percent.get().map(|p| view! {
            <div class="progress" role="progressbar" aria-label=t("Backup progress") aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=(p.round() as u32).to_string()>
                <div class="bar" style=format!("width: {p:.1}%")></div>
            </div>
        })}
    }
}
