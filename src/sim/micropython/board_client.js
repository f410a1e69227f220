// The page's side of a demo board's MicroPython (`board_worker.mjs`, served next to the page).
// `WorkerEngine` (worker.rs) hands it input and collects what the board printed. The demo's
// loaders import this file when a demo board starts (it is not part of the page before that).
//
// A worker cannot be interrupted while its program runs. When Ctrl-C gets no answer within
// INTERRUPT_MS, this client replaces the worker by a fresh MicroPython with the board's files
// (the shell says so on the console): the one place the demo differs from a board, which
// keeps its variables.
const INTERRUPT_MS = 400;

export class WorkerBoard {
  constructor(config) {
    this.config = JSON.parse(config);
    this.files = this.config.files.map(([p, d]) => [p, d === null ? null : base64Bytes(d)]);
    this.out = [];
    this.event = null;
    this.newFiles = null;
    this.busy = true;
    this.interruptAt = null;
    this.#spawn(false);
  }

  #spawn(interrupted) {
    this.worker?.terminate();
    this.worker = new Worker(new URL("board_worker.mjs", document.baseURI), { type: "module" });
    this.worker.onmessage = (e) => this.#heard(e.data);
    const { board, mounted, quiet } = this.config;
    this.worker.postMessage({ start: { board, files: this.files, mounted, interrupted, quiet: quiet && !interrupted } });
    this.outstanding = 1;
    this.busy = true;
    this.interruptAt = null;
  }

  #heard(msg) {
    this.out.push(...msg.out);
    if (msg.done) this.outstanding--;
    this.busy = msg.busy;
    if (!msg.busy) this.interruptAt = null;
    if (msg.files) {
      this.files = msg.files;
      this.newFiles = msg.files;
    }
    if (msg.event) {
      this.event = msg.event;
      this.worker.terminate();
    }
  }

  /// Input at `nowUs`; returns what arrived since the last call (the shell's reply format).
  grant(nowUs, input) {
    if (input.length && !this.event) {
      if (input.includes(3) && this.busy) this.interruptAt ??= performance.now();
      this.worker.postMessage({ input: new Uint8Array(input) });
      this.outstanding++;
    }
    if (this.interruptAt !== null && performance.now() - this.interruptAt > INTERRUPT_MS) {
      this.config.mounted = "ok";
      this.#spawn(true);
    }
    // Busy while the worker has messages to handle: what it prints must still be collected.
    const busy = !this.event && (this.busy || this.outstanding > 0);
    const reply = { t: nowUs, busy, out: [] };
    if (this.out.length) reply.out.push([nowUs, latin1Base64(this.out.join(""))]);
    this.out = [];
    if (this.newFiles) {
      reply.files = this.newFiles.map(([p, d]) => [p, d === null ? null : bytesBase64(d)]);
      this.newFiles = null;
    }
    if (this.event) reply.event = this.event;
    return JSON.stringify(reply);
  }

  stop() {
    this.worker.terminate();
  }
}

function base64Bytes(text) {
  const s = atob(text);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

function bytesBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

const latin1Base64 = (text) => btoa(text);

// For the demo module's engine (src/sim/micropython/worker.rs), which finds the class here.
globalThis.WebflashWorkerBoard = WorkerBoard;
