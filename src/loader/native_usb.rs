//! Chips with their own USB: the watchdogs USB-Serial-JTAG leaves running in download mode,
//! and leaving the ROM where the control lines cannot reset the chip (`esp-protocol.md` §5.8,
//! §10.4; `boards.md` §5.3).

use std::time::Duration;

use super::{Error, Loader, Result};
use crate::port::{Port, PortError};
use crate::protocol::native_usb::{NativeUsb, WDT_KEY, WDT_RESET_CONFIG0, WDT_RESET_CONFIG1};
use crate::usb::ResetWiring;

/// How the chip was restarted into its firmware, so nobody claims more than happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// The reset line restarted it; the port stays (a USB-UART bridge, USB-Serial-JTAG). On a
    /// board whose firmware brings up its own USB the port still changes.
    ResetLine,
    /// The RTC watchdog restarted it: the ROM's USB device goes away, and the firmware's own
    /// (another USB id) appears if it has one.
    Watchdog,
}

impl<P: Port> Loader<P> {
    fn native_usb(&self) -> Option<NativeUsb> {
        self.chip().and_then(|spec| spec.chip.native_usb())
    }

    /// Whether the ROM talks over USB-Serial-JTAG: known from the USB id, or for a port the
    /// browser could not name, from the ROM's console variable (UARTDEV_BUF_NO).
    async fn on_usb_jtag(&mut self, usb: &NativeUsb) -> Result<bool> {
        match self.wiring {
            Some(wiring) => Ok(wiring == ResetWiring::UsbJtagSerial),
            None => match usb.console.and_then(|c| c.usb_jtag.map(|v| (c.addr, v))) {
                Some((addr, value)) => Ok(self.read_reg(addr).await? & 0xFF == value as u32),
                None => Ok(false),
            },
        }
    }

    /// On USB-Serial-JTAG, turns off the RTC watchdog and makes the super watchdog feed
    /// itself (esptool's `disable_watchdogs`): a firmware may have left them running, and
    /// download mode does not feed them, so the chip would reboot in the middle of a flash.
    /// Nothing is restored afterwards: the next system reset does that.
    pub async fn disable_watchdogs(&mut self) -> Result<bool> {
        let Some(usb) = self.native_usb() else {
            return Ok(false);
        };
        let Some(swd) = usb.swd else { return Ok(false) };
        if !self.on_usb_jtag(&usb).await? {
            return Ok(false);
        }
        let wdt = usb.rtc_wdt;
        self.write_reg(wdt.wprotect, WDT_KEY).await?;
        self.write_reg(wdt.config0, 0).await?;
        self.write_reg(wdt.wprotect, 0).await?;
        self.write_reg(swd.wprotect, swd.key).await?;
        let conf = self.read_reg(swd.conf).await?;
        self.write_reg(swd.conf, conf | swd.auto_feed).await?;
        self.write_reg(swd.wprotect, 0).await?;
        Ok(true)
    }

    /// Clears the RTC's "force download boot" flag that MicroPython's `machine.bootloader()`
    /// leaves set: with it, every reset but power-on returns to the ROM.
    async fn clear_force_download(&mut self, usb: &NativeUsb) -> Result<()> {
        if let Some(flag) = usb.force_download {
            let value = self.read_reg(flag.addr).await?;
            if value & flag.mask() != 0 {
                self.write_reg(flag.addr, value & !flag.mask()).await?;
            }
        }
        Ok(())
    }

    /// Restarts the chip into its firmware: by the reset line where one reaches the chip, by
    /// the RTC watchdog on the ROM's USB-OTG port (where the lines do nothing).
    pub async fn restart_into_firmware(&mut self, wiring: Option<ResetWiring>) -> Result<Restart> {
        let usb = self.native_usb();
        if let Some(usb) = &usb {
            self.clear_force_download(usb).await?;
        }
        match usb {
            Some(usb) if wiring == Some(ResetWiring::UsbOtg) => {
                self.watchdog_reset(&usb).await?;
                Ok(Restart::Watchdog)
            }
            _ => {
                self.hard_reset(wiring).await?;
                Ok(Restart::ResetLine)
            }
        }
    }

    /// Lets the RTC watchdog reset the whole chip after a few milliseconds (a system reset,
    /// so the straps are read again and the chip boots its firmware).
    async fn watchdog_reset(&mut self, usb: &NativeUsb) -> Result<()> {
        self.emit(super::Event::Stage(super::Stage::Resetting));
        let wdt = usb.rtc_wdt;
        self.write_reg(wdt.wprotect, WDT_KEY).await?;
        self.write_reg(wdt.config1, WDT_RESET_CONFIG1).await?;
        self.write_reg(wdt.config0, WDT_RESET_CONFIG0).await?;
        // The watchdog is armed; if the chip resets before this answer arrives, so be it.
        match self.write_reg(wdt.wprotect, 0).await {
            Ok(()) | Err(Error::Timeout(_)) | Err(Error::Port(PortError::Disconnected)) => {}
            Err(e) => return Err(e),
        }
        self.port.sleep(Duration::from_millis(50)).await;
        self.forget_responder();
        Ok(())
    }
}
