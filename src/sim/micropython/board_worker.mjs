// The demo boards' MicroPython in the page: the shell (`board_shell.mjs`) around the official
// port, in a module worker so a running program never freezes the page. Its clock is the
// wall clock: `time.sleep` really waits. A worker cannot read messages while a program runs,
// so input waits until the program ends (as bytes wait in a UART's buffer) — except Ctrl-C,
// for which `board_client.js` replaces this worker (see there).
//
// In:  {start: {board, files, mounted, interrupted}}, then {input: Uint8Array}.
// Out: {out: [latin1 text], busy, done (a message handled), files?: [[path, Uint8Array | null]],
//      event?: "reset" | "bootloader"}.
import { loadMicroPython } from "./micropython-webassembly-pyscript/micropython.mjs";
import { BoardShell } from "./board_shell.mjs";

const PAUSE_US = 10_000;
const t0 = performance.now();
const nowUs = () => Math.floor((performance.now() - t0) * 1000);
const sleeper = typeof SharedArrayBuffer === "function" ? new Int32Array(new SharedArrayBuffer(4)) : null;
let shell = null;

/// Waits until the wall clock reaches `us` (blocking: a running program holds the worker).
function waitUntil(us) {
  for (;;) {
    const left = us - nowUs();
    if (left <= 0) return;
    if (sleeper) Atomics.wait(sleeper, 0, 0, left / 1000);
  }
}

/// Sends what the board printed (and its files, when they changed); `done`: a message from the
/// page has been handled.
function report(sh, { event = null, done = false } = {}) {
  const msg = { out: sh.takeOutput().map(([, text]) => text), busy: sh.busy, done };
  const files = sh.changedFiles();
  if (files) msg.files = files;
  if (event) msg.event = event;
  if (msg.out.length || files || event || done) postMessage(msg);
}

const hooks = {
  pause(sh) {
    report(sh);
    const until = Math.max(sh.clock, nowUs()) + PAUSE_US;
    waitUntil(until);
    sh.grant(until, []);
  },
  event(name, sh) {
    report(sh, { event: name });
    throw new Error(`the board restarts (${name})`);
  },
};

let queue = Promise.resolve();
onmessage = (e) => {
  queue = queue.then(async () => {
    const m = e.data;
    if (m.start) {
      shell = new BoardShell({ ...m.start, at: nowUs(), hooks, load: loadMicroPython });
      await shell.boot();
    } else if (m.input) {
      shell.grant(nowUs(), m.input);
    }
    await shell.drain();
    report(shell, { done: true });
  }).catch(() => {});
};
