// What the simulated Pico and pyboard of the browser tests share: a board that is a MicroPython
// USB serial port (fake-serial.js, with a presence `bus`) in one mode and something else in
// another (a BOOTSEL drive, a DFU device). Subclasses say which serial device they show
// (`serialIds`) and announce their other devices themselves.
export class UsbSerialBoard {
  constructor() {
    this.state = "off";
    this.buses = new Set();
    this.serial = null;
    this.board = null;
    this.events = [];
  }

  /// The page opened the serial port (fake-serial.js).
  attach(ws) {
    if (this.state !== "micropython") {
      ws.send(JSON.stringify({ type: "disconnect" }));
      ws.close();
      return;
    }
    this.serial = ws;
    this.board.attach(ws);
    ws.on("close", () => { if (this.serial === ws) this.serial = null; });
  }

  /// The fake serial's presence bus for this board.
  attachBus(ws) {
    this.buses.add(ws);
    ws.send(this.serialMessage());
    ws.on("close", () => this.buses.delete(ws));
  }

  serialMessage() {
    return JSON.stringify(this.state === "micropython"
      ? { type: "usb", present: true, ...this.serialIds }
      : { type: "usb", present: false });
  }

  /// Tells the fake serial whether the board's serial device is there now.
  announceSerial() {
    const serial = this.serialMessage();
    if (serial !== this.lastSerial) for (const ws of this.buses) ws.send(serial);
    this.lastSerial = serial;
  }

  /// The serial device goes (the board restarts into another mode).
  dropSerial() {
    if (this.serial) {
      try { this.serial.send(JSON.stringify({ type: "disconnect" })); } catch (_) {}
      this.serial.close();
      this.serial = null;
    }
  }
}
