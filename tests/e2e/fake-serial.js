// A fake `navigator.serial` shaped like the Web Serial spec, installed before any page script.
// Every port is bridged over a WebSocket to a device process on the test side, so the page's
// real WebSerialPort code runs and only the device is fake.
//
// Wire protocol on the WebSocket (page <-> device):
//   binary frames: serial bytes, both directions.
//   text frames, page -> device: {"type":"open","baudRate":N} | {"type":"signals","dtr":B,"rts":B} | {"type":"close"}
//   text frames, device -> page: {"type":"disconnect"}  (the USB device went away)
//
// Configuration comes from `globalThis.__fakeSerialConfig`, set by an earlier init script:
//   { ports: [{ usbVendorId, usbProductId, url, openError?, unplugAfterBytes? } | { bus, url }],
//     chooser?: "first" | "cancel", granted?: ["VVVV:PPPP", ...] }
// `unplugAfterBytes`: the cable is pulled once the page has written that many bytes (once).
//
// A port with `bus` is a board whose USB device changes (a chip with native USB: ROM download
// mode, then MicroPython's own USB device). The bus WebSocket (esp-sim --bus) announces
// `{"type":"usb","present":true,usbVendorId,usbProductId,serialNumber}` or `present:false`;
// each appearance is a new SerialPort object, as in Chromium. The origin may use a port when
// the user picked it in `requestPort()`, or when a device with the same VID, PID and a
// non-empty serial number was picked before (Chromium keeps such grants across unplugging;
// others end with the device), or when its "VVVV:PPPP" is in `granted` (permission given in
// an earlier visit). Only such ports are in `getPorts()` and fire `connect`/`disconnect` on
// `navigator.serial`. `requestPort()` returns the most recent device that matches its
// filters, as a user picking the board that just appeared would.
(() => {
  const config = globalThis.__fakeSerialConfig || { ports: [] };
  const lost = () => new DOMException("The device has been lost.", "NetworkError");

  const hex4 = (n) => n.toString(16).toUpperCase().padStart(4, "0");
  const idKey = (info) => `${hex4(info.usbVendorId)}:${hex4(info.usbProductId)}`;
  const persistentGrants = new Set();   // "VVVV:PPPP:serial" picked by the user

  class FakeSerialPort extends EventTarget {
    #info; #ws = null; #readable = null; #writable = null; #rx = null; #gone = false; #written = 0;
    ondisconnect = null; onconnect = null;
    granted = false;
    constructor(info) { super(); this.#info = info; }
    get info() { return this.#info; }
    get readable() { return this.#readable; }
    get writable() { return this.#writable; }
    get connected() { return !this.#gone; }
    getInfo() { return { usbVendorId: this.#info.usbVendorId, usbProductId: this.#info.usbProductId }; }

    async open(options) {
      if (!options || typeof options.baudRate !== "number" || options.baudRate <= 0) {
        throw new TypeError("Failed to execute 'open' on 'SerialPort': Requested baud rate is invalid.");
      }
      if (this.#readable || this.#writable) throw new DOMException("The port is already open.", "InvalidStateError");
      if (this.#info.dynamic && this.#gone) throw lost();
      if (this.#info.openError) throw new DOMException("Failed to open serial port.", this.#info.openError);
      const ws = new WebSocket(this.#info.url);
      ws.binaryType = "arraybuffer";
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new DOMException("Failed to open serial port.", "NetworkError"));
      });
      this.#gone = false;
      this.#ws = ws;
      ws.send(JSON.stringify({ type: "open", baudRate: options.baudRate }));
      // What the page sent at which rate, for tests: [{ baud, bytes }] per open.
      const traffic = { baud: options.baudRate, bytes: 0 };
      (globalThis.__serialTraffic ??= []).push(traffic);
      this.#readable = new ReadableStream({
        start: (controller) => { this.#rx = controller; },
        cancel: () => { this.#rx = null; },
      });
      this.#writable = new WritableStream({
        write: (chunk) => {
          if (this.#gone) throw lost();
          if (!(chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk))) {
            throw new TypeError("Chunk must be an ArrayBuffer or ArrayBufferView");
          }
          const bytes = chunk instanceof ArrayBuffer ? new Uint8Array(chunk)
            : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          ws.send(bytes.slice());
          this.#written += bytes.length;
          traffic.bytes += bytes.length;
          if (this.#info.unplugAfterBytes && this.#written >= this.#info.unplugAfterBytes) {
            this.#info.unplugAfterBytes = 0;
            setTimeout(() => this.#lose(), 0);
          }
        },
      });
      ws.onmessage = (event) => {
        if (typeof event.data === "string") {
          const msg = JSON.parse(event.data);
          if (msg.type === "disconnect") this.#lose();
          return;
        }
        if (this.#rx) this.#rx.enqueue(new Uint8Array(event.data));
      };
      ws.onclose = () => { if (this.#ws === ws) this.#lose(); };
    }

    /// The USB device went away (also when the port was not open).
    unplugged() { this.#lose(); }

    #lose() {
      if (this.#gone) return;
      this.#gone = true;
      const err = lost();
      try { this.#rx && this.#rx.error(err); } catch (_) {}
      this.#rx = null;
      // After loss the spec sets readable/writable to null once released; mimic by erroring them.
      const writable = this.#writable;
      this.#writable = null;
      this.#readable = null;
      if (writable && !writable.locked) writable.abort(err).catch(() => {});
      try { this.#ws && this.#ws.close(); } catch (_) {}
      this.#ws = null;
      const event = new Event("disconnect", { bubbles: true });
      this.dispatchEvent(event);
      if (this.granted || !this.#info.dynamic) navigator.serial.dispatchEvent(new Event("disconnect"));
    }

    async close() {
      if (this.#readable && this.#readable.locked) {
        throw new DOMException("Cannot cancel a locked stream", "InvalidStateError");
      }
      if (this.#writable && this.#writable.locked) {
        throw new DOMException("Cannot close a locked stream", "InvalidStateError");
      }
      if (this.#ws) {
        try { this.#ws.send(JSON.stringify({ type: "close" })); } catch (_) {}
        const ws = this.#ws;
        this.#ws = null;
        ws.close();
      }
      this.#readable = null;
      this.#writable = null;
      this.#rx = null;
    }

    async setSignals(signals = {}) {
      if (!this.#ws || this.#gone) throw new DOMException("The port is closed.", "InvalidStateError");
      this.#dtr = signals.dataTerminalReady ?? this.#dtr;
      this.#rts = signals.requestToSend ?? this.#rts;
      this.#ws.send(JSON.stringify({ type: "signals", dtr: this.#dtr, rts: this.#rts }));
    }
    #dtr = false; #rts = false;

    async getSignals() {
      if (!this.#ws) throw new DOMException("The port is closed.", "InvalidStateError");
      return { dataCarrierDetect: false, clearToSend: false, ringIndicator: false, dataSetReady: false };
    }

    async forget() {}
  }

  class FakeSerial extends EventTarget {
    #ports = (config.ports || []).filter((info) => !info.bus).map((info) => new FakeSerialPort(info));
    onconnect = null; ondisconnect = null;
    async getPorts() { return this.#ports.filter((p) => p.granted || !p.info.dynamic); }
    async requestPort(options = {}) {
      if (!navigator.userActivation || !navigator.userActivation.isActive) {
        throw new DOMException("Must be handling a user gesture to show a permission request.", "SecurityError");
      }
      const filters = options.filters || [];
      const matches = (p) => filters.length === 0 || filters.some((f) =>
        (f.usbVendorId === undefined || f.usbVendorId === p.info.usbVendorId) &&
        (f.usbProductId === undefined || f.usbProductId === p.info.usbProductId));
      // A static port is plugged back in whenever the test asks for it; a bus port only while its device is there.
      const listed = this.#ports.filter((p) => (!p.info.dynamic || p.connected) && matches(p));
      if (config.chooser === "cancel" || listed.length === 0) {
        throw new DOMException("No port selected by the user.", "NotFoundError");
      }
      const dynamic = listed.filter((p) => p.info.dynamic);
      const port = dynamic.length ? dynamic[dynamic.length - 1] : listed[Math.min(config.choose || 0, listed.length - 1)];
      port.granted = true;
      if (port.info.dynamic && port.info.serialNumber) persistentGrants.add(`${idKey(port.info)}:${port.info.serialNumber}`);
      (globalThis.__serialChooser ??= []).push(idKey(port.info));
      return port;
    }

    /// A bus device appeared: a new port object; usable at once if already granted.
    appeared(info) {
      const port = new FakeSerialPort({ ...info, dynamic: true });
      port.granted = (config.granted || []).includes(idKey(info)) ||
        (!!info.serialNumber && persistentGrants.has(`${idKey(info)}:${info.serialNumber}`));
      this.#ports.push(port);
      if (port.granted) this.dispatchEvent(new Event("connect"));
      return port;
    }

    /// A bus device went away.
    vanished(port) {
      this.#ports = this.#ports.filter((p) => p !== port);
      port.unplugged();
    }
  }

  const serial = new FakeSerial();
  // Boards whose USB device changes: follow their bus.
  for (const info of (config.ports || []).filter((p) => p.bus)) {
    let current = null;
    const bus = new WebSocket(info.bus);
    bus.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type !== "usb") return;
      if (current) { serial.vanished(current); current = null; }
      if (msg.present) {
        current = serial.appeared({ usbVendorId: msg.usbVendorId, usbProductId: msg.usbProductId,
          serialNumber: msg.serialNumber || "", url: info.url });
      }
      (globalThis.__usbEvents ??= []).push(msg.present ? `+${idKey(msg)}` : "-");
    };
  }
  Object.defineProperty(navigator, "serial", { value: serial, configurable: true });
  globalThis.SerialPort = FakeSerialPort;
})();
