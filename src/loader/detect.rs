//! Finding out what is on the other end: chip family and revision, MAC, crystal, and the
//! flash chip's JEDEC id and size (read through the SPI controller's registers).

use super::{Error, Loader, Responder, Result, DEFAULT_TIMEOUT};
use crate::port::Port;
use crate::protocol::chip::{
    flash_size_from_jedec, Chip, ChipSpec, MacLayout, RevisionLayout, MAGIC_REG,
};
use crate::protocol::command::Command;

/// What the device card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub chip: Chip,
    /// major × 100 + minor.
    pub revision: u32,
    pub mac: [u8; 6],
    pub crystal_mhz: Option<u32>,
    pub flash_id: u32,
    /// Bytes, from the JEDEC id; `None` if the id is unknown.
    pub flash_size: Option<u32>,
}

impl DeviceInfo {
    /// "v3.0".
    pub fn revision_text(&self) -> String {
        format!("v{}.{}", self.revision / 100, self.revision % 100)
    }
    /// "24:0a:c4:12:34:56".
    pub fn mac_text(&self) -> String {
        self.mac
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

impl<P: Port> Loader<P> {
    /// Identifies the chip: the magic word first (answered by every ROM), confirmed by the
    /// security info's chip id on chips that have one.
    pub async fn detect_chip(&mut self) -> Result<&'static ChipSpec> {
        let magic = self.read_reg(MAGIC_REG).await?;
        let by_magic = Chip::from_magic(magic);
        let spec = match by_magic {
            Some(chip) if !chip.spec().detect_by_security_info => chip.spec(),
            _ => {
                let resp = self
                    .command(&Command::GetSecurityInfo, 20, DEFAULT_TIMEOUT)
                    .await;
                match resp {
                    Ok(r) => {
                        let id = u32::from_le_bytes(r.data[12..16].try_into().unwrap());
                        Chip::from_image_chip_id(id as u16)
                            .ok_or(Error::UnknownChip { magic })?
                            .spec()
                    }
                    Err(_) => by_magic.ok_or(Error::UnknownChip { magic })?.spec(),
                }
            }
        };
        self.spec = Some(spec);
        Ok(spec)
    }

    fn spec_or_err(&self) -> Result<&'static ChipSpec> {
        self.spec.ok_or(Error::Invalid(
            crate::i18n::t("detect the chip first").into(),
        ))
    }

    /// Reads the factory MAC from eFuse.
    pub async fn read_mac(&mut self) -> Result<[u8; 6]> {
        let spec = self.spec_or_err()?;
        let b = |w: u32, shift: u32| (w >> shift) as u8;
        Ok(match spec.mac {
            MacLayout::Esp8266 { mac0, mac1, mac3 } => {
                let (m0, m1, m3) = (
                    self.read_reg(mac0).await?,
                    self.read_reg(mac1).await?,
                    self.read_reg(mac3).await?,
                );
                let oui = if m3 != 0 {
                    [b(m3, 16), b(m3, 8), b(m3, 0)]
                } else if (m1 >> 16) & 0xFF == 0 {
                    [0x18, 0xFE, 0x34]
                } else {
                    [0xAC, 0xD0, 0x74]
                };
                [oui[0], oui[1], oui[2], b(m1, 8), b(m1, 0), b(m0, 24)]
            }
            MacLayout::Esp32 { word1, word2 } => {
                let (w1, w2) = (self.read_reg(word1).await?, self.read_reg(word2).await?);
                [b(w2, 8), b(w2, 0), b(w1, 24), b(w1, 16), b(w1, 8), b(w1, 0)]
            }
            MacLayout::TwoWords { base } => {
                let (m0, m1) = (self.read_reg(base).await?, self.read_reg(base + 4).await?);
                [b(m1, 8), b(m1, 0), b(m0, 24), b(m0, 16), b(m0, 8), b(m0, 0)]
            }
        })
    }

    /// Reads the chip revision as major × 100 + minor.
    pub async fn read_revision(&mut self) -> Result<u32> {
        let spec = self.spec_or_err()?;
        Ok(match spec.revision {
            RevisionLayout::None => 0,
            RevisionLayout::Esp32 {
                efuse_base,
                apb_ctl_date,
            } => {
                let w3 = self.read_reg(efuse_base + 12).await?;
                let w5 = self.read_reg(efuse_base + 20).await?;
                let date = self.read_reg(apb_ctl_date).await?;
                let bits = (w3 >> 15) & 1 | ((w5 >> 20) & 1) << 1 | ((date >> 31) & 1) << 2;
                let major = match bits {
                    1 => 1,
                    3 => 2,
                    7 => 3,
                    _ => 0,
                };
                major * 100 + ((w5 >> 24) & 3)
            }
            RevisionLayout::Fields {
                base,
                major,
                minor,
                minor_hi,
            } => {
                let mut field = async |(word, shift, mask): (u8, u8, u32)| -> Result<u32> {
                    Ok((self.read_reg(base + 4 * word as u32).await? >> shift) & mask)
                };
                let maj = field(major).await?;
                let mut min = field(minor).await?;
                if let Some((word, shift)) = minor_hi {
                    min |= field((word, shift, 1)).await? << 3;
                }
                maj * 100 + min
            }
        })
    }

    /// The crystal frequency: fixed for newer chips, estimated from the UART divider otherwise.
    pub async fn read_crystal_mhz(&mut self) -> Result<Option<u32>> {
        let spec = self.spec_or_err()?;
        if let Some(mhz) = spec.xtal_mhz {
            return Ok(Some(mhz));
        }
        // The divider only tells the crystal while the ROM runs (the stub changes clocks).
        let Some(reg) = spec
            .uart_clkdiv
            .filter(|_| self.responder == Responder::Rom)
        else {
            return Ok(None);
        };
        let div = self.read_reg(reg).await? & 0xF_FFFF;
        let divider = if spec.chip == Chip::Esp8266 { 2.0 } else { 1.0 };
        let est = self.port.baud() as f64 * div as f64 / 1e6 / divider;
        Ok(Some(if est > 45.0 {
            48
        } else if est > 33.0 {
            40
        } else {
            26
        }))
    }

    /// Runs SPI flash command `opcode` through the controller registers and returns up to 32
    /// bits it read (esptool's `run_spiflash_command` for a read with no address).
    async fn spi_read_command(&mut self, opcode: u8, read_bits: u32) -> Result<u32> {
        let spi = self.spec_or_err()?.spi;
        let (usr_reg, usr1_reg, usr2_reg) =
            (spi.reg(spi.usr), spi.reg(spi.usr1), spi.reg(spi.usr2));
        let saved_usr = self.read_reg(usr_reg).await?;
        let saved_usr2 = self.read_reg(usr2_reg).await?;
        match spi.miso_dlen {
            Some(miso) => self.write_reg(spi.reg(miso), read_bits - 1).await?,
            None => self.write_reg(usr1_reg, (read_bits - 1) << 8).await?,
        }
        const USR_COMMAND: u32 = 1 << 31;
        const USR_MISO: u32 = 1 << 28;
        self.write_reg(usr_reg, USR_COMMAND | USR_MISO).await?;
        self.write_reg(usr2_reg, 7 << 28 | opcode as u32).await?;
        self.write_reg(spi.reg(spi.w0), 0).await?;
        self.write_reg(spi.cmd(), 1 << 18).await?;
        let mut done = false;
        for _ in 0..10 {
            if self.read_reg(spi.cmd()).await? & (1 << 18) == 0 {
                done = true;
                break;
            }
        }
        if !done {
            return Err(Error::Timeout(crate::i18n::mark(
                "reading the flash chip id",
            )));
        }
        let value = self.read_reg(spi.reg(spi.w0)).await?;
        self.write_reg(usr_reg, saved_usr).await?;
        self.write_reg(usr2_reg, saved_usr2).await?;
        Ok(value)
    }

    /// Connects the SPI flash (ESP32 family ROMs need it before any flash access; the ESP8266
    /// ROM attaches on FLASH_BEGIN; stubs attach at start-up).
    pub async fn attach_flash(&mut self) -> Result<()> {
        let spec = self.spec_or_err()?;
        match self.responder {
            Responder::Rom if spec.rom_has_spi_attach => {
                self.command(
                    &Command::SpiAttach { arg: 0, rom: true },
                    0,
                    DEFAULT_TIMEOUT,
                )
                .await?;
            }
            Responder::Rom => {
                let begin = Command::FlashBegin {
                    erase_size: 0,
                    blocks: 0,
                    block_size: 0x400,
                    offset: 0,
                    encrypted: None,
                };
                self.command(&begin, 0, DEFAULT_TIMEOUT).await?;
            }
            Responder::Stub => {}
        }
        Ok(())
    }

    /// Tells the loader how big the flash is (the ROM assumes 2 MB, the stub bounds writes by it).
    pub async fn set_flash_size(&mut self, bytes: u32) -> Result<()> {
        let spec = self.spec_or_err()?;
        if self.responder == Responder::Rom && spec.chip == Chip::Esp8266 {
            return Ok(());
        }
        self.command(
            &Command::SpiSetParams { total_size: bytes },
            0,
            DEFAULT_TIMEOUT,
        )
        .await?;
        Ok(())
    }

    /// Everything for the device card. Attaches the flash on the way, and on USB-Serial-JTAG
    /// disables the watchdogs first (see [`Loader::disable_watchdogs`]).
    pub async fn detect(&mut self) -> Result<DeviceInfo> {
        let spec = match self.spec {
            Some(spec) => spec,
            None => self.detect_chip().await?,
        };
        self.disable_watchdogs().await?;
        let revision = self.read_revision().await?;
        let mac = self.read_mac().await?;
        let crystal_mhz = self.read_crystal_mhz().await?;
        self.attach_flash().await?;
        let flash_id = self.spi_read_command(0x9F, 24).await? & 0xFF_FFFF;
        Ok(DeviceInfo {
            chip: spec.chip,
            revision,
            mac,
            crystal_mhz,
            flash_id,
            flash_size: flash_size_from_jedec(flash_id),
        })
    }
}
