// The official MicroPython WebAssembly REPL (npm @micropython/micropython-webassembly-pyscript,
// pinned) as the device behind the fake serial port. This wrapper plays the board around it:
// a reset (RTS pulse) restarts the interpreter and prints its banner. Its known differences
// from a board are handled here, not in the product: it has no raw-paste (the request is
// answered as pre-raw-paste firmware answers it) and soft reset only returns a code.
//
// As another board (`banner`, `machine`): the banner names that board; a small `machine`
// module stands in for the one the port lacks (Pin, bootloader, reset, unique_id, freq); a
// soft reset runs main.py before the prompt, as a board does.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const WASM_BANNER = /MicroPython v[^;\r\n]+; JS with Emscripten/;

/// The `machine` module a board has, for the port that has none; `js_board` is the wrapper.
const MACHINE_SHIM = `
import sys, js_board
class _Pin:
    OUT = 1
    IN = 0
    def __init__(self, id, mode=-1, value=None):
        self._v = 0
    def on(self): self._v = 1
    def off(self): self._v = 0
    def toggle(self): self._v ^= 1
    def value(self, v=None):
        if v is None: return self._v
        self._v = 1 if v else 0
class _Machine:
    Pin = _Pin
    def bootloader(self): js_board.bootloader()
    def reset(self): js_board.reset()
    def unique_id(self): return b'\\xe6\\x61\\x38\\x52\\x83\\x4a\\x20\\x2c'
    def freq(self): return 125000000
sys.modules['machine'] = _Machine()
del _Pin, _Machine
`;

export class WasmBoard {
  /// `banner`: the banner line to show instead of the port's own; `machine`: callbacks of the
  /// machine module ({ bootloader, reset }) for a board that has one.
  /// `without`: modules this board's firmware lacks (e.g. ["binascii", "hashlib"]): importing
  /// them fails, as on a build without them.
  constructor({ banner = null, machine = null, without = [] } = {}) {
    this.without = without;
    this.ws = null;
    this.rts = false;
    this.mp = null;
    this.queue = Promise.resolve();
    this.raw = false;
    this.held = [];
    this.banner = banner;
    this.machine = machine;
    this.capture = null;
  }

  async boot() {
    this.mp = await loadMicroPython({ stdout: (bytes) => this.#out(bytes), linebuffer: false });
    if (this.machine) {
      this.mp.registerJsModule("js_board", {
        bootloader: () => this.machine.bootloader(),
        reset: () => this.machine.reset?.(),
      });
      this.mp.runPython(MACHINE_SHIM);
    }
    if (this.without.length) {
      this.mp.runPython(`import sys\n${this.without.map((m) => `sys.modules['${m}'] = None`).join("\n")}`);
    }
    this.#greet();
  }

  /// The REPL's banner and prompt, naming the board this one plays.
  #greet() {
    this.#captured(() => this.mp.replInit());
  }

  /// Runs `f`, sending what it printed with the port's banner replaced by the board's (the
  /// port prints a whole banner within one call: replInit, or Ctrl-B at the raw prompt).
  async #captured(f) {
    this.capture = [];
    let ret;
    try {
      ret = await f();
    } finally {
      let text = Buffer.concat(this.capture).toString("latin1");
      this.capture = null;
      if (this.banner) text = text.replace(WASM_BANNER, this.banner);
      if (text) this.#send(Buffer.from(text, "latin1"));
    }
    return ret;
  }

  #out(bytes) {
    const text = Buffer.from(bytes);
    if (this.capture) {
      this.capture.push(text);
      return;
    }
    this.#send(text);
  }

  #send(text) {
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
    const ret = await this.#captured(() => this.mp.replProcessCharWithAsyncify(b));
    if (ret === 256) {
      // Soft reset: the port only reports it; print what a board prints, run main.py as a
      // board does from the friendly REPL, and restart the REPL.
      this.#out(Buffer.from("MPY: soft reboot\r\n"));
      if (this.machine && !this.raw) {
        try {
          this.mp.runPython("import os\nif 'main.py' in os.listdir():\n exec(open('main.py').read())");
        } catch (e) {
          this.#out(Buffer.from(`${String(e.message || e).replace(/\n/g, "\r\n")}\r\n`));
        }
      }
      this.#greet();
    }
  }
}
