// MicroPython on the same port: our REPL client against the official MicroPython WebAssembly
// REPL behind the fake serial port — the hello check, the terminal, and files byte-exact.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { startServer, launchBrowser, openApp, screenshot, patternBytes, openStep } from "./harness.mjs";
import { WasmBoard } from "./wasm-board.mjs";

let server, browser;
const devices = {};

before(async () => {
  server = await startServer(devices);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/// A page connected to a MicroPython board (not in download mode: Connect gives coaching).
async function micropythonPage(name, beforeConnect = async () => {}, board = {}) {
  devices[name] = new WasmBoard(board);
  const page = await openApp(browser.context, server.url, {
    ports: [{ usbVendorId: 0x10c4, usbProductId: 0xea60, url: server.wsUrl(name) }],
  });
  await beforeConnect(page);
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByRole("button", { name: "Try again" }).waitFor({ timeout: 30000 });
  return page;
}

async function checkBoard(page) {
  await openStep(page, "micropython");
  await page.getByRole("button", { name: "Check board" }).click();
  const field = page.locator('[data-field="micropython"]').filter({ hasText: /works|not|did|never|said|firmware/ });
  await field.waitFor({ timeout: 30000 });
  return field.innerText();
}

/// Paths the page has downloaded so far.
const fetched = (page) => page.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname));

test("hello check: the official MicroPython REPL answers print('hello')", async () => {
  const page = await micropythonPage("hello", async (page) => {
    // Flashing does not need the MicroPython card or the terminal: they come after Connect.
    const early = await fetched(page);
    assert.ok(early.some((p) => /webflash-app-.*_bg\.wasm$/.test(p)), early.join(" "));
    assert.deepEqual(early.filter((p) => /webflash-repl|xterm/.test(p)), []);
  });
  const text = await checkBoard(page);
  const later = await fetched(page);
  assert.ok(later.some((p) => p.endsWith("webflash-repl_bg.wasm")), later.join(" "));
  assert.ok(later.some((p) => p.endsWith("xterm.js")), later.join(" "));
  assert.match(text, /MicroPython v1\.27\.0 on JS works: it answered print\('hello'\) with hello/);
  // The terminal shows the board's prompt and takes keystrokes.
  await page.locator(".term-box").click();
  await page.keyboard.type("6*7\r");
  await page.locator(".xterm-rows").filter({ hasText: "42" }).waitFor({ timeout: 10000 });
  await screenshot(page, "repl-hello");
  assert.deepEqual(page.errors, []);
  await page.close();
});

/// How long an operation on `bytes` may take: ten times what the last transfer's measured speed
/// predicts, plus a fixed allowance for the round trips around it. Deadlines follow what this
/// machine does today instead of a guess; whether that speed is good is `make bench`'s question.
function deadline(bytes, rate) {
  return Math.min(600_000, 15_000 + (10 * 1000 * bytes) / rate);
}

/// Uploads and downloads each sample through the card; `checked` is how the page says the
/// upload was checked. Returns the seconds each round trip took.
async function roundTrips(page, samples, checked) {
  const took = {};
  // Until a transfer was measured: a slow board's 115200 baud, about 11 KB/s, halved.
  let rate = 5_000;
  for (const [name, data] of samples) {
    const started = Date.now();
    await page.getByLabel("Upload file").setInputFiles({ name, mimeType: "application/octet-stream", buffer: data });
    const status = page.getByRole("status").filter({ hasText: `Uploaded ${name}` });
    await status.waitFor({ timeout: deadline(data.length, rate) });
    assert.match(await status.innerText(), checked);
    const up = Math.max(1, Date.now() - started);
    if (data.length >= 10_000) rate = (1000 * data.length) / up;
    const row = page.getByRole("row").filter({ hasText: name });
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(`${data.length} bytes`));
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: deadline(data.length, rate) }).catch(async (e) => {
        throw new Error(`${name}: no download; status: ${await page.getByRole("status").innerText()}`);
      }),
      page.getByRole("button", { name: `Download ${name}` }).click(),
    ]);
    const got = fs.readFileSync(await download.path());
    assert.ok(got.equals(data), `${name} came back different`);
    took[name] = (Date.now() - started) / 1000;
  }
  return took;
}

test("files: upload, list, download, run and delete round-trip byte-exact", async () => {
  const page = await micropythonPage("files");
  await checkBoard(page);
  const samples = [
    ["hello.py", Buffer.from("print('hi from a file')\nfor i in range(3):\n    print(i * 11)\n")],
    ["binary.bin", Buffer.from([...Array(256).keys(), ...Array(256).keys()].map((x) => x & 255))],
    ["big.bin", patternBytes(100_000, 5)],
  ];
  const took = await roundTrips(page, samples, /checked by SHA-256 on the board/);
  console.log(`# round trips (s): ${JSON.stringify(took)}`);
  await page.getByRole("button", { name: "Run hello.py" }).click();
  await page.getByRole("status").filter({ hasText: "hello.py finished" }).waitFor({ timeout: 20000 });
  await page.locator(".xterm-rows").filter({ hasText: "hi from a file" }).waitFor();
  await page.locator(".xterm-rows").filter({ hasText: "22" }).waitFor();
  await page.getByRole("button", { name: "Delete big.bin" }).click();
  await page.getByRole("status").filter({ hasText: "Deleted big.bin" }).waitFor();
  await page.getByRole("row").filter({ hasText: "big.bin" }).waitFor({ state: "detached" });
  await screenshot(page, "repl-files");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("files on a MicroPython without binascii and hashlib: mpremote's method, checked by size", async () => {
  const page = await micropythonPage("files-plain", async () => {}, { without: ["binascii", "hashlib"] });
  await checkBoard(page);
  const samples = [
    ["quotes.py", Buffer.from("print('it\\'s \\\\ \"x\"')\n")],
    ["binary.bin", Buffer.from([...Array(256).keys()].map((x) => (x * 7) & 255))],
  ];
  await roundTrips(page, samples, /its size checked \(this MicroPython cannot hash files\)/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("device text is shown as text: a file named with HTML markup, and markup printed by the board", async () => {
  const page = await micropythonPage("markup");
  await checkBoard(page);
  // (A browser's file name holds no "/", so the markup does without closing tags.)
  const name = '<img src=x onerror="window.__pwned=1"><b>bold.py';
  await page.getByLabel("Upload file").setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from("print('<i>hi</i>')\n") });
  await page.getByRole("status").filter({ hasText: `Uploaded ${name}` }).waitFor({ timeout: 60000 });
  const row = page.getByRole("row").filter({ hasText: name });
  await row.waitFor();
  assert.match(await row.innerText(), /<img src=x onerror="window.__pwned=1"><b>bold\.py/);
  await page.getByRole("button", { name: `Run ${name}` }).click();
  await page.locator(".xterm-rows").filter({ hasText: "<i>hi</i>" }).waitFor({ timeout: 20000 });
  assert.equal(await page.locator("img[src='x'], b:text-is('bold.py'), i:text-is('hi')").count(), 0, "markup from the board became elements");
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(page.errors, []);
  await page.close();
});
