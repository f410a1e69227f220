// The page a student follows alone (issue 16): steps that show their state with only the
// current one open, its main action on screen at 1366x768; screenshots of every step in every
// state at 1366x768 and 390x844 (target/e2e/steps/); an accessibility audit (axe-core, npm) of
// every state in light and dark mode; a keyboard-only journey from Connect to hello.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, launchBrowser, openApp, openDemoBoard, openStep, stepStates, startSim, root, shots, audit } from "./harness.mjs";
import { espImage, firmwareImage, micropythonImage } from "./images.mjs";

let server, browser, tmp;
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "webflash-student-"));
  server = await startServer({});
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});


/// Checks what a student sees in one state: the steps' states, exactly one step open, its main
/// action inside the 1366x768 window; audits it; keeps screenshots at both sizes.
async function see(page, name, expected, action) {
  await page.waitForFunction((want) => Object.entries(want).every(([step, state]) =>
    document.querySelector(`[data-step="${step}"]`)?.dataset.state === state), expected, { timeout: 30000 })
    .catch(() => {});
  const states = await stepStates(page);
  for (const [step, state] of Object.entries(expected)) assert.match(states[step], new RegExp(`^${state}`), `${name}: ${JSON.stringify(states)}`);
  assert.equal(Object.values(states).filter((s) => s.endsWith(" open")).length, 1, `${name}: one step open: ${JSON.stringify(states)}`);
  if (action) {
    const box = await action.boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 768, `${name}: the main action is on screen without scrolling (${JSON.stringify(box)})`);
  }
  assert.deepEqual(await audit(page), [], `${name}: accessibility`);
  const dir = path.join(shots, "steps");
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}-1366x768.png`) });
  await page.setViewportSize({ width: 390, height: 844 });
  // The terminal refits on resize, drawn in the next frames.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.screenshot({ path: path.join(dir, `${name}-390x844.png`) });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `${name}: nothing wider than a 390 px phone (${width} px)`);
  await page.setViewportSize({ width: 1366, height: 768 });
}

test("steps show done, current, waiting and needs attention; one is open, its action on screen; audited and kept at both sizes", async () => {
  const page = await openApp(browser.context, server.url, { ports: [] });
  await see(page, "1-connect-current", { connect: "current", firmware: "waiting", flash: "waiting", micropython: "waiting" },
    page.getByRole("button", { name: "Demo board" }));

  // A firmware link that does not load, before any board: step 2 needs attention and opens.
  await openStep(page, "firmware");
  await page.getByLabel("Firmware URL").fill(`${server.url}files/missing.bin`);
  await page.getByRole("button", { name: "Load", exact: true }).click();
  await see(page, "2-firmware-attention", { connect: "current", firmware: "attention" }, page.getByLabel("Firmware URL"));
  assert.match(await page.getByRole("status").innerText(), /404|not found|could not/i);
  // The problem's technical log is one click away, for the organiser.
  await page.getByText("Show details").click();
  await page.locator('[data-field="log"]').filter({ hasText: /Downloading .*missing\.bin[\s\S]*! / }).waitFor();

  await openStep(page, "connect");
  await openDemoBoard(page, "esp32");
  await see(page, "2-firmware-current", { connect: "done", firmware: "current", flash: "waiting" }, page.getByLabel("Firmware file"));
  assert.match(await page.locator('[data-step="connect"] [data-field="step-summary"]').innerText(), /ESP32 \(v3\.0\) · 4MB · CP210x USB-UART/);

  // Firmware for another chip: refused when Flash is pressed; step 3 needs attention.
  await page.getByLabel("Firmware file").setInputFiles({ name: "s3.bin", mimeType: "application/octet-stream", buffer: espImage("esp32s3", 30_000) });
  await see(page, "3-flash-current", { connect: "done", firmware: "done", flash: "current" }, page.getByRole("button", { name: "Flash", exact: true }));
  await page.getByRole("button", { name: "Flash", exact: true }).click();
  await page.getByRole("status").filter({ hasText: /Nothing was written/ }).waitFor();
  await see(page, "3-flash-attention", { firmware: "done", flash: "attention" }, page.getByLabel("Why the firmware was refused"));

  // Going back is one click: step 2, then the right file.
  await openStep(page, "firmware");
  await page.getByLabel("Firmware file").setInputFiles({ name: "micropython.bin", mimeType: "application/octet-stream", buffer: micropythonImage("esp32", "v1.24.1") });
  await page.locator('[data-step="flash"][data-state="current"][data-open]').waitFor();
  await page.getByRole("button", { name: "Flash", exact: true }).click();
  await page.locator('[data-step="micropython"][data-state="done"]').waitFor({ timeout: 120000 });
  const verdict = page.locator('[data-field="micropython"]');
  await see(page, "4-micropython-done", { connect: "done", firmware: "done", flash: "done", micropython: "done" }, verdict);
  assert.match(await page.locator('[data-step="flash"] [data-field="step-summary"]').innerText(), /micropython\.bin .*verified/);
  assert.match(await page.locator('[data-step="micropython"] [data-field="step-summary"]').innerText(), /MicroPython v1\.24\.1 answered/);

  // Firmware that is not MicroPython: flashed and verified, but nothing answers: step 4 needs attention.
  await openStep(page, "firmware");
  await page.getByLabel("Firmware file").setInputFiles({ name: "blink.bin", mimeType: "application/octet-stream", buffer: firmwareImage("esp32", { project: "blink" }) });
  await page.getByRole("button", { name: "Flash", exact: true }).click();
  await page.locator('[data-step="micropython"][data-state="attention"]').waitFor({ timeout: 120000 });
  await see(page, "4-micropython-attention", { flash: "done", micropython: "attention" }, verdict);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a board that does not enter its bootloader: step 1 needs attention, with what to do", async () => {
  // A USB-JTAG-Serial board behind a port that claims to be a CP210x: the reset misses.
  const sim = await startSim({ chip: "esp32c3", wiring: "usb-jtag", flashFile: path.join(tmp, "c3.bin") });
  const page = await openApp(browser.context, server.url, { ports: [{ usbVendorId: 0x10c4, usbProductId: 0xea60, url: sim.wsUrl }] });
  await page.getByRole("button", { name: "Connect" }).click();
  await see(page, "1-connect-attention", { connect: "attention", firmware: "waiting" }, page.getByRole("button", { name: "Try again" }));
  assert.match(await page.getByRole("status").innerText(), /Hold the BOOT button/);
  await page.close();
  await sim.stop();
});

test("keyboard only: from Connect to hello on the demo board, every focus visible", async () => {
  const page = await openApp(browser.context, server.url, { ports: [] });
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    const style = el && getComputedStyle(el);
    return { name: el?.getAttribute("aria-label") || el?.textContent?.trim() || el?.tagName, visible: !!style && style.outlineStyle !== "none" && style.outlineWidth !== "0px" };
  });
  const order = [];
  /// Presses Tab until the focus is on `name`; every stop must show its focus.
  async function tabTo(name) {
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press("Tab");
      const f = await focused();
      order.push(f.name);
      assert.ok(f.visible, `focus is visible on ${f.name}`);
      if (f.name === name) return;
    }
    assert.fail(`Tab never reached ${name}: ${order.join(" → ")}`);
  }
  await tabTo("Demo board");
  await page.keyboard.press("Enter");
  await page.getByRole("status").filter({ hasText: "is ready" }).waitFor({ timeout: 30000 });
  // The step that opened takes the focus; the file chooser opens from the keyboard.
  await tabTo("Firmware file");
  const chooser = page.waitForEvent("filechooser");
  await page.keyboard.press("Space");
  await (await chooser).setFiles({ name: "micropython.bin", mimeType: "application/octet-stream", buffer: micropythonImage("esp32", "v1.24.1") });
  await page.locator('[data-step="flash"][data-open]').waitFor();
  await tabTo("Flash");
  await page.keyboard.press("Enter");
  await page.locator('[data-field="micropython"]').filter({ hasText: /works/ }).waitFor({ timeout: 120000 });
  assert.match(await page.locator('[data-field="micropython"]').innerText(), /MicroPython v1\.24\.1 .* works/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("reduced motion: the progress bar does not animate", async () => {
  const page = await openApp(browser.context, server.url, { ports: [] });
  const duration = () => page.evaluate(() => {
    const progress = document.createElement("div");
    progress.className = "progress";
    progress.innerHTML = '<div class="bar"></div>';
    document.body.append(progress);
    const d = getComputedStyle(progress.firstChild).transitionDuration;
    progress.remove();
    return d;
  });
  await page.emulateMedia({ reducedMotion: "no-preference" });
  assert.equal(await duration(), "0.2s");
  await page.emulateMedia({ reducedMotion: "reduce" });
  assert.equal(await duration(), "0s");
  await page.close();
});

test("the terminal's text follows the browser's text size", async () => {
  // A reader who set a larger default font (20 px instead of 16): the terminal's is 7/8 of it.
  const context = browser.context;
  const page = await openApp(context, server.url, { ports: [] });
  await page.evaluate(() => { document.documentElement.style.fontSize = "20px"; });
  await openDemoBoard(page, "esp32");
  await openStep(page, "micropython");
  await page.getByRole("button", { name: "Check board" }).click();
  const rows = page.locator(".xterm-rows");
  await rows.waitFor({ timeout: 30000 });
  assert.equal(await rows.evaluate((r) => getComputedStyle(r).fontSize), "18px");
  await page.close();
});
