//! The browser's clock and timers, for ports and the demo board.

use std::time::Duration;

use js_sys::{Function, Promise};
use wasm_bindgen_futures::JsFuture;

/// Milliseconds since the page loaded (monotonic).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// [`now_ms`] as a Duration.
pub fn now() -> Duration {
    Duration::from_secs_f64(now_ms() / 1000.0)
}

/// A promise that resolves after `ms` milliseconds, or earlier if `register` hands its resolver
/// to someone who calls it.
pub fn timer(ms: i32, register: impl FnOnce(Function)) -> Promise {
    let mut register = Some(register);
    Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ =
                window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms.max(0));
        }
        if let Some(register) = register.take() {
            register(resolve);
        }
    })
}

/// Waits `duration` (0 yields to the browser once, so long work does not freeze the page).
pub async fn sleep(duration: Duration) {
    let ms = duration.as_millis().min(i32::MAX as u128) as i32;
    let _ = JsFuture::from(timer(ms, |_| {})).await;
}

/// Wall time for the simulator when it runs in the page as the demo board.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserClock;

impl crate::sim::Clock for BrowserClock {
    fn now(&self) -> Duration {
        now()
    }
    async fn wait_until(&mut self, t: Duration) {
        let now = now();
        if t > now {
            sleep(t - now).await;
        }
    }
}
