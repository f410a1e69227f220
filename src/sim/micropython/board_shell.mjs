// The board around the official MicroPython WebAssembly port (npm
// @micropython/micropython-webassembly-pyscript, pinned; its `loadMicroPython` is handed in,
// as Node and the page load it from different places): what the simulated board runs once
// its flash boots MicroPython, under `esp-sim` (board_node.mjs) and in the page's demo
// boards (board_worker.mjs). The Python is the real one; this shell plays the parts of a
// board the port does not have, and this file is the one place that says what they are:
//
// - Identity: the banner, `sys.platform`, `sys.implementation`, `os.uname()` and a small
//   `machine` module (Pin, reset, bootloader, soft_reset, unique_id, freq, reset_cause, idle)
//   name the board the flash holds (its version, board and MCU, from the simulator).
// - Boot: as the ESP ports' `_boot.py`/`inisetup.py` do, a blank filesystem is formatted
//   ("Performing initial setup", a fresh boot.py), a damaged one makes the firmware's own
//   notice repeat every 3 s until Ctrl-C, and then boot.py and (from the friendly REPL)
//   main.py run before the prompt. A soft reset starts a fresh interpreter with the same
//   files, as a board's soft reboot clears the heap.
// - The filesystem: the port's POSIX VFS over a directory of its in-memory FS; the simulator
//   stores the files in the simulated flash (`files()`), so they survive resets and an
//   erase-all wipes them. `os.statvfs` reports the flash region's size, and a write past it
//   fails with ENOSPC (counted in 4 KiB blocks, roughly as littlefs does); file errors carry
//   MicroPython's errno numbers (`OSError: [Errno 2] ENOENT`), not the C library's the port's
//   VfsPosix passes on. `os.rename` of two
//   absolute paths passes the second one relative (the port's VfsPosix builds both in one
//   buffer, so the call would fail where a board's littlefs succeeds).
// - Raw-paste mode (`\x05A\x01`), which the port's event-driven REPL lacks: answered and
//   flow-controlled as MicroPython's pyexec.c does (window 128, two windows of the 256-byte
//   stdin buffer in flight), then compiled by the port's own raw REPL.
// - The console: output is "cooked" (`\n` sent as `\r\n`) as a board's stdout is, and sent
//   through a 256-byte transmit buffer at the console's baud: a program that prints faster
//   than the line carries waits, as on a UART.
// - Time: the port's clock (`Date.now`) is the simulator's virtual clock. `time.sleep*` are
//   the shell's: they let virtual time pass; reading the clock costs nothing, except in a busy
//   wait (a program that only reads it), where each read moves it on. When a program reaches
//   the time the simulator has granted (`until`), the shell calls `pause()`, which returns
//   only when the simulator grants more time, possibly with input (Ctrl-C interrupts the
//   program, as a board's UART interrupt does; other bytes wait
//   in the receive buffer until the REPL reads them).
const CTRL_A = 0x01, CTRL_B = 0x02, CTRL_C = 0x03, CTRL_D = 0x04, CTRL_E = 0x05;
/// pyexec.c's raw-paste window: half of the 256-byte stdin buffer.
const RAW_PASTE_WINDOW = 128;
const TX_BUFFER = 256;
/// A program that has read the clock this often without printing or sleeping is busy-waiting
/// on it: from then on each read moves the clock on.
const BUSY_WAIT_READS = 1000;
const BUSY_WAIT_STEP_US = 100;
const EPOCH_MS = Date.UTC(2026, 0, 1);
const ROOT = "/flash";
const WASM_BANNER = /MicroPython v[^;\r\n]+; JS with Emscripten/;
const BOOT_PY = "# This file is executed on every boot (including wake-boot from deepsleep)\n#import esp\n#esp.osdebug(None)\n#import webrepl\n#webrepl.start()\n";

const realNow = Date.now;
let clockOwner = null;
Date.now = () => (clockOwner ? clockOwner.readClock() : realNow());

/// The Python each fresh interpreter runs first: the board's identity and its boot steps.
function preamble(board) {
  const v = board.version.replace(/^v/, "").split(/[.-]/).slice(0, 3).map((n) => parseInt(n, 10) || 0);
  while (v.length < 3) v.push(0);
  const uid = board.unique_id.map((b) => "\\x" + b.toString(16).padStart(2, "0")).join("");
  return `
def _setup():
    import sys, os, vfs, js_board
    class Sys:
        pass
    m = Sys()
    for k in dir(sys):
        setattr(m, k, getattr(sys, k))
    class Impl:
        name = 'micropython'
        version = (${v.join(", ")}, '')
        _machine = ${JSON.stringify(board.machine)}
        _mpy = ${board.mpy}
        def __repr__(self):
            return "(name='micropython', version=%r, _machine=%r, _mpy=%d)" % (self.version, self._machine, self._mpy)
    m.platform = ${JSON.stringify(board.platform)}
    m.implementation = Impl()
    m.version = '3.4.0; MicroPython ${board.version} on ${board.date}'
    sys.modules['sys'] = m
    o = Sys()
    for k in dir(os):
        setattr(o, k, getattr(os, k))
    class Uname:
        sysname = ${JSON.stringify(board.platform)}
        nodename = ${JSON.stringify(board.platform)}
        release = '${v.join(".")}'
        version = '${board.version} on ${board.date}'
        machine = ${JSON.stringify(board.machine)}
        def __getitem__(self, i):
            return (self.sysname, self.nodename, self.release, self.version, self.machine)[i]
        def __repr__(self):
            return "(sysname=%r, nodename=%r, release=%r, version=%r, machine=%r)" % tuple(self[i] for i in range(5))
    u = Uname()
    o.uname = lambda: u
    def statvfs(p):
        os.statvfs(p)
        t = ${board.fs_blocks}
        f = max(0, t - js_board.used_blocks())
        return (4096, 4096, t, f, f, 0, 0, 0, 0, 255)
    o.statvfs = statvfs
    def rename(a, b):
        # The port's VfsPosix builds both absolute paths in one buffer: give it one relative.
        if a.startswith('/') and b.startswith('/'):
            d = os.getcwd().strip('/')
            b = '../' * (len(d.split('/')) if d else 0) + b[1:]
        o_rename(a, b)
    o_rename = o.rename
    o.rename = rename
    def ilistdir(p='.'):
        # As littlefs does: (name, type, inode, size), the size of a file filled in.
        out = []
        for e in list(o_ilistdir(p)):
            path = e[0] if p in ('', '.') else p.rstrip('/') + '/' + e[0]
            out.append((e[0], e[1], 0, o.stat(path)[6] if e[1] == 0x8000 else 0))
        return iter(out)
    o_ilistdir = o.ilistdir
    o.ilistdir = ilistdir
    sys.modules['os'] = o
    import time
    t = Sys()
    for k in dir(time):
        setattr(t, k, getattr(time, k))
    def sleep(s):
        js_board.sleep_us(int(s * 1000000))
    def sleep_ms(ms):
        js_board.sleep_us(int(ms) * 1000)
    def sleep_us(us):
        js_board.sleep_us(int(us))
    t.sleep = sleep
    t.sleep_ms = sleep_ms
    t.sleep_us = sleep_us
    sys.modules['time'] = t
    class Pin:
        OUT = 1
        IN = 0
        PULL_UP = 2
        def __init__(self, id, mode=-1, pull=-1, value=None):
            self._v = 1 if value else 0
        def on(self): self._v = 1
        def off(self): self._v = 0
        def toggle(self): self._v ^= 1
        def value(self, v=None):
            if v is None: return self._v
            self._v = 1 if v else 0
        __call__ = value
    class Machine:
        def reset(self): js_board.reset()
        def bootloader(self): js_board.bootloader()
        def soft_reset(self): raise SystemExit
        def unique_id(self): return b'${uid}'
        def freq(self, f=None): return ${board.cpu_hz}
        def reset_cause(self): return 1
        def idle(self): pass
    Machine.Pin = Pin
    sys.modules['machine'] = Machine()
    for name in ${JSON.stringify(board.without || [])}:
        sys.modules[name] = None
    class Board:
        @staticmethod
        def run(f):
            try:
                src = open(f).read()
            except OSError:
                return
            try:
                exec(compile(src, f, 'exec'), globals())
            except BaseException as e:
                if isinstance(e, SystemExit):
                    js_board.soft_reset()
                    return
                import io
                b = io.StringIO()
                sys.print_exception(e, b)
                t = [l for l in b.getvalue().split('\\n') if not l.startswith('  File "<stdin>"')]
                print('\\n'.join(t), end='')
        @staticmethod
        def mount(ok):
            vfs.umount('/')
            if ok:
                vfs.mount(vfs.VfsPosix('${ROOT}'), '/')
                os.chdir('/')
        @staticmethod
        def corrupt(msg):
            import time
            try:
                while 1:
                    print(msg)
                    time.sleep(3)
            except KeyboardInterrupt:
                print('Traceback (most recent call last):\\n  File "_boot.py", line 1, in <module>\\nKeyboardInterrupt: ')
    sys.modules['_board'] = Board
_setup()
del _setup
`;
}

/// The message MicroPython's `inisetup.py` repeats when the filesystem will not mount.
function corruptNotice(board) {
  if (board.platform === "esp8266") {
    return `The filesystem starting at sector ${board.fs_start / 4096} with size ${board.fs_blocks} sectors looks corrupt.\nYou may want to make a flash snapshot and try to recover it. Otherwise,\nerase the whole flash and reprogram MicroPython.\n`;
  }
  return "The filesystem appears to be corrupted. If you had important data there, you\nmay want to make a flash snapshot to try to recover it. Otherwise, perform\nfactory reprogramming of MicroPython firmware (completely erase flash, followed\nby firmware programming).\n";
}

/// The C library's (WASI) errno numbers the port's VfsPosix would pass on, as MicroPython's own.
const WASI_ERRNO = { 2: 13, 8: 9, 20: 17, 28: 22, 29: 5, 31: 21, 37: 36, 43: 19, 44: 2, 48: 12, 51: 28, 54: 20, 55: 39, 63: 1, 69: 30 };

/// Makes the in-memory FS fail with MicroPython's errno numbers (ENOENT is 2, not 44): each
/// outermost FS call (the one the port's system call made) rethrows its error renumbered.
function boardErrnos(FS) {
  let depth = 0;
  for (const [name, f] of Object.entries(FS)) {
    if (typeof f !== "function" || /^[A-Z]/.test(name)) continue;
    FS[name] = function (...args) {
      depth++;
      try {
        return f.apply(this, args);
      } catch (e) {
        if (depth === 1 && e?.name === "ErrnoError" && WASI_ERRNO[e.errno] !== undefined) {
          throw new FS.ErrnoError(WASI_ERRNO[e.errno]);
        }
        throw e;
      } finally {
        depth--;
      }
    };
  }
}

/// The board's filesystem holds `blocks` 4 KiB blocks, counted as littlefs does roughly (two
/// for the superblock, at least one per file or folder, data rounded up to blocks): a write
/// that needs more fails with ENOSPC, as on a board. Wrapped before `boardErrnos`, so the
/// C library's number (51) reaches Python as MicroPython's (28).
function boardCapacity(FS, blocks) {
  const write = FS.write;
  const used = () => {
    let n = 2;
    const walk = (dir) => {
      for (const name of FS.readdir(dir)) {
        if (name === "." || name === "..") continue;
        const st = FS.stat(`${dir}/${name}`);
        if (FS.isDir(st.mode)) { n += 1; walk(`${dir}/${name}`); }
        else n += Math.ceil(st.size / 4096) || 1;
      }
    };
    walk(ROOT);
    return n;
  };
  FS.write = function (stream, buffer, offset, length, position, canOwn) {
    if (stream.path?.startsWith(`${ROOT}/`) && length > 0) {
      const size = stream.node?.usedBytes ?? 0;
      const end = (typeof position === "number" ? position : stream.position) + length;
      const grow = (Math.ceil(Math.max(size, end) / 4096) || 1) - (Math.ceil(size / 4096) || 1);
      if (grow > 0 && used() + grow > blocks) throw new FS.ErrnoError(51);
    }
    return write.apply(this, arguments);
  };
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class BoardShell {
  /// `board`: { banner, version, date, machine, platform, mpy, cpu_hz, unique_id: [bytes],
  ///   fs_start, fs_blocks, without?: [modules the firmware lacks], baud };
  /// `files`: [[path, Uint8Array | null (a directory)]]; `mounted`: "ok" | "blank" | "corrupt";
  /// `hooks`: { pause(shell): blocks until the simulator grants more time (`grant`);
  ///   event(name, shell) for "reset" and "bootloader": never returns };
  /// `load`: the port's `loadMicroPython`; `interrupted`: this interpreter replaces one that
  /// could not be interrupted (the page's demo board): no boot files, a notice, the prompt.
  /// `quiet`: the board booted long ago (nothing of its boot is sent).
  constructor({ board, files, mounted, hooks, at, load, interrupted = false, quiet = false }) {
    this.load = load;
    this.silent = quiet;
    this.replaces = interrupted;
    this.sent = new Map(files.map(([p, d]) => [p, d]));
    this.board = board;
    this.mounted = mounted;
    this.hooks = hooks;
    this.clock = at;
    this.until = at;
    this.running = 0;
    this.out = [];
    this.pending = "";
    this.last = "";
    this.txFree = 0;
    this.rx = [];
    this.raw = false;
    this.tail = "";
    this.held = [];
    this.paste = null;
    this.dropOk = 0;
    this.quiet = false;
    this.exit = false;
    this.reads = 0;
    this.interrupted = false;
    this.files = files;
    this.mp = null;
  }

  /// The clock as the port reads it. Reading it costs no time, but a program that only reads
  /// the clock (a busy wait) lets time pass, so it ends.
  readClock() {
    if (this.running && ++this.reads > BUSY_WAIT_READS) {
      this.clock += BUSY_WAIT_STEP_US;
      this.#pauseIfDue();
    }
    return EPOCH_MS + Math.floor(this.clock / 1000);
  }

  /// `time.sleep*`: virtual time passes (granted by the simulator); Ctrl-C ends it early.
  sleep(us) {
    this.#flush();
    const end = this.clock + Math.max(0, us);
    this.interrupted = false;
    while (this.clock < end && !this.interrupted) {
      this.clock = Math.min(end, Math.max(this.clock, this.until));
      if (this.clock < end) this.hooks.pause(this);
    }
    this.reads = 0;
  }

  #pauseIfDue() {
    while (this.running && this.clock > this.until) {
      this.#flush();
      this.hooks.pause(this);
    }
  }

  /// More time granted, up to `until` (µs), with `input` that arrived at the last grant's end.
  grant(until, input) {
    if (!this.running) this.clock = Math.max(this.clock, until);
    this.until = Math.max(this.until, until);
    for (const b of input) {
      if (this.running && b === CTRL_C && !this.paste) {
        this.mp._module._mp_sched_keyboard_interrupt();
        this.interrupted = true;
      }
      else this.rx.push(b);
    }
  }

  /// Whether a program is running (the simulator must grant time for it to go on).
  get busy() {
    return this.running > 0;
  }

  /// Power-on or reset: a fresh interpreter, then the boot steps.
  async boot() {
    await this.#fresh();
    await this.#startup();
    this.silent = false;
  }

  async #fresh() {
    this.mp = await this.load({ stdout: (b) => this.#stdout(b), linebuffer: false, heapsize: 256 * 1024 });
    const FS = this.mp.FS;
    boardCapacity(FS, this.board.fs_blocks);
    boardErrnos(FS);
    FS.mkdir(ROOT);
    if (this.mounted !== "corrupt") {
      for (const [path, data] of this.files) {
        if (data === null) FS.mkdir(`${ROOT}/${path}`);
        else FS.writeFile(`${ROOT}/${path}`, data);
      }
    }
    this.mp.registerJsModule("js_board", {
      reset: () => this.#event("reset"),
      bootloader: () => this.#event("bootloader"),
      soft_reset: () => { this.exit = true; },
      used_blocks: () => this.#usedBlocks(),
      sleep_us: (us) => this.sleep(us),
    });
    clockOwner = this;
    this.#quietly(() => {
      this.mp.runPython(preamble(this.board));
      this.mp.runPython(`import _board\n_board.mount(${this.mounted === "corrupt" ? "False" : "True"})\ndel _board`);
      this.mp.replInit();
    });
  }

  #event(name) {
    this.#flush();
    this.hooks.event(name, this);
  }

  /// Runs `f` as firmware work, discarding what the port prints.
  #quietly(f) {
    this.#flush();
    this.quiet = true;
    try {
      return f();
    } finally {
      this.pending = "";
      this.quiet = false;
    }
  }

  /// What `main.c` does after a (soft) reset: the filesystem, boot.py, main.py, the REPL.
  async #startup() {
    if (this.mounted === "blank") {
      this.#say("Performing initial setup\r\n");
      this.mp.FS.writeFile(`${ROOT}/boot.py`, BOOT_PY);
      this.mounted = "ok";
    }
    this.exit = false;
    if (this.replaces) {
      this.replaces = false;
      this.#say("\r\nKeyboardInterrupt: the demo board started a fresh MicroPython to stop the program (a page cannot interrupt it); variables are gone, files are kept.\r\n");
      this.#say(this.board.banner + ">>> ");
      return;
    }
    if (this.mounted === "corrupt") {
      this.#program(() => this.mp.runPython(`import _board\n_board.corrupt(${JSON.stringify(corruptNotice(this.board))})\ndel _board`));
    }
    this.#program(() => this.mp.runPython("import _board\n_board.run('boot.py')\ndel _board"));
    if (!this.exit && !this.raw) this.#program(() => this.mp.runPython("import _board\n_board.run('main.py')\ndel _board"));
    if (this.exit) return this.#softReset();
    if (this.raw) this.#say("raw REPL; CTRL-B to exit\r\n>");
    else this.#say(this.board.banner + ">>> ");
  }

  /// Runs `f` as a program: the clock moves, Ctrl-C interrupts it. Returns what `f` returned.
  #program(f) {
    this.running++;
    try {
      return f();
    } catch (e) {
      if (e?.name !== "PythonError") throw e;
      this.#say(String(e.message));
      return undefined;
    } finally {
      this.#flush();
      this.running--;
    }
  }

  async #softReset() {
    this.#say("MPY: soft reboot\r\n");
    this.files = this.snapshot();
    await this.#fresh();
    if (this.raw) this.#quietly(() => this.mp.replProcessChar(CTRL_A));
    await this.#startup();
  }

  /// Reads what is in the receive buffer, as the REPL does, until it is empty.
  async drain() {
    while (this.rx.length && !this.running) await this.#byte(this.rx.shift());
  }

  async #byte(b) {
    if (this.paste) return this.#pasteByte(b);
    if (this.raw && (this.held.length > 0 || b === CTRL_E)) {
      this.held.push(b);
      const h = this.held;
      if ((h.length === 1 && h[0] === CTRL_E) || (h.length === 2 && h[1] === 0x41)) return;
      this.held = [];
      if (h.length === 3 && h[2] === CTRL_A) {
        // Raw-paste accepted: the window size, and the second window's credit at once.
        const w = RAW_PASTE_WINDOW;
        this.#say(String.fromCharCode(0x52, 0x01, w & 0xff, w >> 8, 0x01));
        this.paste = { code: [], remain: w };
        return;
      }
      for (const x of h) await this.#char(x);
      return;
    }
    await this.#char(b);
  }

  async #pasteByte(b) {
    const p = this.paste;
    if (b === CTRL_D) {
      this.paste = null;
      this.#say("\x04");
      // Compiled and run by the port's raw REPL, whose "OK" a raw-paste reply does not have.
      this.#quietly(() => { for (const c of p.code) this.mp.replProcessChar(c); });
      this.dropOk = 2;
      await this.#char(CTRL_D);
      return;
    }
    if (b === CTRL_C) {
      this.paste = null;
      this.#say("\x04\x04KeyboardInterrupt: \r\n\x04>");
      return;
    }
    p.code.push(b);
    if (--p.remain === 0) {
      this.#say("\x01");
      p.remain = RAW_PASTE_WINDOW;
    }
  }

  async #char(b) {
    const ret = this.#program(() => this.mp.replProcessChar(b));
    if (ret === 256) await this.#softReset();
  }

  #stdout(bytes) {
    this.reads = 0;
    if (this.quiet) return;
    for (const b of bytes) {
      if (this.dropOk) {
        this.dropOk--;
        continue;
      }
      this.pending += String.fromCharCode(b);
    }
    // A program that prints a lot meets the transmit buffer as it prints.
    if (this.pending.length >= 512) {
      this.#flush();
      this.#pauseIfDue();
    }
  }

  /// Sends what the port printed since the last look (its banner replaced by the board's).
  #flush() {
    if (!this.pending) return;
    const text = this.pending.replace(WASM_BANNER, this.board.banner.split("\r\n")[0]);
    this.pending = "";
    this.#say(text);
  }

  /// Sends `text` (latin1) on the console now: cooked, through the transmit buffer (a running
  /// program's clock moves on while the buffer is full; the caller pauses if that is due).
  #say(text) {
    if (!text || this.silent) return;
    let cooked = "";
    for (const c of text) {
      if (c === "\n" && this.last !== "\r") cooked += "\r";
      cooked += c;
      this.last = c;
    }
    this.tail = (this.tail + cooked).slice(-64);
    if (this.tail.endsWith("raw REPL; CTRL-B to exit\r\n>")) this.raw = true;
    if (this.tail.endsWith(">>> ")) this.raw = false;
    const last = this.out[this.out.length - 1];
    if (last && last[0] === this.clock) last[1] += cooked;
    else this.out.push([this.clock, cooked]);
    // The transmit buffer: a program waits while more than it holds is still unsent.
    const byteUs = 10e6 / this.board.baud;
    this.txFree = Math.max(this.txFree, this.clock) + cooked.length * byteUs;
    const wait = this.txFree - TX_BUFFER * byteUs;
    if (this.running && wait > this.clock) this.clock = Math.ceil(wait);
  }

  /// What was sent since the last call: [[time µs, latin1 text]].
  takeOutput() {
    this.#flush();
    const out = this.out;
    this.out = [];
    return out;
  }

  #usedBlocks() {
    let n = 2;
    for (const [, data] of this.snapshot()) n += data === null ? 1 : Math.ceil(data.length / 4096) || 1;
    return n;
  }

  /// The board's files if they changed since the last call, else null.
  changedFiles() {
    const now = this.snapshot();
    const same = now.length === this.sent.size && now.every(([p, d]) => {
      const old = this.sent.get(p);
      if (old === undefined || (d === null) !== (old === null)) return false;
      return d === null || sameBytes(d, old);
    });
    if (same) return null;
    this.sent = new Map(now);
    return now;
  }

  /// The board's files now: [[path, Uint8Array | null]], directories before what they hold.
  snapshot() {
    if (this.mounted === "corrupt" || !this.mp) return [];
    const FS = this.mp.FS;
    const found = [];
    const walk = (dir, prefix) => {
      for (const name of FS.readdir(dir).sort()) {
        if (name === "." || name === "..") continue;
        const full = `${dir}/${name}`;
        const rel = prefix + name;
        if (FS.isDir(FS.stat(full).mode)) {
          found.push([rel, null]);
          walk(full, rel + "/");
        } else {
          found.push([rel, FS.readFile(full)]);
        }
      }
    };
    walk(ROOT, "");
    return found;
  }
}
