//! How long things take on a real board, so the virtual clock can report honest times.
//!
//! Flash figures are typical values from the Winbond W25Q32JV datasheet (rev. H, §9.6 AC
//! characteristics): sector erase 4 KiB tSE = 45 ms, block erase 64 KiB tBE2 = 150 ms,
//! chip erase tCE = 10 s for 4 MB, page program 256 B tPP = 0.4 ms. The ESP's quad-SPI read at
//! 40 MHz moves about 20 MB/s; MD5 on the chip is bounded by that read. UART wire time is 10 bits
//! per byte (start + 8 data + stop). USB transfers add a latency per transfer: 1 ms is the USB
//! full-speed frame interval that bulk transfers of CP210x/CH34x bridges are scheduled on.

use std::time::Duration;

/// Timing constants of one simulated board.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Added once to every transfer between host and chip, in each direction.
    pub usb_latency: Duration,
    pub sector_erase: Duration,
    pub block_erase: Duration,
    pub chip_erase_per_mb: Duration,
    pub page_program: Duration,
    /// Reading and hashing flash on the chip (SPI_FLASH_MD5, READ_FLASH), per MiB.
    pub read_per_mb: Duration,
    /// From reset release to the ROM's first boot-log byte.
    pub boot_delay: Duration,
    /// How long the EN pin's RC filter takes to let the chip out of reset (strap sampling).
    pub en_release_delay: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            usb_latency: Duration::from_millis(1),
            sector_erase: Duration::from_millis(45),
            block_erase: Duration::from_millis(150),
            chip_erase_per_mb: Duration::from_millis(2500),
            page_program: Duration::from_micros(400),
            read_per_mb: Duration::from_millis(50),
            boot_delay: Duration::from_millis(30),
            en_release_delay: Duration::from_millis(2),
        }
    }
}

impl Timing {
    /// Time to program `bytes` (whole 256-byte pages).
    pub fn program(&self, bytes: usize) -> Duration {
        self.page_program * bytes.div_ceil(256) as u32
    }

    /// Time to read (and hash) `bytes` of flash on the chip.
    pub fn read(&self, bytes: usize) -> Duration {
        self.read_per_mb.mul_f64(bytes as f64 / (1024.0 * 1024.0))
    }
}

/// Time `bytes` take on a UART line at `baud` (10 bits per byte).
pub fn wire_time(bytes: usize, baud: u32) -> Duration {
    Duration::from_nanos((bytes as u64 * 10 * 1_000_000_000) / baud.max(1) as u64)
}
