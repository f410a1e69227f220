// A simulated pyboard (STM32F405) for the browser tests. Running MicroPython, it is a serial
// port F055:9800 (fake-serial.js, `bus`) whose REPL is the official MicroPython WebAssembly port
// (wasm-board.mjs, with the banner its flash holds and a `machine` module). After
// `machine.bootloader()` it is ST's DFU bootloader 0483:DF11 on a fake WebUSB bus
// (fake-usb.js), served by webflash's simulated STM32 bootloader (`src/sim/stm32_dfu.rs`, from
// the demo module), strict as the chip is. When the host leaves DFU, the board restarts into
// what its flash now holds.
import zlib from "node:zlib";
import { WasmBoard } from "./wasm-board.mjs";
import { romModule } from "./pico.mjs";
import { UsbSerialBoard } from "./usb-board.mjs";

export const FLASH_START = 0x08000000;
const SERIAL = "306A38623034";
const LAYOUT = "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg";

/// A pyboard firmware image as MicroPython's PYBV11 build lays it out: the vector table and
/// early code in the first 16 KiB sector, the rest from 0x08020000 (sectors 1–4 hold the
/// filesystem). Returns its elements [{address, data}]; `banner` is in the second.
export function pyboardFirmware(banner, { seed = 1, size = 160 * 1024 } = {}) {
  const fill = (n, s) => {
    const b = Buffer.alloc(n);
    let x = s * 2654435761 >>> 0;
    for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
    return b;
  };
  const first = fill(14 * 1024, seed);
  const second = fill(size, seed + 1);
  Buffer.from(banner + "\0").copy(second, 4096);
  return [{ address: FLASH_START, data: first }, { address: FLASH_START + 0x20000, data: second }];
}

/// A DfuSe file (UM0391: prefix, one target "ST...", elements, suffix with CRC) of `elements`,
/// written here independently of the product's `.dfu` code.
export function dfuFile(elements, { vendor = 0x0483, product = 0xdf11 } = {}) {
  const els = elements.map(({ address, data }) => {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(address, 0);
    h.writeUInt32LE(data.length, 4);
    return Buffer.concat([h, data]);
  });
  const body = Buffer.concat(els);
  const target = Buffer.alloc(274);
  target.write("Target", 0, "latin1");
  target.writeUInt8(0, 6);
  target.writeUInt32LE(1, 7);
  target.write("ST...", 11, "latin1");
  target.writeUInt32LE(body.length, 266);
  target.writeUInt32LE(elements.length, 270);
  const prefix = Buffer.alloc(11);
  prefix.write("DfuSe", 0, "latin1");
  prefix.writeUInt8(1, 5);
  prefix.writeUInt32LE(11 + target.length + body.length, 6);
  prefix.writeUInt8(1, 10);
  const suffix = Buffer.alloc(16);
  suffix.writeUInt16LE(0xffff, 0);
  suffix.writeUInt16LE(product, 2);
  suffix.writeUInt16LE(vendor, 4);
  suffix.writeUInt16LE(0x011a, 6);
  suffix.write("UFD", 8, "latin1");
  suffix.writeUInt8(16, 11);
  const all = Buffer.concat([prefix, target, body, suffix]);
  all.writeUInt32LE((~zlib.crc32(all.subarray(0, all.length - 4))) >>> 0, all.length - 4);
  return all;
}

/// The flash (1 MiB from 0x08000000) holding `elements`, the rest erased.
export function flashWith(elements) {
  const flash = Buffer.alloc(1 << 20, 0xff);
  for (const { address, data } of elements) data.copy(flash, address - FLASH_START);
  return flash;
}

export class Pyboard extends UsbSerialBoard {
  /// `flash`: its contents from 0x08000000 (erased when absent); `dfu`: it starts in its
  /// DFU bootloader (the jumper set); `unplugAfter`: the cable is pulled once this many bytes of
  /// firmware have been downloaded (once); `openError` / `claimError`: the DOMException name
  /// WebUSB's open() / claimInterface() fail with (a platform that refuses the device).
  /// `unplugged`: not connected at all.
  static async create({ flash = Buffer.alloc(1 << 20, 0xff), dfu = false, unplugged = false, unplugAfter = null, openError, claimError } = {}) {
    const m = await romModule();
    const board = new Pyboard(m, flash);
    Object.assign(board, { unplugAfter, openError, claimError });
    if (unplugged) board.#announce();
    else if (dfu) board.#toDfu();
    else board.#toMicroPython();
    return board;
  }

  constructor(m, flash) {
    super();
    this.m = m;
    this.flash = flash;
    this.usbs = new Set();
    this.dfu = null;
    this.serialIds = { usbVendorId: 0xf055, usbProductId: 0x9800, serialNumber: SERIAL };
    this.downloaded = 0;
    this.t0 = performance.now();
  }

  /// The banner its flash holds (as the DFU simulator reads it).
  banner() {
    const dfu = new this.m.DemoDfu(this.flash);
    const banner = dfu.banner();
    dfu.free();
    return banner;
  }

  /// The fake WebUSB bus: presence out, control transfers in.
  attachUsb(ws) {
    this.usbs.add(ws);
    ws.send(this.#usbMessage());
    ws.on("close", () => this.usbs.delete(ws));
    ws.on("message", (data) => {
      const req = JSON.parse(data.toString());
      ws.send(JSON.stringify({ id: req.id, ...this.#transfer(req) }));
    });
  }

  #transfer(req) {
    if (this.state !== "dfu") return { status: "disconnected" };
    const now = performance.now() - this.t0;
    try {
      if (req.dir === "out") {
        // DNLOAD data blocks (wValue ≥ 2) are firmware bytes.
        if (req.request === 1 && req.value >= 2) {
          this.downloaded += req.data.length;
          if (this.unplugAfter !== null && this.downloaded >= this.unplugAfter) {
            this.unplugAfter = null;
            this.events.push("unplugged");
            this.flash = Buffer.from(this.dfu.flash(1 << 20));
            this.state = "off";
            this.#announce();
            return { status: "disconnected" };
          }
        }
        this.dfu.control_out(now, req.requestType, req.request, req.value, req.index, Uint8Array.from(req.data));
        return { status: "ok" };
      }
      const data = this.dfu.control_in(now, req.requestType, req.request, req.value, req.index, req.length);
      if (this.dfu.left()) setTimeout(() => this.#leave(), 0);
      return { status: "ok", data: [...data] };
    } catch (e) {
      return { status: String(e.message) === "disconnected" ? "disconnected" : "stall" };
    } finally {
      if (this.dfu?.left() && this.state === "dfu") setTimeout(() => this.#leave(), 0);
    }
  }

  /// Plugged back in with the DFU jumper set (after an unplug).
  plugInDfu() {
    this.#toDfu();
  }

  #usbMessage() {
    return JSON.stringify(this.state === "dfu"
      ? { type: "usb", present: true, vendorId: 0x0483, productId: 0xdf11, productName: "STM32  BOOTLOADER",
          serialNumber: SERIAL, interfaceName: LAYOUT, interfaceClass: 0xfe, interfaceSubclass: 1, interfaceProtocol: 2,
          openError: this.openError, claimError: this.claimError }
      : { type: "usb", present: false });
  }

  #announce() {
    this.announceSerial();
    const usb = this.#usbMessage();
    if (usb !== this.lastUsb) for (const ws of this.usbs) ws.send(usb);
    this.lastUsb = usb;
  }

  #toMicroPython() {
    this.state = "micropython";
    const banner = this.banner();
    this.board = new WasmBoard({ banner, machine: { bootloader: () => setTimeout(() => this.#bootloader(), 0) } });
    this.events.push(`micropython ${banner}`);
    this.#announce();
  }

  #toDfu() {
    this.state = "dfu";
    this.dfu = new this.m.DemoDfu(this.flash);
    this.events.push("dfu");
    this.#announce();
  }

  /// machine.bootloader(): the serial port goes, and after re-enumeration the DFU device.
  #bootloader() {
    this.dropSerial();
    this.state = "off";
    this.#announce();
    setTimeout(() => this.#toDfu(), 300);
  }

  /// The host left DFU: the board restarts into its new firmware.
  #leave() {
    if (this.state !== "dfu") return;
    this.flash = Buffer.from(this.dfu.flash(1 << 20));
    this.events.push(`left, ${this.dfu.erases()} sectors erased`);
    this.state = "off";
    this.#announce();
    setTimeout(() => this.#toMicroPython(), 300);
  }
}
