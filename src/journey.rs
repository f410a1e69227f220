//! The four steps of the page's journey (connect, firmware, flash, MicroPython) and which one
//! the user is on: a pure function of what the page knows, so every board kind (ESP, Pico,
//! pyboard, a board that already runs MicroPython) moves through the steps the same way.
//! `ui::steps` shows them; this part has no I/O and is tested natively.

use crate::i18n::t;

/// One of the four steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepId {
    Connect,
    Firmware,
    Flash,
    MicroPython,
}

impl StepId {
    pub const ALL: [StepId; 4] = [
        StepId::Connect,
        StepId::Firmware,
        StepId::Flash,
        StepId::MicroPython,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The stable name in `data-step` (tests and automation use it; it is never translated).
    pub fn name(self) -> &'static str {
        match self {
            StepId::Connect => "connect",
            StepId::Firmware => "firmware",
            StepId::Flash => "flash",
            StepId::MicroPython => "micropython",
        }
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Done,
    Current,
    Waiting,
    Attention,
}

impl StepState {
    /// The stable name in `data-state`.
    pub fn name(self) -> &'static str {
        match self {
            StepState::Done => "done",
            StepState::Current => "current",
            StepState::Waiting => "waiting",
            StepState::Attention => "attention",
        }
    }

    /// What the step's header says.
    pub fn label(self) -> &'static str {
        match self {
            StepState::Done => t("Done"),
            StepState::Current => t("Now"),
            StepState::Waiting => t("Waiting"),
            StepState::Attention => t("Needs attention"),
        }
    }
}

/// Where the board's connection stands, as far as the steps care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// No port open.
    None,
    /// A port is being chosen or opened, or the board prepared.
    Opening,
    /// The board needs the user (did not enter its bootloader; its new port must be picked).
    NeedsUser,
    /// A board is connected (in its bootloader, or running its firmware).
    Connected,
    /// Connected and running MicroPython (the check is the step that matters).
    Running,
    /// Firmware is being written (the board may be restarting as another USB device).
    Flashing,
}

/// What the MicroPython check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    No,
    Checking,
    Works,
    Problem,
}

/// What the steps are derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub connection: Connection,
    pub firmware: bool,
    /// The firmware is installed without a port opened in step 1: a UF2 on a Pico's BOOTSEL
    /// drive, a `.dfu` on a pyboard in DFU mode (step 3 asks for the drive or the device).
    pub install_without_port: bool,
    /// The chosen firmware was installed on this board (verified, or written to its drive).
    pub installed: bool,
    pub check: Checked,
    /// The page's last message is bad news, and which step it belongs to (`None`: the one the
    /// user was on).
    pub error: Option<Option<StepId>>,
}

/// Each step's state, and the step to show open: the first that needs attention, else the
/// current one.
pub fn progress(f: &Facts) -> ([StepState; 4], StepId) {
    use Connection as C;
    use StepState::*;
    let connected = matches!(f.connection, C::Connected | C::Running | C::Flashing);
    let checking = f.check != Checked::No || f.connection == C::Running || f.installed;
    // The step the user is on, before any error.
    let installing = f.firmware && !f.installed;
    let current = if !connected && !(installing && f.install_without_port) {
        StepId::Connect
    } else if f.connection == C::Flashing || installing {
        StepId::Flash
    } else if checking {
        StepId::MicroPython
    } else {
        StepId::Firmware
    };
    let mut states = [Waiting; 4];
    states[0] = if connected { Done } else { Waiting };
    if f.firmware {
        states[1] = Done;
    }
    if f.installed {
        states[2] = Done;
    }
    // A check tells about the firmware on the board now; with other firmware about to be
    // installed, the check that counts is the one after it.
    match f.check {
        _ if installing => {}
        Checked::Works => states[3] = Done,
        Checked::Problem => states[3] = Attention,
        _ => {}
    }
    if f.connection == C::NeedsUser {
        states[0] = Attention;
    }
    if states[current.index()] == Waiting {
        states[current.index()] = Current;
    }
    if let Some(at) = f.error {
        states[at.unwrap_or(current).index()] = Attention;
    }
    let open = StepId::ALL
        .into_iter()
        .find(|s| states[s.index()] == Attention)
        .unwrap_or(current);
    (states, open)
}

/// A short name for the USB device text of the device card ("CP210x USB-UART"): without its
/// "(VID:PID)", and for a demo board, in any language, without "Demo board (simulated, …)"
/// around it.
pub fn short_usb(usb: &str) -> &str {
    let (inner, nested) = match usb.strip_suffix(')') {
        Some(s) if s.ends_with(')') => (s, true),
        _ => (usb, false),
    };
    let name = match inner.rfind('(') {
        Some(at) if at > 0 => inner[..at].trim_end(),
        _ => inner,
    };
    match name.rfind(',') {
        Some(at) if nested => name[at + 1..].trim_start(),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::Connection as C;
    use super::StepState::*;
    use super::*;

    fn facts(connection: Connection) -> Facts {
        Facts {
            connection,
            firmware: false,
            install_without_port: false,
            installed: false,
            check: Checked::No,
            error: None,
        }
    }

    #[test]
    fn a_new_visitor_starts_at_connect() {
        assert_eq!(
            progress(&facts(C::None)),
            ([Current, Waiting, Waiting, Waiting], StepId::Connect)
        );
        assert_eq!(progress(&facts(C::Opening)).1, StepId::Connect);
    }

    #[test]
    fn the_journey_moves_the_current_step_forward() {
        let mut f = facts(C::Connected);
        assert_eq!(
            progress(&f),
            ([Done, Current, Waiting, Waiting], StepId::Firmware)
        );
        f.firmware = true;
        assert_eq!(
            progress(&f),
            ([Done, Done, Current, Waiting], StepId::Flash)
        );
        f.connection = C::Flashing;
        assert_eq!(
            progress(&f),
            ([Done, Done, Current, Waiting], StepId::Flash)
        );
        f.connection = C::Connected;
        f.installed = true;
        f.check = Checked::Checking;
        assert_eq!(
            progress(&f),
            ([Done, Done, Done, Current], StepId::MicroPython)
        );
        f.check = Checked::Works;
        assert_eq!(
            progress(&f),
            ([Done, Done, Done, Done], StepId::MicroPython)
        );
        // Another firmware chosen afterwards: flashing it is the next thing to do, and the last
        // check no longer tells about the board's firmware.
        f.installed = false;
        assert_eq!(
            progress(&f),
            ([Done, Done, Current, Waiting], StepId::Flash)
        );
        f.check = Checked::Problem;
        assert_eq!(
            progress(&f),
            ([Done, Done, Current, Waiting], StepId::Flash)
        );
    }

    #[test]
    fn a_workshop_link_chooses_the_firmware_before_connect() {
        let mut f = facts(C::None);
        f.firmware = true;
        assert_eq!(
            progress(&f),
            ([Current, Done, Waiting, Waiting], StepId::Connect)
        );
    }

    #[test]
    fn a_board_running_micropython_goes_to_its_card_unless_firmware_waits_to_be_flashed() {
        let mut f = facts(C::Running);
        f.check = Checked::Works;
        assert_eq!(
            progress(&f),
            ([Done, Waiting, Waiting, Done], StepId::MicroPython)
        );
        f.firmware = true;
        assert_eq!(
            progress(&f),
            ([Done, Done, Current, Waiting], StepId::Flash)
        );
    }

    #[test]
    fn a_pico_in_bootsel_or_a_pyboard_in_dfu_mode_installs_without_connect() {
        let mut f = facts(C::None);
        f.firmware = true;
        f.install_without_port = true;
        assert_eq!(
            progress(&f),
            ([Waiting, Done, Current, Waiting], StepId::Flash)
        );
        // Installed: the board comes back on its serial port, then MicroPython answers.
        f.installed = true;
        assert_eq!(progress(&f).1, StepId::Connect);
        f.connection = C::Running;
        f.check = Checked::Works;
        assert_eq!(
            progress(&f),
            ([Done, Done, Done, Done], StepId::MicroPython)
        );
    }

    #[test]
    fn problems_open_the_step_they_belong_to() {
        let f = facts(C::NeedsUser);
        assert_eq!(
            progress(&f),
            ([Attention, Waiting, Waiting, Waiting], StepId::Connect)
        );
        // A failed flash: the step the user was on.
        let mut f = facts(C::Connected);
        f.firmware = true;
        f.error = Some(None);
        assert_eq!(
            progress(&f),
            ([Done, Done, Attention, Waiting], StepId::Flash)
        );
        // A firmware link that did not load, before any board: step 2, though 1 is current.
        let mut f = facts(C::None);
        f.error = Some(Some(StepId::Firmware));
        assert_eq!(
            progress(&f),
            ([Current, Attention, Waiting, Waiting], StepId::Firmware)
        );
        // MicroPython did not answer after a verified flash.
        let mut f = facts(C::Connected);
        f.firmware = true;
        f.installed = true;
        f.check = Checked::Problem;
        assert_eq!(
            progress(&f),
            ([Done, Done, Done, Attention], StepId::MicroPython)
        );
    }

    #[test]
    fn usb_names_are_shortened_for_the_summary() {
        assert_eq!(short_usb("CP210x USB-UART (10C4:EA60)"), "CP210x USB-UART");
        assert_eq!(
            short_usb("Demo board (simulated, CP210x USB-UART (10C4:EA60))"),
            "CP210x USB-UART"
        );
        assert_eq!(short_usb("Serial port"), "Serial port");
        // A translated demo board's text has the same shape.
        assert_eq!(
            short_usb("Demo-Board (simuliert, CP210x USB-UART (10C4:EA60))"),
            "CP210x USB-UART"
        );
    }
}
