//! Tests for image parsing and patching, on images built here byte by byte.

use super::*;

fn ext(chip_id: u16, hash: bool) -> ExtHeader {
    ExtHeader {
        wp_pin: 0xEE,
        drive: [0; 3],
        chip_id,
        min_rev: 0,
        min_rev_full: 0,
        max_rev_full: 399,
        hash_appended: hash,
    }
}

fn spec(ext: Option<ExtHeader>) -> BuildSpec {
    BuildSpec {
        flash_mode: 2,
        flash_size_freq: 0x2F,
        entry: 0x4008_0400,
        ext,
    }
}

const SEG_A: [u8; 12] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const SEG_B: [u8; 8] = [0xAA, 0xBB, 0xCC, 0xDD, 0x10, 0x20, 0x30, 0x40];

/// An ESP32-C3 image with two segments and an appended SHA-256.
fn c3_image() -> Vec<u8> {
    build(
        &spec(Some(ext(5, true))),
        &[(0x3FC8_0000, &SEG_A), (0x4038_0000, &SEG_B)],
    )
}

fn esp8266_image() -> Vec<u8> {
    build(&spec(None), &[(0x4010_0000, &SEG_A), (0x3FFE_8000, &SEG_B)])
}

#[test]
fn a_built_image_parses_with_every_field() {
    let bytes = c3_image();
    let img = parse(&bytes, Layout::Esp32).unwrap();
    assert_eq!(img.format, Format::Esp32);
    assert_eq!((img.flash_mode, img.flash_size_freq), (2, 0x2F));
    assert_eq!((img.flash_size_code(), img.flash_freq_code()), (0x20, 0x0F));
    assert_eq!(img.entry, 0x4008_0400);
    assert_eq!(img.ext, Some(ext(5, true)));
    assert_eq!(img.segments.len(), 2);
    assert_eq!(
        img.segments[0],
        Segment {
            load_addr: 0x3FC8_0000,
            len: 12,
            data_offset: 0x20
        }
    );
    assert_eq!(img.segments[1].data_offset, 0x20 + 12 + 8);
    // 24 header bytes + 8+12 + 8+8 = 60 → checksum at byte 63.
    assert_eq!(img.data_length, 64);
    assert_eq!(bytes[63], img.checksum);
    let xor = SEG_A.iter().chain(&SEG_B).fold(0xEF, |a, b| a ^ b);
    assert_eq!(img.checksum, xor);
    assert_eq!(img.end(), 96);
    assert_eq!(bytes.len(), 96);
    assert_eq!(img.sha256.unwrap()[..], bytes[64..96]);
}

#[test]
fn trailing_bytes_of_a_merged_binary_are_allowed() {
    let mut bytes = c3_image();
    bytes.extend_from_slice(&[0xFF; 100]);
    assert_eq!(parse(&bytes, Layout::Esp32).unwrap().end(), 96);
}

#[test]
fn every_truncation_is_reported_with_the_byte_it_needed() {
    let bytes = c3_image();
    for cut in 0..bytes.len() {
        match parse(&bytes[..cut], Layout::Esp32) {
            Err(ImageError::Truncated { needed, len, .. }) => {
                assert_eq!(len, cut);
                assert!(needed > cut, "cut {cut}: needed {needed}");
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    let e = parse(&bytes[..70], Layout::Esp32).unwrap_err();
    assert_eq!(
        e,
        ImageError::Truncated {
            what: "SHA-256",
            needed: 96,
            len: 70
        }
    );
    assert!(e.to_string().contains("ends at byte 70"));
}

#[test]
fn corruption_is_caught_by_checksum_or_digest() {
    let good = c3_image();
    let mut data = good.clone();
    data[0x21] ^= 0x01; // segment data: checksum covers it
    assert!(matches!(
        parse(&data, Layout::Esp32),
        Err(ImageError::BadChecksum { at: 63, .. })
    ));
    let mut header = good.clone();
    header[5] ^= 0x01; // entry point: only the digest covers it
    assert_eq!(
        parse(&header, Layout::Esp32),
        Err(ImageError::BadSha256 { at: 64 })
    );
    let mut digest = good;
    digest[95] ^= 0x80;
    assert_eq!(
        parse(&digest, Layout::Esp32),
        Err(ImageError::BadSha256 { at: 64 })
    );
}

#[test]
fn malformed_headers_get_precise_errors() {
    let good = c3_image();
    let mut b = good.clone();
    b[0] = b'<';
    assert_eq!(parse(&b, Layout::Esp32), Err(ImageError::BadMagic(b'<')));
    let mut b = good.clone();
    b[1] = 17;
    assert_eq!(
        parse(&b, Layout::Esp32),
        Err(ImageError::TooManySegments(17))
    );
    let mut b = good.clone();
    b[23] = 2;
    assert_eq!(parse(&b, Layout::Esp32), Err(ImageError::BadHashFlag(2)));
    let mut b = good.clone();
    b[0x1C] = 13; // first segment length 13
    assert_eq!(
        parse(&b, Layout::Esp32),
        Err(ImageError::BadSegmentLength { index: 0, len: 13 })
    );
    let mut b = good;
    b[0x1F] = 0x01; // first segment length 16 MB + 12
    assert!(matches!(
        parse(&b, Layout::Esp32),
        Err(ImageError::BadSegmentLength { index: 0, .. })
    ));
}

#[test]
fn esp8266_images_have_no_extended_header_and_are_told_apart() {
    let e8266 = esp8266_image();
    let img = parse(&e8266, Layout::Esp8266).unwrap();
    assert_eq!(
        (img.format, img.ext, img.sha256),
        (Format::Esp8266, None, None)
    );
    assert_eq!(img.segments[0].data_offset, 16);
    assert_eq!(parse_any(&e8266).unwrap().format, Format::Esp8266);
    assert!(parse(&e8266, Layout::Esp32).is_err());
    let c3 = c3_image();
    assert!(parse(&c3, Layout::Esp8266).is_err());
    assert_eq!(parse_any(&c3).unwrap().ext.unwrap().chip_id, 5);
    // Without a digest the checksum alone must still tell them apart.
    let plain = build(&spec(Some(ext(0, false))), &[(0x3FFB_0000, &SEG_A)]);
    assert_eq!(parse_any(&plain).unwrap().format, Format::Esp32);
}

#[test]
fn esp8266_v2_images_parse_past_their_irom_segment() {
    let mut v2 = vec![MAGIC_ESP8266_V2, 4, 2, 0x20, 0, 0, 0, 0];
    v2.extend_from_slice(&0u32.to_le_bytes());
    v2.extend_from_slice(&16u32.to_le_bytes());
    v2.extend_from_slice(&[0x55; 16]);
    v2.extend_from_slice(&esp8266_image());
    let img = parse_any(&v2).unwrap();
    assert_eq!(img.format, Format::Esp8266V2 { irom_len: 16 });
    assert_eq!(img.segments[0].data_offset, 32 + 16);
    // The ROM does not read the v2 header: patching leaves it alone.
    let before = v2.clone();
    let p = FlashParams {
        size: Some(0x90),
        ..FlashParams::default()
    };
    assert_eq!(patch_flash_params(&mut v2, Layout::Esp8266, p), Ok(false));
    assert_eq!(v2, before);
}

#[test]
fn app_images_are_recognised_by_their_descriptor() {
    let mut desc = APP_DESC_MAGIC.to_le_bytes().to_vec();
    desc.extend_from_slice(&[0; 8]);
    let app = build(&spec(Some(ext(0, true))), &[(0x3F40_0020, &desc)]);
    assert!(is_app_image(&app, &parse_any(&app).unwrap()));
    let boot = c3_image();
    assert!(!is_app_image(&boot, &parse_any(&boot).unwrap()));
}

#[test]
fn patching_the_size_keeps_mode_freq_and_trailing_bytes_and_fixes_the_digest() {
    let mut bytes = c3_image();
    bytes.extend_from_slice(b"partition table and app");
    let p = FlashParams {
        size: Some(0x40),
        ..FlashParams::default()
    };
    assert_eq!(patch_flash_params(&mut bytes, Layout::Esp32, p), Ok(true));
    assert_eq!((bytes[2], bytes[3]), (2, 0x4F));
    let img = parse(&bytes, Layout::Esp32).expect("digest was recomputed");
    assert_eq!(img.flash_size_code(), 0x40);
    assert_eq!(&bytes[96..], b"partition table and app");
    // Applying the same values again changes nothing.
    let copy = bytes.clone();
    assert_eq!(patch_flash_params(&mut bytes, Layout::Esp32, p), Ok(false));
    assert_eq!(bytes, copy);
}

#[test]
fn patching_mode_and_freq_and_keep_semantics() {
    let mut bytes = esp8266_image();
    let all_keep = bytes.clone();
    assert_eq!(
        patch_flash_params(&mut bytes, Layout::Esp8266, FlashParams::default()),
        Ok(false)
    );
    assert_eq!(bytes, all_keep);
    let p = FlashParams {
        mode: Some(3),
        size: None,
        freq: Some(0x0),
    };
    assert_eq!(patch_flash_params(&mut bytes, Layout::Esp8266, p), Ok(true));
    assert_eq!((bytes[2], bytes[3]), (3, 0x20));
    assert!(parse(&bytes, Layout::Esp8266).is_ok());
}

#[test]
fn patching_refuses_what_is_not_a_valid_image_and_leaves_it_alone() {
    let mut bytes = c3_image();
    bytes[0x21] ^= 1;
    let before = bytes.clone();
    let p = FlashParams {
        size: Some(0x40),
        ..FlashParams::default()
    };
    assert!(patch_flash_params(&mut bytes, Layout::Esp32, p).is_err());
    assert_eq!(bytes, before);
    let mut html = b"<!DOCTYPE html><html>404</html>".to_vec();
    assert_eq!(
        patch_flash_params(&mut html, Layout::Esp32, p),
        Err(ImageError::BadMagic(b'<'))
    );
}
