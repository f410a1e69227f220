// The simulated board's MicroPython as a child process of the simulator (`esp-sim`, the
// native tests): the shell in `board_shell.mjs` around the official port, driven in lockstep over
// stdin/stdout, one JSON object per line.
//
// In:  first {"board": {...}, "files": [[path, base64 | null]], "mounted": "ok"|"blank"|"corrupt",
//      "at": µs}; then {"until": µs, "in": base64}: time granted up to `until`, and bytes
//      that arrived at the previous grant's end.
// Out: after the boot and after each grant, {"t": µs (the board's clock), "busy": bool,
//      "out": [[µs, base64]], "files"?: [[path, base64 | null]] (when they changed),
//      "event"?: "reset" | "bootloader" (then the process ends)}.
import fs from "node:fs";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import { BoardShell } from "./board_shell.mjs";

let buffered = Buffer.alloc(0);
function readJson() {
  for (;;) {
    const nl = buffered.indexOf(10);
    if (nl >= 0) {
      const line = buffered.subarray(0, nl).toString();
      buffered = buffered.subarray(nl + 1);
      return JSON.parse(line);
    }
    const chunk = Buffer.alloc(65536);
    let n;
    try {
      n = fs.readSync(0, chunk, 0, chunk.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") continue;
      if (e.code === "EOF") n = 0;
      else throw e;
    }
    if (n === 0) process.exit(0);
    buffered = Buffer.concat([buffered, chunk.subarray(0, n)]);
  }
}

function write(obj) {
  const line = Buffer.from(JSON.stringify(obj) + "\n");
  let off = 0;
  while (off < line.length) {
    try {
      off += fs.writeSync(1, line, off);
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
    }
  }
}

const b64 = (data) => Buffer.from(data).toString("base64");

function reply(shell, event) {
  const msg = {
    t: shell.clock,
    busy: shell.busy,
    out: shell.takeOutput().map(([t, text]) => [t, Buffer.from(text, "latin1").toString("base64")]),
  };
  const files = shell.changedFiles();
  if (files) msg.files = files.map(([p, d]) => [p, d === null ? null : b64(d)]);
  if (event) msg.event = event;
  write(msg);
}

function grant(shell) {
  const cmd = readJson();
  shell.grant(cmd.until, Buffer.from(cmd.in || "", "base64"));
}

const cfg = readJson();
const files = cfg.files.map(([p, d]) => [p, d === null ? null : new Uint8Array(Buffer.from(d, "base64"))]);
const shell = new BoardShell({
  load: loadMicroPython,
  board: cfg.board,
  files,
  mounted: cfg.mounted,
  at: cfg.at,
  quiet: cfg.quiet,
  hooks: {
    pause: (sh) => {
      reply(sh);
      grant(sh);
    },
    event: (name, sh) => {
      reply(sh, name);
      process.exit(0);
    },
  },
});
await shell.boot();
await shell.drain();
reply(shell);
for (;;) {
  grant(shell);
  await shell.drain();
  reply(shell);
}
