//! A deterministic stand-in for a MicroPython firmware image, so the benchmark needs no
//! download and gives the same numbers every run.
//!
//! Laid out like the combined `firmware.bin` MicroPython publishes (written at the chip's
//! bootloader offset): a bootloader, 0xFF padding, a partition table, padding, then the app.
//! Code is modelled as a skewed choice among a few hundred 2–3 byte "instructions" with some
//! random operands, plus message strings and pointer tables; the mix is tuned so that zlib
//! level 9 leaves about 58 % of the bytes (what Espressif MicroPython images show).

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
    // Partition table at 0x8000 (0x7000 into an image written at 0x1000): three entries.
    let mut table = Vec::new();
    for (i, (offset, size)) in [
        (0x9000u32, 0x6000u32),
        (0xF000, 0x1000),
        (0x10000, 0x1F_0000),
    ]
    .iter()
    .enumerate()
    {
        table.extend_from_slice(&[0xAA, 0x50, (i == 2) as u8, i as u8]);
        table.extend_from_slice(&offset.to_le_bytes());
        table.extend_from_slice(&size.to_le_bytes());
        table.extend_from_slice(format!("part{i:<12}").as_bytes());
        table.extend_from_slice(&[0; 4]);
    }
    put(0x7000, &table);
    // The application from 0xF000 (0x10000 in flash) to the end.
    if len > 0xF000 {
        let mut app = app_bytes(len - 0xF000, seed);
        app[0] = 0xE9;
        put(0xF000, &app);
    }
    image
}

/// Size after zlib level 9 (what the loader sends).
pub fn deflated_len(data: &[u8]) -> usize {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 9).len()
}
