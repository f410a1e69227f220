//! The history view: every flash and board check this browser recorded (`web::history`),
//! filtered by board, exported as CSV or JSON, imported back, forgotten on request; and
//! "Flash this again" / "Roll back", which put an earlier firmware into step 2 of this page.

use js_sys::{Array, Function, Promise, Reflect};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::firmware::history::{self, Record};
use crate::i18n::t;
use crate::web::{download, fetch, history as store};

/// Calls `name(args…)` on history.js and awaits its promise.
async fn call(name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let module = JsFuture::from(store::api())
        .await
        .map_err(|e| crate::web::js::error_message(&e))?;
    let f: Function = Reflect::get(&module, &name.into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or(t("the history could not be opened"))?;
    let out = f
        .apply(&JsValue::NULL, &args.iter().collect::<Array>())
        .map_err(|e| crate::web::js::error_message(&e))?;
    match out.dyn_into::<Promise>() {
        Ok(p) => JsFuture::from(p)
            .await
            .map_err(|e| crate::web::js::error_message(&e)),
        Err(v) => Ok(v),
    }
}

fn record(o: &JsValue) -> Record {
    let text = |k: &str| {
        Reflect::get(o, &k.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    Record {
        date: text("date"),
        kind: text("kind"),
        board: text("board"),
        id: text("id"),
        usb: text("usb"),
        firmware: text("firmware"),
        source: text("source"),
        version: text("version"),
        sha256: text("sha256"),
        verified: Reflect::get(o, &"verified".into()).is_ok_and(|v| v.is_truthy()),
    }
}

#[component]
pub fn HistoryView() -> impl IntoView {
    let raw = RwSignal::new(Array::new());
    let records = RwSignal::new(Vec::<Record>::new());
    let board = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let reload = move || {
        spawn_local(async move {
            match call("list", &[]).await {
                Ok(list) => {
                    let list: Array = list.unchecked_into();
                    records.set(list.iter().map(|o| record(&o)).collect());
                    raw.set(list);
                }
                Err(e) => note.set(crate::tf!(
                    "The history could not be read: {error}.",
                    error = e
                )),
            }
        })
    };
    reload();
    let shown = move || {
        let id = board.get();
        records.with(|all| {
            all.iter()
                .filter(|r| id.is_empty() || r.id == id)
                .rev()
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let again = move |r: Record| {
        spawn_local(async move {
            let done = call(
                "useAgain",
                &[r.source.clone().into(), r.sha256.clone().into()],
            )
            .await;
            note.set(match done {
                Ok(v) if v.is_truthy() => crate::tf!(
                    "{firmware} is in step 2: press Flash to install it.",
                    firmware = if r.version.is_empty() {
                        &r.firmware
                    } else {
                        &r.version
                    }
                ),
                Ok(_) => crate::tf!(
                    "{firmware} came from a file that is no longer kept here: choose it again in step 2.",
                    firmware = r.firmware
                ),
                Err(e) => e,
            });
        })
    };
    let export_csv =
        move |_| records.with(|r| download("webflash-history.csv", history::to_csv(r).as_bytes()));
    let export_json = move |_| {
        let text =
            js_sys::JSON::stringify_with_replacer_and_space(&raw.get(), &JsValue::NULL, &2.into())
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default();
        download("webflash-history.json", text.as_bytes());
    };
    let import = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        spawn_local(async move {
            let parsed = fetch::read_file(file)
                .await
                .and_then(|b| {
                    js_sys::JSON::parse(&String::from_utf8_lossy(&b))
                        .map_err(|_| t("it is not JSON").into())
                })
                .and_then(|v| {
                    if Array::is_array(&v) {
                        Ok(v)
                    } else {
                        Err(t("it is not a webflash history (a JSON list)").into())
                    }
                });
            match parsed {
                Ok(list) => match call("importEntries", &[list]).await {
                    Ok(n) => note.set(crate::tf!(
                        "Imported {n} entries.",
                        n = crate::i18n::number(n.as_f64().unwrap_or(0.0) as u64)
                    )),
                    Err(e) => note.set(e),
                },
                Err(why) => note.set(crate::tf!("That file was not imported: {why}.", why = why)),
            }
            reload();
        });
    };
    let forget = move |_| {
        let sure = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message(t(
                    "Forget every entry and every kept firmware file in this browser?",
                ))
                .ok()
            })
            .unwrap_or(false);
        if sure {
            spawn_local(async move {
                let _ = call("forget", &[]).await;
                note.set(t("The history is forgotten.").into());
                reload();
            });
        }
    };
    let roll = move || {
        let id = board.get();
        records.with(|all| history::rollback(all, &id).cloned())
    };

    view! {
        <h3>{t("Device history")}</h3>
        <p class="hint">{t("Every flash and board check on this computer, kept in this browser only.")}</p>
        <div class="row">
            <label>{t("Board")}" "
                <select aria-label=t("Board") on:change=move |ev| board.set(event_target_value(&ev))>
                    <option value="">{t("All boards")}</option>
                    {move || records.with(|r| history::boards(r)).into_iter().map(|(id, name)| view! {
                        <option value=id.clone()>{format!("{name} ({id})")}</option>
                    }).collect_view()}
                </select>
            </label>
            {move || roll().map(|r| {
                let label = crate::tf!("Roll back to {firmware}", firmware = if r.version.is_empty() { r.firmware.clone() } else { r.version.clone() });
                view! { <button class="secondary" on:click=move |_| again(r.clone())>{label}</button> }
            })}
        </div>
        <p class="hint" aria-live="polite">{note}</p>
        <table class="entries history">
            <thead><tr><th>{t("When (UTC)")}</th><th>{t("What")}</th><th>{t("Board")}</th><th>{t("Id")}</th><th>{t("Firmware")}</th><th>{t("Verified")}</th><th></th></tr></thead>
            <tbody>
                {move || shown().into_iter().map(|r| {
                    let flash = r.kind == "flash";
                    let what = if r.version.is_empty() { r.firmware.clone() } else { r.version.clone() };
                    let row = r.clone();
                    view! {
                        <tr data-kind=r.kind.clone()>
                            <td>{r.date.replace('T', " ").chars().take(16).collect::<String>()}</td>
                            <td>{if flash { t("flash") } else { t("check") }}</td>
                            <td>{r.board.clone()}</td>
                            <td>{r.id.clone()}</td>
                            <td title=r.sha256.clone()>{what}</td>
                            <td>{if r.verified { t("yes") } else { t("no") }}</td>
                            <td>{flash.then(|| view! { <button class="link" on:click=move |_| again(row.clone())>{t("Flash this again")}</button> })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <div class="row">
            <button class="secondary" on:click=export_csv>{t("Export CSV")}</button>
            <button class="secondary" on:click=export_json>{t("Export JSON")}</button>
            <label class="secondary">{t("Import history (JSON)")}" "<input type="file" accept=".json,application/json" on:change=import/></label>
            <button class="secondary" on:click=move |_| reload()>{t("Refresh history")}</button>
            <button class="secondary" on:click=forget>{t("Forget the history")}</button>
        </div>
    }
}
