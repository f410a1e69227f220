//! What the chip prints when it boots: the ROM's banner, then the firmware's first words.
//! Texts follow real boards (`esp-protocol.md` §12 and §13.1); hosts use them to tell
//! "in the loader" from "booted the wrong way". Booting from flash is [`super::boot`].

use super::boot::{self, rom_banner, Boot};
use super::micropython::firmware::{fs_region, identify_esp8266, Firmware};
use crate::protocol::chip::{Chip, ChipSpec};
use crate::usb::ResetWiring;

/// Printed when the strap selected the serial loader.
pub fn download(spec: &ChipSpec, wiring: ResetWiring) -> String {
    match spec.chip {
        Chip::Esp8266 => "\r\n ets Jan  8 2013,rst cause:2, boot mode:(1,6)\r\n\r\n".into(),
        Chip::Esp32 => format!(
            "{}rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n",
            rom_banner(spec.chip)
        ),
        _ => {
            let rst = if wiring == ResetWiring::UsbJtagSerial { "rst:0x15 (USB_UART_CHIP_RESET)" } else { "rst:0x1 (POWERON)" };
            format!("{}{rst},boot:0x5 (DOWNLOAD(USB/UART0/1))\r\nwaiting for download\r\n", rom_banner(spec.chip))
        }
    }
}

/// Printed when the chip boots from flash, and what runs. MicroPython's builds quiet the
/// second-stage bootloader (log level WARN), so their banner follows the ROM lines directly;
/// other ESP-IDF apps log a few lines. The ESP8266's ROM loads its one image itself.
pub fn flash_boot(spec: &ChipSpec, flash: &[u8], revision: u32) -> Boot {
    if spec.chip != Chip::Esp8266 {
        return boot::from_flash(spec, flash, revision);
    }
    let firmware = identify_esp8266(flash);
    let mut log = String::from("\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\n");
    if firmware != Firmware::Invalid {
        log.push_str("load 0x40100000, len 31088, room 16 \r\ntail 0\r\nchksum 0x2f\r\n");
    }
    Boot {
        log,
        firmware,
        fs: Some(fs_region(spec.chip, flash.len())),
    }
}
