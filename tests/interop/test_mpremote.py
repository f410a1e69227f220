"""The real mpremote (PyPI 1.29.0) against `esp-sim --app micropython`.

mpremote speaks MicroPython's raw REPL and raw-paste protocols and runs its own Python
snippets on the board (os.ilistdir, chunked open/write, sha256 over readinto, r(256) reads).
If it and the simulator disagree, the simulator is wrong. Files are checked byte-exact both
through mpremote and in the flash file esp-sim keeps (the filesystem lives in flash).

Each test body is a journey run concurrently with the others (see conftest.py).
"""

import random
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, concurrent, tail

MPREMOTE = Path(sys.executable).with_name("mpremote")
FS_START = 0x200000  # ESP32 with 4 MB flash: the filesystem region's start


def mpremote(ctx, sim, *args, check=True, timeout=60):
    cmd = [str(MPREMOTE), "connect", sim.url, *[str(a) for a in args]]
    started = time.monotonic()
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"mpremote timed out: {' '.join(cmd[3:])}\n{(e.stdout or b'').decode(errors='replace')}")
    # A board's stdout ends lines in \r\n; mpremote passes that through.
    run.out = run.stdout.decode(errors="replace").replace("\r\n", "\n")
    run.err = run.stderr.decode(errors="replace").replace("\r\n", "\n")
    ctx.log.append(f"[{time.monotonic() - started:5.1f} s] mpremote {' '.join(cmd[3:])} -> {run.returncode}")
    if check and run.returncode != 0:
        pytest.fail(f"mpremote failed ({run.returncode}): {' '.join(cmd[3:])}\n{tail(run.out + run.err)}")
    return run


def flash_files(flash):
    """The files esp-sim's MicroPython keeps in flash (its documented table format)."""
    region = flash[FS_START:]
    assert region[:8] == b"WFSIMFS1", region[:16]
    length = struct.unpack_from("<I", region, 8)[0]
    payload, files, i = region[16:16 + length], {}, 0
    while i < len(payload):
        kind, n = payload[i], struct.unpack_from("<H", payload, i + 1)[0]
        name = payload[i + 3:i + 3 + n].decode()
        i += 3 + n
        if kind == 1:
            size = struct.unpack_from("<I", payload, i)[0]
            files[name] = bytes(payload[i + 4:i + 4 + size])
            i += 4 + size
        else:
            files[name + "/"] = None
    return files


def wait_saved(sim, name, data, timeout=5.0):
    """The flash file once it holds `name` with `data` (esp-sim saves it when idle)."""
    deadline = time.monotonic() + timeout
    while True:
        files = flash_files(sim.flash())
        if files.get(name) == data or time.monotonic() > deadline:
            return files
        time.sleep(0.05)


@concurrent
def test_exec_eval_and_the_board_it_reports(ctx):
    sim = ctx.start("esp32", raw=True, app="micropython")
    assert mpremote(ctx, sim, "exec", "print('hello')").out == "hello\n"
    assert mpremote(ctx, sim, "eval", "6 * 7").out == "42\n"
    run = mpremote(ctx, sim, "exec", "import sys; print(sys.implementation)")
    assert run.out.startswith("(name='micropython', version=(1, 24, 1, ''), _machine='Generic ESP32 module with ESP32'")
    run = mpremote(ctx, sim, "exec", "import os; print(os.uname().machine); print(os.listdir())")
    assert run.out == "Generic ESP32 module with ESP32\n['boot.py']\n"
    # Chained commands share one raw REPL session; state persists between them.
    assert mpremote(ctx, sim, "exec", "x = 5", "+", "eval", "x * 2").out == "10\n"
    # A traceback goes to mpremote's error output and fails the command.
    run = mpremote(ctx, sim, "exec", "print('before'); undefined_name", check=False)
    assert run.returncode == 1
    assert "before" in run.out and "NameError: name 'undefined_name' isn't defined" in run.out + run.err


@concurrent
def test_files_round_trip_byte_exact_and_live_in_flash(ctx):
    flash_file = ctx.tmp / "flash.bin"
    sim = ctx.start("esp32", raw=True, app="micropython", flash_file=flash_file)
    rng = random.Random(5)
    local = {
        "hello.txt": b"hello, board\nline two\n",
        "all.bin": bytes(range(256)) * 3,
        "big.bin": bytes(rng.getrandbits(8) for _ in range(100 * 1024)),
    }
    for name, data in local.items():
        (ctx.tmp / name).write_bytes(data)
    mpremote(ctx, sim, "fs", "mkdir", "lib")
    mpremote(ctx, sim, "fs", "cp", ctx.tmp / "hello.txt", ctx.tmp / "all.bin", ":lib/")
    mpremote(ctx, sim, "fs", "cp", ctx.tmp / "big.bin", ":big.bin")
    ls = mpremote(ctx, sim, "fs", "ls").out
    assert "         139 boot.py\n" in ls and f"{100 * 1024:12} big.bin\n" in ls and "lib/" in ls, ls
    assert "         768 all.bin" in mpremote(ctx, sim, "fs", "ls", "lib").out
    # Copying the same file again is skipped: mpremote's sha256 on the board matched.
    assert "Up to date: big.bin" in mpremote(ctx, sim, "fs", "cp", ctx.tmp / "big.bin", ":big.bin").out
    back = ctx.tmp / "back"
    back.mkdir()
    mpremote(ctx, sim, "fs", "cp", ":lib/hello.txt", ":lib/all.bin", ":big.bin", f"{back}/")
    for name, data in local.items():
        assert (back / name).read_bytes() == data, name
    assert mpremote(ctx, sim, "fs", "cat", "lib/hello.txt").out == local["hello.txt"].decode()
    # The files are in the flash file's filesystem region, byte for byte.
    files = wait_saved(sim, "big.bin", local["big.bin"])
    assert files["lib/all.bin"] == local["all.bin"] and files["big.bin"] == local["big.bin"]
    assert files["lib/"] is None
    # rm, and errors as mpremote reports them.
    mpremote(ctx, sim, "fs", "rm", "lib/hello.txt")
    assert "hello.txt" not in mpremote(ctx, sim, "fs", "ls", "lib").out
    run = mpremote(ctx, sim, "fs", "rm", "lib/hello.txt", check=False)
    assert run.returncode == 1 and "No such file or directory" in run.err, run.err
    run = mpremote(ctx, sim, "fs", "mkdir", "lib", check=False)
    assert run.returncode == 1 and "File exists" in run.err, run.err
    # A new esp-sim on the same flash file (a power cycle) still has them.
    ctx.sims.remove(sim)
    sim.stop()
    sim = ctx.start("esp32", raw=True, app="micropython", flash_file=flash_file)
    mpremote(ctx, sim, "fs", "cp", ":lib/all.bin", back / "again.bin")
    assert (back / "again.bin").read_bytes() == local["all.bin"]
    ls = mpremote(ctx, sim, "fs", "ls", "lib").out
    assert "hello.txt" not in ls and "all.bin" in ls


@concurrent
def test_run_streams_output_and_soft_reset_regains_a_looping_main(ctx):
    sim = ctx.start("esp32", raw=True, app="micropython")
    script = ctx.tmp / "slow.py"
    script.write_text("import time\nprint('start')\ntime.sleep(1.5)\nprint('end')\n")
    cmd = [str(MPREMOTE), "connect", sim.url, "run", str(script)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    seen_first = time.monotonic()
    rest, err = proc.communicate(timeout=30)
    finished = time.monotonic()
    assert proc.returncode == 0, err
    assert (first, rest) == (b"start\r\n", b"end\r\n")
    # "start" came while the script still ran (streamed, not collected at the end).
    assert finished - seen_first > 1.0, finished - seen_first
    # A main.py that never returns: mpremote's Ctrl-C, then raw-REPL soft reset (which
    # skips main.py) still reach the REPL.
    main = ctx.tmp / "main.py"
    main.write_text("import time\nwhile True:\n    print('busy')\n    time.sleep(0.05)\n")
    mpremote(ctx, sim, "fs", "cp", main, ":main.py")
    assert mpremote(ctx, sim, "soft-reset").returncode == 0
    # `mpremote reset` (machine.reset()) reboots the board into the friendly REPL, so
    # main.py runs and loops; the next mpremote still gets in.
    mpremote(ctx, sim, "reset")
    time.sleep(0.5)
    assert mpremote(ctx, sim, "eval", "1 + 1").out == "2\n"
    run = mpremote(ctx, sim, "exec", "import os; print('main.py' in os.listdir())", "+", "soft-reset", "+", "eval", "'still here'")
    assert run.out == "True\nstill here\n"
    # machine.soft_reset() from the raw REPL closes the raw frame first, as pyexec does.
    assert mpremote(ctx, sim, "exec", "import machine; machine.soft_reset()", timeout=10).returncode == 0


@concurrent
def test_over_rfc2217_with_control_lines(ctx):
    sim = ctx.start("esp32", app="micropython")
    assert mpremote(ctx, sim, "exec", "print('hello')").out == "hello\n"
    data = bytes(range(256))
    (ctx.tmp / "b.bin").write_bytes(data)
    mpremote(ctx, sim, "fs", "cp", ctx.tmp / "b.bin", ":b.bin", "+", "fs", "cp", ":b.bin", ctx.tmp / "back.bin")
    assert (ctx.tmp / "back.bin").read_bytes() == data
    assert mpremote(ctx, sim, "soft-reset").returncode == 0
    assert wait_saved(sim, "b.bin", data)["b.bin"] == data
