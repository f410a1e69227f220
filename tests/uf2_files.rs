//! Our UF2 reader and writer against a UF2 tool we did not write: PyPI `adafruit-uf2` 1.0.0's
//! `uf2conv` (Microsoft's reference converter), run in the test venv. Files it builds are read
//! block for block; our writer's output is byte-identical to its; and the simulated boot ROM
//! takes its files as the real one would.

use std::path::PathBuf;
use std::process::Command;

use webflash::boards::rp2::{check, Rp2Chip, FLASH_BASE};
use webflash::boards::uf2::{build, family, parse};
use webflash::sim::rp2::{bootable_image, AfterReboot, Bootsel, Written};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `uf2conv image -c -b base -f family -o out`, returning the file it wrote.
fn uf2conv(image: &[u8], base: u32, family: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("webflash-uf2-{}-{family}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (bin, out) = (dir.join("image.bin"), dir.join("image.uf2"));
    std::fs::write(&bin, image).unwrap();
    let python = root().join(".venv/bin/python");
    let run = Command::new(&python)
        .args(["-m", "adafruit_uf2.uf2conv", "-c", "-b"])
        .arg(format!("0x{base:x}"))
        .args(["-f", family, "-o"])
        .arg(&out)
        .arg(&bin)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}. Run `scripts/setup.sh test` (make test does) for the test venv.",
                python.display()
            )
        });
    assert!(
        run.status.success(),
        "uf2conv: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let file = std::fs::read(&out).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    file
}

#[test]
fn uf2conv_files_read_block_for_block_and_ours_match_them() {
    for (name, id, chip) in [
        ("RP2040", family::RP2040, Rp2Chip::Rp2040),
        ("RP2350_ARM_S", family::RP2350_ARM_S, Rp2Chip::Rp2350),
    ] {
        let image = bootable_image(chip, "MicroPython v1.24.1 on 2024-11-29; test", 5000);
        let theirs = uf2conv(&image, FLASH_BASE, name);
        assert_eq!(
            build(&image, FLASH_BASE, id),
            theirs,
            "{name}: byte for byte"
        );
        let uf2 = parse(&theirs).unwrap();
        assert_eq!(uf2.runs.len(), 1);
        let run = &uf2.runs[0];
        assert_eq!(run.family, Some(id));
        assert_eq!(run.blocks, 5000usize.div_ceil(256));
        assert_eq!((run.start, run.end), (FLASH_BASE, FLASH_BASE + 20 * 256));
        assert!(check(&theirs, chip, Some(2 << 20)).is_ok());
        // The simulated boot ROM takes it and boots it.
        let mut rom = Bootsel::new(chip, 2 << 20, &[]);
        let written: Vec<Written> = theirs.chunks(512).map(|b| rom.write_sector(b)).collect();
        assert_eq!(written.last(), Some(&Written::Complete), "{name}");
        assert_eq!(rom.after_reboot(), AfterReboot::RunsFlash, "{name}");
    }
}

#[test]
fn uf2convs_default_family_zero_is_one_the_pico_ignores() {
    // Without -f, uf2conv sets no family: both RP2 boot ROMs ignore every block.
    let image = bootable_image(Rp2Chip::Rp2040, "MicroPython", 1024);
    let theirs = uf2conv(&image, FLASH_BASE, "0x0");
    assert!(check(&theirs, Rp2Chip::Rp2040, None).is_err());
    let mut rom = Bootsel::new(Rp2Chip::Rp2040, 2 << 20, &[]);
    assert!(theirs
        .chunks(512)
        .all(|b| rom.write_sector(b) == Written::Ignored));
}

#[test]
fn an_esp32s3_uf2_is_refused_for_a_pico() {
    let theirs = uf2conv(&[0x55; 2048], 0, "ESP32S3");
    let refusal = check(&theirs, Rp2Chip::Rp2040, None).unwrap_err();
    assert!(
        refusal
            .to_string()
            .contains("ESP32-S3 (TinyUF2 bootloader)"),
        "{refusal}"
    );
}
