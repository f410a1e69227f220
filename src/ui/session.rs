//! The page's one board connection, and who may use it.
//!
//! Operations borrow the board for their duration ([`lease`]); a second operation while one
//! runs is refused instead of interleaving bytes. A Disconnect during an operation cancels it
//! and takes effect when the operation hands the board back.
//!
//! A board with native USB changes its USB device when it restarts (the ROM's port, then the
//! firmware's own): [`expect_new_device`] says the coming loss is no accident, [`follow`]
//! opens the board's new port when the browser already lets the page use it, and
//! [`pick_new`] asks the user for it when not.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::loader::{CancelToken, Loader, Prepared};
use crate::port::PortError;
use crate::protocol::chip::Chip;
use crate::protocol::stub::StubImage;
use crate::usb::{self, ResetWiring};
use crate::web::{demo, demo_port, fetch, time, OpenError, WebSerialPort};

/// The baud rate ROM bootloaders and MicroPython start at.
pub const DEFAULT_BAUD: u32 = 115_200;

/// A connected board and what we know about it.
pub struct Board {
    pub loader: Loader<WebSerialPort>,
    /// The simulated board from the demo module, not a USB device.
    pub demo: bool,
    /// How reset is wired, from the USB ids (`None`: unknown bridge).
    pub wiring: Option<ResetWiring>,
    /// The fastest baud the bridge is known to sustain.
    pub max_baud: u32,
    /// Set once the board is in its loader and identified.
    pub prepared: Option<Prepared>,
    /// The flasher stub for this chip, once fetched.
    pub stub: Option<StubImage>,
}

type OnLost = Rc<dyn Fn(PortError)>;

#[derive(Default)]
struct Slot {
    board: Option<Board>,
    leased: bool,
    close_on_return: bool,
    cancel: Option<CancelToken>,
    /// The board is restarting as another USB device: its port's loss is expected.
    expect_loss: bool,
    /// What the page does when the board's port is lost unexpectedly.
    on_lost: Option<OnLost>,
    /// The board opened last is a simulated one: its new ports come from the demo module.
    demo: bool,
}

thread_local! {
    static SLOT: RefCell<Slot> = RefCell::new(Slot::default());
}

/// Which port to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortChoice {
    /// Ask the browser (a real board).
    Serial,
    /// The simulated board running in the page.
    Demo(Chip),
    /// The simulated Raspberry Pi Pico running MicroPython.
    DemoPico,
    /// The simulated pyboard running MicroPython.
    DemoPyboard,
}

/// Opens a port (asking the user which, for a real board) and keeps it as the page's board.
/// `on_lost` runs if the device disappears later. Returns the USB description.
pub async fn open(
    choice: PortChoice,
    on_lost: impl Fn(PortError) + 'static,
) -> Result<String, OpenError> {
    if is_connected() {
        disconnect().await;
    }
    let serial = match choice {
        PortChoice::Serial => WebSerialPort::request().await?,
        PortChoice::Demo(chip) => demo_port(chip).await?,
        PortChoice::DemoPico => demo::demo_pico().await?,
        PortChoice::DemoPyboard => demo::demo_pyboard().await?,
    };
    SLOT.with(|s| s.borrow_mut().on_lost = Some(Rc::new(on_lost)));
    adopt(serial, choice != PortChoice::Serial).await
}

/// Opens `serial` and makes it the page's board.
async fn adopt(serial: web_sys::SerialPort, demo: bool) -> Result<String, OpenError> {
    let mut port = WebSerialPort::open(serial, DEFAULT_BAUD).await?;
    port.on_lost(|err| {
        let report = SLOT.with(|s| {
            let s = s.borrow();
            (!s.expect_loss).then(|| s.on_lost.clone()).flatten()
        });
        if let Some(report) = report {
            report(err);
        }
    });
    let (vid, pid) = port.usb_ids();
    let bridge = vid.zip(pid).and_then(|(v, p)| usb::identify(v, p));
    let mut description = crate::boards::identify::describe(vid, pid);
    if demo {
        description = crate::tf!("Demo board (simulated, {usb})", usb = description);
    }
    let board = Board {
        loader: Loader::new(port),
        demo,
        wiring: bridge.map(|b| b.wiring),
        max_baud: bridge.map_or(460_800, |b| b.max_baud),
        prepared: None,
        stub: None,
    };
    SLOT.with(|s| {
        let mut s = s.borrow_mut();
        s.board = Some(board);
        s.leased = false;
        s.close_on_return = false;
        s.cancel = None;
        s.expect_loss = false;
        s.demo = demo;
    });
    Ok(description)
}

/// The board is about to restart as another USB device (a watchdog reset, entering its
/// bootloader), or may: the loss of its port is expected and not reported.
pub fn expect_new_device() {
    SLOT.with(|s| s.borrow_mut().expect_loss = true);
}

/// The board kept its port after all: a loss from now on is news again.
pub fn same_device() {
    SLOT.with(|s| s.borrow_mut().expect_loss = false);
}

/// True when the page's board is open and its device has not gone away.
pub fn port_alive() -> bool {
    SLOT.with(|s| {
        s.borrow()
            .board
            .as_ref()
            .is_some_and(|b| !b.loader.port().is_lost())
    })
}

/// The USB ids of the page's board, if one is open and not lent out.
pub fn usb_ids() -> Option<(u16, u16)> {
    SLOT.with(|s| {
        let s = s.borrow();
        let (vid, pid) = s.board.as_ref()?.loader.port().usb_ids();
        vid.zip(pid)
    })
}

/// Closes the old port (gone or going) and waits up to `wait` for a port the page may use
/// without asking whose USB ids `wanted` accepts: the board after its restart. Opens it as
/// the page's board and returns its description, or `None` (then [`pick_new`]).
pub async fn follow(wanted: impl Fn(u16, u16) -> bool, wait: Duration) -> Option<String> {
    expect_new_device();
    let old = SLOT.with(|s| s.borrow_mut().board.take());
    let old_port = old.map(|board| board.loader.into_port());
    let deadline = time::now() + wait;
    let demo = is_demo();
    loop {
        let candidates = if demo {
            demo::pico_port().into_iter().collect()
        } else {
            WebSerialPort::granted().await
        };
        for serial in candidates.into_iter().rev() {
            // A device that came back is a new port object; the old one is gone or going.
            if old_port.as_ref().is_some_and(|p| p.is(&serial)) {
                continue;
            }
            let (vid, pid) = WebSerialPort::ids_of(&serial);
            if !vid.zip(pid).is_some_and(|(v, p)| wanted(v, p)) {
                continue;
            }
            if let Ok(description) = adopt(serial, demo).await {
                if let Some(old) = old_port {
                    old.close().await;
                }
                return Some(description);
            }
        }
        if time::now() >= deadline {
            break;
        }
        time::sleep(Duration::from_millis(200)).await;
    }
    if let Some(old) = old_port {
        old.close().await;
    }
    None
}

/// "Pick your board's new port": the chooser, limited to `vendor_ids`, then the picked
/// port becomes the page's board. Must run from a click.
pub async fn pick_new(vendor_ids: &[u16]) -> Result<String, OpenError> {
    if let Some(serial) = is_demo().then(demo::pico_port).flatten() {
        return adopt(serial, true).await;
    }
    let serial = WebSerialPort::request_vendor(vendor_ids).await?;
    adopt(serial, false).await
}

/// True when the board opened last is a simulated one (the demo board or the demo Pico).
/// How the connected board's reset is wired (`None`: unknown, or no board here right now), and
/// whether it is in its loader, identified (not since a restart into its firmware), and the
/// fastest baud its bridge is known to sustain.
pub fn wiring_and_prepared() -> (Option<crate::usb::ResetWiring>, bool, u32) {
    SLOT.with(|s| {
        s.borrow().board.as_ref().map_or((None, false, 0), |b| {
            (b.wiring, b.prepared.is_some(), b.max_baud)
        })
    })
}

pub fn is_demo() -> bool {
    SLOT.with(|s| s.borrow().demo)
}

/// True while a board is connected (or lent out to an operation).
pub fn is_connected() -> bool {
    SLOT.with(|s| {
        let s = s.borrow();
        s.board.is_some() || s.leased
    })
}

/// Closes the port. A running operation is cancelled and the port closes when it returns.
pub async fn disconnect() {
    let board = SLOT.with(|s| {
        let mut s = s.borrow_mut();
        if s.leased {
            s.close_on_return = true;
            if let Some(token) = &s.cancel {
                token.cancel();
            }
        }
        s.board.take()
    });
    if let Some(board) = board {
        board.loader.into_port().close().await;
    }
}

/// Cancels the running operation at its next block.
pub fn cancel() {
    SLOT.with(|s| {
        if let Some(token) = &s.borrow().cancel {
            token.cancel();
        }
    });
}

/// Lends the board to `op` for its duration, waiting up to a few seconds for a running
/// operation (such as the terminal's short reads) to hand it back.
pub async fn lease<T>(op: impl AsyncFnOnce(&mut Board) -> T) -> Result<T, PortError> {
    let mut board = checkout(true).await?;
    let result = op(&mut board).await;
    checkin(board).await;
    Ok(result)
}

/// Like [`lease`], but gives up at once if the board is busy.
pub async fn try_lease<T>(op: impl AsyncFnOnce(&mut Board) -> T) -> Result<T, PortError> {
    let mut board = checkout(false).await?;
    let result = op(&mut board).await;
    checkin(board).await;
    Ok(result)
}

/// Takes the board out of the slot for an operation; every checkout must be followed by a
/// [`checkin`]. With `wait`, waits up to a few seconds for a running operation to end.
pub async fn checkout(wait: bool) -> Result<Board, PortError> {
    for _ in 0..if wait { 300 } else { 0 } {
        if !SLOT.with(|s| s.borrow().leased) {
            break;
        }
        crate::web::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let board = SLOT.with(|s| {
        let mut s = s.borrow_mut();
        match s.board.take() {
            Some(board) => {
                s.leased = true;
                s.cancel = Some(board.loader.cancel_token());
                Ok(board)
            }
            None if s.leased => Err(PortError::Other(
                crate::i18n::t("the board is busy with another operation").into(),
            )),
            None => Err(PortError::Closed),
        }
    })?;
    board.loader.cancel_token().reset();
    Ok(board)
}

/// Hands the board back; closes it if a Disconnect came meanwhile or the device was lost.
pub async fn checkin(board: Board) {
    let close = SLOT.with(|s| {
        let mut s = s.borrow_mut();
        s.leased = false;
        s.cancel = None;
        let close = std::mem::take(&mut s.close_on_return) || board.loader.port().is_lost();
        if close {
            Some(board)
        } else {
            s.board = Some(board);
            None
        }
    });
    if let Some(board) = close {
        board.loader.into_port().close().await;
    }
}

/// Fetches the flasher stub for `chip` from the page's `stubs/` folder.
pub async fn fetch_stub(chip: Chip, revision: u32) -> Result<StubImage, String> {
    let url = format!("stubs/{}.stub", StubImage::name(chip.spec().id, revision));
    let bytes = fetch::fetch_bytes(&url, |_, _| {})
        .await
        .map_err(|e| e.to_string())?;
    StubImage::from_bytes(&bytes)
}
