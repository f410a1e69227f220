// The demo Pico and the demo pyboard: a simulated Raspberry Pi Pico (`DemoPico` of the demo
// module) or pyboard (`DemoPyboard`) as the page sees a real one: while MicroPython runs, a Web
// Serial port (USB 2E8A:0005 / F055:9800, a new port object after each reboot, as in Chromium);
// the Pico in BOOTSEL mode, a drive shaped like the File System Access API's directory handle,
// whose written sectors reach the simulated boot ROM; the pyboard in DFU mode, a device shaped
// like WebUSB's `USBDevice`, whose control transfers reach the simulated STM32 bootloader.
import { loadDemo, DemoPort } from './demo_port.js';
export { openDemoPort } from './demo_port.js';

let pico = null;
let port = null;
let ids = { usbVendorId: 0x2e8a, usbProductId: 0x0005 };
let usb = null;

export async function openDemoPico() {
  const m = await loadDemo();
  pico = new m.DemoPico('v1.24.1');
  ids = { usbVendorId: 0x2e8a, usbProductId: 0x0005 };
  port = null;
  return demoPicoPort();
}

export async function openDemoPyboard() {
  const m = await loadDemo();
  pico = new m.DemoPyboard('v1.24.1');
  ids = { usbVendorId: 0xf055, usbProductId: 0x9800 };
  port = null;
  return demoPicoPort();
}

const TYPES = { standard: 0, class: 1, vendor: 2 };
const RECIPIENTS = { device: 0, interface: 1, endpoint: 2, other: 3 };
const unplugged = () => new DOMException('The device was disconnected.', 'NotFoundError');

/// The demo pyboard's DFU bootloader as a WebUSB `USBDevice` while it is in DFU mode, else null
/// (a new object each time it appears).
export function demoUsbDevice() {
  if (!pico || !pico.dfu_layout || pico.state() !== 'dfu') {
    usb = null;
    return null;
  }
  if (usb) return usb;
  const board = pico;
  const alternate = { alternateSetting: 0, interfaceClass: 0xfe, interfaceSubclass: 1, interfaceProtocol: 2, interfaceName: board.dfu_layout(), endpoints: [] };
  const configuration = { configurationValue: 1, interfaces: [{ interfaceNumber: 0, alternate, alternates: [alternate], claimed: false }] };
  const live = () => { if (board.state() !== 'dfu') throw unplugged(); };
  const requestType = (setup) => (TYPES[setup.requestType] << 5) | RECIPIENTS[setup.recipient];
  const status = (f) => {
    try {
      return f();
    } catch (e) {
      if (String(e.message) === 'disconnected') throw unplugged();
      return null;
    }
  };
  usb = {
    vendorId: 0x0483, productId: 0xdf11, productName: 'STM32  BOOTLOADER', opened: false, configuration,
    async open() { live(); this.opened = true; },
    async close() { this.opened = false; },
    async selectConfiguration() { live(); },
    async claimInterface() { live(); },
    async selectAlternateInterface() { live(); },
    async controlTransferOut(setup, data) {
      live();
      const bytes = new Uint8Array(data.buffer ?? data, data.byteOffset ?? 0, data.byteLength);
      const ok = status(() => { board.control_out(requestType(setup), setup.request, setup.value, setup.index, bytes); return true; });
      return ok ? { status: 'ok', bytesWritten: bytes.length } : { status: 'stall', bytesWritten: 0 };
    },
    async controlTransferIn(setup, length) {
      live();
      const data = status(() => board.control_in(requestType(setup) | 0x80, setup.request, setup.value, setup.index, length));
      return data ? { status: 'ok', data: new DataView(data.buffer, data.byteOffset, data.byteLength) } : { status: 'stall' };
    },
  };
  return usb;
}

/// The Pico's serial port while MicroPython runs, else null.
export function demoPicoPort() {
  if (!pico || pico.state() !== 'micropython') return null;
  if (!port || !port.alive()) {
    const board = pico;
    let gone = false;
    port = new DemoPort(board, ids, () => {
      gone = gone || board.state() !== 'micropython';
      return !gone;
    });
  }
  return port;
}

const lost = () => new DOMException('A requested file or directory could not be found at the time an operation was processed.', 'NotFoundError');

/// The BOOTSEL drive while the Pico is in BOOTSEL mode, else null.
export function demoPicoDrive() {
  if (!pico || pico.state() !== 'bootsel') return null;
  const board = pico;
  const [infoName, info, indexName, index] = board.drive_files();
  const files = { [infoName]: info, [indexName]: index };
  const file = (name) => ({
    kind: 'file',
    name,
    async getFile() { return new File([files[name] ?? ''], name); },
    async createWritable() {
      const data = [];
      let sent = 0;
      const flush = () => {
        while (data.length - sent >= 512) {
          if (board.state() === 'bootsel') board.write_sector(new Uint8Array(data.slice(sent, sent + 512)));
          sent += 512;
        }
      };
      return {
        async write(arg) {
          const chunk = arg && arg.data !== undefined ? arg.data : arg;
          const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
          const at = arg && arg.position !== undefined ? arg.position : data.length;
          for (let i = 0; i < bytes.length; i++) data[at + i] = bytes[i];
          flush();
        },
        async close() {
          await new Promise((r) => setTimeout(r, 50));
          if (board.state() !== 'bootsel') throw lost();
        },
        async abort() {},
      };
    },
  });
  return {
    kind: 'directory',
    name: board.drive_label(),
    async getFileHandle(name, options = {}) {
      if (board.state() !== 'bootsel') throw lost();
      const known = Object.keys(files).find((f) => f.toLowerCase() === name.toLowerCase());
      if (known) return file(known);
      if (!options.create) throw lost();
      files[name] = '';
      return file(name);
    },
  };
}
