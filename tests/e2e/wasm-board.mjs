// The official MicroPython WebAssembly REPL (npm @micropython/micropython-webassembly-pyscript,
// pinned) as the device behind the fake serial port. This wrapper plays the board around it:
// a reset (RTS pulse) restarts the interpreter and prints its banner. Its known differences
// from a board are handled here, not in the product: it has no raw-paste (the request is
// answered as pre-raw-paste firmware answers it) and soft reset only returns a code.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

export class WasmBoard {
  constructor() {
    this.ws = null;
    this.rts = false;
    this.mp = null;
    this.queue = Promise.resolve();
    this.raw = false;
    this.held = [];
  }

  async boot() {
    this.mp = await loadMicroPython({ stdout: (bytes) => this.#out(bytes), linebuffer: false });
    this.mp.replInit();
  }

  #out(bytes) {
    const text = Buffer.from(bytes);
    // The port calls stdout once per byte: look for mode changes in a rolling tail.
    this.tail = ((this.tail || "") + text.toString("latin1")).slice(-64);
    if (this.tail.endsWith("raw REPL; CTRL-B to exit\r\n>")) this.raw = true;
    if (this.tail.endsWith(">>> ")) this.raw = false;
    if (this.ws) this.ws.send(text, { binary: true });
  }

  attach(ws) {
    this.ws = ws;
    ws.on("message", (data, isBinary) => {
      if (!isBinary) {
        const ev = JSON.parse(data.toString());
        if (ev.type === "signals") {
          // Reset released: the board restarts.
          if (this.rts && !ev.rts) this.queue = this.queue.then(() => this.boot());
          this.rts = ev.rts;
        }
        return;
      }
      const bytes = [...Buffer.from(data)];
      this.queue = this.queue.then(() => this.#feed(bytes));
    });
    ws.on("close", () => { if (this.ws === ws) this.ws = null; });
  }

  async #feed(bytes) {
    if (!this.mp) await this.boot();
    for (const b of bytes) {
      // Raw-paste request \x05 A \x01 in raw mode: this port would hang on it, so answer as
      // firmware without raw-paste does (Ctrl-A alone re-prints the raw banner).
      if (this.raw && (this.held.length > 0 || b === 0x05)) {
        this.held.push(b);
        const h = this.held;
        if ((h.length === 1 && h[0] === 0x05) || (h.length === 2 && h[1] === 0x41)) continue;
        this.held = [];
        if (h.length === 3 && h[2] === 0x01) {
          await this.#char(0x01);
          continue;
        }
        for (const x of h) await this.#char(x);
        continue;
      }
      await this.#char(b);
    }
  }

  async #char(b) {
    const ret = await this.mp.replProcessCharWithAsyncify(b);
    if (ret === 256) {
      // Soft reset: the port only reports it; print what a board prints and restart the REPL.
      this.#out(Buffer.from("MPY: soft reboot\r\n"));
      this.mp.replInit();
    }
  }
}
