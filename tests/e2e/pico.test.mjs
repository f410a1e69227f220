// Every MicroPython board, and the Raspberry Pi Pico from UF2 to hello (issue 11): the page
// identifies a port before it resets anything, shows what MicroPython reports, installs a UF2
// onto the Pico's BOOTSEL drive (a simulated boot ROM, pico.mjs) and calls it done only when the
// Pico's MicroPython (the official WebAssembly port) answers print('hello') on its serial port.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import crypto from "node:crypto";
import { startServer, launchBrowser, openApp, screenshot, openStep } from "./harness.mjs";
import { WasmBoard } from "./wasm-board.mjs";
import { Pico, picoUf2, picoFlash } from "./pico.mjs";
import { espImage } from "./images.mjs";

let server, browser;
const devices = {};
const files = {};
before(async () => {
  server = await startServer(devices, files);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const PICO_124 = "MicroPython v1.24.1 on 2024-11-29; Raspberry Pi Pico with RP2040";
const PICO_125 = "MicroPython v1.25.0 on 2025-04-15; Raspberry Pi Pico with RP2040";
const PICO2_125 = "MicroPython v1.25.0 on 2025-04-15; Raspberry Pi Pico 2 with RP2350";

/// A page with the Pico `name` on its serial bus and drive link.
async function picoPage(name, pico, { granted = [], picker = "drive", noDrivePicker = false, query = "" } = {}) {
  devices[name] = pico;
  const page = await openApp(browser.context, server.url + query,
    { ports: [{ bus: server.busUrl(name), url: server.wsUrl(name) }], granted },
    { drive: noDrivePicker ? null : { url: server.driveUrl(name), picker }, noDrivePicker });
  return page;
}

async function verdict(page, version) {
  const field = page.locator('[data-field="micropython"]').filter({ hasText: version });
  try {
    await field.waitFor({ timeout: 60000 });
  } catch (e) {
    const status = await page.getByRole("status").innerText().catch(() => "?");
    const card = await page.locator(".card").allInnerTexts().catch(() => []);
    await screenshot(page, `verdict-timeout-${version}`);
    throw new Error(`no verdict for ${version}; status: ${status}; errors: ${page.errors}; console: ${(page.consoleLog || []).join(" / ")}; page: ${card.join(" | ")}`);
  }
  return field.innerText();
}

async function chooseUf2(page, data, name = "RPI_PICO-v1.25.0.uf2") {
  await page.getByLabel("Firmware file").setInputFiles({ name, mimeType: "application/octet-stream", buffer: data });
}

const usbEvents = (page) => page.evaluate(() => globalThis.__usbEvents || []);

test("a Pico running MicroPython: identified, shown, updated from a UF2 through BOOTSEL, hello", async () => {
  const pico = await Pico.create({ flash: await picoFlash(PICO_124) });
  const page = await picoPage("update", pico);
  await page.getByRole("button", { name: "Connect" }).click();
  // No reset, no SYNC: it is MicroPython on the Pico's own USB, asked politely.
  assert.match(await verdict(page, "v1.24.1"), /MicroPython v1\.24\.1 on Raspberry Pi Pico works/);
  // Step 1 closed once the board answered: its summary names it, one click shows its card.
  assert.match(await page.locator('[data-step="connect"] [data-field="step-summary"]').innerText(), /Raspberry Pi Pico/);
  await openStep(page, "connect");
  const card = page.getByRole("definition").filter({ hasText: "MicroPython v1.24.1 (2024-11-29)" });
  await card.waitFor();
  assert.equal(await page.locator('[data-field="chip"]').innerText(), "RP2040");
  assert.match(await page.locator('[data-field="usb"]').innerText(), /2E8A:0005/);
  assert.equal(await page.getByRole("button", { name: "Flash", exact: true }).count(), 0, "no ESP flash step for a Pico");
  await chooseUf2(page, await picoUf2(PICO_125));
  await page.locator('[data-field="uf2"]').filter({ hasText: "MicroPython v1.25.0 on 2025-04-15; Raspberry Pi Pico with RP2040" }).waitFor();
  await page.getByRole("button", { name: "Install" }).click();
  // machine.bootloader(): the serial port goes, the BOOTSEL drive comes.
  const choose = page.getByRole("button", { name: "Choose the Pico's drive" });
  await choose.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => (globalThis.__driveEvents || []).includes("+RPI-RP2"));
  await screenshot(page, "pico-bootsel");
  await choose.click();
  // Written, rebooted, back on its serial port (same USB id and serial: no chooser), hello.
  assert.match(await verdict(page, "v1.25.0"), /MicroPython v1\.25\.0 on Raspberry Pi Pico works: it answered print\('hello'\) with hello/);
  assert.ok(pico.events.includes("complete"), pico.events.join(", "));
  assert.deepEqual(await usbEvents(page), ["+2E8A:0005", "-", "+2E8A:0005"]);
  assert.equal(await page.getByRole("button", { name: "Pick your board's new port" }).count(), 0);
  await screenshot(page, "pico-updated");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a blank Pico in BOOTSEL: coached, written, its new port picked, hello", async () => {
  const pico = await Pico.create({ bootsel: true });
  const page = await picoPage("blank", pico);
  await chooseUf2(page, await picoUf2(PICO_125));
  await page.getByRole("button", { name: "Install" }).click();
  assert.match(await page.getByRole("status").innerText(), /Hold the BOOTSEL button/);
  await page.getByRole("button", { name: "Choose the Pico's drive" }).click();
  // The serial port is new to this page: one click to allow it.
  const pick = page.getByRole("button", { name: "Pick your board's new port" });
  await pick.waitFor({ timeout: 30000 });
  await pick.click();
  assert.match(await verdict(page, "v1.25.0"), /works/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a UF2 for the RP2350 is refused for an RP2040 with nothing written", async () => {
  const pico = await Pico.create({ bootsel: true });
  const page = await picoPage("wrong-chip", pico);
  await chooseUf2(page, await picoUf2(PICO2_125, { chip: "rp2350" }), "RPI_PICO2-v1.25.0.uf2");
  await page.getByRole("button", { name: "Install" }).click();
  await page.getByRole("button", { name: "Choose the Pico's drive" }).click();
  const reasons = page.getByRole("list", { name: "Why the firmware was refused" });
  await reasons.waitFor();
  assert.match(await reasons.innerText(), /This UF2 is for RP2350 \(Raspberry Pi Pico 2\), but the board is an RP2040 \(Raspberry Pi Pico\)/);
  assert.match(await page.getByRole("status").innerText(), /Nothing was written/);
  assert.equal(pico.sectors, 0, "not one sector reached the drive");
  await screenshot(page, "pico-wrong-chip");
  await page.close();
});

test("an ESP32 .bin for a running Pico is refused before its bootloader is asked for", async () => {
  const pico = await Pico.create({ flash: await picoFlash(PICO_124) });
  const page = await picoPage("esp-bin", pico);
  await page.getByRole("button", { name: "Connect" }).click();
  await verdict(page, "v1.24.1");
  await chooseUf2(page, espImage("esp32", 50_000), "ESP32_GENERIC-v1.25.0.bin");
  await page.getByRole("button", { name: "Install" }).click();
  const reasons = page.getByRole("list", { name: "Why the firmware was refused" });
  await reasons.waitFor();
  assert.match(await reasons.innerText(), /firmware for an ESP32 or ESP8266 board \(\.bin\), not a UF2 file for a Pico/);
  assert.match(await page.getByRole("status").innerText(), /Nothing was written/);
  assert.ok(!pico.events.includes("bootsel"), "MicroPython was not asked for its bootloader");
  await page.close();
});

test("a folder that is not a BOOTSEL drive is refused with nothing written", async () => {
  const pico = await Pico.create({ bootsel: true });
  const page = await picoPage("wrong-folder", pico, { picker: "folder" });
  await chooseUf2(page, await picoUf2(PICO_125));
  await page.getByRole("button", { name: "Install" }).click();
  await page.getByRole("button", { name: "Choose the Pico's drive" }).click();
  const reasons = page.getByRole("list", { name: "Why the firmware was refused" });
  await reasons.waitFor();
  assert.match(await reasons.innerText(), /"Documents" is not a Pico in BOOTSEL mode/);
  assert.equal(pico.sectors, 0);
  assert.equal(await page.evaluate(() => (globalThis.__driveWrites || []).length), 0);
  await page.close();
});

test("without the File System Access API the UF2 is offered as a download with steps", async () => {
  const pico = await Pico.create({ bootsel: true });
  const page = await picoPage("no-fsa", pico, { noDrivePicker: true });
  const uf2 = await picoUf2(PICO_125);
  await chooseUf2(page, uf2);
  // The install step arrives with the card's module; the steps are precise.
  await page.locator(".card.flash").filter({ hasText: /drag micropython\.uf2 onto the drive named RPI-RP2/ }).waitFor();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download micropython.uf2" }).click(),
  ]);
  assert.ok(fs.readFileSync(await download.path()).equals(uf2));
  await page.close();
});

test("the first script writes main.py and its output appears after a soft reset", async () => {
  const pico = await Pico.create({ flash: await picoFlash(PICO_124) });
  const page = await picoPage("first-script", pico);
  await page.getByRole("button", { name: "Connect" }).click();
  await verdict(page, "v1.24.1");
  await page.getByText("Your first script: blink the LED").click();
  const script = page.getByLabel("First script");
  assert.match(await script.inputValue(), /Pin\("LED", Pin\.OUT\)/);
  assert.match(await page.locator(".first-script").innerText(), /GP25/);
  await page.getByRole("button", { name: "Save as main.py and run" }).click();
  await page.locator(".xterm-rows").filter({ hasText: "Done blinking" }).waitFor({ timeout: 30000 });
  await page.locator(".xterm-rows").filter({ hasText: "MPY: soft reboot" }).waitFor();
  await screenshot(page, "pico-first-script");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a pyboard-like port and an unknown MicroPython port get the card and the hello check", async () => {
  for (const [name, vid, pid] of [["pyboard", 0xf055, 0x9800], ["unknown", 0x1234, 0x5678]]) {
    devices[name] = new WasmBoard({ banner: "MicroPython v1.24.1 on 2024-11-29; PYBv1.1 with STM32F405RG", machine: { bootloader() {} } });
    const page = await openApp(browser.context, server.url, {
      ports: [{ usbVendorId: vid, usbProductId: pid, url: server.wsUrl(name) }],
    });
    await page.getByRole("button", { name: "Connect" }).click();
    assert.match(await verdict(page, "v1.24.1"), /MicroPython v1\.24\.1 on PYBv1\.1 works/, name);
    assert.equal(await page.locator('[data-field="chip"]').innerText(), "STM32F405RG");
    // Nothing that resets a board reached it: no DTR/RTS changes.
    await page.close();
  }
});

test("the demo Pico: a simulated Pico in the page, updated from a UF2 through its BOOTSEL drive", async () => {
  const page = await openApp(browser.context, server.url, { ports: [] }, { noDrivePicker: true });
  await page.getByLabel("Demo chip").selectOption("pico");
  await page.getByRole("button", { name: "Demo board" }).click();
  assert.match(await verdict(page, "v1.24.1"), /MicroPython v1\.24\.1 on Raspberry Pi Pico works/);
  assert.match(await page.locator('[data-field="usb"]').innerText(), /Demo board \(simulated, Raspberry Pi Pico \/ Pico 2 \(2E8A:0005\)\)/);
  assert.equal(await page.locator('[data-field="chip"]').innerText(), "RP2040");
  await chooseUf2(page, await picoUf2(PICO_125));
  // No File System Access API here, yet the demo's drive is in the page: no download fallback.
  await page.getByRole("button", { name: "Install" }).click();
  const choose = page.getByRole("button", { name: "Choose the Pico's drive" });
  await choose.waitFor({ timeout: 20000 });
  await choose.click();
  assert.match(await verdict(page, "v1.25.0"), /MicroPython v1\.25\.0 on Raspberry Pi Pico works: it answered print\('hello'\) with hello/);
  await screenshot(page, "demo-pico");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("the demo board runs the real MicroPython in the page: classes and f-strings work, Ctrl-C stops a loop", async () => {
  const page = await openApp(browser.context, server.url, { ports: [] }, { noDrivePicker: true });
  // The worker's requests are not in the page's resource timing: watch the network instead.
  const requested = [];
  page.on("request", (r) => requested.push(new URL(r.url()).pathname));
  await page.getByLabel("Demo chip").selectOption("pico");
  // The official port is fetched only when a demo board boots MicroPython.
  await page.waitForTimeout(500);
  assert.deepEqual(requested.filter((p) => p.includes("micropython")), []);
  await page.getByRole("button", { name: "Demo board" }).click();
  assert.match(await verdict(page, "v1.24.1"), /works/);
  assert.ok(requested.some((p) => p.endsWith("micropython-webassembly-pyscript/micropython.wasm")), requested.join(" "));
  const rows = page.locator(".xterm-rows");
  await page.locator(".term-box").click();
  // What the home-written interpreter could not do: a class, an f-string, a set, a big integer.
  await page.keyboard.type("class P:\r    def __init__(s, x): s.x = x\r\b\r\r");
  await page.keyboard.type("print(f'{P(6).x * 7}', {1, 2} | {3}, 2**100)\r");
  await rows.filter({ hasText: "42 {1, 2, 3} 1267650600228229401496703205376" }).waitFor({ timeout: 10000 });
  await page.keyboard.type("import sys; print(sys.platform)\r");
  await rows.filter({ hasText: "rp2" }).waitFor({ timeout: 10000 });
  // A loop that sleeps: the page stays responsive, Ctrl-C gets the prompt back.
  await page.keyboard.type("import time\rwhile True: time.sleep(0.2)\r\r");
  await page.waitForTimeout(1000);
  await page.keyboard.press("Control+C");
  try {
    await rows.filter({ hasText: "KeyboardInterrupt" }).waitFor({ timeout: 10000 });
  } catch (e) {
    await screenshot(page, "demo-ctrl-c-timeout");
    throw new Error(`${e.message}\n${await rows.innerText()}\nconsole: ${(page.consoleLog || []).join(" / ")}`);
  }
  await page.keyboard.type("print('back', 6*7)\r");
  await rows.filter({ hasText: "back 42" }).waitFor({ timeout: 10000 });
  await screenshot(page, "demo-real-micropython");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("one workshop manifest for ESP32 and both Picos: a Pico 2 gets the RP2350 build, its SHA-256 checked", async () => {
  const sha = (b) => crypto.createHash("sha256").update(b).digest("hex");
  const rp2040 = await picoUf2(PICO_125);
  const rp2350 = await picoUf2(PICO2_125, { chip: "rp2350" });
  files["mixed/RPI_PICO.uf2"] = rp2040;
  files["mixed/RPI_PICO2.uf2"] = rp2350;
  files["mixed/manifest.json"] = Buffer.from(JSON.stringify({
    name: "Workshop MicroPython", version: "1.25.0",
    builds: [
      { chipFamily: "ESP32", parts: [{ path: "ESP32_GENERIC.bin", offset: 4096 }] },
      { chipFamily: "RP2040", parts: [{ path: "RPI_PICO.uf2", offset: 0, sha256: sha(rp2040) }] },
      { chipFamily: "RP2350", parts: [{ path: "RPI_PICO2.uf2", offset: 0, sha256: sha(rp2350) }] },
    ],
  }));
  const pico = await Pico.create({ chip: "rp2350", bootsel: true });
  const page = await picoPage("mixed", pico, { query: `?manifest=${encodeURIComponent(server.url + "files/mixed/manifest.json")}` });
  await page.locator('[data-field="firmware"]').filter({ hasText: "manifest" }).waitFor({ state: "attached" });
  // A mixed manifest: until a board is seen step 3 is the ESP's; a Pico in BOOTSEL has no port.
  assert.equal(await page.getByRole("button", { name: "Install" }).count(), 0);
  await page.getByRole("button", { name: "My board is a Raspberry Pi Pico" }).click();
  await page.getByRole("button", { name: "Install" }).click();
  await page.getByRole("button", { name: "Choose the Pico's drive" }).click();
  const pick = page.getByRole("button", { name: "Pick your board's new port" });
  await pick.waitFor({ timeout: 30000 });
  await pick.click();
  assert.match(await verdict(page, "v1.25.0"), /MicroPython v1\.25\.0 on Raspberry Pi Pico 2 works/);
  assert.ok(pico.events.includes("micropython " + PICO2_125), pico.events.join(", "));
  // A tampered file is refused before anything reaches the drive.
  const tampered = Buffer.from(rp2040);
  tampered[600] ^= 0xff;
  files["mixed/RPI_PICO.uf2"] = tampered;
  const blank = await Pico.create({ bootsel: true });
  const page2 = await picoPage("mixed-tampered", blank, { query: `?manifest=${encodeURIComponent(server.url + "files/mixed/manifest.json")}` });
  await page2.locator('[data-field="firmware"]').filter({ hasText: "manifest" }).waitFor({ state: "attached" });
  await page2.getByRole("button", { name: "My board is a Raspberry Pi Pico" }).click();
  await page2.getByRole("button", { name: "Install" }).click();
  await page2.getByRole("button", { name: "Choose the Pico's drive" }).click();
  const reasons = page2.getByRole("list", { name: "Why the firmware was refused" });
  await reasons.waitFor();
  assert.match(await reasons.innerText(), /SHA-256/);
  assert.equal(blank.sectors, 0);
  assert.deepEqual(page.errors, []);
  await page.close();
  await page2.close();
});
