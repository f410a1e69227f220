//! The demo boards' MicroPython in the page: a module worker running the same shell as
//! `esp-sim` (`board_worker.mjs`), reached through `board_client.js`. The worker keeps the
//! wall clock, so a grant only collects what the board printed since the last one.

use std::time::Duration;

use wasm_bindgen::prelude::*;

use super::{parse_reply, Engine, Event, Reply, Start};

#[wasm_bindgen(module = "/src/sim/micropython/board_client.js")]
extern "C" {
    type WorkerBoard;
    #[wasm_bindgen(constructor)]
    fn new(config: &str) -> WorkerBoard;
    #[wasm_bindgen(method)]
    fn grant(this: &WorkerBoard, now_us: f64, input: &[u8]) -> String;
    #[wasm_bindgen(method)]
    fn stop(this: &WorkerBoard);
}

pub struct WorkerEngine {
    board: WorkerBoard,
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
        let text = self.board.grant(until.as_micros() as f64, input);
        parse_reply(&text).unwrap_or(Reply {
            t: until,
            event: Some(Event::Gone),
            ..Reply::default()
        })
    }
}

impl Drop for WorkerEngine {
    fn drop(&mut self) {
        self.board.stop();
    }
}
