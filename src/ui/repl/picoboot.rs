//! The Pico's install by PICOBOOT (issue 18): the BOOTSEL mode's vendor USB interface, over
//! WebUSB, instead of the drive. No drive to pick, and what reached the flash is read back
//! and compared before anything is called verified. The drive path stays ([`super::uf2`]) for
//! browsers without WebUSB and for boards whose PICOBOOT interface cannot be claimed.

use leptos::prelude::*;

use super::uf2::{describe, uf2_for, Stage};
use super::{with_host, Page};
use crate::boards::rp2::{self, Rp2Chip};
use crate::picoboot::Picoboot;
use crate::ui::firmware::Firmware;
use crate::web::webusb::{Kind, OpenError, WebUsbDevice};

/// The BOOTSEL ids: RP2040 and RP2350.
const BOOTSEL: [(u16, u16); 2] = [(0x2E8A, 0x0003), (0x2E8A, 0x000F)];

/// Why PICOBOOT cannot be used here, in one line, with the way on.
fn unusable(e: &OpenError) -> String {
    let why = match e {
        OpenError::NoneChosen => "no Pico in BOOTSEL mode was chosen (if the list was empty: hold BOOTSEL while plugging the Pico in)".to_string(),
        OpenError::NotAllowed => "the browser may not open it (on Linux it needs picotool's udev rule for 2E8A:0003/000F; on a school Chromebook, the administrator's WebUSB policy)".to_string(),
        OpenError::Busy => "another program holds it, or on Windows the RP2040 has no WinUSB driver for its \"RP2 Boot (Interface 1)\" (Zadig installs one)".to_string(),
        OpenError::NotDfu(what) | OpenError::Other(what) => what.clone(),
    };
    format!("The Pico's bootloader could not be used over USB: {why}. You can still install through its drive: press \"Choose the Pico's drive\".")
}

/// Picks the Pico's PICOBOOT interface, checks the file for its chip and flash, installs it,
/// reads it back, reboots the Pico and follows it back to its serial port.
pub async fn install(fw: Firmware, stage: RwSignal<Stage>, problems: RwSignal<Vec<String>>) {
    let state = Page;
    let dev = match WebUsbDevice::choose(&BOOTSEL, Kind::Picoboot).await {
        Ok(dev) => dev,
        Err(e) => return state.warn(unusable(&e)),
    };
    let chip = if dev.product_id == 0x000F {
        Rp2Chip::Rp2350
    } else {
        Rp2Chip::Rp2040
    };
    let refuse = |text: String| {
        state.warn("Nothing was written. See the reason below.");
        problems.set(vec![text]);
    };
    let (name, data) = match uf2_for(&fw, Some(chip)).await {
        Ok(found) => found,
        Err(e) => return refuse(e),
    };
    let interface = dev.interface;
    let mut pico = Picoboot::new(dev, interface, chip);
    let size = match pico.connect().await {
        Ok(()) => pico.flash_size().await.ok().flatten(),
        Err(e) => return state.warn(e.to_string()),
    };
    if let Err(refusal) = rp2::check(&data, chip, size) {
        let _ = pico.release().await;
        return refuse(refusal.to_string());
    }
    problems.set(Vec::new());
    state.say(format!(
        "Installing by PICOBOOT: {}…",
        describe(&name, &data)
    ));
    let pages = rp2::pages(&data, chip);
    let installed = pico
        .install(&pages, |what, done, total| {
            let percent = (done * 100 / total.max(1)) as u32;
            let _ = what;
            stage.set(Stage::Writing { percent });
        })
        .await;
    let installed = match installed {
        Ok(i) => i,
        Err(e) => {
            stage.set(Stage::NeedsDrive);
            return state.warn(e.to_string());
        }
    };
    if let Err(e) = pico.reboot().await {
        stage.set(Stage::NeedsDrive);
        return state.warn(e.to_string());
    }
    stage.set(Stage::Restarting);
    state.say(format!(
        "Written by PICOBOOT and read back: {} KB in {} sectors match the file (SHA-256). The Pico restarts into MicroPython; waiting for its serial port…",
        pages.len() / 4,
        installed.sectors_erased
    ));
    let Some(host) = with_host(|h| h.clone()) else {
        return;
    };
    let back = host.follow_micropython().await;
    stage.set(Stage::Idle);
    if back {
        super::check_running_from_page().await;
    }
}
