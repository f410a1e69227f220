//! The app state the steps share, provided as context by the App.

use leptos::prelude::*;

use crate::firmware::erase::BoardFlash;
use crate::loader::DeviceInfo;
use crate::repl::facts::BoardFacts;

/// The status line: what happened, and whether it is bad news.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Idle,
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
            Link::Idle | Link::Choosing | Link::Following { .. } | Link::NeedsPick { .. } => None,
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
}

impl AppState {
    pub fn new() -> Self {
        AppState {
            link: RwSignal::new(Link::Idle),
            notice: RwSignal::new(Notice::default()),
            board: RwSignal::new(None),
            pico_chosen: RwSignal::new(false),
        }
    }

    pub fn say(&self, text: impl Into<String>) {
        self.notice.set(Notice {
            text: text.into(),
            is_error: false,
        });
    }

    pub fn warn(&self, text: impl Into<String>) {
        self.notice.set(Notice {
            text: text.into(),
            is_error: true,
        });
    }
}
