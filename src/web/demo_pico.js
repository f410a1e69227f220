// The demo Pico: a simulated Raspberry Pi Pico (the `DemoPico` of the demo module) as the page
// sees a real one: while MicroPython runs, a Web Serial port (USB 2E8A:0005, a new port object
// after each reboot, as in Chromium); in BOOTSEL mode, a drive shaped like the File System
// Access API's directory handle, whose written sectors reach the simulated boot ROM.
import { loadDemo } from './modules.js';
import { DemoPort } from './demo_port.js';

let pico = null;
let port = null;

export async function openDemoPico() {
  const m = await loadDemo();
  pico = new m.DemoPico('v1.24.1');
  port = null;
  return demoPicoPort();
}

/// The Pico's serial port while MicroPython runs, else null.
export function demoPicoPort() {
  if (!pico || pico.state() !== 'micropython') return null;
  if (!port || !port.alive()) {
    const board = pico;
    let gone = false;
    port = new DemoPort(board, { usbVendorId: 0x2e8a, usbProductId: 0x0005 }, () => {
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
