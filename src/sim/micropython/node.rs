//! The board's MicroPython in a Node child process (`node.mjs`), driven in lockstep: each
//! grant is one JSON line out and one back. The child ends when the board resets (it is
//! dropped) or asks for a reset itself.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use super::{parse_reply, Engine, Event, Reply, Start};

/// The shell's entry point, next to this file.
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/sim/micropython/board_node.mjs"
);
/// A board whose interpreter does not answer for this long (wall time) is hung.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

pub struct NodeEngine {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    lines: Option<Receiver<String>>,
}

impl NodeEngine {
    pub fn start(start: &Start) -> (NodeEngine, Reply) {
        let mut engine = NodeEngine {
            child: None,
            stdin: None,
            lines: None,
        };
        let spawned = Command::new("node")
            .arg(SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                eprintln!("esp-sim: cannot start node for the board's MicroPython: {e}");
                return (engine, gone(start.at));
            }
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        engine.stdin = child.stdin.take();
        engine.child = Some(child);
        engine.lines = Some(rx);
        let reply = engine.exchange(&start.config(), start.at);
        (engine, reply)
    }

    fn exchange(&mut self, msg: &str, at: Duration) -> Reply {
        let (Some(stdin), Some(lines)) = (self.stdin.as_mut(), self.lines.as_ref()) else {
            return gone(at);
        };
        if writeln!(stdin, "{msg}")
            .and_then(|_| stdin.flush())
            .is_err()
        {
            return self.stop(at);
        }
        match lines.recv_timeout(ANSWER_WITHIN) {
            Ok(line) => match parse_reply(&line) {
                Some(reply) => {
                    if reply.event.is_some() {
                        self.stop(at);
                    }
                    reply
                }
                None => {
                    eprintln!("esp-sim: the board's MicroPython said {line:?}");
                    self.stop(at)
                }
            },
            Err(_) => self.stop(at),
        }
    }

    fn stop(&mut self, at: Duration) -> Reply {
        self.stdin = None;
        self.lines = None;
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        gone(at)
    }
}

impl Engine for NodeEngine {
    fn grant(&mut self, until: Duration, input: &[u8]) -> Reply {
        let msg = format!(
            "{{\"until\":{},\"in\":\"{}\"}}",
            until.as_micros(),
            B64.encode(input)
        );
        self.exchange(&msg, until)
    }
}

impl Drop for NodeEngine {
    fn drop(&mut self) {
        self.stop(Duration::ZERO);
    }
}

fn gone(at: Duration) -> Reply {
    Reply {
        t: at,
        event: Some(Event::Gone),
        ..Reply::default()
    }
}
