// The Pico over PICOBOOT (issue 18): the BOOTSEL mode's vendor interface over WebUSB instead of
// the drive — no drive to pick, and what reached the flash is read back and compared before
// anything is called verified. The Pico is pico.mjs (the official MicroPython WebAssembly port on
// its serial port; in BOOTSEL, the simulated boot ROM's drive and PICOBOOT interface sharing one
// flash) behind fake navigator.serial, showDirectoryPicker and navigator.usb (fake-usb.js).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import crypto from "node:crypto";
import { startServer, launchBrowser, openApp, screenshot, openStep } from "./harness.mjs";
import { Pico, picoUf2, picoFlash } from "./pico.mjs";

let server, browser;
const devices = {};
before(async () => {
  server = await startServer(devices, {});
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const PICO_124 = "MicroPython v1.24.1 on 2024-11-29; Raspberry Pi Pico with RP2040";
const PICO_125 = "MicroPython v1.25.0 on 2025-04-15; Raspberry Pi Pico with RP2040";
const PICO2_124 = "MicroPython v1.24.1 on 2024-11-29; Raspberry Pi Pico 2 with RP2350";
const PICO2_125 = "MicroPython v1.25.0 on 2025-04-15; Raspberry Pi Pico 2 with RP2350";

async function picoPage(name, pico) {
  devices[name] = pico;
  return openApp(browser.context, server.url,
    { ports: [{ bus: server.busUrl(name), url: server.wsUrl(name) }] },
    { drive: { url: server.driveUrl(name), picker: "drive" }, usb: { buses: [server.usbUrl(name)] } });
}

async function verdict(page, version) {
  const field = page.locator('[data-field="micropython"]').filter({ hasText: version });
  try {
    await field.waitFor({ timeout: 60000 });
  } catch (e) {
    const status = await page.getByRole("status").innerText().catch(() => "?");
    await screenshot(page, `picoboot-verdict-timeout-${version}`);
    throw new Error(`no verdict for ${version}; status: ${status}; errors: ${page.errors}; console: ${(page.consoleLog || []).join(" / ")}`);
  }
  return field.innerText();
}

/// Connects, chooses the UF2, presses Install and waits for BOOTSEL's USB device.
async function toBootloader(page, uf2, version) {
  await page.getByRole("button", { name: "Connect" }).click();
  await verdict(page, version);
  await page.getByLabel("Firmware file").setInputFiles({ name: "firmware.uf2", mimeType: "application/octet-stream", buffer: uf2 });
  await page.getByRole("button", { name: "Install" }).click();
  const choose = page.getByRole("button", { name: "Choose the Pico's bootloader" });
  await choose.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => (globalThis.__usbLog || []).some((e) => /^\+RP2(350)? Boot$/.test(e)));
  return choose;
}

for (const [chip, from, to] of [["rp2040", PICO_124, PICO_125], ["rp2350", PICO2_124, PICO2_125]]) {
  test(`a ${chip} Pico running MicroPython: installed by PICOBOOT, read back, rebooted, hello`, async () => {
    const pico = await Pico.create({ chip, flash: await picoFlash(from, chip) });
    const page = await picoPage(`update-${chip}`, pico);
    const uf2 = await picoUf2(to, { chip });
    await (await toBootloader(page, uf2, "v1.24.1")).click();
    assert.match(await verdict(page, "v1.25.0"), /MicroPython v1\.25\.0 on Raspberry Pi Pico( 2)? works: it answered print\('hello'\) with hello/);
    assert.ok(pico.events.includes("picoboot reboot"), pico.events.join(", "));
    assert.equal(pico.sectors, 0, "nothing went through the drive");
    const banner = new TextDecoder().decode(pico.drive.flash().subarray(0, 64 * 1024));
    assert.ok(banner.includes(to));
    await screenshot(page, `picoboot-${chip}`);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

test("unplugged mid-write by PICOBOOT: a clear message, then a clean second attempt verifies", async () => {
  const pico = await Pico.create({ flash: await picoFlash(PICO_124) });
  pico.unplugAfter = 20 * 1024;
  const page = await picoPage("unplug", pico);
  const choose = await toBootloader(page, await picoUf2(PICO_125), "v1.24.1");
  await choose.click();
  await page.getByRole("status").filter({ hasText: /disconnected, so MicroPython is NOT verified/ }).waitFor({ timeout: 30000 });
  assert.ok(pico.events.includes("unplugged"));
  pico.plugInBootsel();
  await page.waitForFunction(() => (globalThis.__usbLog || []).filter((e) => e === "+RP2 Boot").length === 2);
  await page.getByRole("button", { name: "Choose the Pico's bootloader" }).click();
  assert.match(await verdict(page, "v1.25.0"), /works/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("when PICOBOOT cannot be claimed the reason is shown and the drive still installs", async () => {
  const pico = await Pico.create({ flash: await picoFlash(PICO_124) });
  pico.claimError = "NetworkError";
  const page = await picoPage("fallback", pico);
  const choose = await toBootloader(page, await picoUf2(PICO_125), "v1.24.1");
  await choose.click();
  await page.getByRole("status").filter({ hasText: /could not be used over USB: .*WinUSB.*Choose the Pico's drive/ }).waitFor({ timeout: 10000 });
  await page.getByRole("button", { name: "Choose the Pico's drive" }).click();
  assert.match(await verdict(page, "v1.25.0"), /works/);
  assert.ok(pico.sectors > 0, "installed through the drive");
  await page.close();
});

test("a byte that changed in flash after writing is caught by the read-back: no 'verified', no reboot", async () => {
  const pico = await Pico.create({ flash: await picoFlash(PICO_124) });
  const page = await picoPage("flip", pico);
  const choose = await toBootloader(page, await picoUf2(PICO_125), "v1.24.1");
  pico.drive.picoboot_flip_after_write(0x10000000 + 5000);
  await choose.click();
  const status = page.getByRole("status").filter({ hasText: /found different bytes .* NOT verified/ });
  await status.waitFor({ timeout: 30000 });
  assert.doesNotMatch(await status.innerText(), /match the file/);
  assert.ok(!pico.events.includes("picoboot reboot"), pico.events.join(", "));
  assert.equal(pico.state, "bootsel", "left in BOOTSEL for another try");
  // Exclusive access was given back: the drive takes the file now (while a host holds it, the
  // ROM's drive refuses writes).
  await page.getByRole("button", { name: "Choose the Pico's drive" }).click();
  assert.match(await verdict(page, "v1.25.0"), /works/);
  await page.close();
});

test("whole-flash backup and restore by PICOBOOT, byte-exact; an RP2350's backup is refused on an RP2040", async () => {
  const pico = await Pico.create({ flash: await picoFlash(PICO_124) });
  const page = await picoPage("backup", pico);
  await page.getByRole("button", { name: "Connect" }).click();
  await verdict(page, "v1.24.1");
  const before = Buffer.from(pico.drive.flash());
  // The Pico answered, so step 4 is open; its whole flash is a step 3 job, one click away.
  await openStep(page, "flash");
  await page.getByRole("button", { name: "Back up the whole flash" }).click();
  const choose = page.getByRole("button", { name: "Choose the Pico's bootloader" });
  await choose.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => (globalThis.__usbLog || []).includes("+RP2 Boot"));
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: 60000 }), choose.click()]);
  const file = fs.readFileSync(await download.path());
  assert.match(download.suggestedFilename(), /^pico-flash-RP2040-\d{4}-\d\d-\d\d\.picobackup$/);
  const nl = file.indexOf(10, 8);
  const header = JSON.parse(file.subarray(8, nl).toString());
  assert.equal(header.chip, "RP2040");
  assert.equal(header.flash_size, 2 << 20);
  assert.equal(header.unique_id, "e6613852834a202c", "machine.unique_id() from the board check");
  assert.ok(file.subarray(nl + 1).equals(before), "the backup holds the whole flash");
  // Back in MicroPython; then a newer firmware goes on.
  await verdict(page, "v1.24.1");
  await page.getByLabel("Firmware file").setInputFiles({ name: "new.uf2", mimeType: "application/octet-stream", buffer: await picoUf2(PICO_125) });
  await page.getByRole("button", { name: "Install" }).click();
  await choose.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => (globalThis.__usbLog || []).filter((e) => e === "+RP2 Boot").length === 2);
  await choose.click();
  await verdict(page, "v1.25.0");
  assert.ok(!Buffer.from(pico.drive.flash()).equals(before));
  // Restored from the file: every byte as it was, and the old MicroPython answers again.
  await page.getByLabel("Restore the whole flash").setInputFiles({ name: "backup.picobackup", mimeType: "application/octet-stream", buffer: file });
  await choose.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => (globalThis.__usbLog || []).filter((e) => e === "+RP2 Boot").length === 3);
  await choose.click();
  await verdict(page, "v1.24.1");
  assert.ok(Buffer.from(pico.drive.flash()).equals(before), "restored byte-exact");
  // A Pico 2's backup (made the same way) is refused before anything is written.
  const flash2 = Buffer.alloc(4 << 20, 0xab);
  const sha = crypto.createHash("sha256").update(flash2).digest("hex");
  const other = Buffer.concat([Buffer.from(`WFPICO1\n{"chip":"RP2350","unique_id":"","flash_size":${4 << 20},"date":"2026-12-01","sha256":"${sha}"}\n`), flash2]);
  await page.getByLabel("Restore the whole flash").setInputFiles({ name: "pico2.picobackup", mimeType: "application/octet-stream", buffer: other });
  await choose.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => (globalThis.__usbLog || []).filter((e) => e === "+RP2 Boot").length === 4);
  const unchanged = Buffer.from(pico.drive.flash());
  await choose.click();
  const why = page.getByRole("list", { name: "Why the firmware was refused" });
  await why.waitFor({ timeout: 20000 });
  assert.match(await why.innerText(), /This backup is of an RP2350 \(Raspberry Pi Pico 2\), but the board is an RP2040/);
  assert.ok(Buffer.from(pico.drive.flash()).equals(unchanged), "nothing written");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("Cancel stops a PICOBOOT install between sectors and says the Pico is not verified; the next install works", async () => {
  const pico = await Pico.create({ flash: await picoFlash(PICO_124) });
  pico.slowWrites = 40;
  const page = await picoPage("cancel", pico);
  const choose = await toBootloader(page, await picoUf2(PICO_125), "v1.24.1");
  await choose.click();
  await page.waitForFunction(() => Number(document.querySelector('[aria-label="Install progress"]')?.getAttribute("aria-valuenow") || 0) > 0, null, { timeout: 30000 });
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("status").filter({ hasText: /Stopped after writing \d+ of \d+ sectors: .* NOT verified/ }).waitFor({ timeout: 30000 });
  assert.ok(!pico.events.includes("picoboot reboot"));
  pico.slowWrites = 0;
  await page.getByRole("button", { name: "Choose the Pico's bootloader" }).click();
  assert.match(await verdict(page, "v1.25.0"), /works/);
  await page.close();
});
