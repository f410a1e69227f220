//! `.dfu` files against Debian's dfu-util 0.11 tools (`dfu-suffix`; `scripts/setup.sh test`
//! installs them): the suffix and CRC we write are byte-identical to what `dfu-suffix -a` adds to
//! the same DfuSe body, `dfu-suffix -c` accepts our files, and a file whose CRC it rejects is
//! refused by our parser too. (Debian has no tool that writes the DfuSe prefix; `boards.md` §4.6.)

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use webflash::boards::dfu::file::{self, DfuFileError, Target};
use webflash::boards::dfu::layout;

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dfu");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn dfu_suffix(args: &[&str], path: &Path) -> (bool, String) {
    let out = Command::new("dfu-suffix")
        .args(args)
        .arg(path)
        .output()
        .expect("dfu-suffix (Debian's dfu-util; scripts/setup.sh test installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn pyboard() -> Vec<Target> {
    common::pyboard_targets(200_000)
}

#[test]
fn our_suffix_is_the_one_dfu_suffix_adds() {
    let body = file::build_body(&pyboard());
    let path = tmp("body.dfu");
    std::fs::write(&path, &body).unwrap();
    let (ok, text) = dfu_suffix(
        &["-v", "0483", "-p", "df11", "-d", "0", "-S", "0x011a", "-a"],
        &path,
    );
    assert!(ok, "{text}");
    let theirs = std::fs::read(&path).unwrap();
    let ours = file::build(&pyboard(), 0x0483, 0xDF11);
    assert!(theirs == ours, "dfu-suffix wrote another suffix");
    let parsed = file::parse(&theirs).unwrap();
    assert_eq!(parsed.targets, pyboard());
    let sectors = layout::parse(layout::STM32F405)
        .unwrap()
        .sectors_to_erase(&parsed)
        .unwrap();
    assert_eq!(sectors[0], 0x0800_0000);
    assert!(
        !sectors.contains(&0x0800_4000),
        "the filesystem sectors stay"
    );
}

#[test]
fn a_file_dfu_suffix_finds_damaged_is_refused() {
    let mut ours = file::build(&pyboard(), 0x0483, 0xDF11);
    let path = tmp("ours.dfu");
    std::fs::write(&path, &ours).unwrap();
    let (ok, text) = dfu_suffix(&["-c"], &path);
    assert!(
        ok && text.contains("0483") && text.to_lowercase().contains("df11"),
        "{text}"
    );
    // One byte of the code changes on the way.
    ours[100_000] ^= 0x01;
    std::fs::write(&path, &ours).unwrap();
    let (_, text) = dfu_suffix(&["-c"], &path);
    assert!(text.to_lowercase().contains("crc"), "dfu-suffix: {text}");
    let err = file::parse(&ours).unwrap_err();
    assert!(matches!(err, DfuFileError::BadCrc { .. }), "{err:?}");
    assert!(err.to_string().contains("Nothing was written"));
}
