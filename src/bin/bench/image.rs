//! A deterministic stand-in for a MicroPython firmware image, so the benchmark needs no
//! download and gives the same numbers every run.
//!
//! Laid out like the combined `firmware.bin` MicroPython publishes (written at the chip's
//! bootloader offset): a bootloader, 0xFF padding, a partition table, padding, then the app.
//! Code is modelled as a skewed choice among a few hundred 2–3 byte "instructions" with some
//! random operands, plus message strings and pointer tables; the mix is tuned so that zlib
//! level 9 leaves about 58 % of the bytes (what Espressif MicroPython images show).

use webflash::protocol::image::APP_DESC_MAGIC;
use webflash::protocol::partition;

/// xorshift32: tiny, fast, and the same on every platform.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

const WORDS: [&str; 20] = [
    "error",
    "object",
    "module",
    "function",
    "argument",
    "import",
    "micropython",
    "esp32",
    "network",
    "machine",
    "Pin",
    "int",
    "str",
    "not",
    "supported",
    "invalid",
    "value",
    "type",
    "__init__",
    "self",
];

/// Distinct instruction patterns; fewer means more compressible code.
const OPCODES: usize = 136;
/// Out of 1024 instructions, how many carry a random operand instead.
const RANDOM_PER_1024: u32 = 80;

/// Code, strings and tables of `len` bytes (no layout).
fn app_bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut rng = Rng(seed.max(1));
    let opcodes: Vec<Vec<u8>> = (0..OPCODES)
        .map(|_| {
            let x = rng.next();
            x.to_le_bytes()[..2 + (x >> 31) as usize].to_vec()
        })
        .collect();
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        let kind = rng.next() & 0xFF;
        if kind < 200 {
            for _ in 0..32 {
                let x = rng.next();
                if x & 1023 < RANDOM_PER_1024 {
                    out.extend_from_slice(&x.to_le_bytes()[..3]);
                } else {
                    // Cubed uniform: a few instructions are very common, as in real code.
                    let u = ((x >> 10) & 0xFFFF) as f64 / 65536.0;
                    out.extend_from_slice(&opcodes[(u * u * u * OPCODES as f64) as usize]);
                }
            }
        } else if kind < 230 {
            for _ in 0..8 {
                let x = rng.next();
                out.extend_from_slice(WORDS[(x >> 8) as usize % WORDS.len()].as_bytes());
                out.push(if x & 1 == 1 { b' ' } else { 0 });
            }
        } else {
            for _ in 0..16 {
                let x = rng.next();
                out.extend_from_slice(&(0x400D_0000 + ((x >> 8) & 0x3_FFFC)).to_le_bytes());
            }
        }
    }
    out.truncate(len);
    out
}

/// A MicroPython-like image of `len` bytes; different `seed`s give different firmware.
pub fn micropython_like(len: usize, seed: u32) -> Vec<u8> {
    firmware_like(len, seed, "micropython", "v1.24.1", None)
}

/// The same layout for another ESP-IDF project (what a board runs before MicroPython).
pub fn other_firmware(len: usize, seed: u32) -> Vec<u8> {
    firmware_like(len, seed, "blink", "v1.0.0", None)
}

/// The next MicroPython release after `micropython_like(len, seed)`, as releases differ: the same
/// bootloader and partition table, a new version in the app descriptor, and code that changed
/// 40 % into the app (4 KB inserted there), so everything after it moved.
pub fn newer_build(len: usize, seed: u32) -> Vec<u8> {
    firmware_like(
        len,
        seed,
        "micropython",
        "v1.25.0",
        Some(2 * (len - 0xF000) / 5),
    )
}

/// The layout of MicroPython's `firmware.bin`; `insert_at`: bytes of new code inserted there
/// (counted from the start of the app).
fn firmware_like(
    len: usize,
    seed: u32,
    project: &str,
    version: &str,
    insert_at: Option<usize>,
) -> Vec<u8> {
    let mut image = vec![0xFFu8; len];
    let mut put = |at: usize, bytes: &[u8]| {
        let end = (at + bytes.len()).min(len);
        if at < end {
            image[at..end].copy_from_slice(&bytes[..end - at]);
        }
    };
    // Bootloader (about 24 KB) with the image magic the ROM looks for.
    let mut boot = app_bytes(24 * 1024, seed ^ 0xB007);
    boot[0] = 0xE9;
    put(0, &boot);
    // Partition table at 0x8000 (0x7000 into an image written at 0x1000): MicroPython's
    // (nvs, phy_init, factory app; the filesystem takes the rest of the flash).
    let rows = partition::micropython_table(0x1F_0000, None);
    put(0x7000, &partition::build(&rows, true)[..0x100]);
    // The application from 0xF000 (0x10000 in flash) to the end, starting with its ESP-IDF
    // app descriptor (what tells the page a board runs MicroPython, and which version).
    if len > 0xF000 {
        let app_len = len - 0xF000;
        let mut app = app_bytes(app_len, seed);
        if let Some(at) = insert_at {
            let inserted = app_bytes(4096, seed ^ 0x5EED);
            app.splice(at..at, inserted);
            app.truncate(app_len);
        }
        app[0] = 0xE9;
        let mut desc = [0u8; 0x90];
        desc[..4].copy_from_slice(&APP_DESC_MAGIC.to_le_bytes());
        desc[16..16 + version.len()].copy_from_slice(version.as_bytes());
        desc[48..48 + project.len()].copy_from_slice(project.as_bytes());
        app[0x20..0x20 + desc.len()].copy_from_slice(&desc);
        put(0xF000, &app);
    }
    image
}

/// Size after zlib level 9 (what the loader sends).
pub fn deflated_len(data: &[u8]) -> usize {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 9).len()
}
