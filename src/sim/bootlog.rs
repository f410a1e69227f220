//! What the chip prints when it boots: the ROM's banner, then the firmware's first words.
//! Texts follow real boards (`esp-protocol.md` §12 and §13.1); hosts use them to tell
//! "in the loader" from "booted the wrong way".

use super::micropython::{identify, Firmware};
use crate::protocol::chip::{Chip, ChipSpec};
use crate::usb::ResetWiring;

fn rom_banner(spec: &ChipSpec) -> String {
    match spec.chip {
        Chip::Esp8266 => String::new(),
        Chip::Esp32 => "ets Jul 29 2019 12:21:46\r\n\r\n".into(),
        Chip::Esp32C3 => "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n".into(),
        Chip::Esp32S3 => "ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\n".into(),
        Chip::Esp32S2 => "ESP-ROM:esp32s2-rc4-20191025\r\nBuild:Oct 25 2019\r\n".into(),
        Chip::Esp32C2 => "ESP-ROM:esp8684-api2-20220127\r\nBuild:Jan 27 2022\r\n".into(),
        Chip::Esp32C6 => "ESP-ROM:esp32c6-20220919\r\nBuild:Sep 19 2022\r\n".into(),
        Chip::Esp32C5 => "ESP-ROM:esp32c5-eco2-20250121\r\nBuild:Jan 21 2025\r\n".into(),
        Chip::Esp32H2 => "ESP-ROM:esp32h2-20221101\r\nBuild:Nov  1 2022\r\n".into(),
        Chip::Esp32P4 => "ESP-ROM:esp32p4-eco2-20240710\r\nBuild:Jul 10 2024\r\n".into(),
    }
}

/// Printed when the strap selected the serial loader.
pub fn download(spec: &ChipSpec, wiring: ResetWiring) -> String {
    match spec.chip {
        Chip::Esp8266 => "\r\n ets Jan  8 2013,rst cause:2, boot mode:(1,6)\r\n\r\n".into(),
        Chip::Esp32 => format!(
            "{}rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n",
            rom_banner(spec)
        ),
        _ => {
            let rst = if wiring == ResetWiring::UsbJtagSerial { "rst:0x15 (USB_UART_CHIP_RESET)" } else { "rst:0x1 (POWERON)" };
            format!("{}{rst},boot:0x5 (DOWNLOAD(USB/UART0/1))\r\nwaiting for download\r\n", rom_banner(spec))
        }
    }
}

/// Printed when the chip boots from flash (ROM, then the bootloader as far as it speaks), and
/// what it finds to run. MicroPython's builds quiet the second-stage bootloader (log level
/// WARN), so their banner follows the ROM lines directly; other ESP-IDF apps log a few lines.
pub fn flash_boot(spec: &ChipSpec, flash: &[u8]) -> (String, Firmware) {
    let at = spec.bootloader_offset as usize;
    let header = flash
        .get(at..at + 4)
        .map(|h| u32::from_le_bytes(h.try_into().unwrap()))
        .unwrap_or(u32::MAX);
    let firmware = identify(spec, flash);
    let valid = firmware != Firmware::Invalid;
    if spec.chip == Chip::Esp8266 {
        let mut text = String::from("\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\n");
        if valid {
            text.push_str("load 0x40100000, len 31088, room 16 \r\ntail 0\r\nchksum 0x2f\r\n");
        }
        return (text, firmware);
    }
    let mut text = rom_banner(spec);
    text.push_str("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n");
    match firmware {
        Firmware::Invalid => {
            for _ in 0..3 {
                text.push_str(&format!("invalid header: 0x{header:08x}\r\n"));
            }
        }
        _ => {
            text.push_str("configsip: 0, SPIWP:0xee\r\nmode:DIO, clock div:2\r\nload:0x3fff0030,len:4728\r\nentry 0x403c98d0\r\n");
            if firmware == Firmware::Other {
                text.push_str("I (29) boot: ESP-IDF second stage bootloader\r\n");
                text.push_str("I (312) cpu_start: Starting scheduler.\r\nI (325) main_task: Calling app_main()\r\n");
            }
        }
    }
    (text, firmware)
}
