// A simulated Raspberry Pi Pico (RP2040) or Pico 2 (RP2350) for the browser tests, on the test
// side of the fake Web Serial port (fake-serial.js, `bus`) and the fake File System Access drive
// (fake-fs.js). Running MicroPython, it is a serial port 2E8A:0005 whose REPL is the official
// MicroPython WebAssembly port (wasm-board.mjs, as a Pico: banner from its flash, a `machine`
// module). In BOOTSEL mode it is a drive whose boot ROM is webflash's simulated one
// (`src/sim/rp2.rs`, loaded from the demo module): sectors written to the drive are taken as
// the ROM takes them, and when a transfer completes the Pico reboots, into MicroPython when the
// flash holds a bootable image, else back into BOOTSEL.
import fs from "node:fs";
import path from "node:path";
import { dist } from "./harness.mjs";
import { WasmBoard } from "./wasm-board.mjs";
import { UsbSerialBoard } from "./usb-board.mjs";

let rom = null;
/// The demo module's exports (its Rp2Drive is the simulated boot ROM), loaded once.
export async function romModule() {
  if (!rom) {
    rom = await import(path.join(dist, "demo", "webflash-demo.js"));
    rom.initSync({ module: fs.readFileSync(path.join(dist, "demo", "webflash-demo_bg.wasm")) });
  }
  return rom;
}

const PICO_SERIAL = "E6613852834A202C";

export class Pico extends UsbSerialBoard {
  /// `flash`: what the flash holds (bytes from 0x10000000); `bootsel`: start in BOOTSEL mode.
  static async create({ chip = "rp2040", flash = new Uint8Array(0), bootsel = false } = {}) {
    const m = await romModule();
    const pico = new Pico(new m.Rp2Drive(chip, chip === "rp2350" ? 4 << 20 : 2 << 20, flash));
    if (bootsel || !pico.drive.boots_flash()) pico.#toBootsel();
    else pico.#toMicroPython();
    return pico;
  }

  constructor(drive) {
    super();
    this.drive = drive;
    this.drives = new Set();
    this.usbs = new Set();
    this.t0 = performance.now();
    /// Bytes of PICOBOOT data after which the cable is pulled (once), or null.
    this.unplugAfter = null;
    this.picobootBytes = 0;
    this.sectors = 0;
    this.serialIds = { usbVendorId: 0x2e8a, usbProductId: 0x0005, serialNumber: PICO_SERIAL };
  }

  /// The fake WebUSB bus (fake-usb.js): the BOOTSEL mode's USB device, whose PICOBOOT
  /// interface is the simulated ROM's (`src/sim/picoboot.rs`, sharing the drive's flash).
  attachUsb(ws) {
    this.usbs.add(ws);
    ws.send(this.#usbDevice());
    ws.on("close", () => this.usbs.delete(ws));
    ws.on("message", (data) => {
      const req = JSON.parse(data.toString());
      const reply = JSON.stringify({ id: req.id, ...this.#picoboot(req) });
      // `slowWrites`: milliseconds each bulk write takes (a slow link, so a test can cancel).
      if (this.slowWrites && req.dir === "bulk_out") setTimeout(() => ws.send(reply), this.slowWrites);
      else ws.send(reply);
    });
  }

  #picoboot(req) {
    if (this.state !== "bootsel") return { status: "disconnected" };
    const now = performance.now() - this.t0;
    try {
      let data = [];
      if (req.dir === "bulk_out") {
        if (this.unplugAfter !== null && (this.picobootBytes += req.data.length) >= this.unplugAfter) {
          this.unplugAfter = null;
          this.events.push("unplugged");
          this.drive.picoboot_unplug();
          this.state = "off";
          this.#announce();
          return { status: "disconnected" };
        }
        this.drive.picoboot_out(now, req.endpoint, Uint8Array.from(req.data));
      } else if (req.dir === "bulk_in") {
        data = [...this.drive.picoboot_in(now, req.endpoint, req.length)];
      } else if (req.dir === "clear_halt") {
        this.drive.picoboot_clear_halt(req.in, req.endpoint);
      } else {
        data = [...this.drive.picoboot_control(now, req.requestType, req.request, req.value, req.index, req.length || 0)];
      }
      // The ROM's clock includes modeled flash times the fake does not wait out: the reboot
      // comes its delay after the command, on the test's clock.
      const wait = this.drive.picoboot_reboot_in_ms();
      if (wait !== undefined && !this.rebootScheduled) {
        this.rebootScheduled = true;
        this.events.push("picoboot reboot");
        setTimeout(() => { this.rebootScheduled = false; this.#reboot(); }, wait);
      }
      return { status: "ok", data };
    } catch (e) {
      return { status: String(e.message) === "disconnected" ? "disconnected" : "stall" };
    }
  }

  /// Plugged back in while BOOTSEL is held (after an unplug).
  plugInBootsel() {
    this.#toBootsel();
  }

  #usbDevice() {
    return JSON.stringify(this.state === "bootsel"
      ? { type: "usb", present: true, vendorId: 0x2e8a, productId: this.drive.label() === "RP2350" ? 0x000f : 0x0003,
          productName: this.drive.label() === "RP2350" ? "RP2350 Boot" : "RP2 Boot", claimError: this.claimError,
          interfaces: [
            { number: 0, class: 0x08, subclass: 0x06, protocol: 0x50, endpoints: [{ endpointNumber: 1, direction: "in" }, { endpointNumber: 2, direction: "out" }] },
            { number: 1, class: 0xff, subclass: 0, protocol: 0, endpoints: [{ endpointNumber: 3, direction: "out" }, { endpointNumber: 4, direction: "in" }] },
          ] }
      : { type: "usb", present: false });
  }

  /// The fake File System Access drive's link: presence and files out, written sectors in.
  attachDrive(ws) {
    this.drives.add(ws);
    ws.send(this.#driveMessage());
    ws.on("close", () => this.drives.delete(ws));
    ws.on("message", (data, isBinary) => {
      if (!isBinary || this.state !== "bootsel") return;
      const sector = new Uint8Array(data);
      this.sectors += 1;
      if (this.drive.write_sector(sector) === "complete") {
        this.events.push("complete");
        setTimeout(() => this.#reboot(), this.drive.reboot_ms());
      }
    });
  }

  #driveMessage() {
    return JSON.stringify(this.state === "bootsel"
      ? { type: "drive", present: true, label: this.drive.label(),
          files: { "INFO_UF2.TXT": this.drive.info_uf2(), "INDEX.HTM": this.drive.index_htm() } }
      : { type: "drive", present: false });
  }

  /// Tells the page's fakes what changed (the USB serial device, the drive).
  #announce() {
    this.announceSerial();
    const usb = this.#usbDevice();
    if (usb !== this.lastUsb) for (const ws of this.usbs) ws.send(usb);
    this.lastUsb = usb;
    const drive = this.#driveMessage();
    if (drive !== this.lastDrive) for (const ws of this.drives) ws.send(drive);
    this.lastDrive = drive;
  }

  #toMicroPython() {
    this.state = "micropython";
    this.board = new WasmBoard({
      banner: this.drive.banner(),
      machine: { bootloader: () => setTimeout(() => this.#bootloader(), 0) },
    });
    this.events.push(`micropython ${this.drive.banner()}`);
    this.#announce();
  }

  #toBootsel() {
    this.state = "bootsel";
    this.drive.picoboot_reconnect();
    this.events.push("bootsel");
    this.#announce();
  }

  /// machine.bootloader(): the serial port goes, and after the USB re-enumeration the drive.
  #bootloader() {
    this.dropSerial();
    this.state = "off";
    this.#announce();
    setTimeout(() => this.#toBootsel(), 300);
  }

  #reboot() {
    this.state = "off";
    this.#announce();
    setTimeout(() => (this.drive.boots_flash() ? this.#toMicroPython() : this.#toBootsel()), 300);
  }
}

/// A UF2 of a bootable Pico image holding `banner` (uf2conv's layout: 256-byte blocks).
export async function picoUf2(banner, { chip = "rp2040", len = 64 * 1024, family } = {}) {
  const m = await romModule();
  const image = m.rp2_image(chip, banner, len);
  const fam = family ?? (chip === "rp2350" ? 0xe48bff59 : 0xe48bff56);
  const blocks = Math.ceil(image.length / 256);
  const out = Buffer.alloc(blocks * 512);
  for (let i = 0; i < blocks; i++) {
    const b = out.subarray(i * 512, i * 512 + 512);
    b.writeUInt32LE(0x0a324655, 0);
    b.writeUInt32LE(0x9e5d5157, 4);
    b.writeUInt32LE(0x2000, 8);
    b.writeUInt32LE(0x10000000 + i * 256, 12);
    b.writeUInt32LE(256, 16);
    b.writeUInt32LE(i, 20);
    b.writeUInt32LE(blocks, 24);
    b.writeUInt32LE(fam, 28);
    Buffer.from(image.subarray(i * 256, i * 256 + 256)).copy(b, 32);
    b.writeUInt32LE(0x0ab16f30, 508);
  }
  return out;
}

/// The flash contents a Pico running MicroPython `banner` holds.
export async function picoFlash(banner, chip = "rp2040") {
  const m = await romModule();
  return m.rp2_image(chip, banner, 64 * 1024);
}
