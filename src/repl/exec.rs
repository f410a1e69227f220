//! Running code in the raw REPL: raw-paste with its flow control when the firmware has it
//! (learned on first use), plain raw mode in paced slices otherwise; stdout streamed, stderr kept.

use std::time::Duration;

use super::{Output, Repl, ReplError, Result, RAW_BANNER, RAW_SLICE, RAW_SLICE_PAUSE};
use crate::i18n::mark;
use crate::port::Port;

impl<P: Port> Repl<P> {
    /// Runs `code` in the raw REPL and returns its output (entering raw mode if needed).
    pub async fn exec(&mut self, code: &str, timeout: Duration) -> Result<Output> {
        self.exec_streaming(code, timeout, |_| {}).await
    }

    /// Like [`Repl::exec`], calling `on_stdout` with stdout as it arrives (for running a file).
    pub async fn exec_streaming(
        &mut self,
        code: &str,
        timeout: Duration,
        on_stdout: impl FnMut(&[u8]),
    ) -> Result<Output> {
        self.exec_with(code, timeout, None, on_stdout).await
    }

    /// Runs `code`: done within `timeout` overall, and (with `idle`) never silent for longer
    /// than `idle` (a long transfer keeps talking; a stalled one stops in seconds).
    pub(super) async fn exec_with(
        &mut self,
        code: &str,
        timeout: Duration,
        idle: Option<Duration>,
        mut on_stdout: impl FnMut(&[u8]),
    ) -> Result<Output> {
        if !self.raw {
            self.enter_raw(false).await?;
        }
        if self.raw_paste != Some(false) && self.send_raw_paste(code.as_bytes()).await? {
            self.raw_paste = Some(true);
        } else {
            self.raw_paste = Some(false);
            for slice in code.as_bytes().chunks(RAW_SLICE) {
                self.port.write(slice).await?;
                self.port.sleep(RAW_SLICE_PAUSE).await;
            }
            self.port.write(b"\x04").await?;
            let ok = self.read_until(b"OK", Duration::from_secs(3), "OK").await?;
            if ok.len() > 2 {
                // Anything before OK (echo, noise) is not accepted code.
                let before = String::from_utf8_lossy(&ok[..ok.len() - 2]).into_owned();
                if !before.trim().is_empty() {
                    return Err(ReplError::Protocol(crate::tf!(
                        "expected OK, got {text}",
                        text = format!("{before:?}")
                    )));
                }
            }
        }
        // stdout until \x04, stderr until \x04, then the prompt.
        let end = self.port.now() + timeout;
        let mut stdout = Vec::new();
        loop {
            let deadline = idle.map_or(end, |idle| (self.port.now() + idle).min(end));
            if let Some(at) = self.rx.iter().position(|&b| b == 0x04) {
                on_stdout(&self.rx[..at]);
                stdout.extend_from_slice(&self.rx[..at]);
                self.rx.drain(..=at);
                break;
            }
            if !self.rx.is_empty() {
                on_stdout(&self.rx);
                stdout.append(&mut self.rx);
            }
            if self.port.read(&mut self.rx, deadline).await? == 0 {
                return Err(ReplError::Timeout {
                    waiting_for: mark("the program to finish"),
                    got: String::from_utf8_lossy(&stdout).into_owned(),
                });
            }
        }
        let stderr = self
            .read_until(b"\x04", timeout, mark("the error output"))
            .await?;
        self.read_until(b">", Duration::from_secs(2), mark("the raw prompt"))
            .await?;
        Ok(Output {
            stdout,
            stderr: stderr[..stderr.len() - 1].to_vec(),
        })
    }

    /// Tries raw-paste. `Ok(false)` when the firmware does not support it (nothing was run).
    async fn send_raw_paste(&mut self, code: &[u8]) -> Result<bool> {
        self.port.write(b"\x05A\x01").await?;
        let head = self.read_n(2, Duration::from_secs(2)).await?;
        match head.as_slice() {
            b"R\x01" => {}
            b"R\x00" => return Ok(false),
            _ => {
                // Older firmware: Ctrl-A re-printed the raw banner. Resynchronise on its prompt.
                self.rx.splice(0..0, head);
                self.read_until(RAW_BANNER, Duration::from_secs(2), mark("the raw REPL"))
                    .await?;
                self.read_until(b">", Duration::from_secs(1), mark("the raw prompt"))
                    .await?;
                return Ok(false);
            }
        }
        let w = self.read_n(2, Duration::from_secs(2)).await?;
        let window = u16::from_le_bytes([w[0], w[1]]) as usize;
        // W is the first credit; the `\x01` that follows it is the second (2 × W in flight).
        let mut remaining = window;
        let mut sent = 0;
        while sent < code.len() {
            // Take any flow-control bytes that are waiting (or wait for one when out of window).
            while remaining == 0 || !self.rx.is_empty() {
                let b = self.read_n(1, Duration::from_secs(5)).await?[0];
                match b {
                    0x01 => remaining += window,
                    0x04 => {
                        // The board stopped reading (e.g. a syntax error): end our side too.
                        self.port.write(b"\x04").await?;
                        return Ok(true);
                    }
                    other => {
                        return Err(ReplError::Protocol(crate::tf!(
                            "unexpected byte {byte} during raw-paste",
                            byte = format!("0x{other:02x}")
                        )))
                    }
                }
            }
            let n = remaining.min(code.len() - sent);
            self.port.write(&code[sent..sent + n]).await?;
            sent += n;
            remaining -= n;
        }
        self.port.write(b"\x04").await?;
        // The board acknowledges the end of the code with \x04 (flow bytes may come first).
        loop {
            match self.read_n(1, Duration::from_secs(5)).await?[0] {
                0x04 => return Ok(true),
                0x01 => {}
                other => {
                    return Err(ReplError::Protocol(crate::tf!(
                        "unexpected byte {byte} after raw-paste",
                        byte = format!("0x{other:02x}")
                    )))
                }
            }
        }
    }

    async fn read_n(&mut self, n: usize, timeout: Duration) -> Result<Vec<u8>> {
        let deadline = self.port.now() + timeout;
        while self.rx.len() < n {
            if self.port.read(&mut self.rx, deadline).await? == 0 {
                return Err(ReplError::Timeout {
                    waiting_for: mark("the board's answer"),
                    got: String::from_utf8_lossy(&self.rx).into_owned(),
                });
            }
        }
        let rest = self.rx.split_off(n);
        Ok(std::mem::replace(&mut self.rx, rest))
    }
}
