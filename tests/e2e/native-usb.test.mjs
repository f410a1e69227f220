// Boards with native USB (issue 10), through the page's real WebSerialPort: an ESP32-C3
// "SuperMini" on USB-Serial-JTAG whose firmware armed the watchdogs; an ESP32-S2 "mini" on
// USB-OTG, left by the watchdog reset, whose new USB device the page follows (by itself when
// the browser already grants it, else after one "Pick your board's new port" click); an
// ESP32-S3 running MicroPython on its own USB, asked for its bootloader to be flashed.
// esp-sim --bus announces the board's USB device; the fake Web Serial follows it (harness).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, launchBrowser, openApp, screenshot, startSim, openStep } from "./harness.mjs";
import { micropythonImage } from "./images.mjs";

let server, browser, tmp;
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "webflash-usb-"));
  server = await startServer({});
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/// A simulated board on its own USB; `granted`: VID:PIDs the browser already lets the page use.
async function board(chip, { wiring, extra = [], granted = [], fill } = {}) {
  const flashFile = path.join(tmp, `${chip}-${Math.random().toString(36).slice(2)}.bin`);
  if (fill) fs.writeFileSync(flashFile, fill);
  const sim = await startSim({ chip, wiring, flashFile, extra, bus: true });
  const page = await openApp(browser.context, server.url, { ports: [{ bus: sim.busUrl, url: sim.wsUrl }], granted });
  // The first USB device is announced at once.
  await page.waitForFunction(() => (globalThis.__usbEvents || []).length > 0);
  return { sim, page, flashFile };
}

async function chooseFirmware(page, image, { erase = false } = {}) {
  await page.getByLabel("Firmware file").setInputFiles({ name: "micropython.bin", mimeType: "application/octet-stream", buffer: image });
  await openStep(page, "flash");
  if ((await page.getByLabel("Erase all flash first").isChecked()) !== erase) await page.getByLabel("Erase all flash first").click();
}

/// The MicroPython card's verdict, once it mentions `version` (a new check, not an old one).
async function micropythonVerdict(page, version = "v1.24.1", timeout = 60000) {
  const field = page.locator('[data-field="micropython"]').filter({ hasText: version });
  await field.waitFor({ timeout });
  return field.innerText();
}

const usbEvents = (page) => page.evaluate(() => globalThis.__usbEvents);
const chooserPicks = (page) => page.evaluate(() => globalThis.__serialChooser || []);

/// A flash of `chip` holding MicroPython (a board as it comes), for the simulator's flash file.
function withMicroPython(chip) {
  const flash = Buffer.alloc(4 << 20, 0xff);
  micropythonImage(chip).copy(flash, chip === "esp32s2" ? 0x1000 : 0);
  return flash;
}

test("ESP32-C3 SuperMini on USB-Serial-JTAG, watchdogs armed by its firmware: 1.5 MB flashed, verified, hello", async () => {
  const b = await board("esp32c3", { wiring: "usb-jtag", extra: ["--firmware-watchdogs"], fill: withMicroPython("esp32c3") });
  await b.page.getByRole("button", { name: "Connect" }).click();
  await b.page.getByRole("status").filter({ hasText: /is ready/ }).waitFor({ timeout: 30000 });
  assert.match(await b.page.locator('[data-field="usb"]').innerText(), /USB-JTAG-Serial \(303A:1001\)/);
  await chooseFirmware(b.page, micropythonImage("esp32c3", "v1.24.1", 1_500_000));
  const started = Date.now();
  await b.page.getByRole("button", { name: "Flash", exact: true }).click();
  const status = b.page.getByRole("status").filter({ hasText: /Firmware verified|failed|disconnected|stopped/i });
  await status.waitFor({ timeout: 120000 });
  assert.match(await status.innerText(), /Firmware verified/);
  assert.match(await status.innerText(), /The board was reset to start it/);
  // Longer than the super watchdog's second: it would have rebooted the chip mid-write.
  assert.ok(Date.now() - started > 2000, `the write took ${Date.now() - started} ms`);
  assert.match(await micropythonVerdict(b.page), /MicroPython v1\.24\.1 on .*ESP32C3.* works/);
  await screenshot(b.page, "native-usb-c3");
  assert.deepEqual(b.page.errors, []);
  await b.page.close();
  await b.sim.stop();
});

/// An S2 mini held in download mode by its BOOT button: the ROM's USB-OTG port (303A:0002).
async function s2InDownloadMode(granted) {
  const b = await board("esp32s2", { wiring: "usb-otg", extra: ["--start", "download"], granted });
  assert.deepEqual(await usbEvents(b.page), ["+303A:0002"]);
  await b.page.getByRole("button", { name: "Connect" }).click();
  await b.page.getByRole("status").filter({ hasText: /is ready/ }).waitFor({ timeout: 30000 });
  assert.match(await b.page.locator('[data-field="usb"]').innerText(), /ESP32-S2 native USB \(ROM\) \(303A:0002\)/);
  await chooseFirmware(b.page, micropythonImage("esp32s2", "v1.24.1", 300_000));
  await b.page.getByRole("button", { name: "Flash", exact: true }).click();
  const status = b.page.getByRole("status").filter({ hasText: /Firmware verified|failed|disconnected|stopped/i });
  await status.waitFor({ timeout: 120000 });
  const said = await status.innerText();
  assert.match(said, /Firmware verified/);
  // No reset line reaches an S2 on USB-OTG: the page says what it did instead.
  assert.doesNotMatch(said, /was reset/);
  assert.match(said, /watchdog restarts it now; its USB port changes/);
  return b;
}

test("ESP32-S2 mini on USB-OTG: flashed, left by the watchdog, its new USB device followed, hello", async () => {
  const b = await s2InDownloadMode(["303A:4001"]);
  assert.match(await micropythonVerdict(b.page), /MicroPython v1\.24\.1 on .*ESP32S2.* works/);
  // The ROM's device went away and MicroPython's TinyUSB device came; nobody was asked.
  assert.deepEqual(await usbEvents(b.page), ["+303A:0002", "-", "+303A:4001"]);
  assert.deepEqual(await chooserPicks(b.page), ["303A:0002"]);
  assert.match(await b.page.locator('[data-field="usb"]').innerText(), /303A:4001/);
  assert.equal(await b.page.getByRole("button", { name: "Pick your board's new port" }).count(), 0);
  await screenshot(b.page, "native-usb-s2-followed");
  assert.deepEqual(b.page.errors, []);
  await b.page.close();
  await b.sim.stop();
});

test("ESP32-S2 mini on USB-OTG in a browser that needs a new permission: one 'Pick your board's new port' step", async () => {
  const b = await s2InDownloadMode([]);
  const pick = b.page.getByRole("button", { name: "Pick your board's new port" });
  await pick.waitFor({ timeout: 30000 });
  assert.match(await b.page.getByRole("status").innerText(), /needs your permission/);
  await screenshot(b.page, "native-usb-s2-pick");
  await pick.click();
  assert.match(await micropythonVerdict(b.page), /MicroPython v1\.24\.1 on .*ESP32S2.* works/);
  assert.deepEqual(await chooserPicks(b.page), ["303A:0002", "303A:4001"]);
  assert.deepEqual(b.page.errors, []);
  await b.page.close();
  await b.sim.stop();
});

test("ESP32-S3 running MicroPython on its own USB: asked for its bootloader, flashed, followed back, hello", async () => {
  const b = await board("esp32s3", { wiring: "usb-otg", extra: ["--app", "micropython"] });
  assert.deepEqual(await usbEvents(b.page), ["+303A:4001"]);
  await b.page.getByRole("button", { name: "Connect" }).click();
  // No reset, no SYNC: the page asks MicroPython.
  assert.match(await micropythonVerdict(b.page), /MicroPython v1\.24\.1 on .*ESP32S3.* works/);
  await chooseFirmware(b.page, micropythonImage("esp32s3", "v1.25.0", 200_000));
  await b.page.getByRole("button", { name: "Flash", exact: true }).click();
  // machine.bootloader(): MicroPython's device goes, the ROM's USB-Serial-JTAG comes, which the
  // browser has not granted yet.
  const pick = b.page.getByRole("button", { name: "Pick your board's new port" });
  await pick.waitFor({ timeout: 30000 });
  assert.match(await b.page.getByRole("status").innerText(), /bootloader/);
  await pick.click();
  const status = b.page.getByRole("status").filter({ hasText: /Firmware verified|failed|disconnected|stopped/i });
  await status.waitFor({ timeout: 120000 });
  assert.match(await status.innerText(), /Firmware verified/);
  // The new MicroPython brings its own USB device back; the page re-opens it by itself (the
  // user picked that device, with its serial number, at Connect).
  assert.match(await micropythonVerdict(b.page, "v1.25.0"), /MicroPython v1\.25\.0 on .*ESP32S3.* works/);
  assert.deepEqual(await usbEvents(b.page), ["+303A:4001", "-", "+303A:1001", "-", "+303A:4001"]);
  assert.deepEqual(await chooserPicks(b.page), ["303A:4001", "303A:1001"]);
  await screenshot(b.page, "native-usb-s3-from-micropython");
  assert.deepEqual(b.page.errors, []);
  await b.page.close();
  await b.sim.stop();
});
