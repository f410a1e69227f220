//! The app state the steps share, provided as context by the App.

use leptos::prelude::*;

use crate::loader::DeviceInfo;

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
            Link::Preparing { usb } | Link::NotReady { usb } => Some(usb.clone()),
            Link::Ready(c) | Link::Busy(c) => Some(c.usb.clone()),
            Link::Idle | Link::Choosing => None,
        }
    }
}

/// Signals shared by the steps.
#[derive(Clone, Copy)]
pub struct AppState {
    pub link: RwSignal<Link>,
    pub notice: RwSignal<Notice>,
}

impl AppState {
    pub fn new() -> Self {
        AppState {
            link: RwSignal::new(Link::Idle),
            notice: RwSignal::new(Notice::default()),
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
