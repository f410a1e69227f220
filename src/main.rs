//! The browser app's entry point (built for wasm32 by Trunk).

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    webflash::ui::mount();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("webflash-app is the browser app: run `make serve` to build and serve it.");
    std::process::exit(2);
}
