//! Any text as a spec: a located error or a spec, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = consent_gates::spec::parse_str(text, std::path::Path::new("fuzz/spec.yaml"));
    }
});
