//! Our partition-table encoder and parser against a generator we did not write: PyPI
//! `esp-idf-defs` 0.1.7 (an extract of ESP-IDF's own `gen_esp32part.py`), run in the test venv
//! that `scripts/setup.sh test` makes. Tables from MicroPython's esp32 port (1.22–1.25, 1.26+,
//! OTA) and one with flags, with and without the MD5 row, byte for byte.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use webflash::protocol::partition::{
    build, parse, Partition, TableError, SUBTYPE_FAT, TYPE_APP, TYPE_DATA,
};

/// The table esp-idf-defs makes from `csv`.
fn generate(csv: &str, md5: bool) -> Vec<u8> {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let script = format!(
        "import sys; from esp_idf_defs import PartitionTable\n\
         t = PartitionTable.from_csv(sys.stdin.read()); t.verify()\n\
         sys.stdout.write(t.to_binary(md5sum={}).hex())",
        if md5 { "True" } else { "False" }
    );
    let mut child = Command::new(&python)
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}. Run `scripts/setup.sh test` (make test does) for the test venv.",
                python.display()
            )
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(csv.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "esp-idf-defs refused the table: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hex = String::from_utf8(out.stdout).unwrap();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn p(ptype: u8, subtype: u8, offset: u32, size: u32, label: &str, flags: u32) -> Partition {
    Partition {
        ptype,
        subtype,
        offset,
        size,
        label: label.into(),
        flags,
    }
}

/// Builds `rows` ourselves and has esp-idf-defs build `csv`: the same bytes, both ways of
/// the MD5 row, and our parser reads theirs back into `rows`.
fn agree(csv: &str, rows: &[Partition]) {
    for md5 in [true, false] {
        let theirs = generate(csv, md5);
        assert_eq!(build(rows, md5), theirs, "md5 row: {md5}\n{csv}");
        let table = parse(&theirs).unwrap();
        assert_eq!(table.entries, rows);
        assert_eq!(table.has_md5, md5);
    }
}

#[test]
fn micropython_4mib_table_of_1_22_to_1_25() {
    agree(
        "nvs, data, nvs, 0x9000, 0x6000,\n\
         phy_init, data, phy, 0xf000, 0x1000,\n\
         factory, app, factory, 0x10000, 0x1F0000,\n\
         vfs, data, fat, 0x200000, 0x200000,\n",
        &[
            p(TYPE_DATA, 0x02, 0x9000, 0x6000, "nvs", 0),
            p(TYPE_DATA, 0x01, 0xF000, 0x1000, "phy_init", 0),
            p(TYPE_APP, 0x00, 0x10000, 0x1F_0000, "factory", 0),
            p(TYPE_DATA, SUBTYPE_FAT, 0x20_0000, 0x20_0000, "vfs", 0),
        ],
    );
}

#[test]
fn micropython_4mibplus_table_of_1_26_on() {
    let rows = [
        p(TYPE_DATA, 0x02, 0x9000, 0x6000, "nvs", 0),
        p(TYPE_DATA, 0x01, 0xF000, 0x1000, "phy_init", 0),
        p(TYPE_APP, 0x00, 0x10000, 0x1F_0000, "factory", 0),
    ];
    agree(
        "nvs, data, nvs, 0x9000, 0x6000,\n\
         phy_init, data, phy, 0xf000, 0x1000,\n\
         factory, app, factory, 0x10000, 0x1F0000,\n",
        &rows,
    );
    // The filesystem then runs from the end of the app to the end of the flash.
    let table = parse(&generate(
        "factory, app, factory, 0x10000, 0x1F0000,\n",
        true,
    ))
    .unwrap();
    assert_eq!(table.micropython_fs(8 << 20), Some((0x20_0000, 0x60_0000)));
}

#[test]
fn an_ota_table_boots_its_first_slot() {
    let csv = "nvs, data, nvs, 0x9000, 0x4000\n\
               otadata, data, ota, 0xd000, 0x2000\n\
               phy_init, data, phy, 0xf000, 0x1000\n\
               ota_0, app, ota_0, 0x10000, 0x180000\n\
               ota_1, app, ota_1, 0x190000, 0x180000\n\
               vfs, data, fat, 0x310000, 0x0f0000\n";
    let rows = [
        p(TYPE_DATA, 0x02, 0x9000, 0x4000, "nvs", 0),
        p(TYPE_DATA, 0x00, 0xD000, 0x2000, "otadata", 0),
        p(TYPE_DATA, 0x01, 0xF000, 0x1000, "phy_init", 0),
        p(TYPE_APP, 0x10, 0x10000, 0x18_0000, "ota_0", 0),
        p(TYPE_APP, 0x11, 0x19_0000, 0x18_0000, "ota_1", 0),
        p(TYPE_DATA, SUBTYPE_FAT, 0x31_0000, 0x0F_0000, "vfs", 0),
    ];
    agree(csv, &rows);
    let table = parse(&generate(csv, true)).unwrap();
    assert_eq!(table.boot_app().unwrap().label, "ota_0");
    assert_eq!(table.micropython_fs(4 << 20), Some((0x31_0000, 0x0F_0000)));
}

#[test]
fn flags_and_long_labels() {
    agree(
        "nvs, data, nvs, 0x9000, 0x5000,\n\
         nvs_keys, data, nvs_keys, 0xe000, 0x1000, encrypted\n\
         factory, app, factory, 0x10000, 0x100000,\n\
         a_sixteen_char_n, data, spiffs, 0x110000, 0x10000, readonly\n",
        &[
            p(TYPE_DATA, 0x02, 0x9000, 0x5000, "nvs", 0),
            p(TYPE_DATA, 0x04, 0xE000, 0x1000, "nvs_keys", 1),
            p(TYPE_APP, 0x00, 0x10000, 0x10_0000, "factory", 0),
            p(TYPE_DATA, 0x82, 0x11_0000, 0x1_0000, "a_sixteen_char_n", 2),
        ],
    );
}

#[test]
fn a_changed_byte_fails_the_md5_row() {
    let mut table = generate("factory, app, factory, 0x10000, 0x100000,\n", true);
    table[8] ^= 0x01; // the factory app's size
    assert_eq!(parse(&table), Err(TableError::BadMd5));
}
