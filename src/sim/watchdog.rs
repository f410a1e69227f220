//! The RTC watchdog and the super watchdog of chips with native USB.
//!
//! Both live in the chip's RTC domain, so a core reset (what USB-Serial-JTAG's reset line does,
//! and `esp_restart()`) leaves them as the firmware set them; only a system reset (power-on,
//! the EN pin, a watchdog firing) returns them to off. A firmware that runs with them armed
//! feeds them; the ROM's download mode does not. So a board whose firmware armed them, reset
//! into download mode over USB-Serial-JTAG, reboots by itself after the watchdog's timeout
//! unless the host disables them (`esp-protocol.md` §5.8), which is what [`Watchdogs`] models.

use std::time::Duration;

use super::regs::Registers;
use crate::protocol::native_usb::{NativeUsb, WDT_ENABLE};

/// The RTC slow clock the RTC watchdog counts (the RC oscillator, about 136 kHz on C3/S3).
pub const SLOW_CLOCK_HZ: u64 = 136_000;
/// The super watchdog's fixed timeout when nothing feeds it (a model figure, about a second).
pub const SWD_TIMEOUT: Duration = Duration::from_millis(1000);
/// The RTC watchdog timeout a firmware that arms it typically leaves (ESP-IDF's bootloader
/// default, `CONFIG_BOOTLOADER_WDT_TIME_MS` = 9000).
pub const FIRMWARE_RTC_TIMEOUT: Duration = Duration::from_millis(9000);

/// When each watchdog fires, if it is counting.
#[derive(Debug, Clone, Default)]
pub struct Watchdogs {
    rtc_due: Option<Duration>,
    swd_due: Option<Duration>,
}

impl Watchdogs {
    /// The earliest time a watchdog fires.
    pub fn due(&self) -> Option<Duration> {
        [self.rtc_due, self.swd_due].into_iter().flatten().min()
    }

    /// Nothing counts (a running firmware feeds them, or the chip is off).
    pub fn stop(&mut self) {
        *self = Watchdogs::default();
    }

    /// Starts counting from `at` with what the registers say (after a core reset into code that
    /// does not feed them, or after the host wrote their configuration).
    pub fn start(&mut self, at: Duration, regs: &Registers, usb: &NativeUsb) {
        let config0 = regs.read(usb.rtc_wdt.config0, 0);
        let cycles = regs.read(usb.rtc_wdt.config1, 0) as u64;
        self.rtc_due = (config0 & WDT_ENABLE != 0)
            .then(|| at + Duration::from_micros((cycles * 1_000_000 / SLOW_CLOCK_HZ).max(1)));
        self.swd_due = usb
            .swd
            .filter(|swd| regs.read(swd.conf, 0) & swd.auto_feed == 0)
            .map(|_| at + SWD_TIMEOUT);
    }

    /// What a firmware that runs with both watchdogs armed leaves in the registers.
    pub fn arm_as_firmware(regs: &mut Registers, usb: &NativeUsb) {
        let cycles = FIRMWARE_RTC_TIMEOUT.as_micros() as u64 * SLOW_CLOCK_HZ / 1_000_000;
        // Stage 0 resets the system when it expires.
        regs.set(usb.rtc_wdt.config0, WDT_ENABLE | 3 << 28);
        regs.set(usb.rtc_wdt.config1, cycles as u32);
        if let Some(swd) = usb.swd {
            regs.set(swd.conf, 0);
        }
    }

    /// A system reset turns both off (the super watchdog then feeds itself until a firmware
    /// takes it over).
    pub fn system_reset(&mut self, regs: &mut Registers, usb: &NativeUsb) {
        self.stop();
        regs.set(usb.rtc_wdt.config0, 0);
        regs.set(usb.rtc_wdt.config1, 0);
        regs.set(usb.rtc_wdt.wprotect, 0);
        if let Some(swd) = usb.swd {
            regs.set(swd.conf, swd.auto_feed);
            regs.set(swd.wprotect, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::chip::Chip;
    use crate::protocol::native_usb::WDT_KEY;

    const MS: Duration = Duration::from_millis(1);

    fn c3() -> (Registers, NativeUsb) {
        let spec = Chip::Esp32C3.spec();
        (
            Registers::new(spec, [0; 6], 0, 4),
            spec.chip.native_usb().unwrap(),
        )
    }

    #[test]
    fn armed_by_firmware_they_fire_after_a_core_reset() {
        let (mut regs, usb) = c3();
        Watchdogs::arm_as_firmware(&mut regs, &usb);
        let mut w = Watchdogs::default();
        w.start(100 * MS, &regs, &usb);
        assert_eq!(w.due(), Some(100 * MS + SWD_TIMEOUT));
        assert!(w.rtc_due.unwrap() > 100 * MS + Duration::from_secs(8));
    }

    #[test]
    fn only_the_unlocked_sequence_disables_them() {
        let (mut regs, usb) = c3();
        Watchdogs::arm_as_firmware(&mut regs, &usb);
        let swd = usb.swd.unwrap();
        // Without the keys, the writes are ignored.
        regs.write(usb.rtc_wdt.config0, 0, !0);
        regs.write(swd.conf, swd.auto_feed, !0);
        let mut w = Watchdogs::default();
        w.start(Duration::ZERO, &regs, &usb);
        assert!(w.rtc_due.is_some() && w.swd_due.is_some());
        // esptool's `disable_watchdogs`.
        regs.write(usb.rtc_wdt.wprotect, WDT_KEY, !0);
        regs.write(usb.rtc_wdt.config0, 0, !0);
        regs.write(usb.rtc_wdt.wprotect, 0, !0);
        regs.write(swd.wprotect, swd.key, !0);
        regs.write(swd.conf, swd.auto_feed, !0);
        regs.write(swd.wprotect, 0, !0);
        assert!(regs.take_watchdog_write());
        w.start(Duration::ZERO, &regs, &usb);
        assert_eq!(w.due(), None);
    }
}
