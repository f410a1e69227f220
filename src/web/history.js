// The device history (issue 13), in the browser's IndexedDB: every flash and every board check
// (store "history"), and the bytes of the last few firmware files flashed from this computer, so
// "Flash this again" works for a file as for a link (store "firmware", by SHA-256). Imported by
// modules.js when something is recorded or looked up: a first visit fetches it after its first
// flash, never before. See src/web/history.rs for the fields.
// The page's language (src/i18n.rs): modules.js keeps its catalogue on globalThis.
const t = (english) => globalThis.webflashLanguage?.t(english) ?? english;
const KEEP_FILES = 5; // firmware files kept for flashing again (a MicroPython image is ~1.6 MB)
const FLAG = "webflash-history"; // localStorage: a history exists (so Connect looks it up)

let db = null;
function open() {
  db ??= new Promise((resolve, reject) => {
    const req = indexedDB.open("webflash", 1);
    req.onupgradeneeded = () => {
      const h = req.result.createObjectStore("history", { keyPath: "n", autoIncrement: true });
      h.createIndex("id", "id");
      req.result.createObjectStore("firmware", { keyPath: "sha256" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => { db = null; reject(req.error); };
  });
  return db;
}

function run(stores, mode, work) {
  return open().then((d) => new Promise((resolve, reject) => {
    const tx = d.transaction(stores, mode);
    let result;
    Promise.resolve(work(tx)).then((r) => { result = r; });
    tx.oncomplete = () => resolve(result);
    tx.onerror = tx.onabort = () => reject(tx.error);
  }));
}

const all = (req) => new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });

/// Adds one entry (its date is now), and the firmware's bytes when given.
export function record(entry, bytes) {
  const e = { ...entry, date: new Date().toISOString() };
  return run(["history", "firmware"], "readwrite", async (tx) => {
    tx.objectStore("history").add(e);
    if (bytes && e.sha256) {
      const files = tx.objectStore("firmware");
      files.put({ sha256: e.sha256, name: e.firmware, bytes, used: e.date });
      const kept = (await all(files.getAll())).sort((a, b) => b.used.localeCompare(a.used));
      for (const old of kept.slice(KEEP_FILES)) files.delete(old.sha256);
    }
  }).then(() => localStorage.setItem(FLAG, "1"));
}

/// Every entry, oldest first.
export function list() {
  return run(["history"], "readonly", (tx) => all(tx.objectStore("history").getAll()))
    .then((entries) => entries.map(({ n, ...e }) => e).sort((a, b) => a.date.localeCompare(b.date)));
}

/// Adds entries exported earlier (JSON), skipping those already here (same date, kind and id).
export async function importEntries(entries) {
  const have = new Set((await list()).map((e) => `${e.date} ${e.kind} ${e.id}`));
  const fresh = entries.filter((e) => e && typeof e.date === "string" && !have.has(`${e.date} ${e.kind} ${e.id}`));
  await run(["history"], "readwrite", (tx) => { for (const { n, ...e } of fresh) tx.objectStore("history").add(e); });
  if (fresh.length) localStorage.setItem(FLAG, "1");
  return fresh.length;
}

/// Forgets everything: entries and kept firmware.
export function forget() {
  return run(["history", "firmware"], "readwrite", (tx) => {
    tx.objectStore("history").clear();
    tx.objectStore("firmware").clear();
  }).then(() => localStorage.removeItem(FLAG));
}

/// A kept firmware file's bytes, or null.
export function firmware(sha256) {
  return run(["firmware"], "readonly", (tx) => all(tx.objectStore("firmware").get(sha256)))
    .then((f) => f ? { name: f.name, bytes: f.bytes } : null);
}

/// The newest entry for a board (its MAC or unique id), or null.
export function last(id) {
  return run(["history"], "readonly", (tx) => all(tx.objectStore("history").index("id").getAll(id)))
    .then((entries) => entries.sort((a, b) => a.date.localeCompare(b.date)).pop() || null);
}

/// Writes what a returning board ran last into `#seen` (the device card), or nothing for a
/// board never seen here.
export async function showSeen(id) {
  const e = id ? await last(id) : null;
  const line = document.getElementById("seen");
  if (!line) return;
  if (!e) { line.textContent = ""; delete line.dataset.kind; return; }
  const when = new Date(e.date).toLocaleString(globalThis.webflashLanguage?.lang, { dateStyle: "medium", timeStyle: "short" });
  const what = e.version || e.firmware || t("unknown firmware");
  line.dataset.kind = e.kind;
  const text = e.kind === "flash"
    ? (e.verified ? t("Seen here before: on {date} it was flashed with {firmware} (verified).") : t("Seen here before: on {date} a flash of {firmware} did not finish (not verified)."))
    : (e.verified ? t("Seen here before: on {date} it ran {firmware}.") : t("Seen here before: on {date} its check found no working MicroPython."));
  line.textContent = text.replace("{date}", when).replace("{firmware}", what);
}

// An input of the page by its accessible name, in the page's language (src/ui/firmware.rs
// translates it with the same catalogue).
const labelled = (english) => document.querySelector(`input[aria-label="${CSS.escape(t(english))}"]`);

/// Puts a firmware from the history into step 2 of this page, as a user would: its link into
/// "Firmware URL" and Load, or its kept bytes into "Firmware file". False when neither is there.
export async function useAgain(source, sha256) {
  if (source) {
    const input = labelled("Firmware URL");
    input.value = source;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.closest(".row").querySelector("button").click();
  } else {
    const kept = sha256 ? await firmware(sha256) : null;
    if (!kept) return false;
    const data = new DataTransfer();
    data.items.add(new File([kept.bytes], kept.name));
    const input = labelled("Firmware file");
    input.files = data.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }
  document.querySelector(".firmware")?.scrollIntoView({ block: "start" });
  return true;
}
