//! Every fuzz target (src/fuzzing.rs) over its kept seeds (`fuzz/seeds/<target>/`) and every
//! input that once failed (`fuzz/regressions/<target>/`, each file named for what it caught):
//! no panic, at most 100 ms per input, and no single allocation out of proportion to the
//! input (a length field believed without a check). `make fuzz` runs this again in release
//! over the corpus the fuzzer grew (`FUZZ_CORPUS_DIR`).
//!
//! `WEBFLASH_WRITE_SEEDS=1 cargo test --test fuzz_corpus write_seeds` writes the seeds anew
//! from our own encoders and fixtures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use webflash::fuzzing::TARGETS;

/// Records the biggest single allocation since the last reset.
struct Counting;

static BIGGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        BIGGEST.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        BIGGEST.fetch_max(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SLOWEST: Duration = Duration::from_millis(100);

/// The biggest allocation an input of `len` bytes may cause: a small multiple of itself
/// (decoded text, a copy per stage) plus a fixed allowance (tables, a 64 KiB flash sector).
fn allowance(len: usize) -> usize {
    64 * len + (4 << 20)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// Runs every input under `base/<target>/`; returns how many ran.
fn replay(base: &Path) -> usize {
    let mut ran = 0;
    let mut problems = Vec::new();
    for (name, target) in TARGETS {
        for path in inputs(&base.join(name)) {
            let data = std::fs::read(&path).unwrap();
            BIGGEST.store(0, Ordering::Relaxed);
            let started = Instant::now();
            let outcome = std::panic::catch_unwind(|| target(&data));
            let took = started.elapsed();
            let biggest = BIGGEST.load(Ordering::Relaxed);
            let shown = path.strip_prefix(root()).unwrap_or(&path).display();
            match outcome {
                Err(_) => problems.push(format!("{shown}: panicked")),
                Ok(()) if took > SLOWEST => {
                    problems.push(format!("{shown}: took {took:?} (at most {SLOWEST:?})"))
                }
                Ok(()) if biggest > allowance(data.len()) => problems.push(format!(
                    "{shown}: allocated {biggest} bytes at once for {} bytes of input",
                    data.len()
                )),
                Ok(()) => {}
            }
            ran += 1;
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    ran
}

#[test]
fn every_target_has_seeds_and_all_replay_cleanly() {
    for (name, _) in TARGETS {
        assert!(
            !inputs(&root().join("fuzz/seeds").join(name)).is_empty(),
            "no seeds for fuzz target {name} (fuzz/seeds/{name}/)"
        );
    }
    let ran = replay(&root().join("fuzz/seeds"));
    assert!(ran >= TARGETS.len());
}

#[test]
fn inputs_that_once_failed_stay_fixed() {
    replay(&root().join("fuzz/regressions"));
}

#[test]
fn the_corpus_the_fuzzer_grew_replays_cleanly() {
    // Set by `make fuzz`; without it there is nothing to replay.
    if let Some(dir) = std::env::var_os("FUZZ_CORPUS_DIR") {
        let ran = replay(Path::new(&dir));
        println!("{ran} corpus inputs replayed");
    }
}

/// Writes the seed corpora from our own encoders and fixtures (run by hand, see the header).
#[test]
fn write_seeds() {
    if std::env::var_os("WEBFLASH_WRITE_SEEDS").is_none() {
        return;
    }
    for (name, files) in seeds() {
        let dir = root().join("fuzz/seeds").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, bytes) in files {
            std::fs::write(dir.join(file), bytes).unwrap();
        }
    }
}

fn seeds() -> Vec<(&'static str, Vec<(&'static str, Vec<u8>)>)> {
    use webflash::boards::{rp2, rp2_backup, uf2};
    use webflash::protocol::{partition, response, slip};
    let app = webflash::sim::firmware_like(2048, 5);
    let image =
        webflash::sim::micropython::micropython_image(webflash::protocol::chip::Chip::Esp32.spec());
    let boot = image
        .first()
        .map(|(_, b)| b[..b.len().min(4096)].to_vec())
        .unwrap_or_default();
    let table = partition::build(&partition::micropython_table(0x1F_0000, None), true);
    let backup = rp2_backup::Backup {
        chip: rp2::Rp2Chip::Rp2040,
        unique_id: "e66038b713622a2f".into(),
        date: "2026-12-06".into(),
        flash: vec![0xFF; 8192],
    };
    let dfu = webflash::boards::dfu::file::build(
        &[webflash::boards::dfu::file::Target {
            alt: 0,
            name: Some("ST...".into()),
            elements: vec![webflash::boards::dfu::file::Element {
                address: 0x0800_0000,
                data: app[..512].to_vec(),
            }],
        }],
        0x0483,
        0xdf11,
    );
    let manifest = br#"{"name":"MicroPython","version":"1.27.0","builds":[{"chipFamily":"ESP32","parts":[{"path":"esp32.bin","offset":4096,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]},{"chipFamily":"RP2040","parts":[{"path":"pico.uf2","offset":0}]}]}"#;
    let banner = b"MicroPython v1.27.0 on 2025-12-09; Generic ESP32 module with ESP32\r\nType \"help()\" for more information.\r\n>>> ";
    let mut stream = b"noise\xC0".to_vec();
    stream.extend(slip::encode(&response::encode_response(0x08, 0, &[0, 0])));
    stream.extend(slip::encode(b"OHAI"));
    stream.extend([0xC0, 0xDB, 0x01, 0xC0]);
    vec![
        ("slip", vec![("frames", stream)]),
        (
            "response",
            vec![
                ("sync", response::encode_response(0x08, 0, &[0, 0])),
                ("md5", response::encode_response(0x13, 0, &[0x5A; 18])),
                ("refusal", response::encode_response(0x11, 0, &[1, 0x07])),
            ],
        ),
        ("esp_image", vec![("bootloader", boot), ("table", table)]),
        ("manifest", vec![("workshop.json", manifest.to_vec())]),
        (
            "uf2",
            vec![
                ("pico.uf2", uf2::build(&app, 0x1000_0000, 0xe48b_ff56)),
                ("info_uf2.txt", b"UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n".to_vec()),
            ],
        ),
        ("dfu", vec![("pyboard.dfu", dfu)]),
        (
            "picoboot",
            vec![
                ("block", {
                    let mut b = vec![0u8; 32];
                    b[..4].copy_from_slice(&0x431f_d10bu32.to_le_bytes());
                    b[8] = 0x03;
                    b[9] = 8;
                    b
                }),
                ("status", vec![0; 16]),
            ],
        ),
        ("picobackup", vec![("pico.picobackup", backup.encode())]),
        (
            "repl_text",
            vec![
                ("banner", banner.to_vec()),
                ("literal", b"(b'\\x00\\xffab', 'it\\'s', -12, None, True, [1, 2])".to_vec()),
                ("facts", b"esp32 4194304 1048576 24:0a:c4:12:34:56".to_vec()),
            ],
        ),
        (
            "boot_log",
            vec![
                ("download", b"ets Jul 29 2019\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n".to_vec()),
                ("crash", b"Guru Meditation Error: Core  0 panic'ed (IllegalInstruction)\r\nRebooting...\r\n".to_vec()),
            ],
        ),
        (
            "rfc2217",
            vec![("negotiation", vec![
                0xFF, 0xFB, 0x2C, 0xFF, 0xFA, 0x2C, 0x01, 0x00, 0x01, 0xC2, 0x00, 0xFF, 0xF0, b'a', 0xFF,
                0xFF, 0xFF, 0xFA, 0x2C, 0x05, 0x08, 0xFF, 0xF0,
            ])],
        ),
        (
            "board_files",
            vec![(
                "files.tar",
                webflash::repl::backup::pack(&[
                    ("boot.py".into(), b"# boot\n".to_vec()),
                    ("lib/x.py".into(), b"x = 1\n".to_vec()),
                ]),
            )],
        ),
    ]
}
