// Foundation journeys: connect and name the USB bridge, move bytes both ways through the real
// WebSerialPort, control lines, an unplugged port, and a browser without Web Serial.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { FakeDevice, startServer, launchBrowser, openApp, screenshot, patternBytes, dist, openStep } from "./harness.mjs";

let server, browser;
const devices = {};
const device = (name) => (devices[name] = new FakeDevice());

before(async () => {
  server = await startServer(devices);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/// Connects to a scripted device that is not an ESP in download mode: the app's reset and
/// sync attempts end with coaching and "Try again", and the port stays open for the test.
async function connectedPage(name, vid, pid) {
  const dev = device(name);
  const page = await openApp(browser.context, server.url, {
    ports: [{ usbVendorId: vid, usbProductId: pid, url: server.wsUrl(name) }],
  });
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByRole("button", { name: "Try again" }).waitFor({ timeout: 20000 });
  await dev.waitFor(() => dev.events.some((e) => e.type === "open"));
  dev.received = [];
  return { page, dev };
}

for (const [vid, pid, expected, shot] of [
  [0x10c4, 0xea60, "CP210x USB-UART (10C4:EA60)", "connect-cp210x"],
  [0x1a86, 0x7523, "CH340 USB-UART (1A86:7523)", "connect-ch340"],
  [0x303a, 0x1001, "Espressif USB-JTAG-Serial (303A:1001)", "connect-usb-jtag"],
]) {
  test(`connect names the bridge: ${expected}`, async () => {
    const dev = device(shot);
    const page = await openApp(browser.context, server.url, {
      ports: [{ usbVendorId: vid, usbProductId: pid, url: server.wsUrl(shot) }],
    });
    await page.getByRole("button", { name: "Connect" }).click();
    await page.locator('[data-field="usb"]').filter({ hasText: expected }).waitFor();
    assert.match(await page.getByRole("status").innerText(), new RegExp(`Connected to ${expected.replace(/[()]/g, ".")}`));
    await dev.waitFor(() => dev.events.length > 0);
    assert.deepEqual(dev.events[0], { type: "open", baudRate: 115200 });
    await screenshot(page, shot);
    await page.getByRole("button", { name: "Disconnect" }).click();
    await page.getByRole("button", { name: "Connect" }).waitFor();
    await dev.waitFor(() => dev.events.some((e) => e.type === "close"));
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

test("the terminal draws a bare \\n as a new line, not a staircase", async () => {
  // A device whose output ends lines with \n alone (a program's print to a UART, a boot log).
  const { page, dev } = await connectedPage("staircase", 0x10c4, 0xea60);
  await openStep(page, "micropython");
  const rows = page.locator(".xterm-rows");
  await rows.waitFor({ timeout: 30000 });
  await page.getByLabel("Terminal", { exact: true }).click(); // the terminal reads the port once clicked into
  await new Promise((r) => setTimeout(r, 200));
  dev.send(Buffer.from("one\ntwo\nthree\n"));
  await rows.filter({ hasText: "three" }).waitFor();
  const lines = (await rows.innerText()).replace(/\u00a0/g, " ").split("\n").map((l) => l.trimEnd()).filter(Boolean);
  assert.deepEqual(lines.slice(-3), ["one", "two", "three"]);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("1 MiB crosses WebSerialPort both ways with no loss or reordering", async () => {
  const { page, dev } = await connectedPage("bulk", 0x10c4, 0xea60);
  const size = 1 << 20;

  // Device -> page, in uneven chunks; the page reads it all and hashes it.
  const down = patternBytes(size, 7);
  for (let off = 0, i = 0; off < size; i++) {
    const n = Math.min(size - off, [1, 63, 4096, 777, 65536, 12][i % 6]);
    dev.send(down.subarray(off, off + n));
    off += n;
  }
  const downHash = await page.evaluate(async (size) => {
    const parts = [];
    let total = 0;
    while (total < size) {
      const chunk = await window.webflash.port.read(size - total, 5000);
      if (chunk.length === 0) throw new Error(`stalled after ${total} bytes`);
      parts.push(chunk);
      total += chunk.length;
    }
    const all = new Uint8Array(total);
    let off = 0;
    for (const p of parts) { all.set(p, off); off += p.length; }
    const digest = await crypto.subtle.digest("SHA-256", all);
    return [total, [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")];
  }, size);
  assert.deepEqual(downHash, [size, crypto.createHash("sha256").update(down).digest("hex")]);

  // Page -> device: the page writes the same kind of pattern in uneven chunks.
  const up = patternBytes(size, 11);
  await page.evaluate(async ([size, src]) => {
    const patternBytes = eval(`(${src})`);
    const all = patternBytes(size, 11);
    for (let off = 0, i = 0; off < size; i++) {
      const n = Math.min(size - off, [5, 16384, 1, 3000, 65536][i % 5]);
      await window.webflash.port.write(all.subarray(off, off + n));
      off += n;
    }
  }, [size, patternBytes.toString().replace("Buffer.alloc(length)", "new Uint8Array(length)")]);
  await dev.waitFor(() => dev.receivedBytes().length >= size);
  assert.equal(dev.receivedBytes().length, size);
  assert.ok(dev.receivedBytes().equals(up), "bytes the device received differ from what the page wrote");

  // Echo while the page is not reading: nothing may be lost between reads.
  dev.received = [];
  dev.onData = (buf) => dev.send(buf);
  const echoed = await page.evaluate(async () => {
    const msg = new TextEncoder().encode("echo ".repeat(20000));
    for (let off = 0; off < msg.length; off += 1000) await window.webflash.port.write(msg.subarray(off, off + 1000));
    await new Promise((r) => setTimeout(r, 200));
    let got = 0;
    for (;;) {
      const chunk = await window.webflash.port.read(1 << 20, 1000);
      if (chunk.length === 0) break;
      got += chunk.length;
    }
    return [msg.length, got];
  });
  assert.equal(echoed[1], echoed[0]);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a board that boots its firmware gets BOOT-button coaching and the port stays usable", async () => {
  const { page } = await connectedPage("coaching", 0x10c4, 0xea60);
  const status = await page.getByRole("status").innerText();
  assert.match(status, /started its normal firmware instead of the bootloader/);
  assert.match(status, /Hold the BOOT button, tap RESET/);
  await screenshot(page, "coaching");
  await page.close();
});

test("DTR/RTS changes reach the device in order", async () => {
  const { page, dev } = await connectedPage("signals", 0x10c4, 0xea60);
  const sequence = [[false, true], [true, false], [false, false], [true, true], [false, true], [false, false]];
  const before = dev.events.length;
  await page.evaluate(async (seq) => {
    for (const [dtr, rts] of seq) await window.webflash.port.setSignals(dtr, rts);
  }, sequence);
  const ours = () => dev.events.slice(before).filter((e) => e.type === "signals");
  await dev.waitFor(() => ours().length === sequence.length);
  assert.deepEqual(ours().map((e) => [e.dtr, e.rts]), sequence);
  await page.close();
});

test("a port that disappears mid-read gives a readable message and Connect works again", async () => {
  const { page, dev } = await connectedPage("unplug", 0x1a86, 0x7523);
  const pending = page.evaluate(() =>
    window.webflash.port.read(100, 20000).then(() => "resolved", (e) => `rejected: ${e.message}`));
  await new Promise((r) => setTimeout(r, 300));
  dev.unplug();
  assert.match(await pending, /^rejected: the board was disconnected/);
  await page.getByRole("button", { name: "Connect" }).waitFor();
  assert.match(await page.getByRole("status").innerText(), /Connection lost: the board was disconnected/);
  await screenshot(page, "unplugged");

  // Plug back in: Connect works again and the port carries bytes.
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByRole("button", { name: "Try again" }).waitFor({ timeout: 20000 });
  await dev.waitFor(() => dev.ws !== null && dev.events.filter((e) => e.type === "open").length === 2);
  dev.send(Buffer.from("back"));
  const text = await page.evaluate(async () => new TextDecoder().decode(await window.webflash.port.read(4, 3000)));
  assert.equal(text, "back");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a port in use elsewhere and a cancelled chooser get readable messages", async () => {
  device("busy");
  let page = await openApp(browser.context, server.url, {
    ports: [{ usbVendorId: 0x10c4, usbProductId: 0xea60, url: server.wsUrl("busy"), openError: "NetworkError" }],
  });
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByRole("status").filter({ hasText: "in use by another program" }).waitFor();
  await screenshot(page, "port-busy");
  await page.getByRole("button", { name: "Connect" }).waitFor();
  await page.close();

  page = await openApp(browser.context, server.url, { ports: [], chooser: "cancel" });
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByRole("status").filter({ hasText: "No port was chosen" }).waitFor();
  await page.close();
});

test("without Web Serial the page says so and names the browsers that work", async () => {
  const page = await openApp(browser.context, server.url, null);
  const alert = page.getByRole("alert");
  await alert.waitFor();
  const text = await alert.innerText();
  assert.match(text, /cannot talk to USB serial devices/);
  assert.match(text, /Chrome/);
  assert.match(text, /Edge/);
  assert.equal(await page.getByRole("button", { name: "Connect" }).count(), 0);
  // The demo board needs no serial port, so it stays available.
  assert.equal(await page.getByRole("button", { name: "Demo board" }).count(), 1);
  await screenshot(page, "unsupported");
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "unsupported-phone");
  await page.close();
});

test("every subresource integrity hash in the built page matches its file", async () => {
  // Trunk builds the app and the optional modules at once; a hash taken while another build
  // rewrote a shared file would make the browser refuse the page.
  const fs = await import("node:fs");
  const path = await import("node:path");
  const html = fs.readFileSync(path.join(dist, "index.html"), "utf8");
  const refs = [...html.matchAll(/href="([^"]+)"[^>]*integrity="sha384-([^"]+)"/g)];
  assert.ok(refs.length >= 3, `found ${refs.length} hashed references`);
  for (const [, href, want] of refs) {
    const file = fs.readFileSync(path.join(dist, href));
    assert.equal(crypto.createHash("sha384").update(file).digest("base64"), want, href);
  }
});
