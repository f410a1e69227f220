// Offline use: registers the service worker (sw.js, beside the page), adds the web app manifest
// (the page is installable once it works offline), and writes the footer's line (`#offline`,
// with `data-offline` = preparing | ready | firmware-failed | update | failed for automation).
// Imported by modules.js when the page is to be kept for offline use, never before the first
// flash (see src/web/offline.rs).
// The page's language (src/i18n.rs): modules.js keeps its catalogue on globalThis.
const t = (english) => globalThis.webflashLanguage?.t(english) ?? english;
let registration = null;

export function startOffline() {
  if (registration || !("serviceWorker" in navigator) || !window.isSecureContext) return;
  registration = register().catch((e) => say("failed", t("This page could not be kept for offline use ({error}); it works online as usual.").replace("{error}", e?.message || e)));
}

function say(state, text, button) {
  const line = document.getElementById("offline");
  if (!line) return;
  line.dataset.offline = state;
  line.textContent = text;
  if (button) {
    const b = document.createElement("button");
    b.className = "secondary";
    b.textContent = button.label;
    b.addEventListener("click", button.click);
    line.append(" ", b);
  }
}

async function register() {
  if (!document.querySelector('link[rel="manifest"]')) {
    const link = document.createElement("link");
    link.rel = "manifest";
    link.href = new URL("manifest.webmanifest", document.baseURI).href;
    document.head.append(link);
  }
  const sw = navigator.serviceWorker;
  const reg = await sw.register(new URL("sw.js", document.baseURI), { scope: "./" });
  const update = () => {
    if (reg.waiting && sw.controller) say("update", t("A new version of this page is ready."), { label: t("Reload"), click: () => reload(reg) });
  };
  reg.addEventListener("updatefound", () => {
    const worker = reg.installing;
    worker?.addEventListener("statechange", () => {
      if (worker.state === "installed") update();
      if (worker.state === "redundant" && !reg.active) say("failed", t("This page could not be kept for offline use (its files could not all be downloaded); it works online as usual."));
    });
  });
  if (!reg.active) say("preparing", t("Getting this page ready to work offline…"));
  await sw.ready;
  const query = new URLSearchParams(location.search);
  const manifest = query.get("manifest");
  const firmware = manifest ? null : query.get("firmware");
  if (manifest || firmware) {
    const answer = await ask(reg.active, {
      type: "keep",
      manifest: manifest && new URL(manifest, document.baseURI).href,
      firmware: firmware && new URL(firmware, document.baseURI).href,
    });
    if (answer.ok) {
      say("ready", answer.parts === 1
        ? t("Ready to work offline, with this workshop's firmware (1 file).")
        : t("Ready to work offline, with this workshop's firmware ({count} files).").replace("{count}", answer.parts));
    } else {
      say("firmware-failed", t("This page works offline, but the workshop's firmware could not be kept ({error}). Stay online to flash it.").replace("{error}", refusal(answer)));
    }
  } else {
    say("ready", t("Ready to work offline: this page opens and flashes without the network."));
  }
  update();
}

// Why sw.js could not keep the firmware: its English text (the worker has no catalogue; its texts
// are marked there with `t`), translated here and its {places} filled.
function refusal(answer) {
  let text = t(String(answer.error));
  for (const [name, value] of Object.entries(answer.places || {})) text = text.replace(`{${name}}`, value);
  return text;
}

function ask(worker, message) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (e) => resolve(e.data);
    worker.postMessage(message, [channel.port2]);
  });
}

// The user asked for the new deployment: it takes over, and the page reloads once it has.
function reload(reg) {
  if (!reg.waiting) { location.reload(); return; }
  navigator.serviceWorker.addEventListener("controllerchange", () => location.reload(), { once: true });
  reg.waiting.postMessage({ type: "skip-waiting" });
}
