"""The real esptool (PyPI 5.6.0) against esp-sim over rfc2217://, with esptool's own resets.

If one of these fails, esptool and our simulator disagree about the chip: the simulator is
wrong. Every write and erase is checked twice: by esptool (its MD5 verify, read-back) and by
the flash file esp-sim keeps, which must hold exactly the bytes esptool sent.

Each test body is a journey run concurrently with the others (see conftest.py).
"""

import random

import pytest

from conftest import concurrent

# Chip, esptool's name for it ("Detecting chip type... X"), a MAC to give it (distinct per chip,
# so a MAC read from the wrong place cannot pass), and a flash size (small: a chip erase takes
# simulated real time, about 2.5 s per MB).
CHIPS = {
    "esp32": ("ESP32", "24:0a:c4:32:00:01", "2MB"),
    "esp32c3": ("ESP32-C3", "34:85:18:c3:00:02", "2MB"),
    "esp32s3": ("ESP32-S3", "f4:12:fa:53:00:03", "4MB"),
    "esp8266": ("ESP8266", "5c:cf:7f:82:66:04", "1MB"),
    "esp32s2": ("ESP32-S2", "7c:df:a1:52:00:05", "2MB"),
    "esp32c2": ("ESP32-C2", "10:97:bd:c2:00:06", "2MB"),
    "esp32c5": ("ESP32-C5", "d0:cf:13:c5:00:07", "4MB"),
    "esp32c6": ("ESP32-C6", "40:4c:ca:c6:00:08", "4MB"),
    "esp32h2": ("ESP32-H2", "74:4d:bd:42:00:09", "2MB"),
    "esp32p4": ("ESP32-P4", "30:ed:a0:f4:00:0a", "4MB"),
}
# What esptool prints after "Chip type:" for the revision esp-sim gives each chip
# (`sim::usual_revision`), read from eFuse by esptool's own code.
CHIP_TYPES = {
    "esp32": "ESP32-D0WDQ6-V3 (revision v3.0)",
    "esp32c3": "ESP32-C3 (QFN32) (revision v0.4)",
    "esp32s3": "ESP32-S3 (QFN56) (revision v0.2)",
    "esp8266": "ESP8266EX",
    "esp32s2": "ESP32-S2 (revision v1.0)",
    "esp32c2": "ESP32-C2 (revision v1.0)",
    "esp32c5": "ESP32-C5N (revision v1.0)",
    "esp32c6": "ESP32-C6 (QFN40) (revision v0.1)",
    "esp32h2": "ESP32-H2 (revision v0.1)",
    "esp32p4": "ESP32-P4 (revision v1.0)",
}
# Chips that print their MAC as an EUI-64 first (then the base MAC).
EUI64 = {"esp32c5", "esp32c6", "esp32h2"}
# The four chips of the first sessions also get the longer journeys (uncompressed writes,
# erase, a failing verify); every chip gets identify, stub write + verify + read, ROM write.
CORE = ["esp32", "esp32c3", "esp32s3", "esp8266"]
OFFSET = 0x10000
SIZE = 64 * 1024
each_chip = pytest.mark.parametrize("chip", CHIPS)
core_chip = pytest.mark.parametrize("chip", CORE)


def image(seed, size=SIZE):
    """Compressible but irregular data (esptool sends data uncompressed when zlib cannot
    shrink it, so purely random bytes would never exercise the compressed path). The first
    byte is not 0xE9, so esptool never takes it for an image header to patch."""
    rng = random.Random(seed)
    data = bytearray(rng.choice(b"0123456789abcdef\x00\xff") for _ in range(size))
    data[0] = 0x5A
    return bytes(data)


def with_region(base, offset, data):
    flash = bytearray(base)
    flash[offset : offset + len(data)] = data
    return bytes(flash)


def assert_flash(sim, expected, what):
    actual = sim.wait_flash(expected)
    assert len(actual) == len(expected), f"{what}: flash file is {len(actual)} bytes"
    if actual != expected:
        first = next(i for i in range(len(expected)) if actual[i] != expected[i])
        pytest.fail(
            f"{what}: flash file differs from what esptool wrote, first at {first:#x}: "
            f"{actual[first:first + 8].hex()} != {expected[first:first + 8].hex()}"
        )


def start(ctx, chip, **kw):
    _, mac, size = CHIPS[chip]
    return ctx.start(chip, mac=mac, flash_size=size, **kw)


def write_file(ctx, name, data):
    path = ctx.tmp / name
    path.write_bytes(data)
    return path


def mac_line(chip):
    """The line esptool prints for the MAC esp-sim was given."""
    _, mac, _ = CHIPS[chip]
    if chip in EUI64:
        return f"BASE MAC:           {mac}\n"
    return f"MAC:                {mac}\n"


def identify(ctx, chip):
    """chip-id, flash-id and read-mac report the simulated chip, its revision, crystal, flash
    size and MAC, as esptool reads them from the chip's registers and eFuse."""
    name, mac, size = CHIPS[chip]
    sim = start(ctx, chip)
    out = ctx.esptool(sim, "chip-id").output
    assert f"Detecting chip type... {name}\n" in out, out
    assert f"Chip type:          {CHIP_TYPES[chip]}\n" in out, out
    assert "WARNING" not in out.replace(f"WARNING: {name} has no chip ID", ""), out
    if chip == "esp8266":
        assert "Chip ID: 0x" in out, out
    else:  # Only the ESP8266 has one; esptool shows the MAC instead.
        assert "has no chip ID" in out and mac_line(chip) in out, out
    if chip in EUI64:  # The EUI-64 is the MAC with ff:fe in the middle.
        eui = mac[:8] + ":ff:fe" + mac[8:]
        assert f"MAC:                {eui}\n" in out, out
    out = ctx.esptool(sim, "flash-id").output
    assert f"Detected flash size: {size}\n" in out, out
    out = ctx.esptool(sim, "read-mac").output
    assert mac_line(chip) in out, out


def write_compressed_verify_read(ctx, chip):
    """Default write-flash (stub, compressed), verify-flash, read-flash."""
    sim = start(ctx, chip)
    blank = b"\xff" * sim.flash_size
    assert sim.flash() == blank
    data = image(chip)
    src = write_file(ctx, "data.bin", data)
    out = ctx.esptool(sim, "write-flash", hex(OFFSET), src).output
    assert f"Wrote {SIZE} bytes (" in out and " compressed)" in out, "not a compressed write"
    assert "Hash of data verified." in out, out
    assert_flash(sim, with_region(blank, OFFSET, data), "write-flash")
    out = ctx.esptool(sim, "verify-flash", hex(OFFSET), src).output
    assert "Verification successful" in out, out
    back = ctx.tmp / "back.bin"
    ctx.esptool(sim, "read-flash", hex(OFFSET), hex(SIZE), back)
    assert back.read_bytes() == data


def verify_catches_a_difference(ctx, chip):
    """verify-flash fails for a file that differs from flash in one bit."""
    sim = start(ctx, chip)
    data = image(chip + "verify", 16 * 1024)
    ctx.esptool(sim, "write-flash", hex(OFFSET), write_file(ctx, "data.bin", data))
    bad = bytearray(data)
    bad[len(data) // 2] ^= 0x01
    run = ctx.esptool(sim, "verify-flash", hex(OFFSET), write_file(ctx, "bad.bin", bad),
                      check=False)
    assert run.returncode != 0 and "Verification failed" in run.output, run.output[-3000:]


def write_no_stub(ctx, chip):
    """write-flash --no-stub (ROM loader, uncompressed); then verify-flash through the stub
    in a second connection (the ESP8266 ROM cannot compute an MD5 itself). Every ROM but the
    ESP8266's also verifies by itself (--no-stub verify-flash)."""
    sim = start(ctx, chip)
    data = image(chip + "rom")
    src = write_file(ctx, "data.bin", data)
    out = ctx.esptool(sim, "--no-stub", "write-flash", hex(OFFSET), src).output
    assert f"Wrote {SIZE} bytes at 0x{OFFSET:08x}" in out, out[-3000:]
    assert_flash(sim, with_region(b"\xff" * sim.flash_size, OFFSET, data), "write-flash")
    out = ctx.esptool(sim, "verify-flash", hex(OFFSET), src).output
    assert "Verification successful" in out, out
    if chip != "esp8266":
        out = ctx.esptool(sim, "--no-stub", "verify-flash", hex(OFFSET), src).output
        assert "Verification successful" in out, out


def write_uncompressed(ctx, chip):
    """write-flash -u: the stub, uncompressed."""
    sim = start(ctx, chip)
    data = image(chip + "plain")
    out = ctx.esptool(sim, "write-flash", "-u", hex(OFFSET), write_file(ctx, "d.bin", data)).output
    assert f"Wrote {SIZE} bytes at 0x{OFFSET:08x}" in out, out[-3000:]
    assert "Hash of data verified." in out, out
    assert_flash(sim, with_region(b"\xff" * sim.flash_size, OFFSET, data), "write-flash -u")


def erase_region_and_flash(ctx, chip):
    """erase-region clears exactly its sectors; erase-flash clears everything."""
    sim = start(ctx, chip)
    blank = b"\xff" * sim.flash_size
    data = image(chip + "erase")
    ctx.esptool(sim, "write-flash", hex(OFFSET), write_file(ctx, "data.bin", data))
    written = with_region(blank, OFFSET, data)
    assert_flash(sim, written, "write-flash")
    # The middle 16 KiB (4 sectors) of what was written.
    at, length = OFFSET + 0x4000, 0x4000
    ctx.esptool(sim, "erase-region", hex(at), hex(length))
    assert_flash(sim, with_region(written, at, b"\xff" * length), "erase-region")
    out = ctx.esptool(sim, "erase-flash").output
    assert "Flash memory erased successfully" in out, out
    assert_flash(sim, blank, "erase-flash")


test_identifies_chip_flash_and_mac = each_chip(concurrent(identify))
test_write_compressed_verify_read = each_chip(concurrent(write_compressed_verify_read))
test_write_no_stub = each_chip(concurrent(write_no_stub))
test_verify_catches_a_difference = core_chip(concurrent(verify_catches_a_difference))
test_write_uncompressed = core_chip(concurrent(write_uncompressed))
test_erase_region_and_flash = core_chip(concurrent(erase_region_and_flash))


@concurrent
def test_esp32_rom_baud_change_is_corrected_by_the_roms_clock_estimate(ctx):
    """The ESP32 ROM sets its UART from its own drifting clock estimate (esp-sim's reads 42 MHz):
    esptool scales its CHANGE_BAUDRATE by it (ROM only, --no-stub), and the link works. Our
    loader does the same (tests/native_usb.rs shows an unscaled request losing the link)."""
    sim = start(ctx, "esp32")
    data = image("rombaud", 32 * 1024)
    out = ctx.esptool(sim, "--no-stub", "write-flash", hex(OFFSET), write_file(ctx, "d.bin", data),
                      baud=460800).output
    assert "Changing baud rate to 460800" in out, out
    assert_flash(sim, with_region(b"\xff" * sim.flash_size, OFFSET, data), "ROM write at 460800")


@concurrent
def test_write_and_read_at_460800(ctx):
    """esptool switches to 460800 with CHANGE_BAUDRATE, then pyserial sends SET_BAUDRATE."""
    sim = start(ctx, "esp32")
    data = image("fast", 128 * 1024)
    out = ctx.esptool(sim, "write-flash", hex(OFFSET), write_file(ctx, "d.bin", data),
                      baud=460800).output
    assert "Changing baud rate to 460800" in out, out
    assert_flash(sim, with_region(b"\xff" * sim.flash_size, OFFSET, data), "write at 460800")
    back = ctx.tmp / "back.bin"
    ctx.esptool(sim, "read-flash", hex(OFFSET), hex(len(data)), back, baud=460800)
    assert back.read_bytes() == data


@concurrent
def test_flash_file_is_loaded_by_a_new_simulator(ctx):
    """What one esp-sim stored, the next one started on the same file serves."""
    sim = start(ctx, "esp32c3")
    data = image("persist", 8 * 1024)
    ctx.esptool(sim, "write-flash", hex(OFFSET), write_file(ctx, "d.bin", data))
    assert_flash(sim, with_region(b"\xff" * sim.flash_size, OFFSET, data), "write-flash")
    sim.stop()
    again = start(ctx, "esp32c3", flash_file=sim.flash_file)
    back = ctx.tmp / "back.bin"
    ctx.esptool(again, "read-flash", hex(OFFSET), hex(len(data)), back)
    assert back.read_bytes() == data


@concurrent
def test_raw_tcp_starts_in_download_mode(ctx):
    """--raw serves plain TCP (esptool's socket://, which cannot reset the chip): the chip
    waits in download mode, and follows esptool's baud changes across connections."""
    sim = start(ctx, "esp32s3", raw=True)
    data = image("raw", 32 * 1024)
    src = write_file(ctx, "d.bin", data)
    out = ctx.esptool(sim, "write-flash", hex(OFFSET), src, baud=460800).output
    assert "Hash of data verified." in out, out
    assert_flash(sim, with_region(b"\xff" * sim.flash_size, OFFSET, data), "write-flash")
    # Still in the stub, now at 460800: the next connection (at another rate) syncs again.
    out = ctx.esptool(sim, "read-mac", baud=921600).output
    assert f"MAC:                {CHIPS['esp32s3'][1]}\n" in out, out


# ESP32-C3 on its built-in USB-Serial-JTAG. esptool picks its USB-JTAG reset sequence itself
# only for VID:PID 303A:1001, which rfc2217:// cannot report, so these ask for it with
# --before usb-reset, and check that the classic sequence fails as it does on a real board.


@concurrent
def test_usb_jtag_board_with_usb_reset(ctx):
    """esptool's USB-JTAG sequence enters download mode; read-mac and a write succeed.

    (That the classic sequence fails on such a board is checked where the lines start
    released, as Web Serial opens them: tests/loader_sim.rs and the browser journeys. pyserial
    opens with DTR and RTS asserted, and from that state the classic sequence passes through
    (1, 1) into reset, which arms download mode as esptool's own USB-JTAG sequence does.)"""
    sim = start(ctx, "esp32c3", wiring="usb-jtag")
    name, mac, _ = CHIPS["esp32c3"]
    out = ctx.esptool(sim, "read-mac", before="usb-reset").output
    assert f"Detecting chip type... {name}\n" in out, out
    assert f"MAC:                {mac}\n" in out, out
    data = image("jtag", 16 * 1024)
    ctx.esptool(sim, "write-flash", hex(OFFSET), write_file(ctx, "d.bin", data),
                before="usb-reset")
    assert_flash(sim, with_region(b"\xff" * sim.flash_size, OFFSET, data), "write-flash")
