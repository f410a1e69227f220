// The demo board as a Web Serial port. The simulator is a separate wasm module
// (`webflash-demo`), fetched the first time someone presses "Demo board"; this object has the
// shape of a `SerialPort`, so the page talks to it through the same code as a USB board.
// Copied beside the page and imported (through demo_pico.js) by modules.js on first use.

let demo = null;

/// The demo module, with what its boards' MicroPython needs in the page (board_client.js, which
/// starts the official port in a worker when a demo board boots MicroPython).
export function loadDemo() {
  demo ??= (async () => {
    await import(new URL('board_client.js', document.baseURI).href);
    const m = await import(new URL('demo/webflash-demo.js', document.baseURI).href);
    await m.default();
    return m;
  })();
  demo.catch(() => { demo = null; }); // a failed download may be retried
  return demo;
}

export async function openDemoPort(chip) {
  const m = await loadDemo();
  return new DemoPort(new m.DemoBoard(chip));
}

/// `info`: the USB ids it shows; `alive()`: false once the device is gone (the stream errors
/// as a real port's does when its device disappears).
export class DemoPort {
  constructor(board, info = { usbVendorId: 0x10c4, usbProductId: 0xea60 }, alive = () => true) {
    this.board = board;
    this.info = info;
    this.alive = alive;
    this.readable = null;
    this.writable = null;
    this.signals = { dataTerminalReady: false, requestToSend: false };
    this.wake = null;
  }

  getInfo() {
    return { ...this.info };
  }

  async open({ baudRate }) {
    if (this.readable) throw new DOMException('The port is already open.', 'InvalidStateError');
    this.board.set_baud(baudRate);
    const port = this;
    let cancelled = false;
    this.readable = new ReadableStream({
      async pull(controller) {
        while (!cancelled) {
          if (!port.alive()) {
            controller.error(new DOMException('The device has been lost.', 'NetworkError'));
            return;
          }
          const bytes = port.board.take();
          if (bytes.length) {
            controller.enqueue(bytes);
            return;
          }
          // Sleep until the board's next output lands, or the host writes (which may answer).
          const ms = port.board.ms_until_output();
          await new Promise((resolve) => {
            port.wake = resolve;
            setTimeout(resolve, ms === undefined ? 50 : Math.min(Math.max(ms, 0), 50));
          });
          port.wake = null;
        }
      },
      cancel() {
        cancelled = true;
        port.wake?.();
      },
    });
    this.writable = new WritableStream({
      write(chunk) {
        port.board.write(chunk);
        port.wake?.();
      },
    });
  }

  async setSignals(signals) {
    if (!this.readable) throw new DOMException('The port is not open.', 'InvalidStateError');
    for (const key of ['dataTerminalReady', 'requestToSend']) {
      if (signals[key] !== undefined) this.signals[key] = signals[key];
    }
    this.board.set_signals(this.signals.dataTerminalReady, this.signals.requestToSend);
    this.wake?.();
  }

  async close() {
    this.readable = null;
    this.writable = null;
  }

  async forget() {}
}
