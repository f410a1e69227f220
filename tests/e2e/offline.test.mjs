// Offline use (issue 13): the page is kept by its service worker once a board has answered, with
// the workshop manifest's firmware; it then reloads and flashes with the network cut (Playwright's
// offline mode), is installable, and a new deployment replaces the cache without mixing files.
// The page served is a copy of dist/ that the second test redeploys (scripts/post-build.mjs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { startServer, launchBrowser, openApp, screenshot, dist, root, openDemoBoard, flashToHello } from "./harness.mjs";
import { micropythonImage, sha256 } from "./images.mjs";

let server, browser, tmp, site;
const files = {};
const image = micropythonImage("esp32", "v1.24.1");
files["ws/micropython.bin"] = image;
files["ws/manifest.json"] = Buffer.from(JSON.stringify({
  name: "Workshop MicroPython",
  builds: [{ chipFamily: "ESP32", parts: [{ path: "micropython.bin", offset: 4096, sha256: sha256(image) }] }],
}));

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "webflash-offline-"));
  site = path.join(tmp, "site");
  fs.cpSync(dist, site, { recursive: true });
  server = await startServer({}, files, { dir: site });
  browser = await launchBrowser({ serviceWorkers: "allow" });
});
after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const workshop = () => `${server.url}?manifest=${encodeURIComponent(server.url + "files/ws/manifest.json")}`;

async function flashDemo(page) {
  await openDemoBoard(page);
  await page.locator('[data-field="firmware"]').filter({ hasText: "manifest" }).waitFor({ state: "attached", timeout: 10000 });
  await flashToHello(page, "v1.24.1");
}

const offlineLine = (page) => page.locator("#offline");

test("kept after the first board answered: offline, the page reloads and flashes the demo board from the workshop manifest", async () => {
  const page = await openApp(browser.context, workshop(), { ports: [] });
  // Nothing of the offline machinery before a board has answered.
  const fetched = () => page.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname));
  assert.equal(await page.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length)), 0);
  assert.deepEqual((await fetched()).filter((p) => /offline\.js|sw\.js|webmanifest/.test(p)), []);
  await flashDemo(page);
  await page.locator('#offline[data-offline="ready"]').waitFor({ timeout: 60000 });
  assert.match(await offlineLine(page).innerText(), /Ready to work offline, with this workshop's firmware \(1 file\)/);
  // Installable (ChromeOS's install prompt asks the same question of the page).
  const cdp = await browser.context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
  assert.deepEqual(installabilityErrors, []);
  await screenshot(page, "offline-ready");

  await browser.context.setOffline(true);
  try {
    assert.equal(await page.evaluate(() => fetch("manifest.webmanifest", { cache: "no-store" }).then(() => "served", () => "no network")), "served",
      "the worker serves the page's files");
    await page.reload();
    await page.getByRole("heading", { name: "webflash" }).waitFor();
    // The workshop's manifest and firmware come from the kept copies; the demo board, the
    // MicroPython card and the official MicroPython port from this deployment's cache.
    await flashDemo(page);
    await page.locator('#offline[data-offline="ready"]').waitFor({ timeout: 30000 });
    assert.match(await offlineLine(page).innerText(), /with this workshop's firmware/);
    // The browser really is offline: what the worker does not keep cannot be fetched (online,
    // the server answers 404).
    const missing = await page.evaluate(() => fetch("files/never-kept").then((r) => `HTTP ${r.status}`, () => "offline"));
    assert.equal(missing, "offline");
  } finally {
    await browser.context.setOffline(false);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a firmware part that does not match the manifest's SHA-256 is not kept, and the page says so", async () => {
  files["bad/micropython.bin"] = Buffer.from(image);
  files["bad/micropython.bin"][100] ^= 1;
  files["bad/manifest.json"] = Buffer.from(JSON.stringify({
    name: "Damaged", builds: [{ chipFamily: "ESP32", parts: [{ path: "micropython.bin", offset: 4096, sha256: sha256(image) }] }],
  }));
  // The worker serves this page already (the test above kept it): it keeps the link's firmware at load.
  const page = await openApp(browser.context, `${server.url}?manifest=${encodeURIComponent(server.url + "files/bad/manifest.json")}`, { ports: [] });
  await page.locator('#offline[data-offline="firmware-failed"]').waitFor({ timeout: 30000 });
  assert.match(await offlineLine(page).innerText(), /could not be kept \(.*does not match the SHA-256 in the manifest\)\. Stay online to flash it\./);
  const kept = await page.evaluate(async (url) => !!(await (await caches.open("webflash-firmware")).match(url)), server.url + "files/bad/micropython.bin");
  assert.equal(kept, false);
  await page.close();
});

test("a new deployment replaces the cache without mixing versions", async () => {
  const page = await openApp(browser.context, server.url, { ports: [] });
  await page.locator('#offline[data-offline="ready"]').waitFor({ timeout: 30000 });
  const lazyFile = () => page.evaluate(() => fetch("demo_pico.js").then((r) => r.text()));
  const before = await lazyFile();
  const cachesBefore = await page.evaluate(() => caches.keys());
  // Deploy: the page and a file it loads on demand change; the hook writes a new worker.
  fs.appendFileSync(path.join(site, "demo_pico.js"), "\n// deployment 2\n");
  const index = path.join(site, "index.html");
  fs.writeFileSync(index, fs.readFileSync(index, "utf8").replace("<head>", '<head><meta name="deployment" content="2">'));
  execFileSync("node", [path.join(root, "scripts/post-build.mjs"), site]);
  // The open page learns of it on its next visit, and keeps using its own version meanwhile.
  await page.reload();
  await page.locator('#offline[data-offline="update"]').waitFor({ timeout: 30000 });
  assert.match(await offlineLine(page).innerText(), /A new version of this page is ready/);
  assert.equal(await page.locator('meta[name="deployment"]').count(), 0);
  assert.equal(await lazyFile(), before, "the old page still gets its own version of a file it loads later");
  await page.getByRole("button", { name: "Reload" }).click();
  await page.locator('meta[name="deployment"]').waitFor({ state: "attached", timeout: 30000 });
  assert.match(await lazyFile(), /deployment 2/);
  const cachesAfter = await page.evaluate(() => caches.keys());
  const shells = (names) => names.filter((n) => n !== "webflash-firmware");
  assert.equal(shells(cachesAfter).length, 1, `one deployment's cache: ${cachesAfter}`);
  assert.notDeepEqual(shells(cachesAfter), shells(cachesBefore));
  assert.ok(cachesAfter.includes("webflash-firmware"), "the workshop's firmware is kept across deployments");
  assert.deepEqual(page.errors, []);
  await page.close();
});
