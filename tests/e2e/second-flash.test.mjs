// The second flash (issue 19): whether to erase is decided by what the board holds. Other
// firmware is erased first; an update of the same MicroPython writes only what changed and the
// student's files stay, byte for byte; a MicroPython whose filesystem lives elsewhere gets that
// area cleared and the files carried over.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, launchBrowser, openApp, screenshot, startSim, patternBytes, openStep } from "./harness.mjs";
import { firmwareImage, micropythonImage, micropythonTable } from "./images.mjs";

let server, browser, tmp;
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "webflash-second-"));
  server = await startServer({});
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/// An ESP32 board (UART bridge) whose flash holds `image` at 0x1000, connected and ready.
async function board(image) {
  const flashFile = path.join(tmp, `esp32-${Math.random().toString(36).slice(2)}.bin`);
  const flash = Buffer.alloc(4 << 20, 0xff);
  image.copy(flash, 0x1000);
  fs.writeFileSync(flashFile, flash);
  const sim = await startSim({ chip: "esp32", flashFile });
  const page = await openApp(browser.context, server.url, {
    ports: [{ usbVendorId: 0x10c4, usbProductId: 0xea60, url: sim.wsUrl }],
  });
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByRole("status").filter({ hasText: /is ready/ }).waitFor({ timeout: 30000 });
  return { sim, page, flashFile };
}

async function choose(page, image) {
  await page.getByLabel("Firmware file").setInputFiles({ name: "firmware.bin", mimeType: "application/octet-stream", buffer: image });
  // The file is read, then the erase is decided from it: wait for the reason that names it.
  await page.locator('[data-field="erase-reason"]').filter({ hasNotText: /^Chosen by what the board runs/ }).waitFor();
}

const reason = (page) => page.locator('[data-field="erase-reason"]').innerText();
const eraseTicked = (page) => page.getByLabel("Erase all flash first").isChecked();

async function flashNow(page) {
  await page.getByRole("button", { name: "Flash", exact: true }).click();
  const status = page.getByRole("status").filter({ hasText: /Firmware verified|Nothing was written|failed|stopped|disconnected/i });
  await status.waitFor({ timeout: 120000 });
  return status.innerText();
}

async function verdict(page, version) {
  const field = page.locator('[data-field="micropython"]').filter({ hasText: version });
  await field.waitFor({ timeout: 60000 });
  return field.innerText();
}

/// Checks MicroPython, then uploads files with the MicroPython card.
async function putFiles(page, files) {
  await openStep(page, "micropython");
  await page.getByRole("button", { name: "Check board" }).click();
  await verdict(page, "v1.24.1");
  for (const [name, data] of files) {
    await page.getByLabel("Upload file").setInputFiles({ name, mimeType: "application/octet-stream", buffer: data });
    await page.getByRole("status").filter({ hasText: `Uploaded ${name}` }).waitFor({ timeout: 60000 });
  }
}

/// The flash file once esp-sim has saved it and it stopped changing.
async function settledFlash(file) {
  let last = null;
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = fs.readFileSync(file);
    if (last && now.equals(last)) return now;
    last = now;
  }
}

async function download(page, name) {
  await page.getByRole("button", { name: "Refresh files" }).click();
  await page.getByRole("button", { name: `Download ${name}` }).waitFor({ timeout: 30000 });
  const [dl] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: `Download ${name}` }).click(),
  ]);
  return fs.readFileSync(await dl.path());
}

const FILES = [["main.py", Buffer.from("print('my project')\n")], ["data.bin", patternBytes(3000, 7)]];

test("a board running other firmware: erase chosen, reason shown, verified", async () => {
  const b = await board(firmwareImage("esp32", { project: "hello_world" }));
  await choose(b.page, micropythonImage("esp32"));
  assert.match(await reason(b.page), /runs other firmware \("hello_world"\): everything is erased first/);
  assert.equal(await eraseTicked(b.page), true);
  await screenshot(b.page, "second-flash-other-firmware");
  const status = await flashNow(b.page);
  assert.match(status, /Firmware verified/);
  assert.match(status, /Everything was erased first/);
  assert.match(await verdict(b.page, "v1.24.1"), /works/);
  await b.page.close();
  await b.sim.stop();
});

test("the same MicroPython with files: nothing erased, every block skipped, files untouched without a restore", async () => {
  const image = micropythonImage("esp32", "v1.24.1");
  const b = await board(image);
  await putFiles(b.page, FILES);
  const before = await settledFlash(b.flashFile);
  await choose(b.page, image);
  assert.match(await reason(b.page), /runs MicroPython v1\.24\.1 with the same layout: only what changed is written, and its files stay/);
  assert.equal(await eraseTicked(b.page), false);
  const status = await flashNow(b.page);
  assert.match(status, /Firmware verified/);
  assert.match(status, / 0 KB written \(\d+ KB were already there\)\. Nothing else was erased, so the board's files stayed/);
  assert.doesNotMatch(status, /put back/);
  assert.match(await verdict(b.page, "v1.24.1"), /works/);
  const after = await settledFlash(b.flashFile);
  // The filesystem (0x200000 to the end) holds exactly what it held.
  assert.ok(after.subarray(0x200000).equals(before.subarray(0x200000)), "the filesystem region is untouched");
  await screenshot(b.page, "second-flash-identical");
  await b.page.close();
  await b.sim.stop();
});

test("a newer MicroPython with the same layout: only changed blocks written, files kept", async () => {
  const b = await board(micropythonImage("esp32", "v1.24.1", 600_000));
  await putFiles(b.page, FILES);
  const before = await settledFlash(b.flashFile);
  const newer = micropythonImage("esp32", "v1.25.0", 600_000);
  await choose(b.page, newer);
  assert.equal(await eraseTicked(b.page), false);
  const status = await flashNow(b.page);
  const [, written] = status.match(/ (\d+) KB written/);
  assert.ok(Number(written) > 0 && Number(written) < 600_000 / 1024 / 4, `only changed blocks: ${status}`);
  assert.match(await verdict(b.page, "v1.25.0"), /MicroPython v1\.25\.0 .* works/);
  const after = await settledFlash(b.flashFile);
  assert.ok(after.subarray(0x200000).equals(before.subarray(0x200000)), "the filesystem region is untouched");
  assert.deepEqual(await download(b.page, "main.py"), FILES[0][1]);
  await b.page.close();
  await b.sim.stop();
});

test("a MicroPython whose filesystem moved: the area is cleared and the files come back, not damaged", async () => {
  const b = await board(micropythonImage("esp32", "v1.24.1"));
  await putFiles(b.page, FILES);
  // A build with a bigger app partition: its filesystem starts at 0x260000, not 0x200000.
  const moved = micropythonImage("esp32", "v1.26.0", 120_000, micropythonTable({ factory: 0x250000 }));
  await choose(b.page, moved);
  assert.match(await reason(b.page), /keeps its files at 0x260000: the files are backed up, that area is cleared, and the files are put back/);
  assert.equal(await eraseTicked(b.page), false);
  await b.page.getByRole("button", { name: "Flash", exact: true }).click();
  await b.page.getByRole("status").filter({ hasText: /file\(s\) were put back where the new MicroPython keeps them/ }).waitFor({ timeout: 180000 });
  const said = await verdict(b.page, "v1.26.0");
  assert.match(said, /works/);
  assert.doesNotMatch(said, /damaged/);
  for (const [name, data] of FILES) assert.deepEqual(await download(b.page, name), data, name);
  await screenshot(b.page, "second-flash-moved-filesystem");
  assert.deepEqual(b.page.errors, []);
  await b.page.close();
  await b.sim.stop();
});
