//! A USB drive the user picks with the File System Access API (`showDirectoryPicker`): the
//! BOOTSEL drive of a Raspberry Pi Pico, where a UF2 file is written (`boards.md` §3). Only the
//! few calls needed, through `js_sys::Reflect` (web-sys has them behind unstable flags).
//!
//! Chromium writes to a swap file (`<name>.crswap`) that the drive receives as the OS flushes
//! it; the Pico flashes those sectors and reboots about a second after the last one, so the
//! `close()` that renames the swap file may fail after every byte arrived. [`Drive::write`]
//! reports that as written, and the page confirms the install by the board coming back.

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::js::error_message;
use crate::i18n::t;

/// Why the drive could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriveError {
    /// The browser has no File System Access API (Firefox, Safari, or not over https).
    Unsupported,
    /// The chooser was closed, or the folder refused (a system folder).
    Cancelled,
    /// A file is not there (the drive went away, or it is not the drive we want).
    NotFound(String),
    Other(String),
}

impl std::fmt::Display for DriveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriveError::Unsupported => f.write_str(t("This browser cannot write to a drive from a web page.")),
            DriveError::Cancelled => f.write_str(t("No drive was chosen. Press \"Choose the Pico's drive\" and pick the drive named RPI-RP2 (or RP2350).")),
            DriveError::NotFound(name) => f.write_str(&crate::tf!("{file} is not on the chosen drive.", file = name)),
            DriveError::Other(msg) => f.write_str(&crate::tf!("The drive could not be used: {error}", error = msg)),
        }
    }
}

fn drive_error(err: &JsValue) -> DriveError {
    let name = Reflect::get(err, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    match name.as_str() {
        "AbortError" | "SecurityError" | "NotAllowedError" => DriveError::Cancelled,
        "NotFoundError" => DriveError::NotFound(error_message(err)),
        _ => DriveError::Other(error_message(err)),
    }
}

async fn await_call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, DriveError> {
    let promise = super::js::call(target, name, args).map_err(|e| drive_error(&e))?;
    let promise: Promise = promise.dyn_into().map_err(|e| drive_error(&e))?;
    JsFuture::from(promise).await.map_err(|e| drive_error(&e))
}

/// True when the page can ask for a folder to write to.
pub fn supported() -> bool {
    web_sys::window().is_some_and(|w| {
        Reflect::get(&w, &"showDirectoryPicker".into()).is_ok_and(|f| f.is_function())
    })
}

/// A folder the user picked (read and write).
pub struct Drive {
    handle: JsValue,
}

impl Drive {
    /// Opens the browser's folder chooser. Must run from a click.
    pub async fn pick() -> Result<Drive, DriveError> {
        let window = web_sys::window().ok_or(DriveError::Unsupported)?;
        if !supported() {
            return Err(DriveError::Unsupported);
        }
        let options = Object::new();
        let _ = Reflect::set(&options, &"mode".into(), &"readwrite".into());
        let handle = await_call(&window, "showDirectoryPicker", &[options.into()]).await?;
        Ok(Drive { handle })
    }

    /// A directory handle the page already has (the demo Pico's BOOTSEL drive, which is not a
    /// folder on this computer).
    pub fn from_handle(handle: JsValue) -> Drive {
        Drive { handle }
    }

    /// The folder's name (a drive's volume label, on most systems).
    pub fn name(&self) -> String {
        Reflect::get(&self.handle, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default()
    }

    /// Reads a text file in the folder; `NotFound` if it has none of that name.
    pub async fn read_text(&self, name: &str) -> Result<String, DriveError> {
        let file_handle = await_call(&self.handle, "getFileHandle", &[name.into()])
            .await
            .map_err(|e| match e {
                DriveError::NotFound(_) | DriveError::Other(_) => {
                    DriveError::NotFound(name.to_string())
                }
                other => other,
            })?;
        let file = await_call(&file_handle, "getFile", &[]).await?;
        let text = await_call(&file, "text", &[]).await?;
        Ok(text.as_string().unwrap_or_default())
    }

    /// Writes `data` as file `name` in chunks of 64 KiB (as Adafruit's installer does), calling
    /// `progress(done, total)`. A `close()` that fails after every byte was written counts as
    /// written: the board takes the blocks as they arrive and may be gone by then.
    pub async fn write(
        &self,
        name: &str,
        data: &[u8],
        mut progress: impl FnMut(usize, usize),
    ) -> Result<(), DriveError> {
        let options = Object::new();
        let _ = Reflect::set(&options, &"create".into(), &JsValue::TRUE);
        let file_handle = await_call(
            &self.handle,
            "getFileHandle",
            &[name.into(), options.into()],
        )
        .await?;
        let writable = await_call(&file_handle, "createWritable", &[]).await?;
        const CHUNK: usize = 64 * 1024;
        for (i, chunk) in data.chunks(CHUNK).enumerate() {
            let params = Object::new();
            let _ = Reflect::set(&params, &"type".into(), &"write".into());
            let _ = Reflect::set(&params, &"position".into(), &((i * CHUNK) as f64).into());
            let _ = Reflect::set(&params, &"data".into(), &Uint8Array::from(chunk).into());
            if let Err(e) = await_call(&writable, "write", &[params.into()]).await {
                let _ = await_call(&writable, "abort", &[]).await;
                return Err(e);
            }
            progress((i * CHUNK + chunk.len()).min(data.len()), data.len());
        }
        // Every byte is on its way to the drive; the rename may race the board's reboot.
        let _ = await_call(&writable, "close", &[]).await;
        Ok(())
    }
}
