//! The port a session talks through: a real Web Serial port, or the demo board (the simulator
//! running in the page on the browser's clock).

use std::time::Duration;

use super::serial::WebSerialPort;
use super::time::BrowserClock;
use crate::port::{Port, PortError, Signals};
use crate::protocol::chip::Chip;
use crate::sim::{Device, DeviceConfig, SimPort};

/// Either kind of port, so the rest of the app is written once.
pub enum SessionPort {
    Serial(WebSerialPort),
    Demo(Box<SimPort<BrowserClock>>),
}

impl SessionPort {
    /// A simulated ESP32 board on a CP210x bridge, running its firmware.
    pub fn demo(chip: Chip) -> SessionPort {
        let mut device = Device::new(DeviceConfig::new(chip));
        // Demo boards ship with something in flash, like a new board from a shop.
        let mut flash = vec![0xFFu8; 4 << 20];
        flash[chip.spec().bootloader_offset as usize] = 0xE9;
        device.load_flash(&flash);
        SessionPort::Demo(Box::new(SimPort::with_clock(device, BrowserClock)))
    }

    pub fn is_demo(&self) -> bool {
        matches!(self, SessionPort::Demo(_))
    }

    /// USB ids as the browser reports them; the demo board pretends to be a CP210x.
    pub fn usb_ids(&self) -> (Option<u16>, Option<u16>) {
        match self {
            SessionPort::Serial(p) => p.usb_ids(),
            SessionPort::Demo(_) => (Some(0x10C4), Some(0xEA60)),
        }
    }

    pub fn is_lost(&self) -> bool {
        match self {
            SessionPort::Serial(p) => p.is_lost(),
            SessionPort::Demo(_) => false,
        }
    }

    /// Releases the port.
    pub async fn close(self) {
        if let SessionPort::Serial(p) = self {
            p.close().await;
        }
    }
}

impl Port for SessionPort {
    async fn write(&mut self, data: &[u8]) -> Result<(), PortError> {
        match self {
            SessionPort::Serial(p) => p.write(data).await,
            SessionPort::Demo(p) => p.write(data).await,
        }
    }
    async fn read(&mut self, buf: &mut Vec<u8>, deadline: Duration) -> Result<usize, PortError> {
        match self {
            SessionPort::Serial(p) => p.read(buf, deadline).await,
            SessionPort::Demo(p) => p.read(buf, deadline).await,
        }
    }
    async fn set_signals(&mut self, signals: Signals) -> Result<(), PortError> {
        match self {
            SessionPort::Serial(p) => p.set_signals(signals).await,
            SessionPort::Demo(p) => p.set_signals(signals).await,
        }
    }
    async fn set_baud(&mut self, baud: u32) -> Result<(), PortError> {
        match self {
            SessionPort::Serial(p) => p.set_baud(baud).await,
            SessionPort::Demo(p) => p.set_baud(baud).await,
        }
    }
    fn baud(&self) -> u32 {
        match self {
            SessionPort::Serial(p) => p.baud(),
            SessionPort::Demo(p) => p.baud(),
        }
    }
    async fn sleep(&mut self, duration: Duration) {
        match self {
            SessionPort::Serial(p) => p.sleep(duration).await,
            SessionPort::Demo(p) => p.sleep(duration).await,
        }
    }
    fn now(&self) -> Duration {
        match self {
            SessionPort::Serial(p) => p.now(),
            SessionPort::Demo(p) => p.now(),
        }
    }
}
