//! Downloading firmware, manifests and stub images, with progress for big files.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response};

use crate::i18n::t;

/// Why a download failed, in words that say what to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The server answered with an error status.
    Status { url: String, status: u16 },
    /// No answer (offline, wrong host, or the server does not allow this page to download).
    Network { url: String },
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Status { url, status: 404 } => f.write_str(&crate::tf!("{url} was not found (404). Check the link.", url = url)),
            FetchError::Status { url, status } => f.write_str(&crate::tf!("The server refused {url} (HTTP {status}). Check the link or try again later.", url = url, status = status)),
            FetchError::Network { url } => f.write_str(&crate::tf!("Could not download {url}. Check the internet connection and the link; a file on another website can only be loaded if that site allows it (CORS). You can download it yourself and choose it as a file.", url = url)),
        }
    }
}

/// Fetches `url` as bytes; `progress(done, total)` is called as chunks arrive (total 0 if unknown).
pub async fn fetch_bytes(
    url: &str,
    mut progress: impl FnMut(u64, u64),
) -> Result<Vec<u8>, FetchError> {
    let network = || FetchError::Network {
        url: url.to_string(),
    };
    let window = web_sys::window().ok_or_else(network)?;
    let response: Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| network())?
        .unchecked_into();
    if !response.ok() {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: response.status(),
        });
    }
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut out = Vec::with_capacity(total as usize);
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|_| network())?;
        if Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true)
        {
            break;
        }
        let value: JsValue = Reflect::get(&chunk, &"value".into()).map_err(|_| network())?;
        out.extend_from_slice(&Uint8Array::new(&value).to_vec());
        progress(out.len() as u64, total);
    }
    Ok(out)
}

/// Fetches `url` as UTF-8 text.
pub async fn fetch_text(url: &str) -> Result<String, FetchError> {
    let bytes = fetch_bytes(url, |_, _| {}).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The page's own URL, for resolving relative links.
pub fn page_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// A query parameter of the page's URL (e.g. `?manifest=`).
pub fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get(name)
}

/// The bytes of a file the user picked or dropped.
pub async fn read_file(file: web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| t("the file could not be read").to_string())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
