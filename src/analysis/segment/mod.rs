//! Segment traffic: what each recorded request is (library, settings, destination code, events,
//! telemetry), the decoded events, and the CDN settings model.
//!
//! Everything here matches on URL **path** and **body shape**, never on host names: Segment's CDN
//! and API are routinely proxied (docs/segment.md §1.1, §6.2).

pub(crate) mod decode;
pub mod library;
pub(crate) mod settings;

pub use decode::{
    ConsentStamp, Decoded, LibraryLoad, LoadKind, MAX_BODY_BYTES, Malformed, RequestKind,
    SegmentEvent, classify, decode,
};
pub use library::LibrarySeen;
pub use settings::{CdnSettings, IntegrationSettings, RemotePlugin, SettingsError};

/// Standard base64 (with the `=` padding stripped), as `btoa(s).replace(/=/g, '')` produces it:
/// analytics.js obfuscates destination path names this way (`obfuscate: true`).
pub fn base64_unpadded(input: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_btoa_without_padding() {
        let plain = ["facebook-pixel", "a", "ab", "abc", ""];
        let encoded = ["ZmFjZWJvb2stcGl4ZWw", "YQ", "YWI", "YWJj", ""];
        assert_eq!(plain.map(base64_unpadded), encoded);
    }
}
