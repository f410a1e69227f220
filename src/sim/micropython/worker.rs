//! The demo boards' MicroPython in the page: a module worker running the same shell as
//! `esp-sim` (`board_worker.mjs`), reached through `board_client.js`. The worker keeps the
//! wall clock, so a grant only collects what the board printed since the last one.
//!
//! `board_client.js` is served next to the page, not bundled as a snippet of this crate (the
//! page would preload it before the first flash): the demo's loaders import it, and it puts
//! its `WorkerBoard` class on `globalThis.WebflashWorkerBoard`.

use std::time::Duration;

use js_sys::{Array, Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use super::{parse_reply, Engine, Event, Reply, Start};

#[wasm_bindgen]
extern "C" {
    type WorkerBoard;
    #[wasm_bindgen(method)]
    fn grant(this: &WorkerBoard, now_us: f64, input: &Uint8Array) -> String;
    #[wasm_bindgen(method)]
    fn stop(this: &WorkerBoard);
}

impl WorkerBoard {
    fn new(config: &str) -> Option<WorkerBoard> {
        let class: Function = Reflect::get(&js_sys::global(), &"WebflashWorkerBoard".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let args = Array::of1(&config.into());
        Reflect::construct(&class, &args)
            .ok()
            .map(JsCast::unchecked_into)
    }
}

pub struct WorkerEngine {
    /// `None`: `board_client.js` was not loaded; the board stays silent.
    board: Option<WorkerBoard>,
}

impl WorkerEngine {
    pub fn start(start: &Start) -> WorkerEngine {
        WorkerEngine {
            board: WorkerBoard::new(&start.config()),
        }
    }
}

impl Engine for WorkerEngine {
    fn grant(&mut self, until: Duration, input: &[u8]) -> Reply {
        let gone = Reply {
            t: until,
            event: Some(Event::Gone),
            ..Reply::default()
        };
        let Some(board) = &self.board else {
            return gone;
        };
        let text = board.grant(until.as_micros() as f64, &Uint8Array::from(input));
        parse_reply(&text).unwrap_or(gone)
    }
}

impl Drop for WorkerEngine {
    fn drop(&mut self) {
        if let Some(board) = &self.board {
            board.stop();
        }
    }
}
