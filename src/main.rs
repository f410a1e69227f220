//! The browser app's entry point (built for wasm32 by Trunk).

#[cfg(target_arch = "wasm32")]
fn main() {
    // A panic's message in the console (the page's tests collect it); console_error_panic_hook
    // adds a JS stack trace, at 1 KB gzip more in the page a student downloads first.
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
    // The page's language first (its translations, when it is not English), then the app.
    wasm_bindgen_futures::spawn_local(async {
        let _ = wasm_bindgen_futures::JsFuture::from(webflash::web::modules::start_page()).await;
        webflash::ui::mount();
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("webflash-app is the browser app: run `make serve` to build and serve it.");
    std::process::exit(2);
}
