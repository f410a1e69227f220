//! The Pico over PICOBOOT (issue 18), modeled at full-speed USB with the flash's erase and
//! program times (`webflash::sim::picoboot`): a 1.6 MB MicroPython UF2 installed and read back,
//! against the drive path for the same file (the ROM does the same erases and programs, and the
//! UF2 carries each 256-byte page in a 512-byte block, so twice the bytes cross the bus; the
//! drive path cannot read anything back); and a 2 MB whole-flash backup against the bus limit.

use webflash::boards::picoboot::{PAGE, SECTOR};
use webflash::boards::rp2::{self, Rp2Chip, FLASH_BASE};
use webflash::boards::uf2::{self, family};
use webflash::picoboot::Picoboot;
use webflash::sim::block_on;
use webflash::sim::picoboot::{PicobootSim, BYTE, ERASE, PROGRAM};
use webflash::sim::rp2::{bootable_image, Bootsel};
use webflash::usb_device::UsbDevice;

use crate::image::micropython_like;
use crate::report::Row;

const LEN: usize = 1600 * 1024;
/// Full speed's bulk ceiling: 19 packets of 64 bytes per 1 ms frame.
const BUS_BYTES_PER_SEC: f64 = 19.0 * 64.0 * 1000.0;

pub fn modeled() -> Result<Vec<Row>, String> {
    let mut image = bootable_image(
        Rp2Chip::Rp2040,
        "MicroPython v1.25.0 on 2025-04-15; Raspberry Pi Pico with RP2040",
        4096,
    );
    image.extend(micropython_like(LEN - image.len(), 9));
    let file = uf2::build(&image, FLASH_BASE, family::RP2040);
    let pages = rp2::pages(&file, Rp2Chip::Rp2040);
    let e = |e: webflash::picoboot::PicobootError| format!("pico: {e}");
    let mut pico = Picoboot::new(
        PicobootSim::new(Bootsel::new(Rp2Chip::Rp2040, 2 << 20, &[])),
        1,
        Rp2Chip::Rp2040,
    );
    block_on(async {
        pico.connect().await.map_err(e)?;
        let t = pico.device().now();
        let done = pico.install(&pages, |_, _, _| {}).await.map_err(e)?;
        let install = (pico.device().now() - t).as_secs_f64();
        // The drive path: the same erases and programs, the UF2's 512-byte blocks on the bus.
        let sectors = image.len().div_ceil(SECTOR as usize) as u32;
        let page_count = image.len().div_ceil(PAGE as usize) as u32;
        let drive =
            (BYTE * file.len() as u32 + ERASE * sectors + PROGRAM * page_count).as_secs_f64();
        let t = pico.device().now();
        let flash = pico.read_flash(|_, _| {}).await.map_err(e)?;
        let backup = (pico.device().now() - t).as_secs_f64();
        let limit = flash.len() as f64 / BUS_BYTES_PER_SEC;
        Ok(vec![
            Row::new(format!("Pico: install {} KB UF2 by PICOBOOT", LEN / 1024), install, "modeled")
                .against("the drive path", drive, None)
                .detail(format!(
                    "{} sectors erased and written, read back by SHA-256 (the drive path cannot); flash {:?}/sector, {:?}/page",
                    done.sectors_erased, ERASE, PROGRAM
                )),
            Row::new("Pico: whole-flash backup 2048 KB by PICOBOOT", backup, "modeled")
                .against("full speed's bulk ceiling", limit, None)
                .detail(format!("{} KB read; flash size found as picotool finds it", flash.len() / 1024)),
        ])
    })
}
