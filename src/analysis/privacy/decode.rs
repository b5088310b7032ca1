//! The one `%XX` decoder: for finding personal data in URLs and form bodies, and (strictly) for
//! turning a URL path into a file path.

/// `%XX` decoding (a `+` stays a `+`: it may be the start of an international number, or part of
/// an email's local part). Invalid escapes are kept as they are; invalid UTF-8 is replaced.
pub fn percent_decode(s: &str) -> String {
    let (bytes, _) = decode(s);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `%XX` decoding that refuses what is not exactly a URL-encoded UTF-8 string (an invalid escape,
/// invalid UTF-8): `None`.
pub fn percent_decode_strict(s: &str) -> Option<String> {
    match decode(s) {
        (bytes, true) => String::from_utf8(bytes).ok(),
        (_, false) => None,
    }
}

/// The decoded bytes, and whether every `%` began a valid escape.
fn decode(s: &str) -> (Vec<u8>, bool) {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut valid = true;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
            valid = false;
        }
        out.push(bytes[i]);
        i += 1;
    }
    (out, valid)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `s` as `encodeURIComponent` writes it (every byte but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` as
/// `%XX`): how a value travels in a query string.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_and_strict() {
        assert_eq!(percent_decode("jane%40example.com"), "jane@example.com");
        assert_eq!(percent_decode("a%2Bb+c"), "a+b+c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode_strict("a%20b").as_deref(), Some("a b"));
        assert_eq!(percent_decode_strict("%2e%2e/x").as_deref(), Some("../x"));
        assert_eq!(percent_decode_strict("100%"), None);
        assert_eq!(percent_decode_strict("%ff"), None);
        assert_eq!(percent_encode("+44 20@x.y"), "%2B44%2020%40x.y");
    }
}
