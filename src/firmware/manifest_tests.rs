//! Manifest parsing, build selection, URL resolution and SHA-256 checks.

use super::*;

/// The shape ESP Web Tools' own docs use, with a cdc/uart pair and an unknown chip family.
const EWT: &str = r#"{
  "name": "MicroPython",
  "version": "1.24.1",
  "funding_url": "https://micropython.org/sponsors",
  "new_install_prompt_erase": true,
  "new_install_improv_wait_time": 0,
  "builds": [
    { "chipFamily": "ESP32", "parts": [ { "path": "esp32.bin", "offset": 4096 } ] },
    { "chipFamily": "ESP32-S3", "serialType": "cdc", "improv": false,
      "parts": [ { "path": "./s3-usb.bin", "offset": 0 } ] },
    { "chipFamily": "ESP32-S3", "parts": [ { "path": "/fw/s3.bin", "offset": 0 } ] },
    { "chipFamily": "ESP32-C61", "parts": [ { "path": "c61.bin", "offset": 0 } ] },
    { "chipFamily": "ESP8266", "ota": {"path": "x"}, "parts": [
      { "path": "https://cdn.example.com/8266.bin", "offset": 0,
        "sha256": "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855" } ] }
  ]
}"#;

#[test]
fn the_ewt_schema_parses_field_by_field() {
    let m = parse(EWT).unwrap();
    assert_eq!(
        (m.name.as_str(), m.version.as_str()),
        ("MicroPython", "1.24.1")
    );
    assert_eq!(
        m.funding_url.as_deref(),
        Some("https://micropython.org/sponsors")
    );
    assert!(m.new_install_prompt_erase);
    assert_eq!(m.new_install_improv_wait_time, Some(0.0));
    assert_eq!(m.builds.len(), 5);
    assert_eq!(m.builds[1].serial_type, Some(SerialType::Cdc));
    assert_eq!(m.builds[1].improv, Some(false));
    assert_eq!(m.builds[3].chip(), None);
    assert!(m.builds[4].ota.is_some());
    assert_eq!(m.builds[0].parts[0].offset, 0x1000);
    assert_eq!(m.builds[4].parts[0].sha256.unwrap()[0], 0xE3);
}

#[test]
fn the_deprecated_skip_erase_flag_means_prompt() {
    let m = parse(
        r#"{"builds":[{"chipFamily":"ESP32","parts":[{"path":"a","offset":0}]}],
        "new_install_skip_erase": true}"#,
    )
    .unwrap();
    assert!(m.new_install_prompt_erase);
    assert_eq!(m.name, "");
}

#[test]
fn builds_are_selected_like_esp_web_tools() {
    let m = parse(EWT).unwrap();
    let path = |chip, serial| m.select_build(chip, serial).unwrap().parts[0].path.clone();
    assert_eq!(path(Chip::Esp32S3, Some(&SerialType::Cdc)), "./s3-usb.bin");
    assert_eq!(path(Chip::Esp32S3, Some(&SerialType::Uart)), "/fw/s3.bin");
    assert_eq!(path(Chip::Esp32S3, None), "/fw/s3.bin");
    assert_eq!(path(Chip::Esp32, Some(&SerialType::Uart)), "esp32.bin");
    // A cdc-only build is not taken for a UART bridge (EWT: "not supported").
    let cdc_only = parse(
        r#"{"builds":[{"chipFamily":"ESP32-C3","serialType":"cdc","parts":[{"path":"a","offset":0}]}]}"#,
    )
    .unwrap();
    assert!(cdc_only
        .select_build(Chip::Esp32C3, Some(&SerialType::Uart))
        .is_err());
    assert!(cdc_only.select_build(Chip::Esp32C3, None).is_ok());
}

#[test]
fn no_build_for_the_chip_lists_what_is_supported() {
    let m = parse(EWT).unwrap();
    let e = m.select_build(Chip::Esp32C3, None).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("\"MicroPython\" has no build for ESP32-C3"),
        "{msg}"
    );
    assert!(msg.contains("ESP32, ESP32-S3, ESP32-C61, ESP8266"), "{msg}");
    assert!(
        msg.contains("ask whoever gave you the link for an ESP32-C3 build"),
        "{msg}"
    );
}

#[test]
fn part_urls_resolve_against_the_manifest() {
    let m = parse(EWT).unwrap();
    let base = "https://fw.example.org/mp/manifest.json";
    let urls = |chip, serial| -> Vec<String> {
        let b = m.select_build(chip, serial).unwrap();
        resolve_parts(b, base, "https://page/")
            .into_iter()
            .map(|r| r.url)
            .collect()
    };
    assert_eq!(
        urls(Chip::Esp32, None),
        ["https://fw.example.org/mp/esp32.bin"]
    );
    assert_eq!(
        urls(Chip::Esp32S3, Some(&SerialType::Cdc)),
        ["https://fw.example.org/mp/s3-usb.bin"]
    );
    assert_eq!(
        urls(Chip::Esp32S3, None),
        ["https://fw.example.org/fw/s3.bin"]
    );
    assert_eq!(
        urls(Chip::Esp8266, None),
        ["https://cdn.example.com/8266.bin"]
    );
    let b = m.select_build(Chip::Esp32, None).unwrap();
    let r = resolve_parts(b, "blob:https://page/123", "https://page/flash/");
    assert_eq!(r[0].url, "https://page/flash/esp32.bin");
    let part = r[0].clone().into_part(vec![1, 2, 3]);
    assert_eq!(
        (part.name.as_str(), part.offset),
        ("https://page/flash/esp32.bin", 4096)
    );
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn bad_manifests_are_refused_with_the_fix() {
    let html = err("<!DOCTYPE html><html>404</html>");
    assert!(
        html.contains("returned a web page") && html.contains("Check the manifest URL"),
        "{html}"
    );
    let broken = err(r#"{"builds": [}"#);
    assert!(
        broken.contains("not valid JSON (") && broken.contains("line 1"),
        "{broken}"
    );
    let none = err(r#"{"name": "x"}"#);
    assert!(
        none.contains("no \"builds\"") && none.contains("\"chipFamily\""),
        "{none}"
    );
    assert_eq!(err(r#"{"builds": []}"#), none);
    let family = err(r#"{"builds":[{"parts":[{"path":"a","offset":0}]}]}"#);
    assert!(
        family.contains("builds[0].chipFamily") && family.contains("\"ESP32\""),
        "{family}"
    );
    let parts = err(r#"{"builds":[{"chipFamily":"ESP32","parts":[]}]}"#);
    assert!(
        parts.contains("builds[0].parts: missing or empty"),
        "{parts}"
    );
    let path = err(r#"{"builds":[{"chipFamily":"ESP32","parts":[{"offset":0}]}]}"#);
    assert!(path.contains("builds[0].parts[0].path"), "{path}");
    let sha = err(
        r#"{"builds":[{"chipFamily":"ESP32","parts":[{"path":"a","offset":0,"sha256":"abc"}]}]}"#,
    );
    assert!(
        sha.contains("parts[0].sha256") && sha.contains("64 hexadecimal digits"),
        "{sha}"
    );
}

fn offset_err(offset: &str) -> String {
    err(&format!(
        r#"{{"builds":[{{"chipFamily":"ESP32","parts":[{{"path":"a","offset":0}},{{"path":"b","offset":{offset}}}]}}]}}"#
    ))
}

#[test]
fn offsets_must_be_whole_decimal_numbers() {
    let wled = offset_err("32.768");
    assert!(
        wled.contains("builds[0].parts[1].offset is 32.768"),
        "{wled}"
    );
    assert!(wled.contains("Write 32768 (= 0x8000) instead"), "{wled}");
    let hex = offset_err("\"0x10000\"");
    assert!(
        hex.contains("the text \"0x10000\"") && hex.contains("Write 65536 (= 0x10000)"),
        "{hex}"
    );
    let half = offset_err("4096.5");
    assert!(
        half.contains("4096.5") && half.contains("e.g. 65536 for 0x10000"),
        "{half}"
    );
    assert!(offset_err("-4096").contains("is -4096"));
    assert!(offset_err("4294967296").contains("not a valid offset"));
    assert!(offset_err("null").contains("not a valid offset"));
    // A float with no fraction is the same number to JavaScript, so EWT accepts it.
    let m = parse(r#"{"builds":[{"chipFamily":"ESP32","parts":[{"path":"a","offset":4096.0}]}]}"#);
    assert_eq!(m.unwrap().builds[0].parts[0].offset, 4096);
}

#[test]
fn sha256_mismatches_are_refused_and_matches_pass() {
    let m = parse(EWT).unwrap();
    let part = &m.builds[4].parts[0]; // digest of the empty file
    assert_eq!(verify_sha256(part, b""), Ok(()));
    let e = verify_sha256(part, b"<html>").unwrap_err().to_string();
    assert!(
        e.contains("e3b0c442") && e.contains("Download again"),
        "{e}"
    );
    assert!(e.contains("the manifest and the file do not match"), "{e}");
    // Parts without a digest are not checked.
    assert_eq!(verify_sha256(&m.builds[0].parts[0], b"anything"), Ok(()));
}

#[test]
fn one_manifest_serves_esp32_and_pico_tables() {
    let m = parse(
        r#"{ "name": "Workshop", "builds": [
          { "chipFamily": "ESP32", "parts": [ { "path": "esp32.bin", "offset": 4096 } ] },
          { "chipFamily": "RP2040", "parts": [ { "path": "pico.uf2", "offset": 0 } ] },
          { "chipFamily": "RP2350", "parts": [ { "path": "pico2.uf2", "offset": 0 } ] } ] }"#,
    )
    .unwrap();
    assert_eq!(
        m.select_build(Chip::Esp32, None).unwrap().parts[0].path,
        "esp32.bin"
    );
    let rp2040 = m.uf2_build(Some(Rp2Chip::Rp2040)).unwrap();
    assert_eq!(rp2040.parts[0].path, "pico.uf2");
    assert_eq!(
        m.uf2_build(Some(Rp2Chip::Rp2350)).unwrap().parts[0].path,
        "pico2.uf2"
    );
    assert_eq!(m.uf2_build(None).unwrap().parts[0].path, "pico.uf2");
    // ESP boards never get a UF2 build, nor Picos an ESP one.
    assert!(m.select_build(Chip::Esp32C3, None).is_err());
    assert!(parse(EWT).unwrap().uf2_build(None).is_none());
}
