"""Runs `esp-sim` (target/debug/esp-sim, built by scripts/test.sh) for real peers to drive.

Over rfc2217:// every esptool command costs about 0.2 s of waiting (pyserial sleeps 50 ms for
each RFC 2217 acknowledgement, and esptool changes the port timeout, which re-sends the port
settings, around nearly every command), so one esptool run takes 10-25 s while using well
under a second of CPU. The tests therefore run concurrently: each test's body is a "journey"
(a plain function given a `Journey` context) and the session starts every selected journey in a
thread pool at once; the test itself waits for its own journey and reports its outcome, with
esptool's output on failure. See `concurrent` and the `journeys` fixture.
"""

import inspect
import os
import re
import select
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ESP_SIM = ROOT / "target" / "debug" / "esp-sim"
READY = re.compile(r"esp-sim listening on (\S+)")
# Journeys running at once: the work is waiting, not computing, so this can exceed the cores.
WORKERS = 16


def parse_size(text):
    number, unit = int(text[:-2]), text[-2:]
    return number << {"KB": 10, "MB": 20}[unit]


class Sim:
    """One running esp-sim process."""

    def __init__(self, proc, addr, flash_file, flash_size, raw):
        self.raw = raw
        self.proc = proc
        self.addr = addr
        self.flash_file = flash_file
        self.flash_size = flash_size

    @property
    def url(self):
        return f"socket://{self.addr}" if self.raw else f"rfc2217://{self.addr}"

    def flash(self):
        return self.flash_file.read_bytes()

    def wait_flash(self, expected, timeout=5.0):
        """The flash file once it equals `expected` (esp-sim saves it when the connection
        closes, moments after esptool exits), else its last contents, for the caller to
        compare."""
        deadline = time.monotonic() + timeout
        while True:
            data = self.flash()
            if data == expected or time.monotonic() > deadline:
                return data
            time.sleep(0.02)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        return self.proc.stderr.read().decode(errors="replace")


class Journey:
    """What a journey gets: a private temporary folder, simulators it starts, and esptool."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.sims = []
        self.log = []

    def start(self, chip, mac="24:0a:c4:12:34:56", flash_size="4MB", wiring="uart",
              flash_file=None, raw=False, app=None):
        flash_file = flash_file or self.tmp / f"flash-{len(self.sims)}.bin"
        cmd = [str(ESP_SIM), "--chip", chip, "--listen", "127.0.0.1:0", "--mac", mac,
               "--flash-size", flash_size, "--wiring", wiring, "--flash-file", str(flash_file)]
        if raw:
            cmd.append("--raw")
        if app:
            cmd += ["--app", app]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = b""
        deadline = time.monotonic() + 10
        while b"\n" not in line and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 256)
                if not chunk:
                    break
                line += chunk
        found = READY.search(line.decode(errors="replace"))
        if not found:
            proc.kill()
            pytest.fail(f"esp-sim did not start: {line!r} {proc.stderr.read()!r}")
        sim = Sim(proc, found.group(1), flash_file, parse_size(flash_size), raw)
        self.sims.append(sim)
        self.log.append(f"started esp-sim {' '.join(cmd[1:])} on {sim.addr}")
        return sim

    def esptool(self, sim, *args, baud=115200, check=True, timeout=150, before=None):
        """Runs `python -m esptool --port rfc2217://SIM (socket:// for --raw) --baud BAUD [--before B] ARGS...`;
        unless `check` is false, fails the test with esptool's output if it fails."""
        cmd = [sys.executable, "-m", "esptool", "--port", sim.url, "--baud", str(baud)]
        if before:
            cmd += ["--before", before]
        cmd += [str(a) for a in args]
        shown = " ".join(cmd[3:])
        started = time.monotonic()
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else ""
            pytest.fail(f"esptool timed out after {timeout} s: {shown}\n{tail(out)}")
        run.elapsed = time.monotonic() - started
        run.output = run.stdout + run.stderr
        self.log.append(f"[{run.elapsed:5.1f} s] esptool {shown} -> {run.returncode}")
        if check and run.returncode != 0:
            pytest.fail(f"esptool failed ({run.returncode}): {shown}\n{tail(run.output)}")
        return run

    def stop(self):
        for sim in self.sims:
            err = sim.stop()
            if err.strip():
                self.log.append(f"esp-sim {sim.addr} stderr:\n{err}")


def tail(text, lines=40):
    return "\n".join(text.splitlines()[-lines:])


def concurrent(journey):
    """Makes a test out of `journey(ctx, **params)`; the body runs in the session's pool."""

    def test(request, journeys, **params):
        journeys.wait(request.node)

    # pytest passes parameters by name: show it the journey's (after `ctx`).
    fixtures = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                for n in ("request", "journeys")]
    own = list(inspect.signature(journey).parameters.values())[1:]
    test.__signature__ = inspect.Signature(fixtures + own)
    test.journey = journey
    test.__doc__ = journey.__doc__
    return test


class Journeys:
    def __init__(self, items, tmp_path_factory):
        self.pool = ThreadPoolExecutor(max_workers=WORKERS)
        self.runs = {}
        for item in items:
            journey = getattr(getattr(item, "function", None), "journey", None)
            if journey is None:
                continue
            params = dict(getattr(item, "callspec", None).params) if hasattr(item, "callspec") else {}
            ctx = Journey(tmp_path_factory.mktemp(item.name[:40].replace("[", "-")))
            self.runs[item.nodeid] = (ctx, self.pool.submit(self.run, journey, ctx, params))

    @staticmethod
    def run(journey, ctx, params):
        started = time.monotonic()
        try:
            journey(ctx, **params)
        finally:
            ctx.stop()
            ctx.log.append(f"journey took {time.monotonic() - started:.1f} s")

    def wait(self, item):
        ctx, future = self.runs[item.nodeid]
        try:
            future.result()
        finally:
            print("\n".join(ctx.log))

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def journeys(request, tmp_path_factory):
    if not ESP_SIM.exists():
        pytest.fail(f"{ESP_SIM} is missing: run `cargo build --bin esp-sim` first")
    runs = Journeys(request.session.items, tmp_path_factory)
    yield runs
    runs.close()
