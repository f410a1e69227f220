//! The board's files in the MicroPython card: listed as soon as the board answered its check,
//! uploaded (a picked file, or dropped), downloaded, run, edited (a plain `<textarea>` for small
//! text files), deleted; folders made; all backed up as one archive and put back (after a flash
//! that moved the filesystem, or from a saved backup).

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::{term_write, with_repl, Page, LAST_BACKUP};
use crate::i18n::t;
use crate::repl::files::{Checked, Entry};
use crate::tf;
use crate::ui::state::Check;

/// The status line while files are backed up: "Backing up… 3 of 7 files".
fn backing_up(state: Page) -> impl Fn(usize, usize) {
    move |i, n| {
        state.say(tf!(
            "Backing up… {done} of {total} files",
            done = i,
            total = n
        ))
    }
}

/// The status line while files are put back: "Putting files back… 3 of 7".
fn putting_back(state: Page) -> impl Fn(usize, usize) {
    move |i, n| {
        state.say(tf!(
            "Putting files back… {done} of {total}",
            done = i,
            total = n
        ))
    }
}

/// Backs up the board's files for the page (before a flash that moves the filesystem); the
/// archive is also kept for "Put files back". `None` if it failed (the status says why).
pub async fn backup_for_page() -> Option<Vec<u8>> {
    let state = Page;
    state.say(t("Backing up the board's files before flashing…"));
    let (archive, n) = with_repl(state, async move |r| r.backup(backing_up(state)).await).await?;
    LAST_BACKUP.with(|b| *b.borrow_mut() = Some(archive.clone()));
    state.say(tf!("Backed up {count} file(s).", count = n));
    Some(archive)
}

/// Puts an archive's files back for the page (after the filesystem moved); how many.
pub async fn restore_for_page(archive: Vec<u8>) -> Option<usize> {
    let state = Page;
    state.say(t("Putting the board's files back…"));
    let n = with_repl(state, async move |r| {
        r.restore(&archive, putting_back(state)).await
    })
    .await?;
    state.say(tf!("Put {count} file(s) back on the board.", count = n));
    Some(n)
}

/// Writes an archive's files back to the board.
async fn restore(state: Page, archive: Vec<u8>, files: RwSignal<Vec<Entry>>) {
    state.say(t("Putting the files back on the board…"));
    let done = with_repl(state, async move |r| {
        let n = r.restore(&archive, putting_back(state)).await?;
        let list = r.list("").await?;
        Ok((n, list))
    })
    .await;
    if let Some((n, list)) = done {
        files.set(list);
        state.say(tf!("Put {count} file(s) back on the board.", count = n));
    }
}

/// The status line after `file` was uploaded (or, `saved`, saved from the editor), saying how
/// it was checked. (Four whole sentences: a translation may need each its own way.)
fn stored_text(file: &str, checked: Checked, saved: bool) -> String {
    match (saved, checked) {
        (false, Checked::Sha256) => tf!(
            "Uploaded {file}, checked by SHA-256 on the board.",
            file = file
        ),
        (false, Checked::Size) => tf!(
            "Uploaded {file}, its size checked (this MicroPython cannot hash files).",
            file = file
        ),
        (true, Checked::Sha256) => tf!(
            "Saved {file}, checked by SHA-256 on the board.",
            file = file
        ),
        (true, Checked::Size) => tf!(
            "Saved {file}, its size checked (this MicroPython cannot hash files).",
            file = file
        ),
    }
}

/// The files part of the card: its buttons, the editor, the drop zone and the table.
#[component]
pub(super) fn FilesPanel(open: Signal<bool>, check: RwSignal<Check>) -> impl IntoView {
    let state = Page;
    let open = move || open.get();
    let files = RwSignal::new(Vec::<Entry>::new());
    let refresh = move || {
        spawn_local(async move {
            if let Some(list) = with_repl(state, async |r| r.list("").await).await {
                files.set(list);
            }
        })
    };
    // The board's files show up as soon as it has answered the check (boot.py on a fresh one).
    Effect::new(move |_| {
        if matches!(check.get(), Check::Works { .. }) {
            refresh();
        }
    });
    let upload = move |file: web_sys::File| {
        spawn_local(async move {
            let name = file.name();
            let Ok(buf) = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await else {
                return;
            };
            let data = js_sys::Uint8Array::new(&buf).to_vec();
            let path = name.clone();
            state.say(tf!("Uploading {file}…", file = name));
            if let Some(checked) = with_repl(state, async move |r| {
                r.write_file(&path, &data, |_| {}).await
            })
            .await
            {
                state.say(stored_text(&name, checked, false));
                refresh();
            }
        });
    };
    let on_upload = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = ev.target().unwrap().unchecked_into();
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            upload(file);
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(list) = ev.data_transfer().and_then(|d| d.files()) {
            // Each upload borrows the board in turn.
            for i in 0..list.length() {
                if let Some(file) = list.get(i) {
                    upload(file);
                }
            }
        }
    };
    // Editing a small text file such as main.py.
    let editing = RwSignal::new(None::<String>);
    let editor_text = RwSignal::new(String::new());
    let on_save = move |_| {
        let Some(path) = editing.get_untracked() else {
            return;
        };
        let text = editor_text.get_untracked();
        spawn_local(async move {
            let p = path.clone();
            if let Some(checked) = with_repl(state, async move |r| {
                r.write_file(&p, text.as_bytes(), |_| {}).await
            })
            .await
            {
                state.say(stored_text(&path, checked, true));
                refresh();
            }
        });
    };

    let has_backup = RwSignal::new(false);
    let folder = RwSignal::new(String::new());
    let on_mkdir = move |_| {
        let name = folder.get_untracked().trim().to_string();
        if name.is_empty() {
            state.warn(t("Type a name for the new folder first."));
            return;
        }
        spawn_local(async move {
            let n = name.clone();
            if with_repl(state, async move |r| r.make_dir(&n).await)
                .await
                .is_some()
            {
                state.say(tf!("Made folder {folder}.", folder = name));
                folder.set(String::new());
                refresh();
            }
        });
    };
    let on_backup = move |_| {
        spawn_local(async move {
            state.say(t("Backing up the board's files…"));
            let got = with_repl(state, async move |r| r.backup(backing_up(state)).await).await;
            if let Some((archive, n)) = got {
                crate::web::download("micropython-backup.tar", &archive);
                LAST_BACKUP.with(|b| *b.borrow_mut() = Some(archive));
                has_backup.set(true);
                state.say(tf!("Backed up {count} file(s) to {file}. After flashing, press \"Put files back\".", count = n, file = "micropython-backup.tar"));
            }
        })
    };
    let on_put_back = move |_| {
        if let Some(archive) = LAST_BACKUP.with(|b| b.borrow().clone()) {
            spawn_local(restore(state, archive, files));
        }
    };
    let on_restore_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = ev.target().unwrap().unchecked_into();
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        spawn_local(async move {
            let Ok(buf) = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await else {
                return;
            };
            restore(state, js_sys::Uint8Array::new(&buf).to_vec(), files).await;
        });
    };

    view! {
        <h3>{t("Files on the board")}</h3>
            <div class="row">
                <button class="secondary" disabled=move || !open() on:click=move |_| refresh()>{t("Refresh files")}</button>
                <label class="file">{t("Upload file")}" "<input type="file" aria-label=t("Upload file") disabled=move || !open() on:change=on_upload/></label>
                <input class="folder" type="text" placeholder=t("folder name") aria-label=t("New folder")
                    prop:value=folder on:input=move |ev| folder.set(event_target_value(&ev))/>
                <button class="secondary" disabled=move || !open() on:click=on_mkdir>{t("Make folder")}</button>
            </div>
            <div class="row backup">
                <button class="secondary" disabled=move || !open() on:click=on_backup>{t("Back up files")}</button>
                <Show when=move || has_backup.get()>
                    <button class="secondary" disabled=move || !open() on:click=on_put_back>{t("Put files back")}</button>
                </Show>
                <label class="file">{t("Restore backup")}" "<input type="file" accept=".tar" aria-label=t("Restore backup") disabled=move || !open() on:change=on_restore_file/></label>
            </div>
            <Show when=move || editing.get().is_some()>
                <div class="editor">
                    <p class="hint">{move || tf!("Editing {file}", file = editing.get().unwrap_or_default())}</p>
                    <textarea aria-label=t("Editor") spellcheck="false" prop:value=editor_text
                        on:input=move |ev| editor_text.set(event_target_value(&ev))></textarea>
                    <div class="row">
                        <button class="primary" on:click=on_save>{t("Save")}</button>
                        <button class="secondary" on:click=move |_| editing.set(None)>{t("Close")}</button>
                    </div>
                </div>
            </Show>
            <div class="drop files-drop" on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default() on:drop=on_drop>
                <span class="hint">{t("Drop files here to upload them to the board.")}</span>
            </div>
            <table class="files" aria-label=t("Files on the board")>
                <tbody>
                    {move || files.get().into_iter().map(|entry| view! {
                        <FileRow entry refresh=Callback::new(move |()| refresh()) editing editor_text/>
                    }).collect_view()}
                </tbody>
            </table>
    }
}

/// One file or folder of the board, with what can be done to it.
#[component]
fn FileRow(
    entry: Entry,
    refresh: Callback<()>,
    editing: RwSignal<Option<String>>,
    editor_text: RwSignal<String>,
) -> impl IntoView {
    let state = Page;
    let name = entry.name.clone();
    let (n1, n2, n3, n4) = (name.clone(), name.clone(), name.clone(), name.clone());
    let editable = !entry.is_dir && entry.size <= 64 * 1024;
    // Plain digits: the browser tests look for "<length> bytes".
    let size = if entry.is_dir {
        t("folder").to_string()
    } else {
        tf!("{count} bytes", count = entry.size)
    };
    view! {
        <tr>
            <td class="name">{name.clone()}</td>
            <td class="size">{size}</td>
            <td class="actions">
                <button class="link" aria-label=tf!("Download {file}", file = name) on:click=move |_| {
                    let n = n1.clone();
                    spawn_local(async move {
                        let p = n.clone();
                        if let Some(data) = with_repl(state, async move |r| r.read_file(&p, |_| {}).await).await {
                            crate::web::download(&n, &data);
                            state.say(tf!("Downloaded {file} ({count} bytes).", file = n, count = crate::i18n::number(data.len() as u64)));
                        }
                    });
                }>{t("Download")}</button>
                <button class="link" aria-label=tf!("Run {file}", file = name) on:click=move |_| {
                    let n = n2.clone();
                    spawn_local(async move {
                        term_write(format!("\r\n{}\r\n", tf!("--- running {file} ---", file = n)).as_bytes());
                        let p = n.clone();
                        let out = with_repl(state, async move |r| r.run_file(&p, Duration::from_secs(60), |b| term_write(b)).await).await;
                        if let Some(out) = out {
                            term_write(&out.stderr);
                            state.say(if out.stderr.is_empty() { tf!("{file} finished.", file = n) } else { tf!("{file} stopped with an error (see the terminal).", file = n) });
                        }
                    });
                }>{t("Run")}</button>
                {editable.then(|| view! {
                    <button class="link" aria-label=tf!("Edit {file}", file = name) on:click=move |_| {
                        let n = n4.clone();
                        spawn_local(async move {
                            let p = n.clone();
                            if let Some(data) = with_repl(state, async move |r| r.read_file(&p, |_| {}).await).await {
                                match String::from_utf8(data) {
                                    Ok(text) => {
                                        editor_text.set(text);
                                        editing.set(Some(n));
                                    }
                                    Err(_) => state.warn(tf!("{file} is not a text file; download it instead.", file = n)),
                                }
                            }
                        });
                    }>{t("Edit")}</button>
                })}
                <button class="link" aria-label=tf!("Delete {file}", file = name) on:click=move |_| {
                    let n = n3.clone();
                    spawn_local(async move {
                        let p = n.clone();
                        if with_repl(state, async move |r| r.remove(&p).await).await.is_some() {
                            state.say(tf!("Deleted {file}.", file = n));
                            refresh.run(());
                        }
                    });
                }>{t("Delete")}</button>
            </td>
        </tr>
    }
}
