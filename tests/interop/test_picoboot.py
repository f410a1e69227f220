"""The real PICOBOOT host pypicoboot 2.3 (PyPI; AGPL-3.0, used as an external test tool only)
against our simulated RP2040/RP2350 BOOTSEL ROM (`picoboot-sim`, src/sim/picoboot.rs), through
the pyusb backend in picoboot_backend.py that stands in for libusb. pypicoboot opens the device
as it would a real one (enumeration, descriptors, the PICOBOOT interface and its endpoints),
sizes the flash, identifies the chip by the ROM's magic, erases, writes, reads and reboots.
If it and the simulator disagree, the simulator is wrong."""

import os

import pytest
import usb.backend.libusb0
import usb.backend.libusb1
import usb.backend.openusb

from conftest import ROOT
from picoboot_backend import SimBackend

PICOBOOT_SIM = ROOT / "target" / "debug" / "picoboot-sim"
FLASH = 0x10000000


@pytest.fixture
def board(tmp_path, monkeypatch, request):
    chip = request.param
    flash_file = tmp_path / "flash.bin"
    sim = SimBackend(PICOBOOT_SIM, chip=chip, flash_size=(2 << 20) if chip == "rp2040" else (4 << 20), flash_file=flash_file)
    # pypicoboot finds devices with pyusb's default backend: make that the simulator.
    monkeypatch.setattr(usb.backend.libusb1, "get_backend", lambda *a, **k: sim)
    monkeypatch.setattr(usb.backend.openusb, "get_backend", lambda *a, **k: None)
    monkeypatch.setattr(usb.backend.libusb0, "get_backend", lambda *a, **k: None)
    yield sim, flash_file
    sim.close()


def image(length, seed):
    out, x = bytearray(length), seed
    for i in range(length):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = x >> 24
    return bytes(out)


@pytest.mark.parametrize("board", ["rp2040", "rp2350"], indirect=True)
def test_pypicoboot_opens_sizes_writes_reads_and_reboots_the_simulated_rom(board):
    from picoboot import PicoBoot, Platform

    sim, flash_file = board
    pico = PicoBoot.open()
    try:
        # Its flash sizing on a blank chip writes a marker page, then finds the size by aliasing.
        assert pico.memory == (2 << 20 if sim.chip == "rp2040" else 4 << 20)
        assert pico.platform == (Platform.RP2040 if sim.chip == "rp2040" else Platform.RP2350)
        assert sim.request(op="state")["exclusive"] == 1
        data = image(12 * 1024, 3)
        pico.exit_xip()
        pico.flash_erase(FLASH, 16 * 1024)
        pico.exit_xip()
        pico.flash_write(FLASH, data)
        assert pico.flash_read(FLASH, len(data)) == data
        assert pico.get_command_status()["status"] == 0
        assert flash_file.read_bytes()[:len(data)] == data
        # An address the ROM refuses: pypicoboot sees the stall, the status names it.
        with pytest.raises(Exception):
            pico.flash_read(0x30000000, 256)
        assert pico.get_command_status()["status"] == 4  # INVALID_ADDRESS
        pico.interface_reset()
        assert pico.flash_read(FLASH, 256) == data[:256]
        pico.reboot(100)
        sim.request(op="sleep", ms=200)
        assert sim.request(op="state")["rebooted"]
    finally:
        pico.close()
