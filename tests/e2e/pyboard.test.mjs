// The pyboard over DFU (issue 12): a pyboard running MicroPython is asked for its bootloader,
// the student picks it in the WebUSB chooser, the page erases only what the .dfu covers,
// writes, reads every part back and compares SHA-256, leaves DFU, follows the board back to
// its serial port and calls it done only when MicroPython answers print('hello'). The board is
// pyboard.mjs: the official MicroPython WebAssembly port on the serial side, webflash's
// simulated STM32 bootloader behind a fake navigator.usb (fake-usb.js) on the DFU side.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openApp, screenshot } from "./harness.mjs";
import { Pyboard, pyboardFirmware, dfuFile, flashWith, FLASH_START } from "./pyboard.mjs";

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

const PYB_124 = "MicroPython v1.24.1 on 2024-11-29; PYBv1.1 with STM32F405RG";
const PYB_125 = "MicroPython v1.25.0 on 2025-04-15; PYBv1.1 with STM32F405RG";

async function pyboardPage(name, board) {
  devices[name] = board;
  return openApp(browser.context, server.url,
    { ports: [{ bus: server.busUrl(name), url: server.wsUrl(name) }] },
    { usb: { buses: [server.usbUrl(name)] } });
}

async function verdict(page, version) {
  const field = page.locator('[data-field="micropython"]').filter({ hasText: version });
  try {
    await field.waitFor({ timeout: 60000 });
  } catch (e) {
    const status = await page.getByRole("status").innerText().catch(() => "?");
    await screenshot(page, `pyboard-verdict-timeout-${version}`);
    throw new Error(`no verdict for ${version}; status: ${status}; errors: ${page.errors}; console: ${(page.consoleLog || []).join(" / ")}`);
  }
  return field.innerText();
}

async function chooseDfu(page, data, name = "PYBV11-v1.25.0.dfu") {
  await page.getByLabel("Firmware file").setInputFiles({ name, mimeType: "application/octet-stream", buffer: data });
}

const usbLog = (page) => page.evaluate(() => globalThis.__usbLog || []);

test("a pyboard running MicroPython: machine.bootloader(), DFU over WebUSB, read back and compared, back on its port, hello", async () => {
  // Files live in sectors 1-4 (0x08004000-0x0801FFFF): a .dfu that does not cover them keeps them.
  const flash = flashWith(pyboardFirmware(PYB_124));
  Buffer.from("files!").copy(flash, 0x4000);
  const board = await Pyboard.create({ flash });
  const page = await pyboardPage("update", board);
  await page.getByRole("button", { name: "Connect" }).click();
  assert.match(await verdict(page, "v1.24.1"), /MicroPython v1\.24\.1 on PYBv1\.1 works/);
  assert.equal(await page.getByRole("button", { name: "Flash", exact: true }).count(), 0, "no ESP flash step for a pyboard");
  const firmware = pyboardFirmware(PYB_125, { seed: 7 });
  await chooseDfu(page, dfuFile(firmware));
  await page.locator('[data-field="dfu"]').filter({ hasText: "14 KB at 0x08000000, 160 KB at 0x08020000; MicroPython v1.25.0" }).waitFor();
  await page.getByRole("button", { name: "Install" }).click();
  const choose = page.getByRole("button", { name: "Choose the board in DFU mode" });
  await choose.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => (globalThis.__usbLog || []).includes("+STM32  BOOTLOADER"));
  await choose.click();
  assert.match(await verdict(page, "v1.25.0"), /MicroPython v1\.25\.0 on PYBv1\.1 works: it answered print\('hello'\) with hello/);
  await screenshot(page, "pyboard-updated");
  // Only the sectors the file covers were erased (0 and 5-6), the files' sectors kept.
  assert.ok(board.events.includes("left, 3 sectors erased"), board.events.join(", "));
  assert.equal(board.flash.subarray(0x4000, 0x4006).toString(), "files!");
  for (const { address, data } of firmware) {
    assert.ok(board.flash.subarray(address - FLASH_START, address - FLASH_START + data.length).equals(data));
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a .dfu for another board is refused before the pyboard leaves MicroPython, nothing written", async () => {
  const board = await Pyboard.create({ flash: flashWith(pyboardFirmware(PYB_124)) });
  const before = Buffer.from(board.flash);
  const page = await pyboardPage("wrong", board);
  await page.getByRole("button", { name: "Connect" }).click();
  await verdict(page, "v1.24.1");
  // A board with 2 MB of flash: its firmware goes past the F405's 1 MB.
  await chooseDfu(page, dfuFile([{ address: 0x08100000, data: Buffer.alloc(4096, 1) }]), "OTHER_BOARD.dfu");
  await page.getByRole("button", { name: "Install" }).click();
  const why = page.getByRole("list", { name: "Why the firmware was refused" });
  await why.waitFor();
  assert.match(await why.innerText(), /outside this board's flash: it is for another board/);
  assert.equal(await page.getByRole("button", { name: "Choose the board in DFU mode" }).count(), 0);
  assert.ok(!board.events.includes("dfu"), board.events.join(", "));
  assert.ok(board.flash.equals(before), "nothing written");
  // A file that is no .dfu at all is named for what it is.
  await chooseDfu(page, Buffer.concat([Buffer.from("DfuSe\x01"), Buffer.alloc(300)]), "broken.dfu");
  await page.locator('[data-field="dfu"]').filter({ hasText: "broken.dfu:" }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("the board unplugged mid-download: a clear message, and the next attempt installs and verifies", async () => {
  const board = await Pyboard.create({ flash: flashWith(pyboardFirmware(PYB_124)), unplugAfter: 60 * 1024 });
  const page = await pyboardPage("unplug", board);
  await page.getByRole("button", { name: "Connect" }).click();
  await verdict(page, "v1.24.1");
  await chooseDfu(page, dfuFile(pyboardFirmware(PYB_125, { seed: 9 })));
  await page.getByRole("button", { name: "Install" }).click();
  const choose = page.getByRole("button", { name: "Choose the board in DFU mode" });
  await choose.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => (globalThis.__usbLog || []).includes("+STM32  BOOTLOADER"));
  await choose.click();
  await page.getByRole("status").filter({ hasText: /disconnected during the install, so MicroPython is NOT verified/ }).waitFor({ timeout: 30000 });
  assert.ok(board.events.includes("unplugged"));
  // Plugged back in with the DFU jumper: the same button starts over, from a clean state.
  board.plugInDfu();
  await page.waitForFunction(() => (globalThis.__usbLog || []).filter((e) => e === "+STM32  BOOTLOADER").length === 2);
  await choose.click();
  assert.match(await verdict(page, "v1.25.0"), /MicroPython v1\.25\.0 on PYBv1\.1 works/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a pyboard without MicroPython: DFU jumper coaching, installed, its new port picked, hello", async () => {
  const board = await Pyboard.create({ dfu: true });
  const page = await pyboardPage("blank", board);
  await chooseDfu(page, dfuFile(pyboardFirmware(PYB_125)));
  await page.getByRole("button", { name: "Install" }).click();
  assert.match(await page.getByRole("status").innerText(), /connect its BOOT0 pin to 3\.3V/);
  await page.getByRole("button", { name: "Choose the board in DFU mode" }).click();
  // The serial port is new to this page: one click to allow it.
  const pick = page.getByRole("button", { name: "Pick your board's new port" });
  await pick.waitFor({ timeout: 30000 });
  await pick.click();
  assert.match(await verdict(page, "v1.25.0"), /MicroPython v1\.25\.0 on PYBv1\.1 works/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("WebUSB refusals say what to do: nothing chosen, no permission, claimed by another program", async () => {
  const firmware = dfuFile(pyboardFirmware(PYB_125));
  const cases = [
    [{ unplugged: true }, /not in DFU mode yet.*WinUSB driver/],
    [{ dfu: true, openError: "SecurityError" }, /udev rule.*0483:df11.*administrator to allow WebUSB/],
    [{ dfu: true, claimError: "NetworkError" }, /Another program is using the board \(dfu-util, STM32CubeProgrammer/],
  ];
  for (const [i, [options, message]] of cases.entries()) {
    // The first board is not plugged in (or not in DFU mode): the chooser is empty.
    const board = await Pyboard.create(options);
    const page = await pyboardPage(`refusal${i}`, board);
    await chooseDfu(page, firmware);
    await page.getByRole("button", { name: "Install" }).click();
    await page.getByRole("button", { name: "Choose the board in DFU mode" }).click();
    await page.getByRole("status").filter({ hasText: message }).waitFor({ timeout: 10000 });
    assert.equal(board.downloaded, 0, "nothing was written");
    await page.close();
  }
});

test("expert: a plain .bin written at the address the user typed, read back, hello", async () => {
  const board = await Pyboard.create({ flash: flashWith(pyboardFirmware(PYB_124)) });
  const page = await pyboardPage("expert", board);
  await page.getByRole("button", { name: "Connect" }).click();
  await verdict(page, "v1.24.1");
  const [, second] = pyboardFirmware(PYB_125, { seed: 11 });
  await chooseDfu(page, second.data, "firmware1.bin");
  await page.locator('[data-field="dfu"]').filter({ hasText: "a plain .bin" }).waitFor();
  const install = page.getByRole("button", { name: "Install" });
  assert.equal(await install.isDisabled(), true, "no address, no install");
  await page.getByText("Expert: write a plain .bin").click();
  await page.getByLabel("Start address (expert)").fill("0x08020000");
  await install.click();
  const choose = page.getByRole("button", { name: "Choose the board in DFU mode" });
  await choose.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => (globalThis.__usbLog || []).includes("+STM32  BOOTLOADER"));
  await choose.click();
  assert.match(await verdict(page, "v1.25.0"), /MicroPython v1\.25\.0 on PYBv1\.1 works/);
  // Only the two sectors under the .bin were erased; the first sector kept the old start.
  assert.ok(board.events.includes("left, 2 sectors erased"), board.events.join(", "));
  assert.ok(board.flash.subarray(0x20000, 0x20000 + second.data.length).equals(second.data));
  await page.close();
});

test("the demo pyboard: a simulated pyboard in the page, updated over its simulated DFU bootloader", async () => {
  const page = await openApp(browser.context, server.url, { ports: [] });
  await page.getByLabel("Demo chip").selectOption("pyboard");
  await page.getByRole("button", { name: "Demo board" }).click();
  assert.match(await verdict(page, "v1.24.1"), /MicroPython v1\.24\.1 on PYBv1\.1 works/);
  assert.match(await page.locator('[data-field="usb"]').innerText(), /Demo board/);
  await chooseDfu(page, dfuFile(pyboardFirmware(PYB_125)));
  await page.getByRole("button", { name: "Install" }).click();
  const choose = page.getByRole("button", { name: "Choose the board in DFU mode" });
  await choose.waitFor({ timeout: 20000 });
  await choose.click();
  assert.match(await verdict(page, "v1.25.0"), /MicroPython v1\.25\.0 on PYBv1\.1 works: it answered print\('hello'\) with hello/);
  await screenshot(page, "demo-pyboard");
  assert.deepEqual(page.errors, []);
  await page.close();
});
