//! Commands only the flasher stub has: erase all, erase a region, stream a flash read, and
//! run the app.

use std::time::Duration;

use super::{code, After, Outcome, SimLoader};
use crate::protocol::command::{op, Request};
use crate::sim::flash::{NorFlash, SECTOR};
use crate::sim::timing::Timing;
use crate::sim::write::erase_range;

impl SimLoader {
    /// Called for the stub only (the ROM does not know these commands).
    pub(super) fn stub_command(
        &mut self,
        req: &Request,
        flash: &mut NorFlash,
        timing: &Timing,
    ) -> Outcome {
        let one = |frame| Outcome::reply(frame, Duration::ZERO);
        let w = |n| req.word(n).unwrap_or(0);
        match req.opcode {
            op::ERASE_FLASH => {
                flash.erase_all();
                let work = timing
                    .chip_erase_per_mb
                    .mul_f64(flash.size() as f64 / (1 << 20) as f64);
                Outcome::reply(self.reply(op::ERASE_FLASH, 0, &[], Ok(())), work)
            }
            op::ERASE_REGION => {
                let (addr, len) = (w(0) as usize, w(1) as usize);
                if addr % SECTOR != 0 || len % SECTOR != 0 {
                    return one(self.reply(op::ERASE_REGION, 0, &[], Err(code::STUB_BAD_LEN)));
                }
                if addr + len > flash.size() {
                    return one(self.reply(op::ERASE_REGION, 0, &[], Err(code::STUB_SPI)));
                }
                let work = erase_range(flash, timing, addr, len);
                Outcome::reply(self.reply(op::ERASE_REGION, 0, &[], Ok(())), work)
            }
            op::READ_FLASH => {
                let (addr, len, packet) = (w(0) as usize, w(1) as usize, w(2) as usize);
                if packet == 0 || packet > 4096 {
                    return one(self.reply(op::READ_FLASH, 0, &[], Err(code::STUB_BAD_LEN)));
                }
                if addr + len > flash.size() {
                    return one(self.reply(op::READ_FLASH, 0, &[], Err(code::STUB_SPI)));
                }
                let frame = self.reply(op::READ_FLASH, 0, &[], Ok(()));
                Outcome {
                    frames: vec![frame],
                    work: Duration::ZERO,
                    after: After::StreamRead { addr, len, packet },
                }
            }
            op::RUN_USER_CODE => Outcome {
                frames: vec![],
                work: Duration::ZERO,
                after: After::RunApp,
            },
            _ => self.invalid(req.opcode),
        }
    }
}
