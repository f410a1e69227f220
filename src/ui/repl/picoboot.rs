//! The Pico's install by PICOBOOT (issue 18): the BOOTSEL mode's vendor USB interface, over
//! WebUSB, instead of the drive. No drive to pick, and what reached the flash is read back
//! and compared before anything is called verified. The drive path stays ([`super::uf2`]) for
//! browsers without WebUSB and for boards whose PICOBOOT interface cannot be claimed.

use leptos::prelude::*;
use sha2::{Digest, Sha256};

use super::uf2::{describe, uf2_for, Stage};
use super::{with_host, Page};
use crate::boards::rp2::{self, Rp2Chip};
use crate::boards::rp2_backup::Backup;
use crate::firmware::manifest::hex;
use crate::i18n::{kb, number, t};
use crate::picoboot::Picoboot;
use crate::tf;
use crate::ui::firmware::Firmware;
use crate::web::webusb::{Kind, OpenError, WebUsbDevice};

/// The BOOTSEL ids: RP2040 and RP2350.
const BOOTSEL: [(u16, u16); 2] = [(0x2E8A, 0x0003), (0x2E8A, 0x000F)];

/// Why PICOBOOT cannot be used here, in one line, with the way on.
fn unusable(e: &OpenError) -> String {
    match e {
        OpenError::NoneChosen => t("The Pico's bootloader could not be used over USB: no Pico in BOOTSEL mode was chosen (if the list was empty: hold BOOTSEL while plugging the Pico in). You can still install through its drive: press \"Choose the Pico's drive\".").to_string(),
        OpenError::NotAllowed => t("The Pico's bootloader could not be used over USB: the browser may not open it (on Linux it needs picotool's udev rule for 2E8A:0003/000F; on a school Chromebook, the administrator's WebUSB policy). You can still install through its drive: press \"Choose the Pico's drive\".").to_string(),
        OpenError::Busy => t("The Pico's bootloader could not be used over USB: another program holds it, or on Windows the RP2040 has no WinUSB driver for its \"RP2 Boot (Interface 1)\" (Zadig installs one). You can still install through its drive: press \"Choose the Pico's drive\".").to_string(),
        OpenError::NotDfu(what) | OpenError::Other(what) => tf!("The Pico's bootloader could not be used over USB: {error}. You can still install through its drive: press \"Choose the Pico's drive\".", error = what),
    }
}

/// What "Choose the Pico's bootloader" does once the Pico is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    Install,
    /// Read the whole flash into a backup file.
    Backup,
    /// Write a backup file back.
    Restore(Vec<u8>),
}

/// The chosen Pico's PICOBOOT interface, connected (exclusive access), and its chip.
async fn open() -> Result<(Picoboot<WebUsbDevice>, Rp2Chip), String> {
    let dev = WebUsbDevice::choose(&BOOTSEL, Kind::Picoboot)
        .await
        .map_err(|e| unusable(&e))?;
    let chip = if dev.product_id == 0x000F {
        Rp2Chip::Rp2350
    } else {
        Rp2Chip::Rp2040
    };
    let interface = dev.interface;
    let mut pico = Picoboot::new(dev, interface, chip);
    pico.connect().await.map_err(|e| e.to_string())?;
    Ok((pico, chip))
}

/// Reboots the Pico into its flash and follows it back to its serial port and the hello check;
/// `done` is the status line then (what was done, and that the Pico restarts).
async fn restart(mut pico: Picoboot<WebUsbDevice>, stage: RwSignal<Stage>, done: String) {
    let state = Page;
    if let Err(e) = pico.reboot().await {
        stage.set(Stage::NeedsDrive);
        return state.warn(e.to_string());
    }
    stage.set(Stage::Restarting);
    state.say(done);
    let Some(host) = with_host(|h| h.clone()) else {
        return;
    };
    let back = host.follow_micropython().await;
    stage.set(Stage::Idle);
    if back {
        super::check_running_from_page().await;
    }
}

/// Runs `job` on the Pico the user picks; setting `cancel` stops an install or a restore
/// between sectors.
pub async fn run(
    job: Job,
    fw: Option<Firmware>,
    stage: RwSignal<Stage>,
    problems: RwSignal<Vec<String>>,
    cancel: RwSignal<bool>,
) {
    cancel.set(false);
    match job {
        Job::Install => {
            if let Some(fw) = fw {
                install(fw, stage, problems, cancel).await;
            }
        }
        Job::Backup => backup(stage).await,
        Job::Restore(bytes) => restore(bytes, stage, problems, cancel).await,
    }
}

/// The page's progress bar follows `done` of `total`.
fn progress(stage: RwSignal<Stage>, done: usize, total: usize) {
    stage.set(Stage::Writing {
        percent: (done * 100 / total.max(1)) as u32,
    });
}

/// Reads the whole flash and saves it as a backup file, then restarts the Pico.
async fn backup(stage: RwSignal<Stage>) {
    let state = Page;
    let (mut pico, chip) = match open().await {
        Ok(p) => p,
        Err(e) => return state.warn(e),
    };
    let flash = match pico.read_flash(|d, t| progress(stage, d, t)).await {
        Ok(flash) => flash,
        Err(e) => {
            stage.set(Stage::NeedsDrive);
            return state.warn(e.to_string());
        }
    };
    let date: String = String::from(js_sys::Date::new_0().to_iso_string())
        .chars()
        .take(10)
        .collect();
    let backup = Backup {
        chip,
        unique_id: super::board_unique_id().unwrap_or_default(),
        date: date.clone(),
        flash,
    };
    let id = if chip == Rp2Chip::Rp2350 {
        "RP2350"
    } else {
        "RP2040"
    };
    let name = format!("pico-flash-{id}-{date}.picobackup");
    crate::web::download(&name, &backup.encode());
    let sha = hex(&Sha256::digest(&backup.flash)[..8]);
    let done = tf!("Backed up the whole flash ({size}, SHA-256 {sha}…) to {file}. The Pico restarts into its firmware; waiting for its serial port…", size = kb(backup.flash.len() as u64), sha = sha, file = name);
    restart(pico, stage, done).await;
}

/// Writes a backup back: the same chip and flash size only, every sector, read back whole.
async fn restore(
    bytes: Vec<u8>,
    stage: RwSignal<Stage>,
    problems: RwSignal<Vec<String>>,
    cancel: RwSignal<bool>,
) {
    let state = Page;
    let refuse = |text: String| {
        state.warn(t("Nothing was written. See the reason below."));
        problems.set(vec![text]);
    };
    let backup = match Backup::decode(&bytes) {
        Ok(b) => b,
        Err(e) => return refuse(e.to_string()),
    };
    let (mut pico, chip) = match open().await {
        Ok(p) => p,
        Err(e) => return state.warn(e),
    };
    let size = pico.flash_size().await.ok().flatten().map(|s| s as usize);
    if let Err(e) = backup.fits(chip, size) {
        let _ = pico.release().await;
        return refuse(e.to_string());
    }
    problems.set(Vec::new());
    let pages = backup.pages();
    let stop = move || cancel.get_untracked();
    match pico
        .install_unless(&pages, |_, d, t| progress(stage, d, t), stop)
        .await
    {
        Ok(_) => {
            let done = tf!("Restored the whole flash from the backup of {date} and read it back: every byte matches (SHA-256). The Pico restarts into its firmware; waiting for its serial port…", date = backup.date);
            restart(pico, stage, done).await;
        }
        Err(e) => {
            stage.set(Stage::NeedsDrive);
            state.warn(e.to_string());
        }
    }
}

/// Picks the Pico's PICOBOOT interface, checks the file for its chip and flash, installs it,
/// reads it back, reboots the Pico and follows it back to its serial port.
pub async fn install(
    fw: Firmware,
    stage: RwSignal<Stage>,
    problems: RwSignal<Vec<String>>,
    cancel: RwSignal<bool>,
) {
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
        state.warn(t("Nothing was written. See the reason below."));
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
    state.say(tf!(
        "Installing by PICOBOOT: {firmware}…",
        firmware = describe(&name, &data)
    ));
    let pages = rp2::pages(&data, chip);
    let stop = move || cancel.get_untracked();
    let installed = pico
        .install_unless(&pages, |_, d, t| progress(stage, d, t), stop)
        .await;
    let installed = match installed {
        Ok(i) => i,
        Err(e) => {
            stage.set(Stage::NeedsDrive);
            return state.warn(e.to_string());
        }
    };
    super::record_install(chip.name(), "PICOBOOT", &name, &data, true);
    if let Err(e) = pico.reboot().await {
        stage.set(Stage::NeedsDrive);
        return state.warn(e.to_string());
    }
    stage.set(Stage::Restarting);
    state.say(tf!("Written by PICOBOOT and read back: {size} in {sectors} sectors match the file (SHA-256). The Pico restarts into MicroPython; waiting for its serial port…", size = kb(pages.len() as u64 * 256), sectors = number(installed.sectors_erased as u64)));
    let Some(host) = with_host(|h| h.clone()) else {
        return;
    };
    let back = host.follow_micropython().await;
    stage.set(Stage::Idle);
    if back {
        super::check_running_from_page().await;
    }
}
