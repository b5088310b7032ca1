//! Built-in destination signatures: how a Segment destination shows itself in the browser (its
//! code on Segment's CDN, its vendor's script and beacon hosts). The data lives in
//! `destinations.yaml` beside this file, embedded at build time. A vendor is recognised by host
//! name, or by what its requests carry on any host ([`payload`]).

pub(crate) mod payload;

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::analysis::segment::base64_unpadded;
use crate::analysis::segment::decode::{LoadKind, load_kind_of_path};
use crate::capture::CapturedRequest;
use crate::spec::types::Mode;

pub(crate) use payload::PayloadSignature;

const BUILTIN_YAML: &str = include_str!("destinations.yaml");

/// `default_mode` in the catalog file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CatalogMode {
    Device,
    Cloud,
}

impl CatalogMode {
    pub fn mode(self) -> Mode {
        match self {
            CatalogMode::Device => Mode::Device,
            CatalogMode::Cloud => Mode::Cloud,
        }
    }
}

/// One destination's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub display: String,
    /// Settings keys (creationName first), then other names it goes by.
    pub names: Vec<String>,
    /// Informational only: the vendor's usual purpose.
    pub purpose_hint: String,
    pub classic_slug: Option<String>,
    pub action_dir: Option<String>,
    /// `cloud` when the browser part only enriches events (the vendor gets data server-side).
    pub default_mode: Option<CatalogMode>,
    #[serde(default)]
    pub script_hosts: Vec<String>,
    #[serde(default)]
    pub beacon_hosts: Vec<String>,
    /// On hosts shared by several products: `id=`/`tid=` query prefixes that identify this one.
    #[serde(default)]
    pub id_prefixes: Vec<String>,
    /// What its requests carry, on any host (see [`payload`]).
    #[serde(default)]
    pub payload: Vec<PayloadSignature>,
    pub source: String,
}

/// `host` is `suffix` or a subdomain of it.
pub(crate) fn host_matches(host: &str, suffix: &str) -> bool {
    let host = host.trim_end_matches('.');
    let suffix = suffix.trim_end_matches('.');
    if suffix.is_empty() {
        return false;
    }
    host.eq_ignore_ascii_case(suffix)
        || (host.len() > suffix.len()
            && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
            && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix))
}

impl Entry {
    /// Script and beacon hosts.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.script_hosts
            .iter()
            .chain(&self.beacon_hosts)
            .map(String::as_str)
    }

    /// Length of the longest of this entry's hosts that `host` matches (more specific = longer).
    pub fn host_match_len(&self, host: &str) -> Option<usize> {
        self.hosts()
            .filter(|h| host_matches(host, h))
            .map(str::len)
            .max()
    }

    /// Whether the entry knows browser-side code or hosts for its destination.
    pub fn has_browser_signature(&self) -> bool {
        self.classic_slug.is_some() || self.action_dir.is_some() || self.hosts().next().is_some()
    }

    /// Whether a classic loader slug (plain or obfuscated) is this entry's.
    pub fn matches_slug(&self, slug: &str) -> bool {
        self.classic_slug
            .as_deref()
            .is_some_and(|s| s == slug || base64_unpadded(s) == slug)
    }
}

/// The destination signature catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalog {
    pub entries: Vec<Entry>,
}

impl Catalog {
    /// The catalog embedded in the binary (parsed once).
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Catalog::from_yaml(BUILTIN_YAML)
                .unwrap_or_else(|e| panic!("built-in destinations.yaml is invalid: {e}"))
        })
    }

    /// Parse a catalog file (a YAML list of entries).
    pub fn from_yaml(text: &str) -> Result<Catalog, serde_yaml::Error> {
        let entries: Vec<Entry> = serde_yaml::from_str(text)?;
        Ok(Catalog { entries })
    }

    /// The entry one of whose names is `name` (exact first, then ignoring ASCII case).
    pub fn by_name(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.names.iter().any(|n| n == name))
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|e| e.names.iter().any(|n| n.eq_ignore_ascii_case(name)))
            })
    }

    /// The entry with this id.
    pub fn by_id(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Every entry one of whose hosts `host` is or is a subdomain of, most specific match first.
    pub fn match_host(&self, host: &str) -> Vec<&Entry> {
        let mut hits: Vec<(usize, usize, &Entry)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.host_match_len(host).map(|l| (l, i, e)))
            .collect();
        hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        hits.into_iter().map(|(_, _, e)| e).collect()
    }

    /// Every entry one of whose payload signatures `req` carries, with the signature that
    /// matched, in file order.
    pub fn match_payload(&self, req: &CapturedRequest) -> Vec<(&Entry, &PayloadSignature)> {
        self.entries
            .iter()
            .filter_map(|e| e.payload.iter().find(|s| s.matches(req)).map(|s| (e, s)))
            .collect()
    }

    /// The entry whose destination code a Segment CDN path loads (classic slug, plain or
    /// obfuscated, or action directory).
    pub fn match_loader_path(&self, path: &str) -> Option<&Entry> {
        match load_kind_of_path(path)? {
            LoadKind::ClassicDestination { slug } => {
                self.entries.iter().find(|e| e.matches_slug(&slug))
            }
            LoadKind::ActionDestination { dir } => self
                .entries
                .iter()
                .find(|e| e.action_dir.as_deref() == Some(dir.as_str())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::segment::CdnSettings;
    use std::collections::BTreeSet;

    #[test]
    fn builtin_parses_and_is_consistent() {
        let c = Catalog::builtin();
        assert!(c.entries.len() >= 25, "{} entries", c.entries.len());
        let mut ids = BTreeSet::new();
        let mut names = BTreeSet::new();
        for e in &c.entries {
            assert!(ids.insert(e.id.as_str()), "duplicate id {}", e.id);
            assert!(!e.names.is_empty(), "{} has no names", e.id);
            assert!(!e.source.trim().is_empty(), "{} has no source", e.id);
            for n in &e.names {
                assert!(names.insert(n.as_str()), "name {n} used twice");
            }
            for h in e.hosts() {
                assert!(
                    !h.is_empty()
                        && h == h.to_ascii_lowercase()
                        && !h.contains(['/', '*', ':', ' '])
                        && !h.starts_with('.'),
                    "{}: bad host {h:?}",
                    e.id
                );
                for cmp in [
                    "cookielaw.org",
                    "onetrust.com",
                    "cookiebot.com",
                    "segment.com",
                    "segment.io",
                ] {
                    assert!(
                        !host_matches(h, cmp),
                        "{}: {h} is not a destination host",
                        e.id
                    );
                }
            }
            if let Some(slug) = &e.classic_slug {
                assert!(
                    e.names
                        .iter()
                        .any(|n| &CdnSettings::classic_slug(n) == slug),
                    "{}: slug {slug} does not follow from its names",
                    e.id
                );
            }
            for sig in &e.payload {
                assert!(sig.validate().is_ok(), "{}: {:?}", e.id, sig.validate());
                assert!(
                    sig.doc.starts_with("https://"),
                    "{}: cite the vendor's doc",
                    e.id
                );
            }
            assert!(
                e.default_mode.is_some() || e.has_browser_signature(),
                "{} has no signature",
                e.id
            );
        }
    }

    #[test]
    fn lookups() {
        let c = Catalog::builtin();
        assert_eq!(c.by_name("Facebook Pixel").unwrap().id, "facebook-pixel");
        assert_eq!(
            c.by_name("Amplitude (Actions)").unwrap().id,
            "actions-amplitude"
        );
        assert_eq!(
            c.by_name("hubspot web (actions)").unwrap().id,
            "hubspot-web"
        );
        assert!(c.by_name("Nope").is_none());

        let ids = |v: Vec<&Entry>| v.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(c.match_host("www.facebook.com")),
            ["facebook-pixel", "facebook-conversions-api-web"]
        );
        assert!(c.match_host("notfacebook.com").is_empty());
        assert!(c.match_host("facebook.com.evil.example").is_empty());
        let ga = ids(c.match_host("region1.google-analytics.com"));
        assert!(ga.contains(&"google-analytics-4".to_string()));
        // Most specific first.
        assert_eq!(ids(c.match_host("track.hubspot.com"))[0], "hubspot");
        assert!(host_matches("A.B.example.COM", "b.example.com"));
        assert!(!host_matches("ab.example.com", "b.example.com"));

        assert_eq!(
            c.match_loader_path(
                "/next-integrations/integrations/facebook-pixel/2.11.4/facebook-pixel.dynamic.js.gz"
            )
            .unwrap()
            .id,
            "facebook-pixel"
        );
        assert_eq!(
            c.match_loader_path(
                "/next-integrations/integrations/ZmFjZWJvb2stcGl4ZWw/2.11.4/x.js.gz"
            )
            .unwrap()
            .id,
            "facebook-pixel"
        );
        assert_eq!(
            c.match_loader_path("/proxy/next-integrations/actions/amplitude-plugins/abc.js")
                .unwrap()
                .id,
            "actions-amplitude"
        );
        assert!(
            c.match_loader_path("/next-integrations/actions/unknown/abc.js")
                .is_none()
        );
        assert!(
            c.match_loader_path("/analytics-next/bundles/x.js")
                .is_none()
        );
    }
}
