// The page's service worker: after the first visit, everything the page can need is served without
// the network. `VERSION` (a digest of every file of this deployment) and `FILES` (their paths,
// relative to this worker) are written above this line by scripts/post-build.mjs when Trunk builds.
//
// - This deployment's files live in one cache named by its version and are served cache-first, so a
//   page never mixes files of two deployments. A new deployment's worker installs its own cache and
//   waits; the page tells the user to reload, and only then does it take over (the old cache is
//   deleted when it does).
// - A workshop's firmware (the parts its manifest names, or a `?firmware=` file) is kept in the
//   firmware cache when the page asks (message "keep"), each part checked by its SHA-256 when the
//   manifest gives one. Parts with a SHA-256 are served from that cache first (the digest names the
//   bytes); the manifest and parts without one go to the network first and fall back to the cache.
const SHELL = `webflash-${VERSION}`;
const FIRMWARE = "webflash-firmware";
const scope = new URL("./", self.location.href);
const shellPaths = new Set(FILES.map((f) => new URL(f, scope).pathname));

self.addEventListener("install", (event) => {
  // "no-cache": revalidated with the server, never an older deployment's file from the HTTP cache.
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES.map((f) => new Request(new URL(f, scope), { cache: "no-cache" })))));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("webflash-") && name !== SHELL && name !== FIRMWARE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  const msg = event.data || {};
  if (msg.type === "skip-waiting") self.skipWaiting();
  if (msg.type === "keep") event.waitUntil(keep(msg).then((r) => event.ports[0]?.postMessage(r)));
  if (msg.type === "version") event.ports[0]?.postMessage({ version: VERSION, files: FILES.length });
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (req.mode === "navigate" && url.origin === scope.origin && url.pathname.startsWith(scope.pathname)) {
    // The page itself, whatever its query (`?manifest=`): this deployment's index.html.
    event.respondWith(fromShell(new URL("index.html", scope)).then((r) => r || fetch(req)));
    return;
  }
  if (url.origin === scope.origin && shellPaths.has(url.pathname)) {
    event.respondWith(fromShell(url).then((r) => r || fetch(req)));
    return;
  }
  event.respondWith(firmware(req));
});

async function fromShell(url) {
  const cache = await caches.open(SHELL);
  return cache.match(url.href, { ignoreSearch: true });
}

async function firmware(req) {
  const cache = await caches.open(FIRMWARE);
  const kept = await cache.match(req.url);
  if (kept && kept.headers.get("x-webflash-sha256")) return kept;
  try {
    return await fetch(req);
  } catch (e) {
    if (kept) return kept;
    throw e;
  }
}

// The texts a person reads (why the firmware could not be kept) are shown by the page
// (offline.js), which has the translations: marked here for the extractor, sent in English with
// their {places}, translated and filled there.
const t = (english) => english;
class Refusal extends Error {
  constructor(text, places) { super(text); this.places = places; }
}

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

// Keeps a workshop's firmware: `manifest` (a URL: every part of every build) or `firmware` (one
// file's URL). Answers {ok, parts, bytes} or {ok: false, error, places} (error in English, its
// {places} filled from places by the page).
async function keep({ manifest, firmware: single }) {
  const cache = await caches.open(FIRMWARE);
  try {
    const parts = [];
    if (manifest) {
      // Offline (a reload at the venue), the kept manifest stands in for the network's.
      const res = await fetch(manifest, { cache: "no-cache" }).catch(() => cache.match(manifest));
      if (!res) throw new Refusal(t("there is no network, and the manifest was never kept"));
      if (!res.ok) throw new Refusal(t("the manifest answered HTTP {status}"), { status: res.status });
      const text = await res.text();
      const doc = JSON.parse(text);
      await cache.put(manifest, new Response(text, { headers: { "content-type": "application/json" } }));
      for (const build of doc.builds || []) {
        for (const part of build.parts || []) {
          if (typeof part.path !== "string") continue;
          const sha = typeof part.sha256 === "string" ? part.sha256.toLowerCase() : null;
          parts.push({ url: new URL(part.path, manifest).href, sha });
        }
      }
    } else if (single) {
      parts.push({ url: new URL(single, scope).href, sha: null });
    }
    let bytes = 0;
    const seen = new Set();
    for (const { url, sha } of parts) {
      if (seen.has(url)) continue;
      seen.add(url);
      const kept = await cache.match(url);
      if (sha && kept && kept.headers.get("x-webflash-sha256") === sha) {
        bytes += (await kept.clone().arrayBuffer()).byteLength;
        continue;
      }
      const res = await fetch(url, { cache: "no-cache" }).catch(() => null);
      if (!res && kept && !sha) {
        bytes += (await kept.clone().arrayBuffer()).byteLength;
        continue;
      }
      if (!res) throw new Refusal(t("{url} could not be downloaded"), { url });
      if (!res.ok) throw new Refusal(t("{url} answered HTTP {status}"), { url, status: res.status });
      const body = await res.arrayBuffer();
      const headers = { "content-type": "application/octet-stream" };
      if (sha) {
        const got = hex(await crypto.subtle.digest("SHA-256", body));
        if (got !== sha) throw new Refusal(t("{url} does not match the SHA-256 in the manifest"), { url });
        headers["x-webflash-sha256"] = sha;
      }
      await cache.put(url, new Response(body, { headers }));
      bytes += body.byteLength;
    }
    return { ok: true, parts: seen.size, bytes };
  } catch (e) {
    return { ok: false, error: String(e && e.message || e), places: e?.places || {} };
  }
}
