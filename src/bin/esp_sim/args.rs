//! Command-line options. Hand-parsed: a dozen flags do not justify a parser dependency.

use std::net::SocketAddr;
use std::path::PathBuf;

use webflash::protocol::chip::Chip;
use webflash::sim::StartMode;
use webflash::usb::ResetWiring;

pub const USAGE: &str = "\
usage: esp-sim --chip <name> --listen <addr:port> [options]

Serves one simulated ESP chip as a serial port.

  --chip NAME          esp8266, esp32, esp32s2, esp32s3, esp32c2, esp32c3, esp32c5, esp32c6,
                       esp32h2, esp32p4
  --listen ADDR:PORT   serve RFC 2217 (telnet COM-PORT-OPTION) there; port 0 picks a free one
  --raw                serve plain TCP instead; the chip starts in download mode
  --ws ADDR:PORT       also serve the browser test harness over WebSocket
  --bus ADDR:PORT      announce the board's USB device (it changes on native-USB boards)
                       over WebSocket, for the browser harness's fake USB
  --flash-size SIZE    e.g. 4MB (default), 2MB, 16MB, 512KB
  --mac MAC            base MAC, e.g. aa:bb:cc:dd:ee:ff
  --wiring KIND        uart (USB-UART bridge, default), usb-jtag, usb-otg (the connector
                       is the chip's own USB: S2's ROM serves USB-OTG CDC, S3's ROM
                       USB-Serial-JTAG, MicroPython TinyUSB CDC; esp32s2, esp32s3, esp32p4)
  --start MODE         settled (running its firmware, default), download (held in the
                       ROM loader by its BOOT button, the default with --raw), boot
                       (powered on just now)
  --firmware-watchdogs the firmware on the board runs with the RTC and super watchdogs
                       armed, so they keep counting after a reset into download mode
  --flash-file PATH    load flash from PATH (if it exists) and keep PATH up to date
  --app micropython    write a MicroPython image into flash and boot it (files in the
                       flash's filesystem region are kept); works with --raw for
                       mpremote's socket://
  --realtime           pace bytes at the negotiated baud (10 bits per byte, plus 1 ms USB
                       latency per transfer) in wall time, for timing real tools

Once ready it prints one line: `esp-sim listening on ADDR:PORT` (plus ` ws ADDR:PORT` and
` bus ADDR:PORT`).
";

/// Everything the command line chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub chip: Chip,
    pub listen: SocketAddr,
    pub raw: bool,
    pub ws: Option<SocketAddr>,
    pub flash_size: Option<u32>,
    pub mac: Option<[u8; 6]>,
    pub wiring: ResetWiring,
    pub flash_file: Option<PathBuf>,
    pub realtime: bool,
    /// Boot straight into this firmware (only `micropython`).
    pub app: Option<App>,
    pub bus: Option<SocketAddr>,
    /// How the board starts (`None`: as the link suggests).
    pub start: Option<StartMode>,
    pub firmware_watchdogs: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    MicroPython,
}

/// Parses the arguments after the program name. `Err` carries a message for the user.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut args = args.into_iter();
    let mut chip = None;
    let mut listen = None;
    let mut raw = false;
    let mut ws = None;
    let mut flash_size = None;
    let mut mac = None;
    let mut wiring = ResetWiring::UartBridge;
    let mut flash_file = None;
    let mut realtime = false;
    let mut app = None;
    let mut bus = None;
    let mut start = None;
    let mut firmware_watchdogs = false;
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--chip" => {
                let v = value()?;
                chip = Some(Chip::from_name(&v).ok_or_else(|| format!("unknown chip {v:?}"))?);
            }
            "--listen" => listen = Some(parse_addr(&value()?)?),
            "--ws" => ws = Some(parse_addr(&value()?)?),
            "--raw" => raw = true,
            "--bus" => bus = Some(parse_addr(&value()?)?),
            "--firmware-watchdogs" => firmware_watchdogs = true,
            "--start" => {
                start = Some(match value()?.as_str() {
                    "settled" => StartMode::Reset,
                    "download" => StartMode::Download,
                    "boot" => StartMode::App,
                    other => {
                        return Err(format!("unknown start {other:?} (settled, download, boot)"))
                    }
                })
            }
            "--realtime" => realtime = true,
            "--flash-size" => flash_size = Some(parse_size(&value()?)?),
            "--mac" => mac = Some(parse_mac(&value()?)?),
            "--wiring" => {
                wiring = match value()?.as_str() {
                    "uart" => ResetWiring::UartBridge,
                    "usb-jtag" => ResetWiring::UsbJtagSerial,
                    "usb-otg" => ResetWiring::UsbOtg,
                    other => {
                        return Err(format!(
                            "unknown wiring {other:?} (uart, usb-jtag, usb-otg)"
                        ))
                    }
                }
            }
            "--flash-file" => flash_file = Some(PathBuf::from(value()?)),
            "--app" => {
                app = match value()?.as_str() {
                    "micropython" => Some(App::MicroPython),
                    other => return Err(format!("unknown app {other:?} (micropython)")),
                }
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let chip = chip.ok_or("--chip is required")?;
    if wiring == ResetWiring::UsbOtg && chip.native_usb().and_then(|u| u.rom_otg_pid).is_none() {
        return Err(format!(
            "{chip} has no USB-OTG (--wiring usb-otg is for S2, S3, P4)"
        ));
    }
    Ok(Options {
        chip,
        listen: listen.ok_or("--listen is required")?,
        raw,
        ws,
        flash_size,
        mac,
        wiring,
        flash_file,
        realtime,
        app,
        bus,
        start,
        firmware_watchdogs,
    })
}

fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not an address like 127.0.0.1:4000"))
}

/// Flash sizes as esptool writes them: `4MB`, `512KB`, also `4M` or plain bytes.
pub fn parse_size(s: &str) -> Result<u32, String> {
    let upper = s.trim().to_ascii_uppercase();
    let digits_end = upper
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(upper.len());
    let (number, unit) = upper.split_at(digits_end);
    let n: u32 = number
        .parse()
        .map_err(|_| format!("bad flash size {s:?}"))?;
    let scale = match unit {
        "" | "B" => 1,
        "K" | "KB" => 1 << 10,
        "M" | "MB" => 1 << 20,
        _ => return Err(format!("bad flash size unit in {s:?} (use KB or MB)")),
    };
    n.checked_mul(scale)
        .filter(|size| *size > 0)
        .ok_or_else(|| format!("bad flash size {s:?}"))
}

/// `aa:bb:cc:dd:ee:ff` (also with `-`).
pub fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    let mut mac = [0u8; 6];
    if parts.len() != 6 {
        return Err(format!("bad MAC {s:?} (want aa:bb:cc:dd:ee:ff)"));
    }
    for (byte, part) in mac.iter_mut().zip(parts) {
        *byte = u8::from_str_radix(part, 16)
            .ok()
            .filter(|_| part.len() == 2)
            .ok_or_else(|| format!("bad MAC {s:?} (want aa:bb:cc:dd:ee:ff)"))?;
    }
    Ok(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_a_full_command_line() {
        let o = parse(args(
            "--chip esp32c3 --listen 127.0.0.1:0 --ws=127.0.0.1:9000 --flash-size 2MB \
             --mac 24:0a:c4:00:01:02 --wiring usb-jtag --flash-file /tmp/f.bin --app micropython",
        ))
        .unwrap();
        assert_eq!(o.chip, Chip::from_name("esp32c3").unwrap());
        assert_eq!(o.listen, "127.0.0.1:0".parse().unwrap());
        assert_eq!(o.ws, Some("127.0.0.1:9000".parse().unwrap()));
        assert_eq!(o.flash_size, Some(2 << 20));
        assert_eq!(o.mac, Some([0x24, 0x0a, 0xc4, 0, 1, 2]));
        assert_eq!(o.wiring, ResetWiring::UsbJtagSerial);
        assert!(!o.raw);
        assert_eq!(o.flash_file, Some(PathBuf::from("/tmp/f.bin")));
        assert_eq!(o.app, Some(App::MicroPython));
    }

    #[test]
    fn rejects_what_it_cannot_use() {
        assert!(parse(args("--listen 127.0.0.1:1")).is_err()); // no chip
        assert!(parse(args("--chip esp99 --listen 127.0.0.1:1")).is_err());
        assert!(parse(args("--chip esp32 --listen localhost")).is_err());
        assert!(parse(args("--chip esp32 --listen 127.0.0.1:1 --wiring usb")).is_err());
        assert!(parse(args("--chip esp32 --listen 127.0.0.1:1 --mac")).is_err());
        assert!(parse(args("--chip esp32 --listen 127.0.0.1:1 --bogus")).is_err());
        assert!(parse(args("--chip esp32 --listen 127.0.0.1:1 --app zephyr")).is_err());
    }

    #[test]
    fn sizes_and_macs() {
        assert_eq!(parse_size("4MB"), Ok(4 << 20));
        assert_eq!(parse_size("16m"), Ok(16 << 20));
        assert_eq!(parse_size("512KB"), Ok(512 << 10));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("4GB").is_err());
        assert!(parse_size("0MB").is_err());
        assert!(parse_size("MB").is_err());
        assert_eq!(
            parse_mac("AA-BB-CC-DD-EE-FF"),
            Ok([0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF])
        );
        assert!(parse_mac("aa:bb:cc:dd:ee").is_err());
        assert!(parse_mac("aa:bb:cc:dd:ee:fff").is_err());
        assert!(parse_mac("aa:bb:cc:dd:ee:gg").is_err());
    }
}
