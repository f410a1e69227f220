// MicroPython after flashing, on the simulated board (esp-sim): the automatic hello check, a
// looping main.py, backup → flash with erase-all → restore, and boots without a banner.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, launchBrowser, openApp, screenshot, startSim, patternBytes, dropFiles, root, openStep } from "./harness.mjs";
import { execFileSync } from "node:child_process";
import { espImage, firmwareImage, micropythonImage, micropythonTable } from "./images.mjs";

let server, browser, tmp;
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "webflash-mpy-"));
  server = await startServer({});
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function board(chip = "esp32", extra = [], flashSize = "4MB") {
  const flashFile = path.join(tmp, `${chip}-${Math.random().toString(36).slice(2)}.bin`);
  const sim = await startSim({ chip, flashFile, extra, flashSize });
  const page = await openApp(browser.context, server.url, {
    ports: [{ usbVendorId: 0x10c4, usbProductId: 0xea60, url: sim.wsUrl }],
  });
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByRole("status").filter({ hasText: /is ready/ }).waitFor({ timeout: 30000 });
  return { sim, page, flashFile };
}

async function flash(page, image, { erase = true } = {}) {
  await page.getByLabel("Firmware file").setInputFiles({ name: "micropython.bin", mimeType: "application/octet-stream", buffer: image });
  await openStep(page, "flash");
  if ((await page.getByLabel("Erase all flash first").isChecked()) !== erase) await page.getByLabel("Erase all flash first").click();
  await page.getByRole("button", { name: "Flash", exact: true }).click();
  await page.getByRole("status").filter({ hasText: /Firmware verified|Nothing was written|failed/ }).waitFor({ timeout: 120000 });
}

async function micropythonVerdict(page) {
  const field = page.locator('[data-field="micropython"]').filter({ hasText: /works|firmware|damaged|nothing|unreadable|did not/ });
  await field.waitFor({ timeout: 60000 });
  return field.innerText();
}

async function upload(page, name, data) {
  await page.getByLabel("Upload file").setInputFiles({ name, mimeType: "application/octet-stream", buffer: data });
  await page.getByRole("status").filter({ hasText: `Uploaded ${name}` }).waitFor({ timeout: 60000 });
}

test("flashing MicroPython ends with the automatic hello check", async () => {
  const b = await board("esp32");
  await flash(b.page, micropythonImage("esp32", "v1.24.1"));
  const verdict = await micropythonVerdict(b.page);
  assert.match(verdict, /MicroPython v1\.24\.1 on .*ESP32.* works: it answered print\('hello'\) with hello/);
  // The terminal tells the story: the banner, what the page ran, the prompt.
  const rows = b.page.locator(".xterm-rows");
  await rows.filter({ hasText: "[webflash ran print('hello'): it printed hello]" }).waitFor({ timeout: 10000 });
  assert.match(await rows.innerText(), /MicroPython v1\.24\.1 on [^\n]*ESP32[\s\S]*\[webflash ran print\('hello'\): it printed hello\]\s*\n>>>/);
  // The fresh board's files, listed without pressing Refresh (its first boot wrote boot.py).
  await b.page.locator("table.files").filter({ hasText: "boot.py" }).waitFor({ timeout: 20000 });
  await screenshot(b.page, "micropython-works");
  // Copy puts the terminal's text on the clipboard; Clear empties it.
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(server.url).origin });
  await b.page.getByRole("button", { name: "Copy terminal" }).click();
  await b.page.getByRole("status").filter({ hasText: "The terminal's text is on the clipboard" }).waitFor();
  assert.match(await b.page.evaluate(() => navigator.clipboard.readText()), /MicroPython v1\.24\.1 on [^\n]*ESP32[\s\S]*>>>$/);
  await b.page.getByRole("button", { name: "Clear terminal" }).click();
  await b.page.waitForFunction(() => !document.querySelector(".xterm-rows").innerText.includes("MicroPython v1.24.1"));
  assert.deepEqual(b.page.errors, []);
  await b.page.close();
  await b.sim.stop();
});

test("an image made for 4 MB on a 2 MB board: header patched and re-digested, it boots, esptool image-info agrees", async () => {
  const b = await board("esp32", [], "2MB");
  // MicroPython's 2 MiB layout (factory app up to 0x170000), in a build whose header says 4 MB.
  const image = micropythonImage("esp32", "v1.24.1", 120_000, micropythonTable({ factory: 0x160000 }));
  assert.equal(image[3] >> 4, 2, "the bootloader's header says 4 MB");
  await flash(b.page, image, { erase: false });
  assert.match(await b.page.getByRole("status").innerText(), /Firmware verified/);
  // Unpatched, the simulated app stops ("Detected size(2048k) smaller than the size in the
  // binary image header(4096k)"); patched, MicroPython answers.
  assert.match(await micropythonVerdict(b.page), /MicroPython v1\.24\.1 .* works/);
  // The bootloader as it is in flash now: 2 MB in its header, checksum and SHA-256 intact.
  const flashBytes = fs.readFileSync(b.flashFile);
  const boot = path.join(tmp, "bootloader-read-back.bin");
  fs.writeFileSync(boot, flashBytes.subarray(0x1000, 0x8000));
  const info = execFileSync(path.join(root, ".venv", "bin", "python"), ["-m", "esptool", "image-info", boot], { encoding: "utf8" });
  assert.match(info, /Flash size: 2MB/);
  assert.match(info, /Checksum: .*\(valid\)/);
  assert.match(info, /Validation hash: .*\(valid\)/);
  await b.page.close();
  await b.sim.stop();
});

test("files can be dropped onto the board, edited and saved", async () => {
  const b = await board("esp32");
  await flash(b.page, micropythonImage("esp32"));
  await micropythonVerdict(b.page);
  await dropFiles(b.page, ".files-drop", [["notes.txt", Buffer.from("first line\n")]]);
  await b.page.getByRole("status").filter({ hasText: "Uploaded notes.txt" }).waitFor({ timeout: 60000 });
  await b.page.getByRole("button", { name: "Edit notes.txt" }).click();
  const editor = b.page.getByLabel("Editor");
  await editor.waitFor();
  assert.equal(await editor.inputValue(), "first line\n");
  await editor.fill("print('edited')\n");
  await b.page.getByRole("button", { name: "Save" }).click();
  await b.page.getByRole("status").filter({ hasText: "Saved notes.txt" }).waitFor({ timeout: 30000 });
  const [dl] = await Promise.all([b.page.waitForEvent("download"), b.page.getByRole("button", { name: "Download notes.txt" }).click()]);
  assert.equal(fs.readFileSync(await dl.path(), "utf8"), "print('edited')\n");
  await b.page.close();
  await b.sim.stop();
});

test("a main.py that loops forever is interrupted and the board still checks out", async () => {
  const b = await board("esp32");
  await flash(b.page, micropythonImage("esp32"));
  await micropythonVerdict(b.page);
  await upload(b.page, "main.py", Buffer.from("import time\nwhile True:\n    time.sleep(1)\n"));
  await openStep(b.page, "micropython");
  await b.page.getByRole("button", { name: "Check board" }).click();
  await b.page.locator('[data-field="micropython"]').filter({ hasText: /Restarting/ }).waitFor();
  assert.match(await micropythonVerdict(b.page), /works/);
  await b.page.close();
  await b.sim.stop();
});

test("back up, flash with erase-all, put back: every file returns byte-exact", async () => {
  const b = await board("esp32");
  await flash(b.page, micropythonImage("esp32"));
  await micropythonVerdict(b.page);
  const files = { "boot.py": Buffer.from("# boot\n"), "data.bin": Buffer.from([...Array(256).keys()]), "big.txt": patternBytes(20_000, 3) };
  for (const [name, data] of Object.entries(files)) await upload(b.page, name, data);
  const [backup] = await Promise.all([b.page.waitForEvent("download", { timeout: 120000 }), b.page.getByRole("button", { name: "Back up files" }).click()]);
  assert.equal(backup.suggestedFilename(), "micropython-backup.tar");
  await b.page.getByRole("status").filter({ hasText: /Backed up \d+ file/ }).waitFor();
  await flash(b.page, micropythonImage("esp32", "v1.25.0"), { erase: true });
  assert.match(await micropythonVerdict(b.page), /v1\.25\.0/);
  await b.page.getByRole("button", { name: "Refresh files" }).click();
  await b.page.waitForTimeout(1000);
  assert.equal(await b.page.getByRole("row").filter({ hasText: "big.txt" }).count(), 0, "erase-all removed the files");
  await b.page.getByRole("button", { name: "Put files back" }).click();
  await b.page.getByRole("status").filter({ hasText: /Put \d+ file\(s\) back/ }).waitFor({ timeout: 120000 });
  for (const [name, data] of Object.entries(files)) {
    const [dl] = await Promise.all([b.page.waitForEvent("download", { timeout: 60000 }), b.page.getByRole("button", { name: `Download ${name}` }).click()]);
    assert.ok(fs.readFileSync(await dl.path()).equals(data), `${name} came back different`);
  }
  await screenshot(b.page, "micropython-restored");
  await b.page.close();
  await b.sim.stop();
});

test("boots without a MicroPython prompt are classified", async () => {
  // Other firmware: a valid ESP-IDF project that is not MicroPython.
  let b = await board("esp32");
  await flash(b.page, firmwareImage("esp32", { project: "hello_world" }));
  assert.match(await micropythonVerdict(b.page), /runs other firmware, not MicroPython/);
  await b.page.close();
  await b.sim.stop();

  // A lone app image written where the bootloader goes: the bootloader refuses what follows.
  b = await board("esp32");
  await flash(b.page, espImage("esp32", 50_000, { seed: 41 }));
  assert.match(await micropythonVerdict(b.page), /bootloader refused the firmware \("E \(62\) flash_parts: partition 0 invalid magic number/);
  await b.page.close();
  await b.sim.stop();

  // No firmware at all: a blank board, checked.
  b = await board("esp32");
  await openStep(b.page, "micropython");
  await b.page.getByRole("button", { name: "Check board" }).click();
  assert.match(await micropythonVerdict(b.page), /found no firmware to run/);
  await b.page.close();
  await b.sim.stop();
});

test("a damaged filesystem is reported even though MicroPython answers", async () => {
  const flashFile = path.join(tmp, "corrupt.bin");
  const flashBytes = Buffer.alloc(4 << 20, 0xff);
  micropythonImage("esp32").copy(flashBytes, 0x1000);
  patternBytes(8192, 99).copy(flashBytes, 0x200000); // garbage where the filesystem lives
  fs.writeFileSync(flashFile, flashBytes);
  const sim = await startSim({ chip: "esp32", flashFile });
  const page = await openApp(browser.context, server.url, { ports: [{ usbVendorId: 0x10c4, usbProductId: 0xea60, url: sim.wsUrl }] });
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByRole("status").filter({ hasText: /is ready/ }).waitFor({ timeout: 30000 });
  await openStep(page, "micropython");
  await page.getByRole("button", { name: "Check board" }).click();
  const verdict = await micropythonVerdict(page);
  assert.match(verdict, /works/);
  assert.match(verdict, /filesystem is damaged/);
  await page.close();
  await sim.stop();
});
