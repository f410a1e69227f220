//! The demo board: the simulated device (ROM loader, stub, flash, MicroPython) as its own wasm
//! module, loaded only when someone presses "Demo board", so the page a student needs to flash a
//! real board does not carry a simulator. `src/web/demo_port.js` wraps it in the Web Serial
//! port interface, so the page drives it through the same `WebSerialPort` as a USB board.

#[cfg(target_arch = "wasm32")]
mod board {
    use wasm_bindgen::prelude::*;
    use webflash::port::{Port, Signals};
    use webflash::protocol::chip::Chip;
    use webflash::sim::{block_on, Device, DeviceConfig, SimPort};
    use webflash::web::time::BrowserClock;

    /// A simulated board on a CP210x bridge, running on the browser's clock.
    #[wasm_bindgen]
    pub struct DemoBoard {
        port: SimPort<BrowserClock>,
    }

    #[wasm_bindgen]
    impl DemoBoard {
        /// A board with `chip` ("esp32", "esp8266", …) that holds some other firmware, like a
        /// new board from a shop.
        #[wasm_bindgen(constructor)]
        pub fn new(chip: &str) -> Result<DemoBoard, JsError> {
            let chip = Chip::from_name(chip).ok_or_else(|| JsError::new("unknown chip"))?;
            let mut device = Device::new(DeviceConfig::new(chip));
            let mut flash = vec![0xFFu8; 4 << 20];
            flash[chip.spec().bootloader_offset as usize] = 0xE9;
            device.load_flash(&flash);
            let mut port = SimPort::with_clock(device, BrowserClock);
            port.log_tx = false;
            Ok(DemoBoard { port })
        }

        /// Bytes from the host reach the chip after their wire time at the current baud.
        pub fn write(&mut self, data: &[u8]) {
            let _ = block_on(self.port.write(data));
        }

        /// What the chip has sent that has arrived by now.
        pub fn take(&mut self) -> Vec<u8> {
            let mut buf = Vec::new();
            self.port.take_arrived(&mut buf);
            buf
        }

        /// Milliseconds until more output arrives (`None`: nothing is on its way).
        pub fn ms_until_output(&self) -> Option<f64> {
            use webflash::sim::Clock;
            let now = self.port.clock().now();
            let next = self.port.next_arrival_after(now)?;
            Some((next - now).as_secs_f64() * 1000.0)
        }

        /// DTR and RTS as the host sets them (the auto-reset circuit sees them).
        pub fn set_signals(&mut self, dtr: bool, rts: bool) {
            let _ = block_on(self.port.set_signals(Signals { dtr, rts }));
        }

        pub fn set_baud(&mut self, baud: u32) {
            let _ = block_on(self.port.set_baud(baud));
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod dfu;
#[cfg(target_arch = "wasm32")]
mod pico;
#[cfg(target_arch = "wasm32")]
mod pyboard;
#[cfg(target_arch = "wasm32")]
mod serial_mp;

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("webflash-demo is the page's demo board (wasm): `make serve` builds it.");
}
