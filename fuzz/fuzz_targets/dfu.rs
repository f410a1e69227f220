#![no_main]
// Body: webflash::fuzzing (src/fuzzing.rs), shared with the corpus replay in `make test`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| webflash::fuzzing::run("dfu", data));
