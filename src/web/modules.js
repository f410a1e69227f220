// Loads one of the page's optional wasm modules (built by Trunk into its own folder, see
// index.html) the first time it is needed, relative to the page so a copy in a sub-folder works.
const loaded = new Map();

export function loadModule(folder, name) {
  if (!loaded.has(name)) {
    const url = new URL(`${folder}/${name}.js`, document.baseURI).href;
    const promise = import(url).then(async (m) => {
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
export function setHost(bridge) { host = bridge; }

/// The organisers' tools (`?organiser`): their own module, in a section above the steps once the
/// app has started; the footer links to them. Nothing of them is fetched without `?organiser`.
/// (Built here rather than in the app's wasm, where the same link costs three times the bytes.)
addEventListener("TrunkApplicationStarted", async () => {
  const link = document.createElement("a");
  link.href = "?organiser";
  link.textContent = "Running a workshop? Make a handout with a link and a QR code.";
  document.querySelector("footer")?.append(link);
  if (!new URLSearchParams(location.search).has("organiser")) return;
  const section = document.createElement("section");
  section.id = "organiser";
  section.className = "card";
  section.setAttribute("aria-label", "For workshop organisers");
  document.querySelector("main")?.prepend(section);
  try {
    (await loadModule("tools", "webflash-tools")).mount(section, location.href, host);
  } catch (e) {
    section.textContent = `The organiser tools could not be loaded (${e?.message || e}). Reload the page to try again.`;
  }
}, { once: true });

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
