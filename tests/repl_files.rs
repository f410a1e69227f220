//! Files on a board running MicroPython (a simulated ESP32 at 115200 baud) through the REPL
//! client: transfers are byte-exact and checked on the board, they carry base64 (not `repr`)
//! over the wire, a damaged upload replaces nothing, and a listing is one program.
//! The same client runs against the official MicroPython in the browser tests (repl.test.mjs).

mod common;

use std::time::Duration;

use common::firmware_like;
use webflash::port::Port;
use webflash::protocol::chip::Chip;
use webflash::repl::files::Checked;
use webflash::repl::{Repl, ReplError};
use webflash::sim::{block_on, Device, SimPort};

fn micropython() -> Repl<SimPort> {
    let mut port = SimPort::new(Device::running_micropython(Chip::Esp32));
    port.log_tx = true;
    let mut repl = Repl::new(port);
    block_on(repl.watch_boot(Duration::from_secs(10)))
        .unwrap()
        .expect("MicroPython boots");
    repl
}

/// The names in `dir` on the board.
async fn names(repl: &mut Repl<SimPort>, dir: &str) -> Vec<String> {
    let entries = repl.list(dir).await.unwrap();
    entries.into_iter().map(|e| e.name).collect()
}

/// Bytes the host sent since `mark`.
fn sent_since(repl: &mut Repl<SimPort>, mark: usize) -> usize {
    repl.port_mut().tx_log.len() - mark
}

#[test]
fn a_100_kb_file_goes_up_and_comes_back_byte_exact_checked_by_sha256() {
    block_on(async {
        let mut repl = micropython();
        let data = firmware_like(100 * 1024, 7);
        let mark = repl.port_mut().tx_log.len();
        let mut seen = 0;
        let checked = repl
            .write_file("/data.bin", &data, |n| seen = n)
            .await
            .unwrap();
        assert_eq!(checked, Checked::Sha256);
        assert_eq!(seen, data.len());
        // base64 carries 4 characters per 3 bytes; repr text would be 2.5-4 times the file.
        let up = sent_since(&mut repl, mark);
        assert!(
            up < data.len() * 14 / 10,
            "{up} bytes on the wire for {}",
            data.len()
        );
        let back = repl.read_file("/data.bin", |_| {}).await.unwrap();
        assert!(back == data, "downloaded bytes differ");
        let list = repl.list("/").await.unwrap();
        let entry = list.iter().find(|e| e.name == "data.bin").unwrap();
        assert_eq!(entry.size, data.len() as u64);
        assert!(!list.iter().any(|e| e.name.ends_with(".tmp")));
    });
}

#[test]
fn a_damaged_upload_replaces_nothing_and_says_so() {
    block_on(async {
        let mut repl = micropython();
        let old = b"print('old')\n".to_vec();
        repl.write_file("/main.py", &old, |_| {}).await.unwrap();
        let new = firmware_like(20 * 1024, 3);
        // A link that flips a bit every 3000 bytes: every try of every step is damaged.
        let at = repl.port_mut().device().rx_bytes() + 6000;
        let every: Vec<u64> = (0..200).map(|i| at + i * 3000).collect();
        repl.port_mut().device_mut().faults.corrupt_rx = every;
        let err = repl.write_file("/main.py", &new, |_| {}).await.unwrap_err();
        repl.port_mut().device_mut().faults.corrupt_rx.clear();
        assert!(
            matches!(err, ReplError::Damaged { upload: true, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("untouched"), "{err}");
        assert_eq!(repl.read_file("/main.py", |_| {}).await.unwrap(), old);
        let names = names(&mut repl, "/").await;
        assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
    });
}

#[test]
fn a_directory_of_100_files_is_listed_by_one_program() {
    block_on(async {
        let mut repl = micropython();
        repl.exec(
            "import os\nos.mkdir('/many')\nfor i in range(100):\n f=open('/many/f%d.txt'%i,'w')\n f.write('x'*i)\n f.close()",
            Duration::from_secs(30),
        )
        .await
        .unwrap()
        .ok()
        .unwrap();
        let mark = repl.port_mut().tx_log.len();
        let list = repl.list("/many").await.unwrap();
        assert_eq!(list.len(), 100);
        assert!(list.iter().all(|e| {
            let i: u64 = e.name[1..e.name.len() - 4].parse().unwrap();
            e.size == i
        }));
        // One raw-paste program: a single end-of-code marker went out.
        let sent = &repl.port_mut().tx_log[mark..];
        assert_eq!(sent.iter().filter(|&&b| b == 0x04).count(), 1, "{sent:?}");
    });
}

#[test]
fn a_stalled_download_stops_with_a_message_instead_of_hanging() {
    block_on(async {
        let mut repl = micropython();
        let data = firmware_like(30 * 1024, 5);
        repl.write_file("/big.bin", &data, |_| {}).await.unwrap();
        let at = repl.port_mut().device().rx_bytes() + 150;
        repl.port_mut().device_mut().faults.hang_at_rx = Some(at);
        let started = repl.port_mut().now();
        let err = repl.read_file("/big.bin", |_| {}).await.unwrap_err();
        assert!(matches!(err, ReplError::Timeout { .. }), "{err:?}");
        assert!(repl.port_mut().now() - started < Duration::from_secs(30));
    });
}

#[test]
fn names_with_quotes_spaces_and_non_ascii_work_and_names_that_escape_their_folder_are_refused() {
    block_on(async {
        let mut repl = micropython();
        let boot = repl.read_file("/boot.py", |_| {}).await.unwrap();
        // Fine: they travel as escaped Python literals.
        for name in [
            "/it's \"quoted\".py",
            "/ñandú señal.txt",
            "/back\\slash.txt",
        ] {
            let data = firmware_like(3000, name.len() as u32);
            repl.write_file(name, &data, |_| {}).await.unwrap();
            assert_eq!(repl.read_file(name, |_| {}).await.unwrap(), data, "{name}");
        }
        let listed = names(&mut repl, "/").await;
        for name in ["it's \"quoted\".py", "ñandú señal.txt", "back\\slash.txt"] {
            assert!(listed.iter().any(|n| n == name), "{name} in {listed:?}");
        }
        // Refused before anything is sent: the board's files stay as they were.
        let before = repl.port_mut().tx_log.len();
        for name in ["/../boot.py", "/lib/../../x.py", "/a\nb.py", "/lib/", ""] {
            let err = repl.write_file(name, b"x", |_| {}).await.unwrap_err();
            assert!(
                matches!(err, ReplError::BadName { .. }),
                "{name:?}: {err:?}"
            );
            let text = err.to_string();
            assert!(
                text.contains("cannot be a file name on the board"),
                "{text}"
            );
            assert!(text.contains("nothing was written"), "{text}");
        }
        assert_eq!(
            repl.port_mut().tx_log.len(),
            before,
            "nothing was sent for refused names"
        );
        assert_eq!(repl.read_file("/boot.py", |_| {}).await.unwrap(), boot);
        let after = names(&mut repl, "/").await;
        assert_eq!(after, listed);
    });
}

#[test]
fn one_damaged_step_is_sent_again_and_the_upload_ends_byte_exact() {
    block_on(async {
        let mut repl = micropython();
        let new = firmware_like(20 * 1024, 4);
        // One bit flips on the way, inside the base64 text of the second step.
        let at = repl.port_mut().device().rx_bytes() + 6000;
        repl.port_mut().device_mut().faults.corrupt_rx.push(at);
        let checked = repl.write_file("/main.py", &new, |_| {}).await.unwrap();
        assert_eq!(checked, Checked::Sha256);
        assert!(
            repl.port_mut().device().rx_bytes() > at,
            "the damaged byte was sent"
        );
        assert_eq!(repl.read_file("/main.py", |_| {}).await.unwrap(), new);
    });
}

#[test]
fn a_full_filesystem_says_so_and_keeps_the_old_file() {
    block_on(async {
        let mut repl = micropython();
        let old = b"print('old')\n".to_vec();
        repl.write_file("/main.py", &old, |_| {}).await.unwrap();
        // Fill the board's filesystem from the board itself, to the last block.
        let out = repl
            .exec(
                "f=open('/fill.bin','wb')\ntry:\n while 1:f.write(bytes(4096))\nexcept OSError as e:\n print('errno', e.args[0])\nf.close()",
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        assert!(
            out.stdout_text().contains("errno 28"),
            "{}",
            out.stdout_text()
        );
        let new = firmware_like(20 * 1024, 5);
        let err = repl.write_file("/main.py", &new, |_| {}).await.unwrap_err();
        assert!(matches!(err, ReplError::Full { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("filesystem is full"), "{text}");
        assert!(text.contains("the old /main.py is untouched"), "{text}");
        assert_eq!(repl.read_file("/main.py", |_| {}).await.unwrap(), old);
        let names = names(&mut repl, "/").await;
        assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
    });
}
