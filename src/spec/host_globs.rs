//! Host patterns a spec writes (`site.allow_hosts`, `site.first_party`): globs over host names,
//! matched case-insensitively by the `globset` crate. `*` matches any run of characters, dots
//! included, so `*.gstatic.com` covers every subdomain (but not `gstatic.com` itself).

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

/// A list of host globs, compiled once.
#[derive(Debug, Clone, Default)]
pub struct HostGlobs {
    patterns: Vec<String>,
    set: GlobSet,
}

impl HostGlobs {
    /// Compiles `patterns`; `Err((index, why))` names the first that is not a host glob.
    pub(crate) fn new(patterns: Vec<String>) -> Result<Self, (usize, String)> {
        let mut builder = GlobSetBuilder::new();
        for (i, p) in patterns.iter().enumerate() {
            builder.add(host_glob(p).map_err(|why| (i, why))?);
        }
        let set = builder.build().map_err(|e| (0, e.to_string()))?;
        Ok(HostGlobs { patterns, set })
    }

    /// Whether `host` (any case, trailing dot ignored) matches one of the patterns.
    pub(crate) fn matches(&self, host: &str) -> bool {
        !self.patterns.is_empty()
            && self
                .set
                .is_match(host.trim_end_matches('.').to_ascii_lowercase())
    }

    /// The first pattern `host` matches, for messages.
    #[cfg(test)]
    pub(crate) fn matching(&self, host: &str) -> Option<&str> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.set
            .matches(host)
            .first()
            .map(|&i| self.patterns[i].as_str())
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

impl PartialEq for HostGlobs {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl Eq for HostGlobs {}

impl Serialize for HostGlobs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.patterns.serialize(s)
    }
}

/// One pattern: a host name with `*`, `?`, `[..]` or `{a,b}`, no scheme, path or port.
fn host_glob(p: &str) -> Result<Glob, String> {
    if p.trim().is_empty() {
        return Err("an empty pattern matches no host".into());
    }
    if p.contains(['/', ':', ' ']) {
        return Err(format!(
            "`{p}` is not a host pattern (write a host name such as `fonts.gstatic.com` or \
             `*.cdn.example`, without scheme, path or port)"
        ));
    }
    GlobBuilder::new(&p.to_ascii_lowercase())
        .case_insensitive(true)
        .build()
        .map_err(|e| format!("`{p}` is not a valid glob: {e}"))
}

#[cfg(test)]
mod tests {
    use super::HostGlobs;

    #[test]
    fn globs_match_hosts() {
        let g = HostGlobs::new(vec!["fonts.gstatic.com".into(), "*.cdn.example".into()]).unwrap();
        assert!(g.matches("fonts.gstatic.com"));
        assert!(g.matches("FONTS.gstatic.com."));
        assert!(g.matches("a.b.cdn.example"));
        assert!(!g.matches("cdn.example"));
        assert!(!g.matches("gstatic.com"));
        assert_eq!(g.matching("x.cdn.example"), Some("*.cdn.example"));
        assert!(!HostGlobs::default().matches("anything"));
        assert_eq!(
            HostGlobs::new(vec!["a.example".into(), "https://b".into()])
                .unwrap_err()
                .0,
            1
        );
        assert!(HostGlobs::new(vec!["[".into()]).is_err());
    }
}
