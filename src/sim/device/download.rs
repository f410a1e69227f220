//! What the chip does with SLIP frames in download mode: hands each request to the ROM loader
//! or the stub at the time the chip is free, schedules the replies (the stub acknowledges data
//! blocks at once and writes them while the next arrives), and streams READ_FLASH packets one
//! at a time, each after the host's acknowledgement.

use std::time::Duration;

use md5::{Digest, Md5};

use super::{Device, Mode, ResetKind, APP_START};
use crate::protocol::command::Request;
use crate::protocol::slip;
use crate::sim::loader::{After, SimLoader};
use crate::sim::reset::Boot;
use crate::sim::timing::wire_time;

/// One stub READ_FLASH transfer: packets go out one at a time, each after the host's ack.
pub(super) struct ReadStream {
    addr: usize,
    len: usize,
    packet: usize,
    sent: usize,
    md5: Md5,
}

impl Device {
    pub(super) fn handle_frame(&mut self, at: Duration, frame: &[u8]) {
        let start = at.max(self.busy_until);
        if self.read.is_some() {
            self.read_ack(start, frame);
            return;
        }
        let Some(req) = Request::parse(frame) else {
            return;
        };
        let Mode::Loader(loader) = &mut self.mode else {
            return;
        };
        let baud = self.uart_baud.unwrap_or(115_200);
        let outcome = loader.handle(
            &req,
            &mut self.regs,
            &mut self.flash,
            &self.config.timing,
            baud,
        );
        let is_stub = loader.stub;
        if self.regs.take_watchdog_write() {
            if let Some(usb) = self.native {
                self.watchdogs.start(start, &self.regs, &usb);
            }
        }
        // The stub acknowledges a data block at once and writes it while the next one arrives
        // (double buffering); the ROM answers only when the work is done.
        let background = is_stub && matches!(req.opcode, 0x03 | 0x11);
        let reply_at = if background {
            start
        } else {
            start + outcome.work
        };
        self.busy_until = start + outcome.work;
        let injected = std::mem::take(&mut self.faults.inject_tx);
        self.emit(reply_at, injected);
        for frame in outcome.frames {
            self.emit(reply_at, slip::encode(&frame));
        }
        match outcome.after {
            After::Stay => {}
            After::StartStub => {
                self.mode = Mode::Loader(SimLoader::new(self.spec, true, self.flash.size()));
                self.emit(reply_at + Duration::from_millis(1), slip::encode(b"OHAI"));
            }
            After::Crash => {
                // An exception in the ROM: it reboots, and the host hears nothing more.
                self.boot(reply_at, Boot::Flash, ResetKind::Watchdog);
            }
            After::ChangeBaud(baud) => {
                // Output already queued goes at the old baud; later output at the new one.
                self.uart_baud = Some(baud);
            }
            After::RunApp => {
                let boot = self.boot_from_flash();
                self.uart_baud = Some(115_200);
                let at = reply_at + Duration::from_millis(5);
                let log = boot.log.clone().into_bytes();
                let app_at = at + wire_time(log.len(), 115_200) + APP_START;
                self.emit(at, log);
                self.firmware_started();
                self.run_firmware(app_at, boot);
            }
            After::StreamRead { addr, len, packet } => {
                self.read = Some(ReadStream {
                    addr,
                    len,
                    packet,
                    sent: 0,
                    md5: Md5::new(),
                });
                self.send_read_packet(reply_at);
            }
        }
    }

    fn send_read_packet(&mut self, at: Duration) {
        let Some(read) = self.read.as_mut() else {
            return;
        };
        let n = read.packet.min(read.len - read.sent);
        let bytes = self
            .flash
            .read(read.addr + read.sent, n)
            .unwrap_or(&[])
            .to_vec();
        read.md5.update(&bytes);
        read.sent += n;
        let work = self.config.timing.read(n);
        self.busy_until = at + work;
        self.emit(at + work, slip::encode(&bytes));
    }

    /// A READ_FLASH ack: the host's running total. The next packet follows, or the MD5 at the end.
    fn read_ack(&mut self, at: Duration, frame: &[u8]) {
        let Some(read) = self.read.as_ref() else {
            return;
        };
        let Ok(acked) = <[u8; 4]>::try_from(frame).map(u32::from_le_bytes) else {
            return;
        };
        if acked as usize != read.sent {
            return;
        }
        if read.sent < read.len {
            self.send_read_packet(at);
        } else {
            let read = self.read.take().unwrap();
            self.emit(at, slip::encode(&read.md5.finalize()));
        }
    }
}
