// Nothing in this file runs on import: the app calls `startPage` once. (Each optional wasm
// module imports its own copy, and the tests load the demo board's module under Node.)

// The page's language (src/i18n.rs): English is written in the sources and is the message id;
// another language's translations (dist/i18n/<lang>.json, built from i18n/<lang>.po by
// scripts/i18n.mjs) are fetched before the app starts, so an English page downloads none. The
// catalogue is kept on globalThis (`webflashLanguage`, with its `t`), where the optional modules'
// copies of this file, offline.js and history.js read it.
const LANGUAGES = ["en", "de", "es", "fr"];
const catalogue = () => globalThis.webflashLanguage;
/// The language the page shows: `?lang=`, else the one chosen with the switcher, else the first
/// of the browser's languages the page has, else English.
function chosenLanguage() {
  let saved = null;
  try { saved = localStorage.getItem("webflash-language"); } catch {}
  const wanted = [new URLSearchParams(location.search).get("lang"), saved, ...(navigator.languages || [navigator.language])];
  for (const tag of wanted) {
    const lang = String(tag || "").toLowerCase().split("-")[0];
    if (LANGUAGES.includes(lang)) return lang;
  }
  return "en";
}
/// A text's key in the catalogues (scripts/i18n.mjs `textKey`: FNV-1a of its UTF-8, base 36).
function textKey(text) {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(36);
}
export function translate(english) { return catalogue()?.messages[textKey(english)]; }
const t = (english) => translate(english) ?? english;
/// `n` written the page's way, with `digits` decimals.
export function formatNumber(n, digits) {
  return new Intl.NumberFormat(catalogue()?.lang || "en", { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
}
/// Loads the page language's translations (when it is not English), translates the static page
/// (elements marked `data-t`: their English text is the id) and wires the language switcher.
async function startLanguage() {
  const lang = chosenLanguage();
  if (lang !== "en" && !catalogue()) {
    try {
      const reply = await fetch(new URL(`i18n/${lang}.json`, document.baseURI));
      if (!reply.ok) throw new Error(`HTTP ${reply.status}`);
      globalThis.webflashLanguage = { lang, messages: await reply.json(), t };
    } catch (e) {
      console.warn(`language ${lang}: ${e?.message || e}; showing English`);
    }
  }
  document.documentElement.lang = catalogue()?.lang || "en";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.textContent.trim());
  const select = document.getElementById("language");
  if (select) {
    select.value = catalogue()?.lang || "en";
    // Another language reloads the page in it; with a board connected (perhaps being flashed),
    // only when the user says so.
    select.addEventListener("change", () => {
      if (globalThis.webflash?.port.connected() && !confirm(t("The page reloads in the new language, and the board is disconnected. Change the language now?"))) {
        select.value = catalogue()?.lang || "en";
        return;
      }
      try { localStorage.setItem("webflash-language", select.value); } catch {}
      const url = new URL(location.href);
      if (url.searchParams.has("lang")) url.searchParams.set("lang", select.value);
      location.assign(url);
    });
  }
}

/// Adds the translations of module FOLDER's own texts (`i18n/<lang>-FOLDER.json`), if any.
async function moreTexts(folder) {
  const c = globalThis.webflashLanguage;
  if (!c || c[folder]) return;
  const reply = await fetch(new URL(`i18n/${c.lang}-${folder}.json`, document.baseURI));
  if (!reply.ok) throw new Error(`the ${c.lang} texts of ${folder}: HTTP ${reply.status}`);
  Object.assign(c.messages, await reply.json());
  c[folder] = true;
}

// Loads one of the page's optional wasm modules (built by Trunk into its own folder, see
// index.html) the first time it is needed, relative to the page so a copy in a sub-folder works.
const loaded = new Map();

export function loadModule(folder, name) {
  if (!loaded.has(name)) {
    const url = new URL(`${folder}/${name}.js`, document.baseURI).href;
    const promise = Promise.all([import(url), moreTexts(folder)]).then(async ([m]) => {
      await m.default();
      return m;
    });
    promise.catch(() => loaded.delete(name)); // a failed download may be retried
    loaded.set(name, promise);
  }
  return loaded.get(name);
}

/// The demo boards' JS (`demo_pico.js`, which imports `demo_port.js`; copied beside the page),
/// fetched the first time a demo board is opened: a student with a real board never loads it.
let demoBoards = null;
function boards() {
  demoBoards ??= import(new URL('demo_pico.js', document.baseURI).href);
  demoBoards.catch(() => { demoBoards = null; });
  return demoBoards;
}
let opened = null; // the demo boards' module once loaded, for the synchronous queries below

export async function openDemoPort(chip) { opened = await boards(); return opened.openDemoPort(chip); }
export async function openDemoPico() { opened = await boards(); return opened.openDemoPico(); }
export async function openDemoPyboard() { opened = await boards(); return opened.openDemoPyboard(); }
// No demo board was opened yet: none of them exists.
export function demoUsbDevice() { return opened ? opened.demoUsbDevice() : null; }
export function demoPicoPort() { return opened ? opened.demoPicoPort() : null; }
export function demoPicoDrive() { return opened ? opened.demoPicoDrive() : null; }

/// Offline use (offline.js, copied beside the page): fetched when the page is first kept for
/// offline use (after a board answered), or at load when a service worker already serves the
/// page (from its cache, then).
let offline = null;
export function offlineKept() { return !!navigator.serviceWorker?.controller; }
export function startOffline() {
  offline ??= import(new URL("offline.js", document.baseURI).href).then((m) => m.startOffline());
  offline.catch(() => { offline = null; });
}

/// The page's bridge (ui::micropython), for the organisers' tools' whole-flash jobs.
let host = null;
let hostSet;
const hostReady = new Promise((resolve) => { hostSet = resolve; });
export function setHost(bridge) { host = bridge; hostSet(); }

/// The organisers' tools (`?organiser`): their own module, in a section above the steps once the
/// app has started; the footer links to them. Nothing of them is fetched without `?organiser`.
/// (Built here rather than in the app's wasm, where the same link costs three times the bytes.)
async function startOrganiser() {
  await hostReady;
  const link = document.createElement("a");
  link.href = "?organiser";
  link.textContent = t("Running a workshop? Make a handout with a link and a QR code.");
  document.querySelector("footer")?.append(link);
  if (!new URLSearchParams(location.search).has("organiser")) return;
  const section = document.createElement("section");
  section.id = "organiser";
  section.className = "card";
  section.setAttribute("aria-label", t("For workshop organisers"));
  document.querySelector("main")?.prepend(section);
  try {
    (await loadModule("tools", "webflash-tools")).mount(section, location.href, host);
  } catch (e) {
    section.textContent = t("The organiser tools could not be loaded ({error}). Reload the page to try again.").replace("{error}", e?.message || e);
  }
}

/// The device history (history.js, copied beside the page; see src/web/history.rs): fetched when
/// something is recorded, or at Connect when this browser has a history.
let history = null;
function historyModule() {
  history ??= import(new URL("history.js", document.baseURI).href);
  history.catch(() => { history = null; });
  return history;
}
export function historyRecord(kind, board, id, usb, firmware, source, version, sha256, verified, bytes) {
  historyModule().then((m) => m.record({ kind, board, id, usb, firmware, source, version, sha256, verified }, bytes)).catch((e) => console.warn("history:", e));
}
export function historySeen(id) {
  const line = document.getElementById("seen");
  if (line) line.textContent = "";
  if (localStorage.getItem("webflash-history")) historyModule().then((m) => m.showSeen(id)).catch(() => {});
}
export function historyApi() { return historyModule(); }

/// The technical log behind "Show details" under bad news (ui::notice): every message of this
/// visit, timestamped (seconds since the page loaded), written out when the details are opened; their button puts
/// it on the clipboard for the organiser. (Here rather than in the app's wasm: a third of the
/// bytes.)
const log = [];
const logText = () => `${log.join("\n")}\n\n${navigator.userAgent}`;
export function logLine(text) {
  log.push(`[${(performance.now() / 1000).toFixed(3)}] ${text}`);
  if (log.length > 300) log.shift();
  const open = document.querySelector("details.log[open] pre");
  if (open) open.textContent = logText();
}
function startLog() {
  addEventListener("toggle", (e) => {
    if (e.target.matches?.("details.log") && e.target.open) e.target.querySelector("pre").textContent = logText();
  }, true);
  addEventListener("click", (e) => {
    const button = e.target.closest?.("details.log button");
    if (button) navigator.clipboard?.writeText(logText()).then(() => { button.dataset.copied = ""; }, () => {});
  });
}

/// `window.webflash`, the page's automation API for workshop scripts and the browser tests
/// (README "Automation API"), on the page's bridge: `port.write(Uint8Array)`,
/// `port.read(maxBytes, timeoutMs) → Uint8Array`, `port.setSignals(dtr, rts)`,
/// `port.setBaud(baud)`, `port.connected()`. Each call borrows the board like any other
/// operation, so it never interleaves with a flash. (The optional modules' copies of this file
/// leave the page's in place.)
async function withPort(op) {
  if (!host) throw new Error("the page has not started yet");
  await host.lease(true);
  try { return await op(host); } finally { await host.release(); }
}
globalThis.webflash ??= {
  get version() { return host?.version; },
  port: {
    write: (data) => withPort((h) => h.write(data)),
    read: (max, timeoutMs) => withPort(async (h) => {
      const deadline = performance.now() + Math.max(0, timeoutMs);
      const parts = [];
      let length = 0;
      while (length < max) {
        const left = deadline - performance.now();
        const got = left > 0 ? await h.read(left) : new Uint8Array(0);
        if (!got.length) break;
        parts.push(got);
        length += got.length;
      }
      const out = new Uint8Array(length);
      parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
      return out;
    }),
    setSignals: (dtr, rts) => withPort((h) => h.setSignals(dtr, rts)),
    setBaud: (baud) => withPort((h) => h.setBaud(baud)),
    connected: () => !!host?.connected(),
  },
};

/// The steps (ui::steps): writes one step's state into its card `#step-NAME`.
export function showStep(name, state, open, mark, title, label, summary) {
  const card = document.getElementById(`step-${name}`);
  if (!card) return;
  card.dataset.state = state;
  card.toggleAttribute("data-open", open);
  const set = (selector, text) => { const el = card.querySelector(selector); if (el) el.textContent = text; };
  set(".mark", mark);
  set("h2", title);
  set(".state", label);
  set(".summary", summary);
  card.querySelector(".open")?.setAttribute("aria-expanded", String(open));
}

/// Takes the user to step NAME, which just became current: its card is scrolled to the top of
/// the window when its top is out of view or in the lower half (at 1366x768 its main action is
/// then on screen), and its heading takes the focus when the focus was lost (the pressed button
/// went away, or its step closed), so the next Tab goes into the step.
export function takeToStep(name) {
  const card = document.getElementById(`step-${name}`);
  if (!card) return;
  const top = card.getBoundingClientRect().top;
  if (top < 0 || top > innerHeight / 2) card.scrollIntoView();
  const focus = document.activeElement;
  if (!focus || focus === document.body || !focus.checkVisibility()) card.querySelector("h2")?.focus();
}

/// Without Web Serial (Firefox, Safari, a page not served over https): what to do instead, as an
/// alert above the steps. (Here rather than in the app's wasm: a third of the bytes, for a
/// notice most visitors never see.)
function unsupportedNotice() {
  if ("serial" in navigator && navigator.serial) return;
  const notice = document.createElement("section");
  notice.className = "card unsupported";
  notice.setAttribute("role", "alert");
  const h2 = document.createElement("h2");
  h2.textContent = t("This browser cannot talk to USB serial devices");
  notice.append(h2, ...(isSecureContext ? [
    t("webflash needs Web Serial, which Google Chrome, Microsoft Edge and Opera have on computers and Chromebooks (version 89 or newer). Firefox and Safari do not support it."),
    t("Open this page in Chrome or Edge to flash a real board. You can still try the demo board here."),
  ] : [
    t("Web Serial only works on secure pages. Open this page over https:// (or from http://localhost on this computer) in Google Chrome, Microsoft Edge or Opera."),
  ]).map((text) => Object.assign(document.createElement("p"), { textContent: text })));
  document.querySelector("main")?.prepend(notice);
}

/// Starts the page (the app calls it once, then mounts itself when it resolves): its language
/// first, then the notice for a browser without Web Serial, the log's buttons, and the
/// organisers' link (and tools, with `?organiser`) once the app's bridge exists.
export async function startPage() {
  startLog();
  startOrganiser();
  await startLanguage();
  unsupportedNotice();
}
