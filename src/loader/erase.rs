//! Erasing flash: all of it (stub ERASE_FLASH) or a region (stub ERASE_REGION; on the ROM, a
//! FLASH_BEGIN that announces no data), and the ESP8266 ROM's erase-size correction.

use std::time::Duration;

use md5::{Digest, Md5};

use super::{timeout_per_mb, Error, Event, Loader, Responder, Result, Stage};
use crate::port::Port;
use crate::protocol::chip::Chip;
use crate::protocol::command::Command;

pub(super) const SECTOR: u32 = 0x1000;
pub(super) const ROM_BLOCK: usize = 0x400;
/// Tries of an erase that did not end blank.
const ERASE_ATTEMPTS: u32 = 3;

impl<P: Port> Loader<P> {
    /// Erases the whole flash. `flash_size` is needed in ROM mode, which erases by region.
    pub async fn erase_flash(&mut self, flash_size: u32) -> Result<()> {
        if self.responder == Responder::Rom {
            return self.erase_region(0, flash_size).await;
        }
        if flash_size == 0 {
            return Err(Error::Invalid(
                crate::i18n::t("erase the flash: its size is not known").into(),
            ));
        }
        self.emit(Event::Stage(Stage::Erasing));
        let mut tries = 1;
        loop {
            let erased = self
                .command(&Command::EraseFlash, 0, Duration::from_secs(120))
                .await
                .map(|_| ());
            match self.check_blank(0, flash_size, erased).await {
                Err(Error::Timeout(_) | Error::Device(_) | Error::Verify { .. })
                    if tries < ERASE_ATTEMPTS =>
                {
                    tries += 1;
                    self.flush_input().await?;
                }
                result => return result,
            }
        }
    }

    /// Erases `[offset, offset + len)`; both must be multiples of 4 KiB. Where the chip can
    /// hash, the region is then checked blank by MD5, and erased again when the request or
    /// its answer was lost on the way (erasing twice is harmless).
    pub async fn erase_region(&mut self, offset: u32, len: u32) -> Result<()> {
        let mut tries = 1;
        loop {
            let erased = self.erase_region_unchecked(offset, len).await;
            match self.check_blank(offset, len, erased).await {
                Err(Error::Timeout(_) | Error::Device(_) | Error::Verify { .. })
                    if tries < ERASE_ATTEMPTS =>
                {
                    tries += 1;
                    self.flush_input().await?;
                }
                result => return result,
            }
        }
    }

    /// After an erase that answered `erased`: where the chip can hash, whether the region
    /// reads blank (a lost answer to an erase that happened is then no failure).
    async fn check_blank(&mut self, offset: u32, len: u32, erased: Result<()>) -> Result<()> {
        if !self.can_hash() {
            return erased;
        }
        if let Err(e) = &erased {
            if !matches!(e, Error::Timeout(_) | Error::Device(_)) {
                return erased;
            }
            self.flush_input().await?;
        }
        let blank: [u8; 16] = Md5::digest(vec![0xFFu8; len as usize]).into();
        let actual = self.flash_md5(offset, len).await?;
        if actual == blank {
            return Ok(());
        }
        erased?;
        Err(Error::Verify {
            offset,
            len,
            expected: crate::i18n::t("blank (all 0xFF)").into(),
            actual: actual.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// Erases `[offset, offset + len)` without checking. The stub has a command for it; the
    /// ROM erases the region when a write begins, so a BEGIN with no data does it.
    pub(super) async fn erase_region_unchecked(&mut self, offset: u32, len: u32) -> Result<()> {
        if offset % SECTOR != 0 || len % SECTOR != 0 {
            return Err(Error::Invalid(crate::tf!(
                "erase offset and size must be multiples of 4 KiB (got {offset}, {size})",
                offset = format!("0x{offset:x}"),
                size = format!("0x{len:x}")
            )));
        }
        self.emit(Event::Stage(Stage::Erasing));
        let timeout = timeout_per_mb(40.0, len as usize);
        if self.responder == Responder::Stub {
            self.command(
                &Command::EraseRegion {
                    addr: offset,
                    size: len,
                },
                0,
                timeout,
            )
            .await?;
            return Ok(());
        }
        let esp8266 = self.spec.is_some_and(|s| s.chip == Chip::Esp8266);
        let erase_size = if esp8266 {
            esp8266_erase_size(offset, len)
        } else {
            len
        };
        let begin = Command::FlashBegin {
            erase_size,
            blocks: 0,
            block_size: ROM_BLOCK as u32,
            offset,
            encrypted: self.encrypt_word(),
        };
        self.command(&begin, 0, timeout).await?;
        Ok(())
    }
}

/// The erase size to send to the ESP8266 ROM so that its erase bug erases what is needed.
pub(super) fn esp8266_erase_size(offset: u32, size: u32) -> u32 {
    let sectors = size.div_ceil(SECTOR);
    let start = offset / SECTOR;
    let head = (16 - start % 16).min(sectors);
    if sectors < 2 * head {
        sectors.div_ceil(2) * SECTOR
    } else {
        (sectors - head) * SECTOR
    }
}
