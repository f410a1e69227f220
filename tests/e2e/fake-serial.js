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
//   { ports: [{ usbVendorId, usbProductId, url, openError?, unplugAfterBytes? }], chooser?: "first" | "cancel" }
// `unplugAfterBytes`: the cable is pulled once the page has written that many bytes (once).
(() => {
  const config = globalThis.__fakeSerialConfig || { ports: [] };
  const lost = () => new DOMException("The device has been lost.", "NetworkError");

  class FakeSerialPort extends EventTarget {
    #info; #ws = null; #readable = null; #writable = null; #rx = null; #gone = false; #written = 0;
    ondisconnect = null; onconnect = null;
    constructor(info) { super(); this.#info = info; }
    get readable() { return this.#readable; }
    get writable() { return this.#writable; }
    get connected() { return !this.#gone; }
    getInfo() { return { usbVendorId: this.#info.usbVendorId, usbProductId: this.#info.usbProductId }; }

    async open(options) {
      if (!options || typeof options.baudRate !== "number" || options.baudRate <= 0) {
        throw new TypeError("Failed to execute 'open' on 'SerialPort': Requested baud rate is invalid.");
      }
      if (this.#readable || this.#writable) throw new DOMException("The port is already open.", "InvalidStateError");
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
      navigator.serial.dispatchEvent(new Event("disconnect"));
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
    #ports = (config.ports || []).map((info) => new FakeSerialPort(info));
    onconnect = null; ondisconnect = null;
    async getPorts() { return this.#ports.slice(); }
    async requestPort(_options) {
      if (!navigator.userActivation || !navigator.userActivation.isActive) {
        throw new DOMException("Must be handling a user gesture to show a permission request.", "SecurityError");
      }
      if (config.chooser === "cancel" || this.#ports.length === 0) {
        throw new DOMException("No port selected by the user.", "NotFoundError");
      }
      return this.#ports[config.choose || 0];
    }
  }

  const serial = new FakeSerial();
  Object.defineProperty(navigator, "serial", { value: serial, configurable: true });
  globalThis.SerialPort = FakeSerialPort;
})();
