//! The fuzz targets' bodies: every parser that reads device or user input, fed arbitrary bytes.
//!
//! Each function must return for any input without a panic; where a parser has an encoder,
//! what the encoder writes must parse back to what was encoded. `fuzz/` (cargo-fuzz, `make
//! fuzz`) runs them coverage-guided; `tests/fuzz_corpus.rs` replays the kept seeds and every
//! input that once failed (`fuzz/regressions/`) in `make test`, timing each one and bounding
//! its biggest allocation. Kept here, in the library, so both run the same code.

use crate::boards::dfu::{file as dfu_file, layout as dfu_layout};
use crate::boards::{identify, picoboot, rp2, rp2_backup, uf2};
use crate::firmware::{manifest, sniff};
use crate::protocol::chip::Chip;
use crate::protocol::{app_desc, image, partition, response, slip, stub};
use crate::repl::{backup, banner, facts, pylit};

/// Every target, by name (the names of `fuzz/fuzz_targets/*.rs` and of the corpus folders).
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("slip", slip_decoder),
    ("response", loader_response),
    ("esp_image", esp_image),
    ("manifest", workshop_manifest),
    ("uf2", uf2_file),
    ("dfu", dfu_file_and_layout),
    ("picoboot", picoboot_packets),
    ("picobackup", pico_backup),
    ("repl_text", repl_text),
    ("boot_log", boot_log),
    ("rfc2217", rfc2217_codec),
    ("board_files", board_files_and_stub),
];

/// The first byte picks how the rest is cut into reads, so chunk boundaries are fuzzed too.
fn chunks(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let step = data.first().map_or(1, |&b| (b as usize % 61) + 1);
    data.get(1..).unwrap_or_default().chunks(step)
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// SLIP: arbitrary bytes in arbitrary pieces; a frame we encode decodes to itself.
pub fn slip_decoder(data: &[u8]) {
    let mut d = slip::Decoder::new();
    for piece in chunks(data) {
        d.push(piece);
        while d.next_item().is_some() {}
        let _ = d.in_frame();
    }
    let _ = d.take_noise();
    let mut d = slip::Decoder::new();
    d.push(&slip::encode(data));
    match d.next_item() {
        Some(slip::Item::Frame(f)) if !data.is_empty() => assert_eq!(f, data),
        Some(slip::Item::Frame(_)) | None if data.is_empty() => {}
        other => panic!("an encoded frame did not decode: {other:?}"),
    }
}

/// A loader's reply frame, checked for every data length a command expects.
pub fn loader_response(data: &[u8]) {
    if let Some(r) = response::Response::parse(data) {
        for len in [0, 4, 16, 32, 64] {
            let _ = r.check(len);
            let _ = r.status(len);
        }
        let _ = r.is_unsupported_reply();
    }
}

/// An ESP firmware file as the page checks it: kind, image header, app descriptor, partition
/// table (at its offset in a complete image, and alone).
pub fn esp_image(data: &[u8]) {
    let _ = sniff::sniff(data).describe();
    for layout in [image::Layout::Esp8266, image::Layout::Esp32] {
        if let Ok(img) = image::parse(data, layout) {
            let _ = img.end();
            let _ = image::is_app_image(data, &img);
        }
    }
    let _ = image::parse_any(data);
    let _ = app_desc::AppDescriptor::parse(data).map(|d| d.is_micropython());
    if let Ok(table) = partition::parse(data) {
        let _ = table.boot_app();
        let _ = table.micropython_fs(4 << 20);
    }
    if data.len() > 0x8000 {
        let _ = partition::parse(&data[0x7000..]);
    }
}

/// An ESP Web Tools manifest (with our non-ESP extensions), and choosing a build from it.
pub fn workshop_manifest(data: &[u8]) {
    if let Ok(m) = manifest::parse(&text(data)) {
        for chip in [Chip::Esp32, Chip::Esp32S3, Chip::Esp8266] {
            if let Ok(build) = m.select_build(chip, None) {
                let parts = manifest::resolve_parts(
                    build,
                    "https://a.example/m.json",
                    "https://a.example/",
                );
                for part in parts {
                    let _ = part.url;
                }
            }
        }
        let _ = m.uf2_build(Some(rp2::Rp2Chip::Rp2040));
    }
}

/// A UF2 file as the Pico step checks it; a UF2 we build parses back.
pub fn uf2_file(data: &[u8]) {
    let _ = uf2::parse(data);
    let _ = uf2::micropython_banner(data);
    for chip in [rp2::Rp2Chip::Rp2040, rp2::Rp2Chip::Rp2350] {
        let _ = rp2::check(data, chip, None);
        let _ = rp2::check(data, chip, Some(2 << 20));
    }
    let _ = rp2::DriveInfo::parse(&text(data));
    let image = &data[..data.len().min(4096)];
    if !image.is_empty() {
        let built = uf2::build(image, 0x1000_0000, 0xe48b_ff56);
        uf2::parse(&built).expect("a UF2 we built parses");
    }
}

/// A `.dfu` file, and a bootloader's layout string fitted to it.
pub fn dfu_file_and_layout(data: &[u8]) {
    let file = dfu_file::parse(data);
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let layout = dfu_layout::parse(&text(&data[..split]));
    if let (Ok(file), Some(layout)) = (&file, &layout) {
        let _ = layout.sectors_to_erase(file);
    }
    if let Ok(file) = file {
        let _ = file.elements().count();
        let pyboard = dfu_layout::parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg")
            .expect("the F405's layout");
        let _ = pyboard.sectors_to_erase(&file);
    }
}

/// PICOBOOT command blocks and status replies.
pub fn picoboot_packets(data: &[u8]) {
    if let Some(block) = picoboot::Block::parse(data) {
        for i in 0..4 {
            let _ = block.word(i);
        }
    }
    if let Some(status) = picoboot::Status::parse(data) {
        assert_eq!(picoboot::Status::parse(&status.to_bytes()), Some(status));
    }
    let _ = data.first().map(|&id| picoboot::expected_size(id));
}

/// A `.picobackup` file, checked against both chips.
pub fn pico_backup(data: &[u8]) {
    if let Ok(b) = rp2_backup::Backup::decode(data) {
        let _ = b.fits(rp2::Rp2Chip::Rp2040, Some(2 << 20));
        let _ = b.fits(rp2::Rp2Chip::Rp2350, None);
        assert_eq!(rp2_backup::Backup::decode(&b.encode()).as_ref(), Ok(&b));
    }
}

/// What MicroPython prints: literals, banners, board facts, the probe's answer; and the
/// literals we write parse back.
pub fn repl_text(data: &[u8]) {
    let t = text(data);
    let _ = pylit::parse(&t);
    let _ = pylit::parse_seq(&t);
    assert_eq!(
        pylit::parse(&pylit::str_repr(&t)),
        Ok(pylit::Lit::Str(t.clone()))
    );
    assert_eq!(
        pylit::parse(&pylit::bytes_repr(data)),
        Ok(pylit::Lit::Bytes(data.to_vec()))
    );
    if let Some(b) = banner::Banner::find(&t) {
        let f = facts::parse(&b, &t);
        let _ = facts::BoardFacts::decode(&f.encode());
    }
    let _ = facts::BoardFacts::decode(&t);
    let _ = identify::probe_found_micropython(data);
    let _ = crate::sim::micropython::parse_reply(&t);
}

/// What a board prints while it boots: the loader's and the REPL's classifiers.
pub fn boot_log(data: &[u8]) {
    let _ = crate::loader::classify_boot_log(data);
    let _ = banner::BootProblem::classify(data);
    let _ = crate::console_text::printable_share(data);
    let _ = crate::console_text::last_line(&text(data), 200);
}

/// The RFC 2217 server (esp-sim's telnet side) fed a client's bytes in arbitrary pieces.
pub fn rfc2217_codec(data: &[u8]) {
    let mut server = crate::rfc2217::Server::new(115_200);
    let _ = server.greeting();
    let (mut events, mut reply) = (Vec::new(), Vec::new());
    for piece in chunks(data) {
        server.feed(piece, &mut events, &mut reply);
    }
    let mut escaped = Vec::new();
    crate::rfc2217::escape_into(data, &mut escaped);
}

/// A board-files backup (tar) to restore, and a flasher-stub file.
pub fn board_files_and_stub(data: &[u8]) {
    if let Ok(files) = backup::unpack(data) {
        let _ = backup::pack(&files);
    }
    let _ = stub::StubImage::from_bytes(data);
    let _ = stub::StubImage::from_json(&text(data));
}

/// Runs the target called `name` on `data` (the fuzz targets' one line).
pub fn run(name: &str, data: &[u8]) {
    let (_, target) = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"));
    target(data)
}
