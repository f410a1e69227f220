// The main job, end to end in the browser: real WebSerialPort, device = esp-sim over WebSocket.
// Whole journeys for ESP32 (UART bridge), ESP32-C3 (USB-JTAG-Serial), ESP32-S3 and ESP8266 from a
// local file, a URL and a manifest; erase-all; cancel and flash again; refusals that write
// nothing; a board that never syncs; a cable pulled mid-write. The flash is checked on the
// device side (esp-sim's --flash-file) after every journey.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, launchBrowser, openApp, screenshot, startSim, dropFiles, openStep } from "./harness.mjs";
import { espImage, sha256, BOOT_OFFSET } from "./images.mjs";

let server, browser, tmp;
const files = {}; // served by the test server under /files/
const BRIDGES = { uart: [0x10c4, 0xea60], usbJtag: [0x303a, 0x1001], ch340: [0x1a86, 0x7523] };

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "webflash-flash-"));
  server = await startServer({}, files);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/// A simulated board and a page connected to it, in the bootloader and identified.
async function board(chip, { wiring = "uart", bridge = BRIDGES.uart, fill, query = "", unplugAfterBytes } = {}) {
  const flashFile = path.join(tmp, `${chip}-${Math.random().toString(36).slice(2)}.bin`);
  if (fill) fs.writeFileSync(flashFile, fill);
  const sim = await startSim({ chip, wiring, flashFile });
  const page = await openApp(browser.context, server.url + query, {
    ports: [{ usbVendorId: bridge[0], usbProductId: bridge[1], url: sim.wsUrl, unplugAfterBytes }],
  });
  return { sim, page, flash: () => fs.readFileSync(flashFile) };
}

async function connect(page) {
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByRole("status").filter({ hasText: /is ready|Try again|did not|not answer|Hold the BOOT/ }).waitFor({ timeout: 30000 });
}

async function flashAndWait(page) {
  await page.getByRole("button", { name: "Flash", exact: true }).click();
  const status = page.getByRole("status").filter({ hasText: /Firmware verified|Nothing was written|stopped|disconnected|failed|refused/i });
  await status.waitFor({ timeout: 120000 });
  return status.innerText();
}

/// esp-sim saves the flash file after the device is idle; wait until it shows `expect`.
async function flashHolds(b, offset, bytes, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const f = b.flash();
    if (f.subarray(offset, offset + bytes.length).equals(bytes)) return f;
    if (Date.now() > end) assert.fail(`flash at 0x${offset.toString(16)} does not hold the image`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("ESP32 on a UART bridge: local file, erase all, verified, restarted", async () => {
  const junk = Buffer.alloc(4 << 20, 0xff);
  junk.fill(0x42, 0x300000, 0x310000); // old data that erase-all must clear
  const b = await board("esp32", { fill: junk });
  await connect(b.page);
  assert.match(await b.page.locator('[data-field="chip"]').innerText(), /ESP32 \(revision v3\.0\)/);
  // The ROM switched to the bridge's top rate before the stub upload, so the stub went fast.
  const traffic = await b.page.evaluate(() => globalThis.__serialTraffic);
  const sent = (baud) => traffic.filter((t) => t.baud === baud).reduce((n, t) => n + t.bytes, 0);
  assert.ok(sent(115200) < 2000, `only sync and detection at 115200: ${JSON.stringify(traffic)}`);
  assert.ok(sent(921600) > 5000, `the stub at 921600: ${JSON.stringify(traffic)}`);
  assert.match(await b.page.locator('[data-field="usb"]').innerText(), /CP210x/);
  // Everything fetched up to the Flash click: the app and the stub; the MicroPython card and the
  // terminal wait until a flash starts (they download while it runs).
  const paths = () => b.page.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname));
  assert.deepEqual((await paths()).filter((p) => /webflash-repl|xterm/.test(p)), []);
  const image = espImage("esp32", 150_000);
  await b.page.getByLabel("Firmware file").setInputFiles({ name: "micropython-esp32.bin", mimeType: "application/octet-stream", buffer: image });
  assert.equal(await b.page.getByLabel("Erase all flash first").isChecked(), true);
  const status = await flashAndWait(b.page);
  assert.match(status, /Firmware verified/);
  assert.match(status, /The board was reset to start it/);
  assert.ok((await paths()).some((p) => p.endsWith("webflash-repl_bg.wasm")), "the card came with the flash");
  await openStep(b.page, "flash");
  assert.equal(await b.page.getByRole("progressbar").getAttribute("aria-valuenow"), "100");
  const flash = await flashHolds(b, 0x1000, image);
  assert.ok(flash.subarray(0x300000, 0x310000).every((x) => x === 0xff), "erase-all cleared old data");
  await screenshot(b.page, "flash-esp32-verified");
  assert.deepEqual(b.page.errors, []);
  await b.page.close();
  await b.sim.stop();
});

test("ESP32-C3 on USB-JTAG-Serial: firmware from a URL", async () => {
  const image = espImage("esp32c3", 120_000, { seed: 3 });
  files["c3.bin"] = image;
  const b = await board("esp32c3", { wiring: "usb-jtag", bridge: BRIDGES.usbJtag });
  await connect(b.page);
  assert.match(await b.page.locator('[data-field="chip"]').innerText(), /ESP32-C3/);
  await openStep(b.page, "firmware");
  await b.page.getByLabel("Firmware URL").fill(server.url + "files/c3.bin");
  await b.page.getByRole("button", { name: "Load", exact: true }).click();
  await b.page.locator('[data-field="firmware"]').filter({ hasText: "c3.bin" }).waitFor({ state: "attached" });
  await openStep(b.page, "flash");
  await b.page.getByLabel("Erase all flash first").uncheck();
  assert.match(await flashAndWait(b.page), /Firmware verified/);
  await flashHolds(b, 0x0, image);
  await b.page.close();
  await b.sim.stop();
});

test("ESP32-S3 from a workshop manifest link (?manifest=) with several parts and SHA-256", async () => {
  const boot = espImage("esp32s3", 20_000, { seed: 5 });
  const app = espImage("esp32s3", 100_000, { seed: 6, app: true });
  files["s3/boot.bin"] = boot;
  files["s3/app.bin"] = app;
  files["s3/manifest.json"] = Buffer.from(JSON.stringify({
    name: "MicroPython workshop", version: "1.24.1", new_install_prompt_erase: true,
    builds: [
      { chipFamily: "ESP32", parts: [{ path: "esp32.bin", offset: 4096 }] },
      { chipFamily: "ESP32-S3", parts: [{ path: "boot.bin", offset: 0, sha256: sha256(boot) }, { path: "./app.bin", offset: 65536, sha256: sha256(app) }] },
    ],
  }));
  const b = await board("esp32s3", { query: `?manifest=${encodeURIComponent(server.url + "files/s3/manifest.json")}` });
  await b.page.locator('[data-field="firmware"]').filter({ hasText: "manifest" }).waitFor({ state: "attached" });
  await connect(b.page);
  await openStep(b.page, "flash");
  await b.page.getByLabel("Erase all flash first").uncheck();
  await b.page.getByLabel("Baud rate").selectOption("115200");
  await b.page.getByRole("button", { name: "Flash", exact: true }).click();
  // One bar across all parts, with the part being written named in the detail line.
  await b.page.locator('[data-field="progress"]').filter({ hasText: /Part 2 of 2: \.\/app\.bin at 0x10000/ }).waitFor({ timeout: 60000 });
  await b.page.getByRole("status").filter({ hasText: /Firmware verified: 2 part/ }).waitFor({ timeout: 120000 });
  await flashHolds(b, 0x0, boot);
  await flashHolds(b, 0x10000, app);
  await b.page.close();
  await b.sim.stop();
});

test("ESP8266: local file at 0x0 through the flasher stub", async () => {
  const image = espImage("esp8266", 90_000, { seed: 7 });
  const b = await board("esp8266", { bridge: BRIDGES.ch340 });
  await connect(b.page);
  assert.match(await b.page.locator('[data-field="chip"]').innerText(), /ESP8266/);
  assert.match(await b.page.locator('[data-field="loader"]').innerText(), /flasher stub/);
  // Dropped onto the page rather than picked.
  await dropFiles(b.page, ".firmware .drop", [["esp8266.bin", image]]);
  await b.page.locator('[data-field="firmware"]').filter({ hasText: "esp8266.bin" }).waitFor({ state: "attached" });
  await openStep(b.page, "flash");
  await b.page.getByLabel("Erase all flash first").uncheck();
  assert.match(await flashAndWait(b.page), /Firmware verified/);
  await flashHolds(b, 0x0, image);
  await b.page.close();
  await b.sim.stop();
});

test("Cancel mid-write says what state the flash is in; flashing again succeeds", async () => {
  const b = await board("esp32");
  await connect(b.page);
  const image = espImage("esp32", 600_000, { seed: 9 });
  await b.page.getByLabel("Firmware file").setInputFiles({ name: "big.bin", mimeType: "application/octet-stream", buffer: image });
  await openStep(b.page, "flash");
  await b.page.getByLabel("Erase all flash first").uncheck();
  await b.page.getByLabel("Baud rate").selectOption("115200");
  await b.page.getByRole("button", { name: "Flash", exact: true }).click();
  await b.page.waitForFunction(() => Number(document.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow") || 0) > 5, null, { timeout: 60000 });
  await b.page.getByRole("button", { name: "Cancel" }).click();
  const stopped = await b.page.getByRole("status").filter({ hasText: /stopped/ }).innerText();
  assert.match(stopped, /partly written firmware/);
  assert.match(stopped, /Press Flash to write it again/);
  await b.page.getByLabel("Baud rate").selectOption("auto");
  assert.match(await flashAndWait(b.page), /Firmware verified/);
  await flashHolds(b, 0x1000, image);
  await b.page.close();
  await b.sim.stop();
});

test("when the MicroPython card or the demo board cannot be downloaded, flashing still works", async () => {
  const b = await board("esp32");
  await b.page.route("**/webflash-repl*", (route) => route.abort());
  await b.page.route("**/webflash-demo*", (route) => route.abort());
  await b.page.getByRole("button", { name: "Demo board" }).click();
  await b.page.getByRole("status").filter({ hasText: /demo board could not be loaded/ }).waitFor({ timeout: 10000 });
  await connect(b.page);
  const image = espImage("esp32", 40_000);
  await b.page.getByLabel("Firmware file").setInputFiles({ name: "fw.bin", mimeType: "application/octet-stream", buffer: image });
  await openStep(b.page, "flash");
  await b.page.getByLabel("Erase all flash first").uncheck();
  assert.match(await flashAndWait(b.page), /Firmware verified/);
  // The card is fetched when the flash starts; its failure is said and changes nothing.
  await b.page.getByText(/terminal and file tools could not be loaded/).waitFor({ timeout: 10000 });
  await flashHolds(b, BOOT_OFFSET.esp32, image);
  assert.deepEqual(b.page.errors, []);
  await b.page.close();
  await b.sim.stop();
});

test("refusals explain the problem and leave the flash untouched", async () => {
  const before = Buffer.alloc(4 << 20, 0xff);
  before.fill(0x5a, 0, 0x20000);
  const b = await board("esp32", { fill: before });
  await connect(b.page);
  await openStep(b.page, "flash");
  await b.page.getByLabel("Erase all flash first").uncheck();
  const cases = [
    ["s3.bin", espImage("esp32s3", 30_000), /firmware for ESP32-S3, but the connected board is an ESP32/],
    ["page.bin", Buffer.from("<!DOCTYPE html><html><body>404 Not Found</body></html>"), /web page \(HTML\), not firmware/],
    ["huge.bin", espImage("esp32", (4 << 20) + 4096), /past the end of this board's 4MB flash/],
    ["pico.uf2", Buffer.concat([Buffer.from([0x55, 0x46, 0x32, 0x0a, 0x57, 0x51, 0x5d, 0x9e]), Buffer.alloc(504)]), /USB drive/],
  ];
  for (const [name, data, expected] of cases) {
    await b.page.getByLabel("Firmware file").setInputFiles({ name, mimeType: "application/octet-stream", buffer: data });
    await b.page.locator('[data-field="firmware"]').filter({ hasText: name }).waitFor({ state: "attached" });
    assert.match(await flashAndWait(b.page), /Nothing was written/);
    assert.match(await b.page.getByLabel("Why the firmware was refused").innerText(), expected, name);
  }
  // Manifest mistakes: an ESP32 image at 0x0, and two overlapping parts.
  files["bad/esp32.bin"] = espImage("esp32", 30_000, { seed: 11 });
  files["bad/app.bin"] = espImage("esp32", 30_000, { seed: 12, app: true });
  files["bad/offset.json"] = Buffer.from(JSON.stringify({ name: "x", builds: [{ chipFamily: "ESP32", parts: [{ path: "esp32.bin", offset: 0 }] }] }));
  files["bad/overlap.json"] = Buffer.from(JSON.stringify({ name: "x", builds: [{ chipFamily: "ESP32", parts: [
    { path: "esp32.bin", offset: 4096 }, { path: "app.bin", offset: 8192 }] }] }));
  for (const [file, expected] of [["offset.json", /Set the offset to 0x1000/], ["overlap.json", /overlap/]]) {
    await openStep(b.page, "firmware");
    await b.page.getByLabel("Firmware URL").fill(server.url + "files/bad/" + file);
    await b.page.getByRole("button", { name: "Load", exact: true }).click();
    await b.page.locator('[data-field="firmware"]').filter({ hasText: file }).waitFor({ state: "attached" });
    assert.match(await flashAndWait(b.page), /Nothing was written/);
    assert.match(await b.page.getByLabel("Why the firmware was refused").innerText(), expected, file);
  }
  await screenshot(b.page, "flash-refused");
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(b.flash().equals(before), "a refused firmware must not change the flash");
  await b.page.close();
  await b.sim.stop();
});

// The bad-input catalogue (README "Bad inputs"): each file or manifest a student or organiser can
// get wrong is refused with what is wrong and what to do, and the flash is the same at the end.
test("bad-input catalogue: every wrong file and manifest is refused with the fix, nothing written", async () => {
  const before = Buffer.alloc(4 << 20, 0xff);
  before.fill(0x3c, 0, 0x30000);
  const b = await board("esp32", { fill: before });
  await connect(b.page);
  await openStep(b.page, "flash");
  await b.page.getByLabel("Erase all flash first").uncheck();
  const good = espImage("esp32", 30_000, { seed: 21 });
  const damaged = Buffer.from(good);
  damaged[200] ^= 0x01; // inside the first segment: the checksum and SHA-256 no longer match
  const hex = Buffer.from(":100000000102030405060708090A0B0C0D0E0F1068\n:00000001FF\n");
  const fileCases = [
    ["firmware.zip", Buffer.concat([Buffer.from("PK\x03\x04", "latin1"), Buffer.alloc(200, 1)]), /ZIP archive.*unzip it first/s],
    ["firmware.elf", Buffer.concat([Buffer.from("\x7fELF\x01\x01\x01", "latin1"), Buffer.alloc(200, 2)]), /ELF file.*Use the \.bin file/s],
    ["firmware.bin.gz", Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(200, 3)]), /gzip.*decompress it first/s],
    ["firmware.hex", hex, /Intel HEX.*Download the \.bin instead/s],
    ["manifest.json", Buffer.from('{"name":"x","builds":[]}'), /JSON.*load it as a manifest/s],
    ["empty.bin", Buffer.alloc(0), /is empty \(0 bytes\).*Download it again/s],
    ["twenty.bin", espImage("esp32", 20 << 20, { seed: 22 }), /past the end of this board's 4MB flash/],
    ["cut.bin", good.subarray(0, 40), /cut short.*download it again/s],
    ["damaged.bin", damaged, /damaged.*download it again/s],
  ];
  for (const [name, data, expected] of fileCases) {
    await b.page.getByLabel("Firmware file").setInputFiles({ name, mimeType: "application/octet-stream", buffer: data });
    await b.page.locator('[data-field="firmware"]').filter({ hasText: name }).waitFor({ state: "attached" });
    assert.match(await flashAndWait(b.page), /Nothing was written/, name);
    assert.match(await b.page.getByLabel("Why the firmware was refused").innerText(), expected, name);
  }
  // Manifests an organiser can get wrong, loaded by URL as the handout link would.
  const other = server.url.replace("127.0.0.1", "localhost"); // another origin, no CORS headers
  files["cat/esp32.bin"] = good;
  const manifests = {
    "badjson.json": ['{ "name": "x", "builds": [ }', /not valid JSON/],
    "nobuilds.json": [JSON.stringify({ name: "x" }), /no "builds"/],
    "noparts.json": [JSON.stringify({ name: "x", builds: [{ chipFamily: "ESP32", parts: [] }] }), /parts: missing or empty/],
    "hexoffset.json": [JSON.stringify({ name: "x", builds: [{ chipFamily: "ESP32", parts: [{ path: "esp32.bin", offset: "0x1000" }] }] }), /the text "0x1000".*Write 4096/s],
    "missing.json": [JSON.stringify({ name: "x", builds: [{ chipFamily: "ESP32", parts: [{ path: "gone.bin", offset: 4096 }] }] }), /gone\.bin was not found \(404\)\. Check the link/],
    "sha.json": [JSON.stringify({ name: "x", builds: [{ chipFamily: "ESP32", parts: [{ path: "esp32.bin", offset: 4096, sha256: "0".repeat(64) }] }] }), /the manifest and the file do not match/],
    "origin.json": [JSON.stringify({ name: "x", builds: [{ chipFamily: "ESP32", parts: [{ path: other + "files/cat/esp32.bin", offset: 4096 }] }] }), /can only be loaded if that site allows it \(CORS\)/],
    "otherchip.json": [JSON.stringify({ name: "MicroPython", builds: [{ chipFamily: "ESP32-C3", parts: [{ path: "esp32.bin", offset: 0 }] }] }), /has no build for ESP32.*ESP32-C3/s],
  };
  for (const [file, [text, expected]] of Object.entries(manifests)) {
    files["cat/" + file] = Buffer.from(text);
    await openStep(b.page, "firmware");
    await b.page.getByLabel("Firmware URL").fill(server.url + "files/cat/" + file);
    await b.page.getByRole("button", { name: "Load", exact: true }).click();
    await b.page.locator('[data-field="firmware"]').filter({ hasText: file }).waitFor({ state: "attached" });
    assert.match(await flashAndWait(b.page), /Nothing was written/, file);
    assert.match(await b.page.getByLabel("Why the firmware was refused").innerText(), expected, file);
  }
  // A manifest link that is wrong itself: said at once, nothing loaded.
  await openStep(b.page, "firmware");
  await b.page.getByLabel("Firmware URL").fill(server.url + "files/cat/typo.json");
  await b.page.getByRole("button", { name: "Load", exact: true }).click();
  await b.page.getByRole("status").filter({ hasText: /typo\.json was not found \(404\)\. Check the link/ }).waitFor();
  await screenshot(b.page, "flash-catalogue");
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(b.flash().equals(before), "a refused firmware must not change the flash");
  assert.deepEqual(b.page.errors, []);
  await b.page.close();
  await b.sim.stop();
});

test("a board that never enters the bootloader gets BOOT-button coaching", async () => {
  // A USB-JTAG-Serial board behind a port that claims to be a CP210x: the classic reset boots it
  // into its firmware every time.
  const b = await board("esp32c3", { wiring: "usb-jtag", bridge: BRIDGES.uart });
  await connect(b.page);
  const status = await b.page.getByRole("status").innerText();
  assert.match(status, /started its normal firmware instead of the bootloader/);
  assert.match(status, /Hold the BOOT button, tap RESET/);
  assert.equal(await b.page.getByRole("button", { name: "Try again" }).count(), 1);
  await b.page.close();
  await b.sim.stop();
});

test("cable pulled mid-write: a clear message, and Connect works again afterwards", async () => {
  const b = await board("esp32", { unplugAfterBytes: 60_000 });
  await connect(b.page);
  const image = espImage("esp32", 300_000, { seed: 13 });
  await b.page.getByLabel("Firmware file").setInputFiles({ name: "fw.bin", mimeType: "application/octet-stream", buffer: image });
  await openStep(b.page, "flash");
  await b.page.getByLabel("Erase all flash first").uncheck();
  const status = await flashAndWait(b.page);
  assert.match(status, /disconnected/i);
  await b.page.getByRole("button", { name: "Connect" }).waitFor();
  await screenshot(b.page, "flash-unplugged");
  // Plugged back in: connect and flash again, to the end.
  await connect(b.page);
  assert.match(await flashAndWait(b.page), /Firmware verified/);
  await flashHolds(b, 0x1000, image);
  await b.page.close();
  await b.sim.stop();
});

test("Demo board: the whole journey runs on the simulator inside the page", async () => {
  const page = await openApp(browser.context, server.url, { ports: [] });
  const fetched = () => page.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname));
  await page.getByLabel("Demo chip").selectOption("esp32c3");
  // The simulator is its own module, fetched only when someone asks for the demo board.
  assert.ok((await fetched()).some((p) => p.endsWith("_bg.wasm")), "the app's wasm is listed");
  assert.deepEqual((await fetched()).filter((p) => p.includes("webflash-demo")), []);
  await page.getByRole("button", { name: "Demo board" }).click();
  await page.getByRole("status").filter({ hasText: "is ready" }).waitFor({ timeout: 30000 });
  assert.match(await page.locator('[data-field="usb"]').innerText(), /Demo board/);
  assert.match(await page.locator('[data-field="chip"]').innerText(), /ESP32-C3/);
  assert.ok((await fetched()).some((p) => p.endsWith("webflash-demo_bg.wasm")), "the demo module was loaded on demand");
  await page.getByLabel("Firmware file").setInputFiles({ name: "demo.bin", mimeType: "application/octet-stream", buffer: espImage("esp32c3", 60_000) });
  await openStep(page, "flash");
  await page.getByLabel("Erase all flash first").uncheck();
  assert.match(await flashAndWait(page), /Firmware verified/);
  await screenshot(page, "demo-board");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a 3 MB image does not freeze the page while it is compressed and hashed", async () => {
  const page = await openApp(browser.context, server.url, { ports: [] });
  await page.getByRole("button", { name: "Demo board" }).click();
  await page.getByRole("status").filter({ hasText: "is ready" }).waitFor({ timeout: 30000 });
  // Firmware-like compressibility: runs of repeated bytes between noise.
  const big = espImage("esp32", 3 << 20, { seed: 17, runs: true });
  await page.getByLabel("Firmware file").setInputFiles({ name: "big.bin", mimeType: "application/octet-stream", buffer: big });
  await openStep(page, "flash");
  await page.getByLabel("Erase all flash first").uncheck();
  await page.evaluate(() => {
    window.__gaps = [];
    let last = performance.now();
    window.__beat = setInterval(() => { const now = performance.now(); window.__gaps.push(now - last); last = now; }, 20);
  });
  await page.getByRole("button", { name: "Flash", exact: true }).click();
  await page.waitForFunction(() => Number(document.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow") || 0) > 1, null, { timeout: 120000 });
  const worst = await page.evaluate(() => { clearInterval(window.__beat); return Math.max(...window.__gaps); });
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("status").filter({ hasText: /stopped/ }).waitFor();
  console.log(`worst event-loop gap while preparing 3 MB: ${worst.toFixed(0)} ms`);
  assert.ok(worst < 500, `the page froze for ${worst.toFixed(0)} ms`);
  await page.close();
});
