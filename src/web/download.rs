//! Saving bytes as a file in the user's downloads (a backup, a file from the board, a UF2 to
//! drag onto a drive where the page cannot write it itself).

use wasm_bindgen::JsCast;

/// Offers `data` as a download named `name`.
pub fn download(name: &str, data: &[u8]) {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(data));
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence(&parts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        if let (Ok(a), Some(body)) = (doc.create_element("a"), doc.body()) {
            let _ = a.set_attribute("href", &url);
            let _ = a.set_attribute("download", name);
            let _ = body.append_child(&a);
            if let Some(a) = a.dyn_ref::<web_sys::HtmlElement>() {
                a.click();
            }
            a.remove();
        }
    }
}
