//! Segment traffic: what each recorded request is (library, settings, destination code, events,
//! telemetry), the decoded events, and the CDN settings model.
//!
//! Everything here matches on URL **path** and **body shape**, never on host names: Segment's CDN
//! and API are routinely proxied (research/segment.md §1.1, §6.2).

pub mod decode;
pub mod settings;

pub use decode::{
    ConsentStamp, Decoded, LibraryLoad, LoadKind, MAX_BODY_BYTES, Malformed, RequestKind,
    SegmentEvent, classify, decode,
};
pub use settings::{CdnSettings, IntegrationSettings, RemotePlugin, SettingsError};

/// Standard base64 (with the `=` padding stripped), as `btoa(s).replace(/=/g, '')` produces it:
/// analytics.js obfuscates destination path names this way (`obfuscate: true`).
pub fn base64_unpadded(input: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = (n >> (18 - 6 * i)) & 0x3f;
            out.push(TABLE[idx as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_btoa_without_padding() {
        assert_eq!(base64_unpadded("facebook-pixel"), "ZmFjZWJvb2stcGl4ZWw");
        assert_eq!(base64_unpadded("a"), "YQ");
        assert_eq!(base64_unpadded("ab"), "YWI");
        assert_eq!(base64_unpadded("abc"), "YWJj");
        assert_eq!(base64_unpadded(""), "");
    }
}
