// The organisers' tools (issue 13, `?organiser`): the handout builder turns firmware files into a
// workshop manifest (downloaded, then served like an organiser would publish it), a `?manifest=`
// link, a QR code (decoded here by jsQR, an independent decoder from npm) and a printable
// handout (kept as target/e2e/handout.pdf and a print-media screenshot). The link then flashes
// the demo board. A student's page never fetches the tools.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import jsQR from "jsqr";
import { startServer, launchBrowser, openApp, screenshot, shots, startSim, openStep } from "./harness.mjs";
import { micropythonImage, sha256, espImage, BOOT_OFFSET } from "./images.mjs";
import { picoUf2 } from "./pico.mjs";

let server, browser, tmp;
const files = {};
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "webflash-organiser-"));
  server = await startServer({}, files);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/// The QR code on the page, rendered to pixels in the page and decoded in Node.
async function decodeQr(page) {
  const { width, height, pixels } = await page.evaluate(async () => {
    const svg = document.querySelector(".qr svg").outerHTML;
    const img = new Image();
    img.src = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 400;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, 400, 400);
    ctx.drawImage(img, 0, 0, 400, 400);
    return { width: 400, height: 400, pixels: Array.from(ctx.getImageData(0, 0, 400, 400).data) };
  });
  return jsQR(Uint8ClampedArray.from(pixels), width, height)?.data;
}

test("handout: files in, a manifest that works as ?manifest=, its link as a QR code, a printable page", async () => {
  const esp = micropythonImage("esp32", "v1.24.1");
  const pico = await picoUf2("MicroPython v1.24.1 on 2024-11-29; Raspberry Pi Pico with RP2040");
  const page = await openApp(browser.context, `${server.url}?organiser`, { ports: [] });
  await page.getByRole("heading", { name: "For workshop organisers" }).waitFor({ timeout: 20000 });
  await page.getByLabel("Workshop title").fill("Robotics club: MicroPython day");
  // A wrong file is refused with what it is; the right ones are listed with what they are for.
  await page.getByLabel("Firmware files").setInputFiles([{ name: "oops.bin", mimeType: "application/octet-stream", buffer: Buffer.from("<!doctype html><title>404</title>") }]);
  assert.match(await page.getByRole("alert").innerText(), /oops\.bin was not added: it is a web page \(HTML\)/);
  await page.getByLabel("Firmware files").setInputFiles([
    { name: "ESP32_GENERIC-v1.24.1.bin", mimeType: "application/octet-stream", buffer: esp },
    { name: "RPI_PICO-v1.24.1.uf2", mimeType: "application/octet-stream", buffer: pico },
  ]);
  const rows = page.locator(".entries tbody tr");
  await rows.nth(1).waitFor();
  assert.match(await rows.nth(0).innerText(), /ESP32\s+ESP32_GENERIC-v1\.24\.1\.bin\s+0x1000\s+.*micropython v1\.24\.1/);
  assert.match(await rows.nth(1).innerText(), /RP2040\s+RPI_PICO-v1\.24\.1\.uf2\s+0x0/);
  assert.equal(await page.getByRole("alert").isVisible(), false, "the earlier refusal is gone");

  const manifestUrl = `${server.url}files/handout/workshop.json`;
  await page.getByLabel("Where the manifest will be published").fill(manifestUrl);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download workshop.json" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), "workshop.json");
  const manifest = JSON.parse(fs.readFileSync(await download.path(), "utf8"));
  assert.equal(manifest.name, "Robotics club: MicroPython day");
  assert.deepEqual(manifest.builds, [
    { chipFamily: "ESP32", parts: [{ path: "ESP32_GENERIC-v1.24.1.bin", offset: 4096, sha256: sha256(esp) }] },
    { chipFamily: "RP2040", parts: [{ path: "RPI_PICO-v1.24.1.uf2", offset: 0, sha256: sha256(pico) }] },
  ]);

  const link = await page.getByLabel("Handout link", { exact: true }).inputValue();
  assert.equal(link, `${server.url}?manifest=${encodeURIComponent(manifestUrl)}`);
  assert.equal(await decodeQr(page), link, "the QR code decodes to the link");

  // The printable handout: only the sheet shows when printed.
  const sheet = page.getByRole("article", { name: "Printable handout" });
  assert.match(await sheet.innerText(), /Robotics club: MicroPython day[\s\S]*Four steps[\s\S]*If Connect does not work[\s\S]*SerialAllowUsbDevicesForUrls/);
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.locator('[data-step="connect"]').evaluate((b) => getComputedStyle(b).visibility), "hidden", "the student steps do not print");
  assert.equal(await sheet.evaluate((s) => getComputedStyle(s).visibility), "visible");
  await screenshot(page, "handout-print");
  fs.mkdirSync(shots, { recursive: true });
  await page.pdf({ path: path.join(shots, "handout.pdf"), format: "A4" });
  assert.ok(fs.statSync(path.join(shots, "handout.pdf")).size > 10_000);
  await page.emulateMedia({ media: "screen" });
  assert.deepEqual(page.errors, []);
  await page.close();

  // Published as the organiser would: the manifest and the files beside it. The link flashes.
  files["handout/workshop.json"] = fs.readFileSync(await download.path());
  files["handout/ESP32_GENERIC-v1.24.1.bin"] = esp;
  files["handout/RPI_PICO-v1.24.1.uf2"] = pico;
  const student = await openApp(browser.context, link, { ports: [] });
  await student.locator('[data-field="firmware"]').filter({ hasText: "manifest" }).waitFor({ state: "attached", timeout: 10000 });
  await student.getByLabel("Demo chip").selectOption("esp32");
  await student.getByRole("button", { name: "Demo board" }).click();
  await student.getByRole("status").filter({ hasText: "is ready" }).waitFor({ timeout: 30000 });
  await student.getByRole("button", { name: "Flash", exact: true }).click();
  const status = student.getByRole("status").filter({ hasText: /Firmware verified|Nothing was written|failed|refused/i });
  await status.waitFor({ timeout: 120000 });
  assert.match(await status.innerText(), /Firmware verified/);
  const verdict = student.locator('[data-field="micropython"]').filter({ hasText: /works|did not|nothing/ });
  await verdict.waitFor({ timeout: 60000 });
  assert.match(await verdict.innerText(), /MicroPython v1\.24\.1 .* works/);
  // A student's page fetched nothing of the organisers' tools.
  const fetched = await student.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname));
  assert.deepEqual(fetched.filter((p) => /webflash-tools|tools\.css/.test(p)), []);
  assert.deepEqual(student.errors, []);
  await student.close();
});

/// esp-sim saves the flash file after the device is idle; wait until it holds `bytes` at `offset`.
async function flashHolds(file, offset, bytes, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const f = fs.readFileSync(file);
    if (f.subarray(offset, offset + bytes.length).equals(bytes)) return f;
    if (Date.now() > end) assert.fail(`flash at 0x${offset.toString(16)} does not hold what it should`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("whole-flash backup and restore (ESP): byte-exact, another chip's backup refused, a cancelled backup saves nothing", async () => {
  // A board with 2 MB of flash holding something that is not MicroPython (every word distinct).
  const size = 2 << 20;
  const original = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) original.writeUInt32LE((Math.imul(i, 2654435761) ^ 0x5a5a5a5a) >>> 0, i);
  const flashFile = path.join(tmp, "esp32-backup.bin");
  fs.writeFileSync(flashFile, original);
  const sim = await startSim({ chip: "esp32", flashFile, flashSize: "2MB" });
  const page = await openApp(browser.context, `${server.url}?organiser`, {
    ports: [{ usbVendorId: 0x10c4, usbProductId: 0xea60, url: sim.wsUrl }],
  });
  const status = (re) => page.getByRole("status").filter({ hasText: re });
  const says = (re, timeout = 30000) => status(re).waitFor({ timeout }).catch(async (e) => {
    throw new Error(`${e.message}; the status says: ${await page.getByRole("status").innerText()}`);
  });
  // Before Connect: said, nothing read.
  await page.getByRole("button", { name: "Back up the whole flash" }).click();
  await says(/Connect the ESP board first/);
  await page.getByRole("button", { name: "Connect" }).click();
  await says(/is ready/);
  let downloads = 0;
  page.on("download", () => downloads++);
  // A backup stopped half way saves nothing.
  await page.getByRole("button", { name: "Back up the whole flash" }).click();
  await page.getByRole("progressbar", { name: "Backup progress" }).waitFor({ timeout: 60000 });
  await page.getByRole("button", { name: "Cancel" }).click();
  await says(/Backup stopped\. Nothing was saved/);
  assert.equal(downloads, 0, "a cancelled backup must not leave a file");
  // The whole flash, read and saved.
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 180000 }),
    page.getByRole("button", { name: "Back up the whole flash" }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^esp32-[0-9a-f]{12}-\d{4}-\d{2}-\d{2}\.espbackup$/);
  const saved = fs.readFileSync(await download.path());
  await says(/Backed up: all 2,048 KB of the ESP32's flash/);
  // Read independently of our decoder: magic line, JSON line, then the flash.
  assert.equal(saved.subarray(0, 7).toString(), "WFESP1\n");
  const nl = saved.indexOf(0x0a, 7);
  const meta = JSON.parse(saved.subarray(7, nl).toString());
  assert.equal(meta.chip, "ESP32");
  assert.equal(meta.flash_size, size);
  assert.match(meta.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  const flash = saved.subarray(nl + 1);
  assert.equal(meta.sha256, sha256(flash));
  assert.ok(flash.equals(original), "the backup holds the board's flash byte for byte");
  // The board gets other firmware (the page restarts it and checks what it boots).
  const image = espImage("esp32", 200_000, { seed: 31 });
  await page.getByLabel("Firmware file", { exact: true }).setInputFiles({ name: "fw.bin", mimeType: "application/octet-stream", buffer: image });
  await openStep(page, "flash");
  await page.getByLabel("Erase all flash first").uncheck();
  await page.getByRole("button", { name: "Flash", exact: true }).click();
  await says(/Firmware verified/, 120000);
  // (The image says 4 MB: the page patched its header's flash size for this 2 MB board and
  // re-digested it, so the bytes between the header and the digest are compared.)
  const flashed = await flashHolds(flashFile, BOOT_OFFSET.esp32 + 4, image.subarray(4, image.length - 32));
  // A backup of another chip is refused, nothing written.
  const c3 = Buffer.concat([
    Buffer.from("WFESP1\n"),
    Buffer.from(JSON.stringify({ chip: "ESP32-C3", mac: meta.mac, date: meta.date, flash_size: size, sha256: sha256(flash) }) + "\n"),
    flash,
  ]);
  await page.getByLabel("Restore the whole flash").setInputFiles({ name: "c3.espbackup", mimeType: "application/octet-stream", buffer: c3 });
  await says(/backup is of an ESP32-C3, but the board is an ESP32.*Nothing was written/);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(fs.readFileSync(flashFile).equals(flashed), "a refused backup must not change the flash");
  // The saved backup puts every byte back, whatever the board booted meanwhile.
  await page.getByLabel("Restore the whole flash").setInputFiles({ name: download.suggestedFilename(), mimeType: "application/octet-stream", buffer: saved });
  await says(/Restored: the ESP32's whole flash \(2,048 KB\) from the backup of .*checked by MD5, and the board was restarted/, 180000);
  await flashHolds(flashFile, 0, original);
  // The page knows the board restarted: its next flash brings it into the bootloader again.
  await page.getByRole("button", { name: "Flash", exact: true }).click();
  await says(/Firmware verified/, 120000);
  await flashHolds(flashFile, BOOT_OFFSET.esp32 + 4, image.subarray(4, image.length - 32));
  await screenshot(page, "flash-backup-restored");
  assert.deepEqual(page.errors, []);
  await page.close();
  await sim.stop();
});
