// A fake `navigator.usb` shaped like the WebUSB spec, installed before any page script. Each
// device is bridged over a WebSocket to a device on the test side (pyboard.mjs), so the page's
// real WebUSB code runs and only the device is fake.
//
// Configuration: `globalThis.__fakeUsbConfig = { buses: [url, ...], chooser?: "first" | "cancel" }`.
// Wire protocol on a bus WebSocket:
//   device -> page: {"type":"usb","present":B,vendorId,productId,productName,
//                    interfaces?:[{number,class,subclass,protocol,name,endpoints:[{endpointNumber,direction}]}]
//                    | interfaceName,interfaceClass,interfaceSubclass,interfaceProtocol (one interface)}
//                    (each appearance is a new USBDevice object, as in Chromium)
//   page -> device: {"id":N,"dir":"in"|"out",requestType:byte,request,value,index,length?,data?:[bytes]}
//                   {"id":N,"dir":"bulk_out",endpoint,data:[bytes]} | {"id":N,"dir":"bulk_in",endpoint,length}
//                   {"id":N,"dir":"clear_halt",endpoint,in:B}
//   device -> page: {"id":N,"status":"ok"|"stall"|"disconnected","data"?:[bytes]}
// Claiming a mass-storage interface (class 08) throws SecurityError, as Chromium protects it.
// Opened devices, requests and transfers are logged in `globalThis.__usbLog` for the tests.
(() => {
  const config = globalThis.__fakeUsbConfig || { buses: [] };
  const log = (globalThis.__usbLog = []);
  const gone = () => new DOMException("The device was disconnected.", "NotFoundError");
  const TYPES = { standard: 0, class: 1, vendor: 2 };
  const RECIPIENTS = { device: 0, interface: 1, endpoint: 2, other: 3 };

  class FakeUSBDevice {
    #bus; #info; #opened = false; #claimed = new Set(); #config = null;
    gone = false;
    constructor(bus, info) {
      this.#bus = bus;
      this.#info = info;
    }
    get vendorId() { return this.#info.vendorId; }
    get productId() { return this.#info.productId; }
    get productName() { return this.#info.productName; }
    get manufacturerName() { return "STMicroelectronics"; }
    get serialNumber() { return this.#info.serialNumber || ""; }
    get opened() { return this.#opened; }
    get configurations() { return [this.#configuration()]; }
    get configuration() { return this.#opened ? this.#config : null; }

    #interfaces() {
      const i = this.#info;
      return i.interfaces || [{ number: 0, class: i.interfaceClass, subclass: i.interfaceSubclass,
        protocol: i.interfaceProtocol, name: i.interfaceName, endpoints: [] }];
    }

    #configuration() {
      const interfaces = this.#interfaces().map((d) => {
        const alternate = {
          alternateSetting: 0, interfaceClass: d.class, interfaceSubclass: d.subclass, interfaceProtocol: d.protocol,
          interfaceName: d.name ?? null,
          endpoints: (d.endpoints || []).map((e) => ({ endpointNumber: e.endpointNumber, direction: e.direction, type: "bulk", packetSize: 64 })),
        };
        return { interfaceNumber: d.number, alternate, alternates: [alternate], get claimed() { return false; } };
      });
      return { configurationValue: 1, configurationName: null, interfaces };
    }

    async open() {
      if (this.gone) throw gone();
      if (this.#info.openError) throw new DOMException("Access denied.", this.#info.openError);
      this.#opened = true;
      this.#config = this.#configuration();
      log.push("open");
    }
    async close() {
      this.#opened = false;
      this.#claimed.clear();
      log.push("close");
    }
    async selectConfiguration(n) {
      if (!this.#opened) throw new DOMException("The device must be opened first.", "InvalidStateError");
      if (n !== 1) throw new DOMException("The configuration value provided is not supported by the device.", "NotFoundError");
      this.#config = this.#configuration();
    }
    async claimInterface(n) {
      if (this.gone) throw gone();
      if (!this.#opened) throw new DOMException("The device must be opened first.", "InvalidStateError");
      if (this.#info.claimError) throw new DOMException("Unable to claim interface.", this.#info.claimError);
      const d = this.#interfaces().find((x) => x.number === n);
      if (!d) throw new DOMException("The interface number provided is not supported by the device in its current configuration.", "NotFoundError");
      if (d.class === 0x08) throw new DOMException("The requested interface implements a protected class.", "SecurityError");
      this.#claimed.add(n);
    }
    async releaseInterface(n) { this.#claimed.delete(n); }
    async selectAlternateInterface(n, alt) {
      if (!this.#claimed.has(n)) throw new DOMException("The interface must be claimed first.", "InvalidStateError");
      if (alt !== 0) throw new DOMException("The alternate setting provided is not supported.", "NotFoundError");
    }

    #check(setup) {
      if (this.gone) throw gone();
      if (!this.#opened) throw new DOMException("The device must be opened first.", "InvalidStateError");
      if (setup.recipient === "interface" && !this.#claimed.has(setup.index & 0xff)) {
        throw new DOMException("The specified interface is not claimed.", "InvalidStateError");
      }
      if (!(setup.requestType in TYPES) || !(setup.recipient in RECIPIENTS)) throw new TypeError("invalid setup");
      return (TYPES[setup.requestType] << 5) | RECIPIENTS[setup.recipient];
    }

    async controlTransferOut(setup, data) {
      const requestType = this.#check(setup);
      const bytes = data ? [...new Uint8Array(data.buffer ?? data, data.byteOffset ?? 0, data.byteLength)] : [];
      const r = await this.#bus.request(this, { dir: "out", requestType, request: setup.request, value: setup.value, index: setup.index, data: bytes });
      if (r.status === "disconnected") throw gone();
      return { status: r.status, bytesWritten: r.status === "ok" ? bytes.length : 0 };
    }

    #endpoint(direction, n) {
      if (this.gone) throw gone();
      if (!this.#opened) throw new DOMException("The device must be opened first.", "InvalidStateError");
      const owner = this.#interfaces().find((d) => (d.endpoints || []).some((e) => e.endpointNumber === n && e.direction === direction));
      if (!owner || !this.#claimed.has(owner.number)) {
        throw new DOMException("The specified endpoint is not part of a claimed and selected alternate interface.", "NotFoundError");
      }
    }

    async transferOut(n, data) {
      this.#endpoint("out", n);
      const bytes = [...new Uint8Array(data.buffer ?? data, data.byteOffset ?? 0, data.byteLength)];
      const r = await this.#bus.request(this, { dir: "bulk_out", endpoint: n, data: bytes });
      if (r.status === "disconnected") throw gone();
      return { status: r.status, bytesWritten: r.status === "ok" ? bytes.length : 0 };
    }

    async transferIn(n, length) {
      this.#endpoint("in", n);
      const r = await this.#bus.request(this, { dir: "bulk_in", endpoint: n, length });
      if (r.status === "disconnected") throw gone();
      const bytes = new Uint8Array(r.data || []);
      return { status: r.status, data: r.status === "ok" ? new DataView(bytes.buffer) : undefined };
    }

    async clearHalt(direction, n) {
      this.#endpoint(direction, n);
      const r = await this.#bus.request(this, { dir: "clear_halt", endpoint: n, in: direction === "in" });
      if (r.status === "disconnected") throw gone();
    }

    async controlTransferIn(setup, length) {
      const requestType = this.#check(setup) | 0x80;
      const r = await this.#bus.request(this, { dir: "in", requestType, request: setup.request, value: setup.value, index: setup.index, length });
      if (r.status === "disconnected") throw gone();
      const bytes = new Uint8Array(r.data || []);
      return { status: r.status, data: r.status === "ok" ? new DataView(bytes.buffer) : undefined };
    }
  }

  class Bus {
    #ws; #next = 1; #waiting = new Map();
    device = null;
    constructor(url) {
      this.#ws = new WebSocket(url);
      this.#ws.onmessage = (e) => this.#message(JSON.parse(e.data));
    }
    #message(m) {
      if (m.type === "usb") {
        if (this.device) {
          this.device.gone = true;
          for (const [, w] of this.#waiting) w({ status: "disconnected" });
          this.#waiting.clear();
          usb.dispatchEvent(Object.assign(new Event("disconnect"), { device: this.device }));
          log.push("-" + (this.device.productName || "device"));
          this.device = null;
        }
        if (m.present) {
          this.device = new FakeUSBDevice(this, m);
          log.push("+" + m.productName);
        }
        return;
      }
      const w = this.#waiting.get(m.id);
      if (w) {
        this.#waiting.delete(m.id);
        w(m);
      }
    }
    request(device, req) {
      if (device !== this.device || device.gone) return Promise.resolve({ status: "disconnected" });
      const id = this.#next++;
      return new Promise((resolve) => {
        this.#waiting.set(id, resolve);
        this.#ws.send(JSON.stringify({ id, ...req }));
      });
    }
  }

  const buses = config.buses.map((url) => new Bus(url));
  const usb = new EventTarget();
  const matches = (d, filters) => filters.some((f) =>
    (f.vendorId === undefined || f.vendorId === d.vendorId) && (f.productId === undefined || f.productId === d.productId));
  usb.getDevices = async () => [];
  usb.requestDevice = async (options) => {
    if (!options || !Array.isArray(options.filters)) throw new TypeError("Failed to execute 'requestDevice' on 'USB': required member filters is undefined.");
    log.push("chooser");
    const found = buses.map((b) => b.device).filter((d) => d && matches(d, options.filters));
    if (config.chooser === "cancel" || found.length === 0) throw new DOMException("No device selected.", "NotFoundError");
    return found[found.length - 1];
  };
  Object.defineProperty(navigator, "usb", { value: usb, configurable: true });
})();
