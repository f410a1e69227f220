//! Which job an ESP image does and therefore where it belongs in flash. Students are handed
//! single `.bin` files; the offset is the number they are most likely to get wrong.

use crate::protocol::chip::Chip;
use crate::protocol::image::{self, Image, ImageError, Layout};

/// Where ESP-IDF apps normally live (the first app partition; app partitions are 64 KiB aligned).
pub const APP_OFFSET: u32 = 0x10000;
/// App partitions must start on an MMU page.
pub const APP_ALIGN: u32 = 0x10000;

/// What an ESP image is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageRole {
    /// What the ROM boots: a second-stage bootloader, or a merged image that starts with one
    /// (MicroPython's ESP32 downloads), or a whole ESP8266 firmware. Goes at the bootloader offset.
    Boot,
    /// An ESP-IDF application (has an app descriptor); goes in an app partition.
    App,
}

/// The header layout a chip's images use.
pub fn layout_for(chip: Chip) -> Layout {
    match chip {
        Chip::Esp8266 => Layout::Esp8266,
        _ => Layout::Esp32,
    }
}

/// Parses with `chip`'s layout.
pub fn parse_for(bytes: &[u8], chip: Chip) -> Result<Image, ImageError> {
    image::parse(bytes, layout_for(chip))
}

/// An ESP-IDF app descriptor marks an app; every other image is booted by the ROM.
pub fn role(bytes: &[u8], image: &Image) -> ImageRole {
    if image::is_app_image(bytes, image) {
        ImageRole::App
    } else {
        ImageRole::Boot
    }
}

/// The offset a single file chosen by the user belongs at on `chip`, or `None` when the
/// bytes are not an ESP image (then only the user knows).
pub fn suggest_offset(bytes: &[u8], chip: Chip) -> Option<u32> {
    let image = parse_for(bytes, chip)
        .or_else(|_| image::parse_any(bytes))
        .ok()?;
    Some(match role(bytes, &image) {
        ImageRole::App => APP_OFFSET,
        ImageRole::Boot => chip.spec().bootloader_offset,
    })
}

/// The chips whose bootloader lives at `offset` (for "0x0 is right for ESP32-S3, not ESP32").
pub fn chips_booting_at(offset: u32) -> Vec<Chip> {
    crate::protocol::chip::CHIPS
        .iter()
        .filter(|s| s.bootloader_offset == offset)
        .map(|s| s.chip)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firmware::fixtures::*;

    #[test]
    fn merged_images_go_to_the_bootloader_offset_of_the_chip() {
        assert_eq!(
            suggest_offset(&merged(Chip::Esp32), Chip::Esp32),
            Some(0x1000)
        );
        assert_eq!(
            suggest_offset(&merged(Chip::Esp32S2), Chip::Esp32S2),
            Some(0x1000)
        );
        assert_eq!(
            suggest_offset(&merged(Chip::Esp32S3), Chip::Esp32S3),
            Some(0)
        );
        assert_eq!(
            suggest_offset(&merged(Chip::Esp32C3), Chip::Esp32C3),
            Some(0)
        );
        assert_eq!(
            suggest_offset(&merged(Chip::Esp32C5), Chip::Esp32C5),
            Some(0x2000)
        );
        assert_eq!(
            suggest_offset(&merged(Chip::Esp32P4), Chip::Esp32P4),
            Some(0x2000)
        );
        assert_eq!(suggest_offset(&esp8266_firmware(), Chip::Esp8266), Some(0));
    }

    #[test]
    fn app_images_go_to_the_first_app_partition() {
        assert_eq!(
            suggest_offset(&app(Chip::Esp32), Chip::Esp32),
            Some(0x10000)
        );
        assert_eq!(
            suggest_offset(&app(Chip::Esp32C3), Chip::Esp32C3),
            Some(0x10000)
        );
        let a = app(Chip::Esp32S3);
        assert_eq!(
            role(&a, &parse_for(&a, Chip::Esp32S3).unwrap()),
            ImageRole::App
        );
    }

    #[test]
    fn non_images_get_no_suggestion() {
        assert_eq!(suggest_offset(b"<html>404</html>", Chip::Esp32), None);
        assert_eq!(suggest_offset(&[0xFF; 4096], Chip::Esp32), None);
        assert_eq!(suggest_offset(&[], Chip::Esp8266), None);
    }

    #[test]
    fn chips_are_listed_by_bootloader_offset() {
        let at0 = chips_booting_at(0);
        assert!(at0.contains(&Chip::Esp32S3) && at0.contains(&Chip::Esp8266));
        assert!(!at0.contains(&Chip::Esp32));
        assert_eq!(chips_booting_at(0x1000), vec![Chip::Esp32, Chip::Esp32S2]);
    }
}
