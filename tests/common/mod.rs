//! Shared helpers for native tests: simulated boards and the pinned stub images.
#![allow(dead_code)]

use std::path::PathBuf;

use webflash::loader::Loader;
use webflash::protocol::chip::Chip;
use webflash::protocol::stub::StubImage;
use webflash::sim::{Device, DeviceConfig, SimPort, StartMode};
use webflash::usb::ResetWiring;

/// The stub image the page fetches, as the build wrote it from the pinned esptool package
/// (`scripts/setup.sh app`), for a chip of `revision` (major × 100 + minor; some chips have a
/// build per revision).
pub fn stub_for(chip: Chip, revision: u32) -> StubImage {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".stubs/stubs");
    let path = dir.join(format!(
        "{}.stub",
        StubImage::name(chip.spec().id, revision)
    ));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Run `scripts/setup.sh app` (make test does) to fetch the stub images.",
            path.display()
        )
    });
    StubImage::from_bytes(&bytes).unwrap()
}

/// The stub for a simulated chip as it comes ([`webflash::sim::usual_revision`]).
pub fn stub(chip: Chip) -> StubImage {
    stub_for(chip, webflash::sim::usual_revision(chip))
}

/// A board running its firmware, wired as `wiring`.
pub fn board(chip: Chip, wiring: ResetWiring) -> Loader<SimPort> {
    let mut config = DeviceConfig::new(chip);
    config.wiring = wiring;
    config.start = StartMode::Reset;
    Loader::new(SimPort::new(Device::new(config)))
}

/// Deterministic bytes that compress about as well as firmware does.
pub fn firmware_like(len: usize, seed: u32) -> Vec<u8> {
    webflash::sim::firmware_like(len, seed)
}

/// A `.dfu` body shaped like MicroPython's pyboard build (`tools/dfu.py`): one target, alt 0,
/// vectors at 0x08000000 and the code at 0x08020000 (`code_len` bytes).
pub fn pyboard_targets(code_len: u32) -> Vec<webflash::boards::dfu::file::Target> {
    use webflash::boards::dfu::file::{Element, Target};
    vec![Target {
        alt: 0,
        name: Some("ST...".into()),
        elements: vec![
            Element {
                address: 0x0800_0000,
                data: (0..14_008u32).map(|i| (i * 7 + 3) as u8).collect(),
            },
            Element {
                address: 0x0802_0000,
                data: firmware_like(code_len as usize, 11),
            },
        ],
    }]
}
