//! The app state the steps share, provided as context by the App.

use leptos::prelude::*;

use super::steps::StepId;
use crate::firmware::erase::BoardFlash;
use crate::loader::DeviceInfo;
use crate::repl::facts::BoardFacts;

/// The status line: what happened, and whether it is bad news.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
    /// The step bad news belongs to (`None`: the step the user is on).
    pub step: Option<StepId>,
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Idle,
    /// The board left its port for its bootloader during step 3 (a Pico's BOOTSEL drive or
    /// PICOBOOT, a pyboard's DFU mode): the install or backup there goes on without a port.
    Away,
    /// The browser's port chooser is open.
    Choosing,
    /// Port open; resetting into the bootloader and identifying the chip.
    Preparing {
        usb: String,
    },
    /// Port open, but the board did not enter its bootloader (the notice says what to do).
    NotReady {
        usb: String,
    },
    /// In the loader and identified.
    Ready(BoardCard),
    /// Something runs on the board (flashing).
    Busy(BoardCard),
    /// A board running its own firmware on its own USB (MicroPython on an ESP32-S2/S3): its
    /// bootloader is another USB device, reached by asking the firmware.
    Running {
        usb: String,
        card: Option<BoardCard>,
    },
    /// The board restarts as another USB device; the page waits for its new port.
    Following {
        card: Option<BoardCard>,
        next: Next,
    },
    /// The browser needs the user to pick the board's new port ("Pick your board's new port").
    NeedsPick {
        card: Option<BoardCard>,
        next: Next,
    },
}

/// What happens on the board's new port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// It runs its firmware: check MicroPython.
    Check,
    /// It is in its ROM bootloader: prepare it, then flash the chosen firmware.
    Flash,
}

/// What the MicroPython check found (shown by the flash and MicroPython cards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    NotChecked,
    Checking,
    Works { text: String },
    Problem(String),
}

/// What the device card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardCard {
    pub usb: String,
    pub info: DeviceInfo,
    pub stub: bool,
    pub demo: bool,
    /// What its flash holds (partition table, app), read when it was prepared.
    pub flash: Option<BoardFlash>,
}

impl Link {
    pub fn card(&self) -> Option<&BoardCard> {
        match self {
            Link::Ready(c) | Link::Busy(c) => Some(c),
            _ => None,
        }
    }

    /// The USB description while a port is open.
    pub fn usb(&self) -> Option<String> {
        match self {
            Link::Preparing { usb } | Link::NotReady { usb } | Link::Running { usb, .. } => {
                Some(usb.clone())
            }
            Link::Ready(c) | Link::Busy(c) => Some(c.usb.clone()),
            Link::Idle
            | Link::Away
            | Link::Choosing
            | Link::Following { .. }
            | Link::NeedsPick { .. } => None,
        }
    }
}

/// Signals shared by the steps.
#[derive(Clone, Copy)]
pub struct AppState {
    pub link: RwSignal<Link>,
    pub notice: RwSignal<Notice>,
    /// What a board running MicroPython reported at its last check.
    pub board: RwSignal<Option<BoardFacts>>,
    /// The user said the board is a Raspberry Pi Pico (one in BOOTSEL mode has no serial
    /// port to identify it by).
    pub pico_chosen: RwSignal<bool>,
    /// The chosen firmware is on the board, verified or written to its drive (step 3 done):
    /// step 3's summary.
    pub installed: RwSignal<Option<String>>,
}

impl AppState {
    pub fn new() -> Self {
        AppState {
            link: RwSignal::new(Link::Idle),
            notice: RwSignal::new(Notice::default()),
            board: RwSignal::new(None),
            pico_chosen: RwSignal::new(false),
            installed: RwSignal::new(None),
        }
    }

    pub fn say(&self, text: impl Into<String>) {
        self.tell(text.into(), false, None);
    }

    /// Bad news on the step the user is on.
    pub fn warn(&self, text: impl Into<String>) {
        self.tell(text.into(), true, None);
    }

    /// Bad news that belongs to `step` (a firmware link that failed while step 1 is current).
    pub fn warn_in(&self, step: StepId, text: impl Into<String>) {
        self.tell(text.into(), true, Some(step));
    }

    /// Adds a line to the visit's technical log only (what "Show details" shows, kept and
    /// timestamped by `web::modules`).
    pub fn note(&self, text: impl AsRef<str>) {
        crate::web::modules::log_line(text.as_ref());
    }

    fn tell(&self, text: String, is_error: bool, step: Option<StepId>) {
        if is_error {
            self.note(format!("! {text}"));
        } else {
            self.note(&text);
        }
        self.notice.set(Notice {
            text,
            is_error,
            step,
        });
    }
}
