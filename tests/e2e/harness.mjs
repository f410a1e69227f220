// Shared set-up for the browser tests: serve dist/ on 127.0.0.1, host fake devices on a
// WebSocket at /device/<name>, and drive Debian's Chromium through playwright-core.
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { spawn } from "node:child_process";
import { WebSocketServer } from "ws";
import { chromium } from "playwright-core";
import { after } from "node:test";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
export const dist = path.join(root, "dist");
export const shots = path.join(root, "target", "e2e");

const types = {
  ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
  ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml", ".webmanifest": "application/manifest+json", ".bin": "application/octet-stream", ".png": "image/png",
};

/// A scripted device on the test side of a fake serial port.
export class FakeDevice {
  /// `bootText`: printed whenever the host releases a reset (RTS on → off), like a board whose
  /// BOOT button is not held: it starts its firmware instead of the bootloader.
  constructor({ bootText = "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n" } = {}) {
    this.bootText = bootText;
    this.rts = false;
    this.events = [];      // {type:'open',baudRate} | {type:'signals',dtr,rts} | {type:'close'}
    this.received = [];    // Buffers written by the page
    this.ws = null;
    this.onData = null;    // (Buffer) => void
    this.onEvent = null;   // (event) => void
    this.waiters = [];
  }
  attach(ws) {
    this.ws = ws;
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        const buf = Buffer.from(data);
        this.received.push(buf);
        this.onData && this.onData(buf);
      } else {
        const event = JSON.parse(data.toString());
        this.events.push(event);
        if (event.type === "signals") {
          if (this.rts && !event.rts && this.bootText) {
            setTimeout(() => this.ws && this.send(Buffer.from(this.bootText)), 20);
          }
          this.rts = event.rts;
        }
        this.onEvent && this.onEvent(event);
      }
      this.#notify();
    });
    ws.on("close", () => { if (this.ws === ws) this.ws = null; this.#notify(); });
    this.#notify();
  }
  send(bytes) { this.ws.send(bytes, { binary: true }); }
  /// The USB device disappears (cable pulled).
  unplug() { this.ws.send(JSON.stringify({ type: "disconnect" })); }
  receivedBytes() { return Buffer.concat(this.received); }
  /// Resolves when `predicate()` holds, checked on every device event.
  waitFor(predicate, timeoutMs = 10000) {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for the device condition")), timeoutMs);
      this.waiters.push(() => { if (predicate()) { clearTimeout(timer); resolve(); return true; } return false; });
    });
  }
  #notify() { this.waiters = this.waiters.filter((w) => !w()); }
}

/// Starts the static server with the device WebSocket endpoint. `devices` maps name -> FakeDevice;
/// `files` maps a path under /files/ to bytes (firmware and manifests for the tests). `dir`: the
/// built page to serve (default dist/; the offline tests serve a copy they redeploy).
export async function startServer(devices = {}, files = {}, { dir = dist } = {}) {
  if (!fs.existsSync(path.join(dir, "index.html"))) {
    throw new Error("dist/ is missing: build the app first (make test does)");
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname.startsWith("/files/")) {
      const body = files[decodeURIComponent(url.pathname.slice("/files/".length))];
      if (!body) { res.writeHead(404, { "content-type": "text/html" }).end("<html>404 Not Found</html>"); return; }
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
      res.end(body);
      return;
    }
    let file = path.normalize(path.join(dir, decodeURIComponent(url.pathname)));
    if (!file.startsWith(dir)) { res.writeHead(403).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    fs.readFile(file, (err, body) => {
      if (err) { res.writeHead(404).end("not found"); return; }
      res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
      res.end(body);
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  // /device/<name>: a serial port; /bus/<name>: its USB presence; /drive/<name>: a USB drive;
  // /usb/<name>: a WebUSB device (fake-usb.js).
  server.on("upgrade", (req, socket, head) => {
    const [, kind, name] = new URL(req.url, "http://x").pathname.match(/^\/(device|bus|drive|usb)\/(.+)$/) || [];
    const device = devices[name];
    const attach = { device: "attach", bus: "attachBus", drive: "attachDrive", usb: "attachUsb" }[kind];
    if (!device || typeof device[attach] !== "function") { socket.destroy(); return; }
    wss.handleUpgrade(req, socket, head, (ws) => device[attach](ws));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    wsUrl: (name) => `ws://127.0.0.1:${port}/device/${name}`,
    busUrl: (name) => `ws://127.0.0.1:${port}/bus/${name}`,
    driveUrl: (name) => `ws://127.0.0.1:${port}/drive/${name}`,
    usbUrl: (name) => `ws://127.0.0.1:${port}/usb/${name}`,
    close: () => new Promise((resolve) => { wss.close(); server.closeAllConnections?.(); server.close(resolve); }),
  };
}

/// Service workers are blocked unless `serviceWorkers: "allow"`: once the page is kept for
/// offline use (after a board answered), its worker would serve later pages of the same test
/// file from its cache, out of reach of `page.route`. The offline tests allow them.
/// The browser's language is English unless `locale` says otherwise (the page follows it).
export async function launchBrowser({ serviceWorkers = "block", locale = "en-US" } = {}) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "webflash-e2e-"));
  const context = await chromium.launchPersistentContext(userDir, {
    serviceWorkers,
    locale,
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1366, height: 768 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // E2E_TIMEOUT=ms shortens Playwright's default wait, to find failing steps fast by hand; the
  // tests' own longer timeouts and `make test` are unchanged.
  if (process.env.E2E_TIMEOUT) context.setDefaultTimeout(Number(process.env.E2E_TIMEOUT));
  return {
    context,
    close: async () => { await context.close(); fs.rmSync(userDir, { recursive: true, force: true }); },
  };
}

/// Opens the app with a fake serial configuration (or `null` for a browser without Web Serial),
/// and optionally a fake File System Access drive (`drive`: see fake-fs.js; `noDrivePicker`:
/// a browser without `showDirectoryPicker`) and fake WebUSB devices (`usb`: see fake-usb.js).
export async function openApp(context, url, serialConfig, { drive = null, noDrivePicker = false, usb = null } = {}) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // What the page logged, for failure messages (a panic's text lands here).
  const consoleLog = [];
  page.on("console", (m) => consoleLog.push(m.text()));
  page.consoleLog = consoleLog;
  if (drive) {
    await page.addInitScript((cfg) => { globalThis.__fakeDriveConfig = cfg; }, drive);
    await page.addInitScript({ path: path.join(here, "fake-fs.js") });
  }
  if (usb) {
    await page.addInitScript((cfg) => { globalThis.__fakeUsbConfig = cfg; }, usb);
    await page.addInitScript({ path: path.join(here, "fake-usb.js") });
  }
  if (noDrivePicker) {
    await page.addInitScript(() => { Object.defineProperty(window, "showDirectoryPicker", { value: undefined, configurable: true }); });
  }
  if (serialConfig === null) {
    await page.addInitScript(() => {
      Object.defineProperty(navigator, "serial", { value: undefined, configurable: true });
    });
  } else {
    await page.addInitScript((cfg) => { globalThis.__fakeSerialConfig = cfg; }, serialConfig);
    await page.addInitScript({ path: path.join(here, "fake-serial.js") });
  }
  await page.goto(url);
  // The header is static HTML; the steps are the app's.
  await page.getByRole("heading", { name: "webflash" }).waitFor();
  await page.locator("#step-connect .mark").waitFor();
  page.errors = errors;
  return page;
}

export async function screenshot(page, name) {
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

/// Deterministic pseudo-random bytes (xorshift32), the same in Node and in the page.
export function patternBytes(length, seed) {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
export const patternSource = patternBytes.toString();

/// Every simulator a test file started; a failing test must not leave one running (the file
/// would never end).
const sims = new Set();
after(() => { for (const child of sims) child.kill(); });

/// Starts `esp-sim` (built by `cargo build --bin esp-sim`) with a WebSocket endpoint for the
/// fake serial port. Returns its ws URL (and its USB bus URL with `bus: true`), the flash file
/// path, and `stop()`.
export async function startSim({ chip, wiring = "uart", flashSize = "4MB", flashFile, extra = [], bus = false }) {
  const bin = path.join(root, "target", "debug", "esp-sim");
  const args = ["--chip", chip, "--listen", "127.0.0.1:0", "--ws", "127.0.0.1:0", "--wiring", wiring,
    "--flash-size", flashSize, "--flash-file", flashFile, ...(bus ? ["--bus", "127.0.0.1:0"] : []), ...extra];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  sims.add(child);
  child.on("exit", () => sims.delete(child));
  let out = "";
  child.stderr.on("data", (d) => { out += d; });
  const [wsUrl, busUrl] = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`esp-sim did not start: ${out}`)), 10000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/ ws (127\.0\.0\.1:\d+)(?: bus (127\.0\.0\.1:\d+))?/);
      if (m && out.includes("\n")) { clearTimeout(timer); resolve([`ws://${m[1]}`, m[2] && `ws://${m[2]}`]); }
    });
    child.on("exit", (code) => reject(new Error(`esp-sim exited (${code}): ${out}`)));
  });
  return {
    wsUrl,
    busUrl,
    flashFile,
    output: () => out,
    stop: () => new Promise((resolve) => { child.once("exit", resolve); child.kill(); }),
  };
}

/// Drops files onto `selector` the way a user's drag-and-drop does (a real DataTransfer).
export async function dropFiles(page, selector, files) {
  const payload = files.map(([name, data]) => [name, [...data]]);
  const dt = await page.evaluateHandle((items) => {
    const dt = new DataTransfer();
    for (const [name, bytes] of items) dt.items.add(new File([new Uint8Array(bytes)], name));
    return dt;
  }, payload);
  await page.dispatchEvent(selector, "drop", { dataTransfer: dt });
}

/// Opens the demo board as `chip` (step 1 with "Demo board").
export async function openDemoBoard(page, chip = "esp32") {
  await page.getByLabel("Demo chip").selectOption(chip);
  await page.getByRole("button", { name: "Demo board" }).click();
  await page.getByRole("status").filter({ hasText: "is ready" }).waitFor({ timeout: 30000 });
}

/// Presses Flash with the chosen firmware and returns once it is verified and MicroPython
/// `version` ("v1.24.1") answered the hello check; fails with what the page said otherwise.
export async function flashToHello(page, version) {
  await page.getByRole("button", { name: "Flash", exact: true }).click();
  const status = page.getByRole("status").filter({ hasText: /Firmware verified|Nothing was written|stopped|failed|refused/i });
  await status.waitFor({ timeout: 120000 });
  const said = await status.innerText();
  if (!/Firmware verified/.test(said)) throw new Error(`the flash was not verified: ${said}`);
  const verdict = page.locator('[data-field="micropython"]').filter({ hasText: /works|did not|nothing/ });
  await verdict.waitFor({ timeout: 60000 });
  const text = await verdict.innerText();
  if (!text.includes(`MicroPython ${version} `) || !/ works/.test(text)) throw new Error(`no hello from MicroPython ${version}: ${text}`);
}

/// Opens step `name` ("connect", "firmware", "flash", "micropython") when it is closed: one
/// click on its header's Open button, as a user would (only the current step is open).
export async function openStep(page, name) {
  const open = page.locator(`[data-step="${name}"][data-open]`);
  if ((await open.count()) === 0) {
    // It may open by itself meanwhile (a file still being read makes it current).
    await page.locator(`[data-step="${name}"]`).getByRole("button", { name: /^Open step/ }).click({ timeout: 3000 }).catch(() => {});
    await open.waitFor();
  }
}

/// Each step's state, by name: { connect: "done", firmware: "current", … }.
export async function stepStates(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll("[data-step]")]
    .map((s) => [s.dataset.step, s.dataset.state + (s.hasAttribute("data-open") ? " open" : "")])));
}

const axeSource = fs.readFileSync(path.join(root, "node_modules/axe-core/axe.min.js"), "utf8");

/// axe-core over the whole page in light and dark mode: the serious and critical violations.
export async function audit(page) {
  const found = [];
  for (const colorScheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme });
    if (!(await page.evaluate(() => !!globalThis.axe))) await page.addScriptTag({ content: axeSource });
    const violations = await page.evaluate(async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`));
    found.push(...violations.map((v) => `${colorScheme}: ${v}`));
  }
  await page.emulateMedia({ colorScheme: "light" });
  return found;
}
