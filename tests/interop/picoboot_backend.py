"""A pyusb backend (duck-typed `usb.backend.IBackend`) whose one device is our simulated
RP2040/RP2350 in BOOTSEL mode (`picoboot-sim`, src/sim/picoboot.rs): the descriptors the ROM
shows (MSC interface 0, PICOBOOT interface 1 with bulk OUT 0x03 and IN 0x84) and every control
and bulk transfer forwarded to the simulator. With it, a real PICOBOOT host written for libusb
(pypicoboot) drives the simulator unchanged."""

import errno
import json
import subprocess
import threading
from types import SimpleNamespace

import usb.backend
import usb.core

IDS = {"rp2040": 0x0003, "rp2350": 0x000F}


class SimBackend(usb.backend.IBackend):
    def __init__(self, binary, chip="rp2040", flash_size=2 << 20, flash_file=None):
        args = [str(binary), "--chip", chip, "--flash-size", str(flash_size)]
        if flash_file:
            args += ["--flash-file", str(flash_file)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lock = threading.Lock()
        self.chip = chip
        self.device = SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x0110 if chip == "rp2040" else 0x0210,
            bDeviceClass=0, bDeviceSubClass=0, bDeviceProtocol=0, bMaxPacketSize0=64,
            idVendor=0x2E8A, idProduct=IDS[chip], bcdDevice=0x0100,
            iManufacturer=1, iProduct=2, iSerialNumber=3, bNumConfigurations=1,
            bus=1, address=7, port_number=1, port_numbers=(1,), speed=2)

    def request(self, **req):
        with self.lock:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
            reply = json.loads(self.proc.stdout.readline())
        if not reply["ok"]:
            err = reply["error"]
            if err == "stall":
                raise usb.core.USBError("Pipe error", -9, errno.EPIPE)
            if err == "disconnected":
                raise usb.core.USBError("No such device", -4, errno.ENODEV)
            raise usb.core.USBError(err, -99, errno.EIO)
        return reply

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)

    # -- enumeration and descriptors ------------------------------------------------------
    def enumerate_devices(self):
        if not self.request(op="state")["rebooted"]:
            yield self.device

    def get_parent(self, dev):
        return None

    def get_device_descriptor(self, dev):
        return dev

    def get_configuration_descriptor(self, dev, config):
        return SimpleNamespace(bLength=9, bDescriptorType=2, wTotalLength=55, bNumInterfaces=2,
                               bConfigurationValue=1, iConfiguration=0, bmAttributes=0x80,
                               bMaxPower=250, extra_descriptors=[])

    def get_interface_descriptor(self, dev, intf, alt, config):
        if alt != 0 or intf > 1:
            raise IndexError("no such interface")
        cls = (0x08, 0x06, 0x50) if intf == 0 else (0xFF, 0x00, 0x00)
        return SimpleNamespace(bLength=9, bDescriptorType=4, bInterfaceNumber=intf, bAlternateSetting=0,
                               bNumEndpoints=2, bInterfaceClass=cls[0], bInterfaceSubClass=cls[1],
                               bInterfaceProtocol=cls[2], iInterface=0, extra_descriptors=[])

    def get_endpoint_descriptor(self, dev, ep, intf, alt, config):
        addresses = (0x81, 0x02) if intf == 0 else (0x03, 0x84)
        return SimpleNamespace(bLength=7, bDescriptorType=5, bEndpointAddress=addresses[ep], bmAttributes=2,
                               wMaxPacketSize=64, bInterval=0, bRefresh=0, bSynchAddress=0, extra_descriptors=[])

    # -- handles ----------------------------------------------------------------------------
    def open_device(self, dev):
        return object()

    def close_device(self, handle):
        pass

    def set_configuration(self, handle, value):
        pass

    def get_configuration(self, handle):
        return 1

    def set_interface_altsetting(self, handle, intf, alt):
        pass

    def claim_interface(self, handle, intf):
        pass

    def release_interface(self, handle, intf):
        pass

    def is_kernel_driver_active(self, handle, intf):
        return False

    def detach_kernel_driver(self, handle, intf):
        pass

    # -- transfers --------------------------------------------------------------------------
    def bulk_write(self, handle, ep, intf, data, timeout):
        self.request(op="bulk_out", endpoint=ep & 0x7F, data=bytes(data).hex())
        return len(data)

    def bulk_read(self, handle, ep, intf, buff, timeout):
        got = bytes.fromhex(self.request(op="bulk_in", endpoint=ep & 0x7F, length=len(buff))["data"])
        buff[:len(got)] = type(buff)("B", got)
        return len(got)

    def ctrl_transfer(self, handle, bmRequestType, bRequest, wValue, wIndex, data, timeout):
        setup = dict(request_type=bmRequestType, request=bRequest, value=wValue, index=wIndex)
        if bmRequestType & 0x80:
            got = bytes.fromhex(self.request(op="ctrl_in", length=len(data), **setup)["data"])
            data[:len(got)] = type(data)("B", got)
            return len(got)
        self.request(op="ctrl_out", data=bytes(data or b"").hex(), **setup)
        return len(data or b"")

    def clear_halt(self, handle, ep):
        self.request(op="clear_halt", endpoint=ep & 0x7F, **{"in": bool(ep & 0x80)})
