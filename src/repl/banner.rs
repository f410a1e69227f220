//! What a board prints when it starts: the MicroPython banner, or signs of something else
//! (a ROM boot loop, a corrupt filesystem, other firmware, nothing at all).

use crate::i18n::t;

/// The parts of `MicroPython v1.24.1 on 2024-11-29; Generic ESP32 module with ESP32`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    pub version: String,
    pub date: String,
    pub board: String,
    pub mcu: String,
}

impl Banner {
    /// Finds the banner line in `text`.
    pub fn find(text: &str) -> Option<Banner> {
        let line = text
            .lines()
            .rev()
            .find(|l| l.contains("MicroPython ") && l.contains(" on "))?;
        let rest = &line[line.find("MicroPython ")? + "MicroPython ".len()..];
        let (version, rest) = rest.split_once(" on ")?;
        let (date, machine) = rest.split_once("; ").unwrap_or((rest, ""));
        let (board, mcu) = machine
            .trim()
            .rsplit_once(" with ")
            .unwrap_or((machine.trim(), ""));
        Some(Banner {
            version: version.trim().into(),
            date: date.trim().into(),
            board: board.into(),
            mcu: mcu.into(),
        })
    }

    /// The banner line as MicroPython prints it ("MicroPython v1.24.1 on 2024-11-29; Generic
    /// ESP32 module with ESP32"), for a board whose banner came in answer to a question rather
    /// than in its boot log.
    pub fn line(&self) -> String {
        let mut line = format!("MicroPython {} on {}", self.version, self.date);
        if !self.board.is_empty() {
            line.push_str("; ");
            line.push_str(&self.board);
            if !self.mcu.is_empty() {
                line.push_str(" with ");
                line.push_str(&self.mcu);
            }
        }
        line
    }
}

/// What a boot looked like when no MicroPython prompt came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootProblem {
    /// The ROM found no valid firmware (`invalid header`, `flash read err`): flashing did not take.
    NoFirmware,
    /// The second-stage bootloader refused the app, or the app stopped at once (an `E (…)`
    /// line from ESP-IDF): the image does not fit this board.
    Refused { line: String },
    /// The chip restarted into its ROM bootloader again (BOOT held, or a reset that keeps
    /// download mode): only its RESET button (with BOOT released) starts the firmware.
    StillInBootloader,
    /// MicroPython runs but its filesystem is damaged.
    CorruptFilesystem,
    /// Text that is not MicroPython: other firmware runs on the board.
    OtherFirmware { sample: String },
    /// Unreadable bytes: wrong baud rate or a crashing board.
    Garbage,
    /// Nothing at all.
    Silence,
}

impl BootProblem {
    /// Reads a boot log that had no MicroPython prompt in it.
    pub fn classify(log: &[u8]) -> BootProblem {
        let text = String::from_utf8_lossy(log);
        if log.iter().all(|b| b.is_ascii_whitespace()) {
            return BootProblem::Silence;
        }
        if text.contains("invalid header")
            || text.contains("flash read err")
            || text.contains("ets_main.c")
        {
            return BootProblem::NoFirmware;
        }
        if text.contains("waiting for download") {
            return BootProblem::StillInBootloader;
        }
        if let Some(at) = text.find("E (") {
            let line: String = text[at..]
                .chars()
                .take_while(|c| *c != '\r' && *c != '\n')
                .collect();
            return BootProblem::Refused { line };
        }
        if text.contains("appears to be corrupted")
            || text.contains("looks corrupt")
            || text.contains("FAT filesystem")
        {
            return BootProblem::CorruptFilesystem;
        }
        if crate::console_text::printable_share(log) < 0.7 {
            return BootProblem::Garbage;
        }
        let sample = crate::console_text::last_line(&text, 60);
        BootProblem::OtherFirmware { sample }
    }
}

impl std::fmt::Display for BootProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BootProblem::NoFirmware => f.write_str(t("The board restarted but found no firmware to run (its bootloader reports an invalid image). Flash MicroPython again, with \"Erase all flash first\" ticked.")),
            BootProblem::Refused { line } => f.write_str(&crate::tf!("The board's bootloader refused the firmware (\"{line}\"). It does not fit this board: flash a MicroPython build for this chip, with \"Erase all flash first\" ticked.", line = line)),
            BootProblem::StillInBootloader => f.write_str(t("The board restarted into its bootloader again, not into the firmware (its BOOT button may be held, or this USB port's reset keeps the bootloader). Release BOOT and press the board's RESET (EN) button.")),
            BootProblem::CorruptFilesystem => f.write_str(t("MicroPython starts, but its filesystem is damaged. Back up what you can, then flash again with \"Erase all flash first\" ticked to get a clean filesystem.")),
            BootProblem::OtherFirmware { sample } => f.write_str(&crate::tf!("The board runs other firmware, not MicroPython (it printed \"{sample}\"). Flash MicroPython to use the REPL.", sample = sample)),
            BootProblem::Garbage => f.write_str(t("The board sends unreadable data: it may be crashing and restarting, or use another baud rate. Try flashing again with \"Erase all flash first\" ticked.")),
            BootProblem::Silence => f.write_str(t("The board said nothing after restarting. Press its RESET (EN) button; if it stays silent, flash MicroPython again.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_esp32_and_wasm_banners() {
        let b = Banner::find("\r\nMicroPython v1.24.1 on 2024-11-29; Generic ESP32 module with ESP32\r\nType \"help()\" for more information.\r\n>>> ").unwrap();
        assert_eq!(
            (
                b.version.as_str(),
                b.date.as_str(),
                b.board.as_str(),
                b.mcu.as_str()
            ),
            ("v1.24.1", "2024-11-29", "Generic ESP32 module", "ESP32")
        );
        let w = Banner::find("MicroPython v1.27.0 on 2025-12-10; JS with Emscripten\r\n").unwrap();
        assert_eq!((w.board.as_str(), w.mcu.as_str()), ("JS", "Emscripten"));
        assert_eq!(Banner::find("ets Jun  8 2016 00:22:57"), None);
    }

    #[test]
    fn a_parsed_banner_gives_back_its_line() {
        for line in [
            "MicroPython v1.24.1 on 2024-11-29; Generic ESP32 module with ESP32",
            "MicroPython v1.27.0 on 2025-12-10; JS with Emscripten",
            "MicroPython v1.9.4 on 2018-05-11",
        ] {
            assert_eq!(Banner::find(line).unwrap().line(), line);
        }
    }

    #[test]
    fn boot_problems_are_told_apart() {
        assert_eq!(BootProblem::classify(b""), BootProblem::Silence);
        assert_eq!(
            BootProblem::classify(b"rst:0x10 (RTCWDT_RTC_RESET)\r\ninvalid header: 0xffffffff\r\n"),
            BootProblem::NoFirmware
        );
        assert_eq!(
            BootProblem::classify(
                b"FAT filesystem appears to be corrupted. If you had important data"
            ),
            BootProblem::CorruptFilesystem
        );
        assert_eq!(
            BootProblem::classify(b"I (29) boot: ESP-IDF\r\nHello from Arduino\r\n"),
            BootProblem::OtherFirmware {
                sample: "Hello from Arduino".into()
            }
        );
        assert_eq!(
            BootProblem::classify(&[0xF3, 0x8C, 0x01, 0x99, 0xFE, 0x80, 0x81]),
            BootProblem::Garbage
        );
        assert_eq!(
            BootProblem::classify(b"ESP-ROM:esp32c3-api1-20210207\r\nrst:0x15 (USB_UART_CHIP_RESET),boot:0x5 (DOWNLOAD(USB/UART0/1))\r\nwaiting for download\r\n"),
            BootProblem::StillInBootloader
        );
        assert_eq!(
            BootProblem::classify(b"entry 0x40080000\r\nE (67) boot_comm: mismatch chip ID, expected 0, found 5\r\nE (79) boot: No bootable app partitions in the partition table\r\n"),
            BootProblem::Refused {
                line: "E (67) boot_comm: mismatch chip ID, expected 0, found 5".into()
            }
        );
    }
}
