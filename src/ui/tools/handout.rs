//! The handout builder: firmware files or URLs in, a workshop manifest, its link and a QR code
//! out. Each file is read for its board family, offset and version (`firmware::handout`), and
//! hashed: the manifest carries every part's SHA-256, so a damaged download is refused at the
//! venue instead of flashed.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::sheet::Sheet;
use crate::firmware::handout::{self, Entry};
use crate::firmware::manifest::hex;
use crate::firmware::url::join_url;
use crate::i18n::{kb, t};
use crate::web::{download, fetch};

/// Where the manifest is published by default: beside the page.
const MANIFEST_NAME: &str = "workshop.json";

#[component]
pub fn HandoutBuilder(page_url: String) -> impl IntoView {
    let title = RwSignal::new(String::new());
    let entries = RwSignal::new(Vec::<Entry>::new());
    let problem = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let page = page_url.split(['?', '#']).next().unwrap_or("").to_string();
    let manifest_url = RwSignal::new(join_url(&page, MANIFEST_NAME));

    let add = move |result: Result<Entry, String>, name: &str| match result {
        Ok(entry) => {
            problem.set(String::new());
            entries.update(|list| {
                list.retain(|e| e.path != entry.path);
                list.push(entry);
            });
        }
        Err(why) => problem.set(crate::tf!(
            "{file} was not added: it is {why}.",
            file = name,
            why = why
        )),
    };
    let on_files = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(list) = input.files() else { return };
        let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        input.set_value("");
        spawn_local(async move {
            for file in files {
                let name = file.name();
                match fetch::read_file(file).await {
                    Ok(bytes) => add(handout::describe(&name, &bytes), &name),
                    Err(why) => problem.set(crate::tf!("{file}: {why}.", file = name, why = why)),
                }
            }
        });
    };
    let add_url = move |_| {
        let link = url.get_untracked().trim().to_string();
        if link.is_empty() {
            return;
        }
        spawn_local(async move {
            match fetch::fetch_bytes(&link, |_, _| {}).await {
                Ok(bytes) => {
                    add(handout::describe(&link, &bytes), &link);
                    url.set(String::new());
                }
                Err(e) => problem.set(e.to_string()),
            }
        });
    };
    let manifest = Memo::new(move |_| entries.with(|list| handout::manifest(&title.get(), list)));
    // The page opens in the handout's language (the organiser's page's) for every student, or in
    // each browser's.
    let (lang, lang_name) = page_language();
    let one_language = RwSignal::new(false);
    let link = Memo::new(move |_| {
        let fixed = one_language.get().then_some(lang.as_str());
        handout::link(&page, &manifest_url.get(), fixed)
    });
    let save = move |_| {
        if let Ok(text) = manifest.get_untracked() {
            download(MANIFEST_NAME, text.as_bytes());
        }
    };

    view! {
        <div class="tools-form">
            <label>{t("Workshop title")}<input type="text" prop:value=title on:input=move |ev| title.set(event_target_value(&ev))/></label>
            <label>{t("Firmware files")}<input type="file" multiple accept=".bin,.uf2" on:change=on_files/></label>
            <div class="row">
                <label>{t("Firmware link")}<input type="url" placeholder="https://…/micropython.bin" prop:value=url on:input=move |ev| url.set(event_target_value(&ev))/></label>
                <button class="secondary" on:click=add_url>{t("Add link")}</button>
            </div>
            <p class="notice error" role="alert" hidden=move || problem.with(String::is_empty)>{problem}</p>
            <table class="entries" hidden=move || entries.with(Vec::is_empty)>
                <thead><tr><th>{t("Board family")}</th><th>{t("File")}</th><th>{t("Offset")}</th><th>{t("Size")}</th><th>{t("Version")}</th><th>"SHA-256"</th><th></th></tr></thead>
                <tbody>
                    <For each=move || entries.get() key=|e| e.path.clone() let:e>
                        <Row entry=e entries/>
                    </For>
                </tbody>
            </table>
            <p class="hint">{t("Files picked from this computer are named in the manifest by their file name: publish them beside the manifest. Links stay links (their server must allow downloads from other sites: CORS).")}</p>
            <label>{t("Where the manifest will be published")}<input type="url" prop:value=manifest_url on:input=move |ev| manifest_url.set(event_target_value(&ev))/></label>
            <label class="check">
                <input type="checkbox" prop:checked=one_language on:change=move |ev| one_language.set(event_target_checked(&ev))/>
                " "{crate::tf!("Open the page in {language} for every student (else each browser's language decides; the handout is in {language})", language = lang_name)}
            </label>
        </div>
        <Show when=move || manifest.with(Result::is_ok) fallback=move || view! {
            <p class="hint">{move || manifest.get().err().unwrap_or_default()}</p>
        }>
            <div class="row">
                <button class="primary" on:click=save>{t("Download workshop.json")}</button>
                <button class="secondary" on:click=|_| print()>{t("Print the handout")}</button>
            </div>
            <label>{t("Handout link")}<input type="text" readonly prop:value=link class="handout-link"/></label>
            <Sheet title link/>
        </Show>
    }
}

/// One firmware file in the list.
#[component]
fn Row(entry: Entry, entries: RwSignal<Vec<Entry>>) -> impl IntoView {
    let path = entry.path.clone();
    let name = entry
        .path
        .rsplit('/')
        .next()
        .unwrap_or(&entry.path)
        .to_string();
    view! {
        <tr>
            <td>{entry.family.clone()}</td>
            <td title=entry.path.clone()>{name.clone()}</td>
            <td>{format!("0x{:x}", entry.offset)}</td>
            <td>{kb(entry.size as u64)}</td>
            <td>{entry.version.clone()}</td>
            <td><code>{hex(&entry.sha256)[..16].to_string()}"…"</code></td>
            <td>
                <button class="link" aria-label=crate::tf!("Remove {file}", file = name)
                    on:click=move |_| entries.update(|list| list.retain(|e| e.path != path))>{t("Remove")}</button>
            </td>
        </tr>
    }
}

/// The page's language: its code (`<html lang>`, which the page sets) and its name as the
/// language switcher writes it ("Deutsch").
fn page_language() -> (String, String) {
    let document = web_sys::window().and_then(|w| w.document());
    let code = document
        .as_ref()
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("lang"))
        .unwrap_or_else(|| "en".into());
    let name = document
        .and_then(|d| d.query_selector("#language option:checked").ok().flatten())
        .and_then(|o| o.text_content())
        .unwrap_or_else(|| code.clone());
    (code, name)
}

fn print() {
    if let Some(w) = web_sys::window() {
        let _ = w.print();
    }
}
