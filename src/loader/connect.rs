//! Getting the chip into its serial loader and in sync: reset strategies over DTR/RTS, the
//! SYNC exchange with retries, and reading the boot log when it fails.

use std::time::Duration;

use super::{Error, Event, Loader, Responder, Result, Stage, SyncFailure};
use crate::port::{Port, Signals};
use crate::protocol::command::Command;
use crate::protocol::response::Response;
use crate::usb::ResetWiring;

const MS: Duration = Duration::from_millis(1);

/// How to pulse the control lines to reach the loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetStrategy {
    /// Auto-reset circuit of USB-UART boards, with the delay before releasing GPIO0
    /// (50 ms normally, 550 ms for boards with a slow EN capacitor).
    Classic { strap_hold: Duration },
    /// Espressif's USB-Serial-JTAG peripheral.
    UsbJtagSerial,
    /// No line changes: the user put the board in download mode by hand (or it already is).
    None,
}

impl ResetStrategy {
    /// The attempts to cycle through for a port with this wiring.
    pub fn sequence(wiring: Option<ResetWiring>) -> Vec<ResetStrategy> {
        let classic = [
            ResetStrategy::Classic {
                strap_hold: 50 * MS,
            },
            ResetStrategy::Classic {
                strap_hold: 550 * MS,
            },
        ];
        match wiring {
            Some(ResetWiring::UartBridge) => classic.to_vec(),
            Some(ResetWiring::UsbJtagSerial) => vec![ResetStrategy::UsbJtagSerial],
            Some(ResetWiring::UsbOtg) => vec![ResetStrategy::None],
            None => vec![classic[0], ResetStrategy::UsbJtagSerial, classic[1]],
        }
    }
}

/// What connecting found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// The strategy that worked.
    pub strategy: ResetStrategy,
    /// Attempts used (1-based).
    pub attempts: u32,
    /// The boot log printed before the loader answered.
    pub boot_log: String,
    /// The flasher stub was already running (left from an earlier session).
    pub stub_already_running: bool,
}

fn lines(dtr: bool, rts: bool) -> Signals {
    Signals { dtr, rts }
}

impl<P: Port> Loader<P> {
    /// Pulses DTR/RTS to reset the chip into its loader.
    pub async fn reset_into_loader(&mut self, strategy: ResetStrategy) -> Result<()> {
        let p = &mut self.port;
        match strategy {
            ResetStrategy::Classic { strap_hold } => {
                // Both lines in one request, so the circuit never sees an intermediate state.
                p.set_signals(lines(false, false)).await?;
                p.set_signals(lines(false, true)).await?; // EN low: chip in reset
                p.sleep(100 * MS).await;
                p.set_signals(lines(true, false)).await?; // EN high, GPIO0 low: boot to loader
                p.sleep(strap_hold).await;
                p.set_signals(lines(false, false)).await?; // release GPIO0
            }
            ResetStrategy::UsbJtagSerial => {
                p.set_signals(lines(false, false)).await?;
                p.sleep(100 * MS).await;
                p.set_signals(lines(true, false)).await?; // GPIO0 low
                p.sleep(100 * MS).await;
                p.set_signals(lines(true, true)).await?; // RTS rising with DTR set arms download
                p.set_signals(lines(false, true)).await?; // reset
                p.sleep(100 * MS).await;
                p.set_signals(lines(false, false)).await?; // out of reset
            }
            ResetStrategy::None => {}
        }
        Ok(())
    }

    /// Resets into the loader and syncs, trying each strategy in turn for up to `attempts`
    /// resets. On failure the boot log decides the advice given.
    pub async fn connect(
        &mut self,
        wiring: Option<ResetWiring>,
        attempts: u32,
    ) -> Result<SyncReport> {
        self.emit(Event::Stage(Stage::Connecting));
        self.wiring = wiring;
        let strategies = ResetStrategy::sequence(wiring);
        let mut seen = Vec::new();
        let mut verdicts = Vec::new();
        for attempt in 0..attempts.max(1) {
            let strategy = strategies[attempt as usize % strategies.len()];
            self.flush_input().await?;
            self.take_noise();
            self.reset_into_loader(strategy).await?;
            // Let the boot log arrive before talking; the ROM's last line ends the wait early.
            let until = self.port.now() + 100 * MS;
            while self.port.now() < until && !self.noise_has(b"waiting for download\r\n") {
                let step = (self.port.now() + 5 * MS).min(until);
                while self.read_frame(step).await?.is_some() {}
            }
            for _ in 0..5 {
                self.check_cancel()?;
                if let Some(stub) = self.sync_once().await? {
                    let log = self.take_noise();
                    seen.extend_from_slice(&log);
                    self.responder = if stub {
                        Responder::Stub
                    } else {
                        Responder::Rom
                    };
                    return Ok(SyncReport {
                        strategy,
                        attempts: attempt + 1,
                        boot_log: String::from_utf8_lossy(&log).into_owned(),
                        stub_already_running: stub,
                    });
                }
                self.port.sleep(50 * MS).await;
            }
            let log = self.take_noise();
            verdicts.push(classify_boot_log(&log));
            seen.extend(log);
            // Every strategy twice, each time the board clearly booted its firmware: more
            // resets will not change that; the user must press BOOT.
            let tried_all_twice = verdicts.len() >= 2 * strategies.len();
            if tried_all_twice
                && verdicts
                    .iter()
                    .all(|v| matches!(v, SyncFailure::WrongBootMode { .. }))
            {
                break;
            }
        }
        Err(Error::NoSync(classify_boot_log(&seen)))
    }

    /// Whether the text received outside frames contains `needle`.
    fn noise_has(&self, needle: &[u8]) -> bool {
        self.noise.windows(needle.len()).any(|w| w == needle)
    }

    /// One SYNC; `Some(stub_running)` if the loader answered.
    async fn sync_once(&mut self) -> Result<Option<bool>> {
        let noise = self.take_noise();
        self.flush_input().await?;
        self.noise = noise;
        self.send(&Command::Sync).await?;
        let deadline = self.port.now() + 100 * MS;
        let mut first = None;
        while let Some(frame) = self.read_frame(deadline).await? {
            if let Some(resp) = Response::parse(&frame).filter(|r| r.opcode == 0x08) {
                first = Some(resp);
                break;
            }
        }
        let Some(first) = first else { return Ok(None) };
        // The ROM answers eight times; collect the rest so they do not confuse the next command.
        let deadline = self.port.now() + 20 * MS;
        for _ in 0..7 {
            if self.read_frame(deadline).await?.is_none() {
                break;
            }
        }
        Ok(Some(first.value == 0))
    }
}

impl<P: Port> Loader<P> {
    /// Resets the chip into its firmware (RTS pulse; USB-JTAG-Serial reads the same lines).
    pub async fn hard_reset(&mut self, wiring: Option<ResetWiring>) -> Result<()> {
        self.emit(Event::Stage(Stage::Resetting));
        let hold = if wiring == Some(ResetWiring::UsbJtagSerial) {
            200
        } else {
            100
        };
        self.port
            .set_signals(Signals {
                dtr: false,
                rts: true,
            })
            .await?;
        self.port.sleep(Duration::from_millis(hold)).await;
        self.port
            .set_signals(Signals {
                dtr: false,
                rts: false,
            })
            .await?;
        self.forget_responder();
        Ok(())
    }
}

/// Decides why sync failed from what the board printed.
pub fn classify_boot_log(log: &[u8]) -> SyncFailure {
    let text = String::from_utf8_lossy(log);
    if log.is_empty() {
        return SyncFailure::Silence;
    }
    if text.contains("waiting for download")
        || text.contains("wait uart0 download")
        || text.contains("DOWNLOAD")
    {
        return SyncFailure::DownloadModeNoReply;
    }
    if let Some(pos) = text.find("boot:0x").or_else(|| text.find("boot mode:(")) {
        let line: String = text[pos..]
            .chars()
            .take_while(|c| *c != '\r' && *c != '\n')
            .collect();
        return SyncFailure::WrongBootMode { boot_line: line };
    }
    if crate::console_text::printable_share(log) < 0.5 {
        return SyncFailure::OtherOutput {
            sample: crate::i18n::t("unreadable bytes (wrong baud rate or noise)").into(),
        };
    }
    let sample = crate::console_text::last_line(&text, 60);
    SyncFailure::OtherOutput { sample }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_logs_are_classified() {
        assert_eq!(classify_boot_log(b""), SyncFailure::Silence);
        assert_eq!(
            classify_boot_log(b"ets Jul 29 2019\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\ninvalid header"),
            SyncFailure::WrongBootMode { boot_line: "boot:0x13 (SPI_FAST_FLASH_BOOT)".into() }
        );
        assert_eq!(
            classify_boot_log(b"rst:0x1,boot:0x3 (DOWNLOAD_BOOT)\r\nwaiting for download\r\n"),
            SyncFailure::DownloadModeNoReply
        );
        assert_eq!(
            classify_boot_log(b"MicroPython v1.24.1 on 2024-11-29\r\n>>> "),
            SyncFailure::OtherOutput {
                sample: ">>>".into()
            }
        );
        assert!(matches!(
            classify_boot_log(&[0x8F, 0xF3, 0x01, 0x99, 0xA7]),
            SyncFailure::OtherOutput { .. }
        ));
    }

    /// What a student reads for each kind of silence or noise at Connect (README "Bad inputs").
    #[test]
    fn each_failure_to_connect_says_what_to_do() {
        let said = |log: &[u8]| Error::NoSync(classify_boot_log(log)).to_string();
        let garbage = said(&[0x8F, 0xF3, 0x01, 0x99, 0xA7, 0x00, 0xFE]);
        assert!(
            garbage.contains("unreadable bytes (wrong baud rate or noise)"),
            "{garbage}"
        );
        assert!(garbage.contains("Hold the BOOT button"), "{garbage}");
        let waiting = said(b"rst:0x1,boot:0x3 (DOWNLOAD_BOOT)\r\nwaiting for download\r\n");
        assert!(waiting.contains("Unplug it, plug it back in"), "{waiting}");
        let looping = said(b"rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nGuru Meditation Error\r\nRebooting...\r\nrst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n");
        assert!(
            looping.contains("started its normal firmware instead of the bootloader"),
            "{looping}"
        );
        assert!(
            looping.contains("Hold the BOOT button, tap RESET"),
            "{looping}"
        );
    }
}
