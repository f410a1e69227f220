// The device history (issue 13): every flash and board check recorded in IndexedDB, surviving
// reloads; a returning board recognised on its device card; the history view (`?organiser`)
// filtering by board, rolling back to the previous firmware (a file kept by the browser) and
// flashing it; CSV and JSON exports; forget; and a JSON export imported back round-trips.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { startServer, launchBrowser, openApp, screenshot, openDemoBoard, flashToHello } from "./harness.mjs";
import { micropythonImage, sha256 } from "./images.mjs";

let server, browser;
before(async () => {
  server = await startServer({});
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const v124 = micropythonImage("esp32", "v1.24.1");
const v125 = micropythonImage("esp32", "v1.25.0");

const demoBoard = (page) => openDemoBoard(page);
const flashAndCheck = (page, version) => flashToHello(page, version);

async function download(page, button) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: button }).click()]);
  return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), "utf8") };
}

test("history: recorded, recognised after a reload, rolled back, exported, forgotten and imported back", async () => {
  const page = await openApp(browser.context, server.url, { ports: [] });
  await demoBoard(page);
  assert.equal(await page.locator('[data-field="seen"]').innerText(), "", "a board never seen here");
  await page.getByLabel("Firmware file").setInputFiles({ name: "mp-1.24.bin", mimeType: "application/octet-stream", buffer: v124 });
  await flashAndCheck(page, "v1.24.1");

  // A new visit: the board is recognised by its MAC, and what it ran last is said.
  await page.reload();
  await page.getByRole("heading", { name: "webflash" }).waitFor();
  await demoBoard(page);
  const seen = page.locator('[data-field="seen"]');
  await seen.filter({ hasText: "Seen here before" }).waitFor({ timeout: 10000 });
  assert.match(await seen.innerText(), /Seen here before: on .* it ran MicroPython v1\.24\.1/);
  await page.getByLabel("Firmware file").setInputFiles({ name: "mp-1.25.bin", mimeType: "application/octet-stream", buffer: v125 });
  await flashAndCheck(page, "v1.25.0");

  // The history view: the board's entries, and a roll back to the firmware before the last.
  await page.goto(`${server.url}?organiser`);
  await page.getByRole("heading", { name: "Device history" }).waitFor({ timeout: 20000 });
  const rows = page.locator("table.history tbody tr");
  await rows.nth(3).waitFor();
  assert.equal(await rows.count(), 4, "two flashes and two checks");
  assert.match(await rows.nth(0).innerText(), /check\s+Generic ESP32 module\s+.*MicroPython v1\.25\.0\s+yes/);
  assert.match(await rows.nth(1).innerText(), /flash\s+ESP32\s+.*micropython v1\.25\.0\s+yes/);
  const mac = (await rows.nth(1).locator("td").nth(3).innerText()).trim();
  assert.match(mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  await page.getByLabel("Board", { exact: true }).selectOption(mac);
  await page.getByRole("button", { name: "Roll back to micropython v1.24.1" }).click();
  await page.locator('[data-field="firmware"]').filter({ hasText: "mp-1.24.bin" }).waitFor({ state: "attached", timeout: 10000 });
  await demoBoard(page);
  await flashAndCheck(page, "v1.24.1");
  await screenshot(page, "history-rolled-back");

  // Exports: JSON with every entry, CSV with a header and a row per entry.
  await page.getByRole("button", { name: "Refresh history" }).click();
  await rows.nth(5).waitFor();
  const json = await download(page, "Export JSON");
  assert.equal(json.name, "webflash-history.json");
  const entries = JSON.parse(json.text);
  assert.equal(entries.length, 6);
  const flashes = entries.filter((e) => e.kind === "flash");
  assert.deepEqual(flashes.map((e) => [e.version, e.sha256, e.verified, e.id]), [
    ["micropython v1.24.1", sha256(v124), true, mac],
    ["micropython v1.25.0", sha256(v125), true, mac],
    ["micropython v1.24.1", sha256(v124), true, mac],
  ]);
  const csv = await download(page, "Export CSV");
  const lines = csv.text.trim().split("\n");
  assert.equal(lines[0], "date,kind,board,id,usb,firmware,source,version,sha256,verified");
  assert.equal(lines.length, 7);

  // Forget, then import the export back: the same entries.
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Forget the history" }).click();
  await page.getByText("The history is forgotten.").waitFor();
  assert.equal(await rows.count(), 0);
  await page.getByLabel("Import history (JSON)").setInputFiles({ name: "h.json", mimeType: "application/json", buffer: Buffer.from(json.text) });
  await page.getByText("Imported 6 entries.").waitFor();
  const again = JSON.parse((await download(page, "Export JSON")).text);
  assert.deepEqual(again, entries);
  // A file that is not a history is refused and changes nothing.
  await page.getByLabel("Import history (JSON)").setInputFiles({ name: "x.json", mimeType: "application/json", buffer: Buffer.from('{"not": "a list"}') });
  await page.getByText(/That file was not imported: it is not a webflash history/).waitFor();
  assert.equal(await rows.count(), 6);
  assert.deepEqual(page.errors, []);
  await page.close();
});
