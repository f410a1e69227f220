//! The MicroPython board end to end at the byte level, as the official port inside the shell
//! gives it: REPL modes and framing, raw-paste, boot and soft reset, the clock, the filesystem
//! in flash.

use std::time::Duration;

use super::*;
use crate::protocol::chip::Chip;
use crate::sim::flash::NorFlash;

const MS: Duration = Duration::from_millis(1);

struct Bench {
    mp: MicroPython,
    flash: NorFlash,
    t: Duration,
}

impl Bench {
    fn new(chip: Chip, flash: NorFlash) -> Bench {
        let mut flash = flash;
        let board = Board::new(
            chip,
            "v1.24.1",
            "2024-11-29",
            [1, 2, 3, 4, 5, 6],
            flash.size(),
            None,
        );
        let mp = MicroPython::boot(Duration::ZERO, board, &mut flash);
        let mut b = Bench {
            mp,
            flash,
            t: Duration::ZERO,
        };
        b.wait(10 * MS);
        b
    }

    fn blank() -> Bench {
        Bench::new(Chip::Esp32, NorFlash::new(4 << 20))
    }

    /// Lets `d` pass and returns what was printed meanwhile.
    fn wait(&mut self, d: Duration) -> String {
        self.t += d;
        self.mp.advance(self.t, &mut self.flash);
        self.output()
    }

    fn output_bytes(&mut self) -> Vec<u8> {
        let mut s = Vec::new();
        for (at, bytes) in self.mp.take_output() {
            assert!(
                at <= self.t + MS,
                "printed in the future: {at:?} > {:?}",
                self.t
            );
            s.extend(bytes);
        }
        s
    }

    fn output(&mut self) -> String {
        String::from_utf8_lossy(&self.output_bytes()).into_owned()
    }

    fn send_bytes(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.t += MS;
        self.mp.receive(self.t, bytes, &mut self.flash);
        self.t += 50 * MS;
        self.mp.advance(self.t, &mut self.flash);
        self.output_bytes()
    }

    fn send(&mut self, bytes: &[u8]) -> String {
        String::from_utf8_lossy(&self.send_bytes(bytes)).into_owned()
    }

    fn raw(&mut self) {
        let out = self.send(b"\r\x01");
        assert!(out.ends_with("raw REPL; CTRL-B to exit\r\n>"), "{out:?}");
    }

    /// Runs `code` in raw mode: (stdout, stderr).
    fn exec(&mut self, code: &str) -> (String, String) {
        let mut src = code.as_bytes().to_vec();
        src.push(4);
        let out = self.send(&src);
        let rest = out
            .strip_prefix("OK")
            .unwrap_or_else(|| panic!("no OK: {out:?}"));
        let parts: Vec<&str> = rest.split('\x04').collect();
        assert_eq!(parts.len(), 3, "{out:?}");
        assert_eq!(parts[2], ">");
        (parts[0].to_string(), parts[1].to_string())
    }

    fn eval(&mut self, expr: &str) -> String {
        let (out, err) = self.exec(&format!("print(repr({expr}))"));
        assert_eq!(err, "", "{expr}");
        out.trim_end().to_string()
    }
}

const BANNER: &str = "MicroPython v1.24.1 on 2024-11-29; Generic ESP32 module with ESP32\r\nType \"help()\" for more information.\r\n>>> ";

fn boot_text(flash: &mut NorFlash) -> String {
    let board = Board::new(
        Chip::Esp32,
        "v1.24.1",
        "2024-11-29",
        [0; 6],
        flash.size(),
        None,
    );
    let mut mp = MicroPython::boot(Duration::ZERO, board, flash);
    mp.advance(MS, flash);
    let text: Vec<u8> = mp.take_output().into_iter().flat_map(|(_, b)| b).collect();
    String::from_utf8_lossy(&text).into_owned()
}

#[test]
fn first_boot_formats_and_greets() {
    let mut flash = NorFlash::new(4 << 20);
    assert_eq!(
        boot_text(&mut flash),
        format!("Performing initial setup\r\n{BANNER}")
    );
    assert_eq!(&flash.contents()[0x200000..0x200008], table::MAGIC);
    // Formatted once: the next boot goes straight to the banner, and boot.py is there.
    assert_eq!(boot_text(&mut flash), BANNER);
    let mut b = Bench::new(Chip::Esp32, flash);
    assert_eq!(
        b.send(b"import os; os.listdir()\r"),
        "import os; os.listdir()\r\n['boot.py']\r\n>>> "
    );
}

#[test]
fn friendly_repl_echoes_evaluates_and_reports() {
    let mut b = Bench::blank();
    assert_eq!(b.send(b"1+2\r"), "1+2\r\n3\r\n>>> ");
    assert_eq!(
        b.send(b"print('hello')\r"),
        "print('hello')\r\nhello\r\n>>> "
    );
    assert_eq!(b.send(b"x\r"), "x\r\nTraceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nNameError: name 'x' isn't defined\r\n>>> ");
    // Backspace as readline.c does it on a VT100 console: back one, erase to the end.
    assert_eq!(b.send(b"ab\x08c\r"), "ab\x08\x1b[Kc\r\nTraceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nNameError: name 'ac' isn't defined\r\n>>> ");
    // A block: continuation prompt with auto-indent, ended by an empty line.
    assert_eq!(
        b.send(b"for i in range(2):\r"),
        "for i in range(2):\r\n...     "
    );
    assert_eq!(b.send(b"print(i)\r"), "print(i)\r\n...     ");
    // readline.c keeps the indent once more, then drops it; an empty line ends the block.
    assert_eq!(b.send(b"\r"), "\r\n...     ");
    assert_eq!(b.send(b"\r"), "\r\n... ");
    assert_eq!(b.send(b"\r"), "\r\n0\r\n1\r\n>>> ");
    assert_eq!(b.send(b"abc\x03"), "abc\r\n>>> ");
    // Backspace on an empty line does nothing (and is never taken as a character).
    assert_eq!(b.send(b"\x7f\x08"), "");
    assert_eq!(b.send(b"\r"), "\r\n>>> ");
    assert_eq!(
        b.send(b"\x05"),
        "\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== "
    );
    assert_eq!(
        b.send(b"a=1\rprint(a+1)\x04"),
        "a=1\r\n=== print(a+1)\r\n2\r\n>>> "
    );
    assert_eq!(b.send(b"\x02"), format!("\r\n{BANNER}"));
    let out = b.send(b"import sys; sys.implementation\r");
    assert!(out.contains("(name='micropython', version=(1, 24, 1, ''), _machine='Generic ESP32 module with ESP32', _mpy="), "{out}");
}

#[test]
fn raw_repl_frames_stdout_and_stderr() {
    let mut b = Bench::blank();
    assert_eq!(b.send(b"\x01"), "\r\nraw REPL; CTRL-B to exit\r\n>");
    assert_eq!(b.send(b"print('hi')\x04"), "OKhi\r\n\x04\x04>");
    assert_eq!(
        b.send(b"import os\nos.stat('nope')\x04"),
        "OK\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 2, in <module>\r\nOSError: [Errno 2] ENOENT\r\n\x04>"
    );
    assert_eq!(b.send(b"1 +\x04"), "OK\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1\r\nSyntaxError: invalid syntax\r\n\x04>");
    // Ctrl-C drops a half-received command; Ctrl-A resets the raw REPL.
    assert_eq!(b.send(b"garbage\x03print(1)\x04"), "OK1\r\n\x04\x04>");
    assert_eq!(b.send(b"xyz\x01"), "raw REPL; CTRL-B to exit\r\n>");
    assert_eq!(b.send(b"\x02"), format!("\r\n{BANNER}"));
}

#[test]
fn raw_paste_mode_negotiates_and_grants_windows() {
    let mut b = Bench::blank();
    b.raw();
    assert_eq!(b.send_bytes(b"\x05A\x01"), b"R\x01\x80\x00\x01");
    // 300 bytes of source: credits after every 128 received.
    let src = format!("x = '{}'\nprint(len(x))", "a".repeat(300 - 20));
    assert_eq!(src.len(), 300);
    assert_eq!(b.send_bytes(src.as_bytes()), b"\x01\x01");
    assert_eq!(b.send(b"\x04"), "\x04280\r\n\x04\x04>");
    // An error in raw-paste is framed the same way, without "OK".
    b.send(b"\x05A\x01");
    let out = b.send(b"1/0\x04");
    assert!(
        out.starts_with("\x04\x04Traceback")
            && out.ends_with("ZeroDivisionError: divide by zero\r\n\x04>"),
        "{out:?}"
    );
}

#[test]
fn soft_reset_reruns_boot_files_but_main_only_in_friendly_mode() {
    let mut b = Bench::blank();
    b.raw();
    b.exec("f=open('boot.py','w')\nf.write('print(\"boot ran\")\\n')\nf.close()");
    b.exec("with open('main.py','w') as f:\n f.write('print(\"main ran\")\\n')");
    assert_eq!(
        b.send(b"\x04"),
        "OK\r\nMPY: soft reboot\r\nboot ran\r\nraw REPL; CTRL-B to exit\r\n>"
    );
    assert_eq!(b.send(b"\x02"), format!("\r\n{BANNER}"));
    assert_eq!(
        b.send(b"\x04"),
        format!("\r\nMPY: soft reboot\r\nboot ran\r\nmain ran\r\n{BANNER}")
    );
    // Globals do not survive a soft reset.
    b.send(b"v = 5\r");
    b.send(b"\x04");
    assert!(b.send(b"v\r").contains("NameError"));
}

#[test]
fn a_main_py_that_never_returns_yields_to_ctrl_c() {
    let mut b = Bench::blank();
    b.raw();
    b.exec("f=open('main.py','w')\nf.write('import time\\nn = 0\\nwhile True:\\n    n += 1\\n    print(\"tick\", n)\\n    time.sleep(0.1)\\n')\nf.close()");
    b.send(b"\x02");
    let out = b.send(b"\x04");
    assert!(
        out.starts_with("\r\nMPY: soft reboot\r\ntick 1\r\n"),
        "{out:?}"
    );
    // It keeps running (in simulated time) and the REPL stays unreachable.
    let out = b.wait(Duration::from_millis(1000));
    assert_eq!(out.matches("tick").count(), 10, "{out:?}");
    let out = b.send(b"\r\x01");
    assert!(!out.contains(">>>") && !out.contains("raw REPL"), "{out:?}");
    // Ctrl-C stops it mid-sleep; then the buffered "\r\x01" reaches the REPL.
    let out = b.send(b"\r\x03");
    assert!(out.starts_with("Traceback (most recent call last):\r\n  File \"main.py\", line 6, in <module>\r\nKeyboardInterrupt: \r\n"), "{out:?}");
    assert!(
        out.ends_with(&format!(
            "{BANNER}\r\n>>> \r\nraw REPL; CTRL-B to exit\r\n>"
        )),
        "{out:?}"
    );
    // (A loop that never prints, sleeps or reads the clock cannot be interrupted inside the
    // port: the one known limit, stated in the module docs.)
}

#[test]
fn files_live_in_flash_and_corruption_is_reported() {
    let mut b = Bench::blank();
    b.raw();
    b.exec("f=open('keep.txt','w')\nf.write('kept')\nf.close()");
    // A reboot from the same flash (a hard reset, or esp-sim restarted on its flash file).
    let mut again = Bench::new(Chip::Esp32, b.flash.clone());
    again.raw();
    assert_eq!(again.eval("open('keep.txt').read()"), "'kept'");
    // Leftovers of other firmware in the region: inisetup.py's notice, every 3 s until Ctrl-C,
    // then the REPL without a filesystem; the region is never written.
    let mut flash = NorFlash::new(4 << 20);
    flash.program(0x200000, b"\x00\x01FAT leftovers");
    let text = boot_text(&mut flash);
    assert!(
        text.starts_with("The filesystem appears to be corrupted.") && !text.contains(">>>"),
        "{text}"
    );
    let mut b = Bench::new(Chip::Esp32, flash);
    let again = b.wait(Duration::from_secs(3));
    assert!(
        again.starts_with("The filesystem appears") && !again.contains(">>>"),
        "{again}"
    );
    let out = b.send(b"\x03");
    assert!(
        out.contains("KeyboardInterrupt") && out.ends_with(BANNER),
        "{out}"
    );
    assert!(b.send(b"open('x', 'w')\r").contains("OSError"));
    assert_eq!(
        &b.flash.contents()[0x200000..0x200004],
        b"\x00\x01FA",
        "never overwritten"
    );
}

mod on_the_device {
    use std::time::Duration;

    use crate::port::Port;
    use crate::protocol::chip::Chip;
    use crate::sim::{block_on, Device, DeviceConfig, SimPort, StartMode};

    /// Reads until `needle` shows up (or 5 s of simulated time pass); returns all text read.
    fn read_until(port: &mut SimPort, needle: &str) -> String {
        let deadline = port.now() + Duration::from_secs(5);
        let mut got = Vec::new();
        while !String::from_utf8_lossy(&got).contains(needle) && port.now() < deadline {
            block_on(port.read(&mut got, deadline)).unwrap();
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    fn device(chip: Chip) -> Device {
        let mut config = DeviceConfig::new(chip);
        config.start = StartMode::Reset;
        Device::new(config)
    }

    #[test]
    fn boots_micropython_from_flash_and_reboots_on_machine_reset() {
        let mut port = SimPort::new(Device::running_micropython(Chip::Esp32));
        let boot = read_until(&mut port, ">>> ");
        assert!(boot.starts_with("ets Jul 29 2019"), "{boot:?}");
        assert!(
            boot.contains("entry 0x") && !boot.contains("I (29) boot"),
            "MicroPython's bootloader is quiet: {boot:?}"
        );
        assert!(boot.ends_with("Performing initial setup\r\nMicroPython v1.24.1 on 2024-11-29; Generic ESP32 module with ESP32\r\nType \"help()\" for more information.\r\n>>> "), "{boot:?}");
        block_on(port.write(b"print('hello')\r")).unwrap();
        assert_eq!(
            read_until(&mut port, "\r\n>>> "),
            "print('hello')\r\nhello\r\n>>> "
        );
        block_on(port.write(b"import machine; machine.reset()\r")).unwrap();
        let again = read_until(&mut port, ">>> ");
        assert!(
            again.contains("rst:0x1")
                && again.ends_with("with ESP32\r\nType \"help()\" for more information.\r\n>>> "),
            "{again:?}"
        );
        assert!(!again.contains("initial setup"), "formatted once");
        assert_eq!(port.device().state(), "app");
    }

    #[test]
    fn a_program_printing_more_than_the_line_carries_waits_for_it() {
        let mut port = SimPort::new(Device::running_micropython(Chip::Esp32));
        read_until(&mut port, ">>> ");
        block_on(port.write(b"\x01")).unwrap();
        read_until(&mut port, "\r\n>");
        block_on(port.write(b"for i in range(100):\n print('x'*98)\n\x04")).unwrap();
        let start = port.now();
        let mut got = Vec::new();
        let mut first = None;
        let deadline = start + Duration::from_secs(10);
        while !got.ends_with(b"\x04\x04>") && port.now() < deadline {
            block_on(port.read(&mut got, deadline)).unwrap();
            if first.is_none() && got.contains(&b'x') {
                first = Some(port.now() - start);
            }
        }
        let all = port.now() - start;
        assert_eq!(got.iter().filter(|&&b| b == b'x').count(), 9800);
        // Streamed as the line carries it (10 KB at 115200 baud take 0.87 s), not all at the end.
        assert!(first.unwrap() < Duration::from_millis(60), "{first:?}");
        assert!(all > Duration::from_millis(870), "{all:?}");
    }

    #[test]
    fn a_board_found_running_answers_at_its_prompt() {
        // ESP8266: recognised by the banner string, boot log at 74880 then the app at 115200.
        let mut dev = device(Chip::Esp8266);
        dev.install_micropython();
        let flash = dev.flash().to_vec();
        let mut dev = device(Chip::Esp8266);
        dev.load_flash(&flash);
        let mut port = SimPort::new(dev);
        block_on(port.write(b"\r")).unwrap();
        assert_eq!(read_until(&mut port, ">>> "), "\r\n>>> ");
        block_on(port.write(b"import os; os.uname().machine\r")).unwrap();
        assert!(read_until(&mut port, "\r\n>>> ").contains("'ESP module with ESP8266'"));
    }

    #[test]
    fn other_firmware_logs_and_ignores_the_port() {
        let mut dev = device(Chip::Esp32);
        dev.install_micropython();
        let mut flash = dev.flash().to_vec();
        let name = 0x10000 + 0x20 + 48;
        flash[name..name + 11].copy_from_slice(b"blink_demo\0");
        crate::sim::micropython::firmware::reseal(&mut flash[0x10000..]);
        let mut dev = device(Chip::Esp32);
        dev.load_flash(&flash);
        dev.power_on(Duration::ZERO);
        let mut port = SimPort::new(dev);
        let log = read_until(&mut port, "app_main()\r\n");
        assert!(
            log.contains("I (29) boot: ESP-IDF v5.2.2 2nd stage bootloader"),
            "{log:?}"
        );
        block_on(port.write(b"\r\x03\r\x01")).unwrap();
        assert_eq!(read_until(&mut port, ">"), "");
    }
}
