//! Which destination received what: device mode by network signature (destination code loaded,
//! vendor hosts contacted), cloud mode by Segment's documented server routing rules applied to each
//! decoded event (docs/segment.md §3.4; device mode: §6).

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::analysis::catalog::{Catalog, Entry, host_matches};
use crate::analysis::segment::base64_unpadded;
use crate::analysis::segment::decode::{ConsentStamp, Decoded, LoadKind, RequestKind, classify};
use crate::analysis::segment::settings::CdnSettings;
use crate::capture::{Capture, CapturedRequest, Phase, url_host};
use crate::spec::types::{Call, Mode, Spec};

/// Where a destination's mode came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeSource {
    /// The spec's `mode`.
    Spec,
    /// The catalog marks its browser part as enrichment only (cloud).
    Catalog,
    /// The settings load it in the browser.
    Settings,
    /// The catalog knows its code or hosts, or the spec gives hosts.
    Signature,
    /// Nothing says device mode.
    Default,
}

/// Where a destination's consent categories came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CategorySource {
    Spec,
    /// `integrations[<name>].consentSettings.categories`.
    Settings,
    /// Unmapped: Segment delivers it every stamped event.
    None,
}

/// How a destination received something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ReceptionKind {
    /// Its Segment destination code was requested (`/next-integrations/…`); `code` is
    /// `integrations/<slug>` or `actions/<dir>`.
    CodeLoaded { code: String, path: String },
    /// One of its hosts was contacted.
    HostContacted { host: String, path: String },
    /// A WebSocket to one of its hosts was opened; frames the page sent on it, counted (values
    /// are never recorded).
    SocketOpened {
        host: String,
        path: String,
        frames_sent: u64,
        bytes_sent: u64,
    },
    /// (Cloud mode) an event Segment's servers would deliver to it; `event` indexes
    /// `Decoded::events`.
    Event {
        event: usize,
        call: Call,
        name: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reception {
    pub seq: u64,
    pub at_ms: u64,
    pub phase: Phase,
    #[serde(flatten)]
    pub kind: ReceptionKind,
}

/// What one declared destination received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub name: String,
    pub mode: Mode,
    pub mode_source: ModeSource,
    pub categories: Vec<String>,
    pub categories_source: CategorySource,
    /// Catalog entry id, when the catalog knows it.
    pub catalog: Option<String>,
    /// In request order.
    pub receptions: Vec<Reception>,
}

impl Reception {
    /// One line for failure evidence: `destination code actions/fullstory loaded (/next-…/x.js)`.
    pub fn describe(&self) -> String {
        match &self.kind {
            ReceptionKind::CodeLoaded { code, path } => {
                format!("destination code {code} loaded ({path})")
            }
            ReceptionKind::HostContacted { host, path } => format!("request to {host}{path}"),
            ReceptionKind::SocketOpened {
                host,
                path,
                frames_sent,
                bytes_sent,
            } => format!(
                "WebSocket to {host}{path} ({frames_sent} frame{} sent, {bytes_sent} bytes; values not recorded)",
                if *frames_sent == 1 { "" } else { "s" }
            ),
            ReceptionKind::Event { call, name, .. } => {
                format!(
                    "{} routed by Segment's servers",
                    describe_call(*call, name.as_deref())
                )
            }
        }
    }

    /// Stable text for snapshots (no times, ids or hashed file names): `after: host
    /// connect.facebook.net`, `before: code integrations/facebook-pixel`, `after: event track "X"`.
    pub fn normalised(&self) -> String {
        let phase = match self.phase {
            Phase::Before => "before",
            Phase::After => "after",
        };
        let what = match &self.kind {
            ReceptionKind::CodeLoaded { code, .. } => format!("code {code}"),
            ReceptionKind::HostContacted { host, .. } => format!("host {host}"),
            ReceptionKind::SocketOpened { host, .. } => format!("socket {host}"),
            ReceptionKind::Event { call, name, .. } => {
                format!("event {}", describe_call(*call, name.as_deref()))
            }
        };
        format!("{phase}: {what}")
    }
}

fn describe_call(call: Call, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{} {n:?}", call.as_str()),
        None => call.as_str().to_string(),
    }
}

impl Outcome {
    pub fn received(&self) -> bool {
        !self.receptions.is_empty()
    }

    /// Receptions at or after `from_ms` (the judging window of a state with steps).
    pub fn receptions_since(&self, from_ms: u64) -> impl Iterator<Item = &Reception> {
        self.receptions.iter().filter(move |r| r.at_ms >= from_ms)
    }
}

/// Why a destination the spec does not declare is believed to exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Evidence {
    Settings { detail: String },
    CodeLoaded { seq: u64, path: String },
    HostContacted { seq: u64, host: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undeclared {
    pub name: String,
    pub catalog: Option<String>,
    pub evidence: Vec<Evidence>,
}

/// Everything routing found in one capture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Routing {
    /// One per declared destination, in spec order.
    pub destinations: IndexMap<String, Outcome>,
    /// For each decoded event (same index as `Decoded::events`), the cloud destinations Segment's
    /// servers would deliver it to, in spec order.
    pub event_destinations: Vec<Vec<String>>,
    /// Sorted by name.
    pub undeclared: Vec<Undeclared>,
    /// Third-party hosts contacted that belong to no destination, no site origin and not Segment.
    pub other_hosts: BTreeSet<String>,
}

/// Whether Segment's servers deliver an event with this stamp and `integrations` object to the
/// destination `name` mapped to `categories` (docs/segment.md §3.4):
/// - no consent object, or one without `categoryPreferences` → consent does not filter;
/// - no categories (unmapped) → every event;
/// - otherwise every category must be `true` (missing = false; `{}` = all false);
/// - then the `integrations` object: `<name>: false` disables, `All: false` disables unless
///   `<name>` is `true` or an object.
pub fn cloud_delivers(
    stamp: &ConsentStamp,
    integrations: &Map<String, Value>,
    name: &str,
    categories: &[String],
) -> bool {
    cloud_delivers_any(stamp, integrations, &[name], categories)
}

/// [`cloud_delivers`] for a destination known by several names (the first `integrations` key
/// found, in `names` order, decides).
pub fn cloud_delivers_any(
    stamp: &ConsentStamp,
    integrations: &Map<String, Value>,
    names: &[&str],
    categories: &[String],
) -> bool {
    consent_allows(stamp, categories) && integrations_allow(integrations, names)
}

fn consent_allows(stamp: &ConsentStamp, categories: &[String]) -> bool {
    match stamp {
        ConsentStamp::Absent | ConsentStamp::NoPreferences => true,
        ConsentStamp::Preferences(prefs) => categories
            .iter()
            .all(|c| prefs.get(c).copied().unwrap_or(false)),
    }
}

fn integration_enabled(v: &Value) -> Option<bool> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(*b),
        // An options object (or any other value) enables the destination.
        _ => Some(true),
    }
}

fn integrations_allow(integrations: &Map<String, Value>, names: &[&str]) -> bool {
    names
        .iter()
        .find_map(|n| integrations.get(*n).and_then(integration_enabled))
        .or_else(|| integrations.get("All").and_then(integration_enabled))
        .unwrap_or(true)
}

/// Names a declared destination goes by: its spec name, its catalog names, and the remote plugin
/// name/creationName the settings give it.
fn aliases(name: &str, entry: Option<&Entry>, settings: Option<&CdnSettings>) -> Vec<String> {
    let mut out = vec![name.to_string()];
    let mut push = |n: &str| {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    };
    if let Some(e) = entry {
        e.names.iter().for_each(|n| push(n));
    }
    if let Some(s) = settings {
        for p in &s.remote_plugins {
            if p.name == name || p.creation_name == name {
                push(&p.creation_name);
                push(&p.name);
            }
        }
    }
    out
}

/// The `id=` or `tid=` query value of a URL (Google's shared hosts use it to name the product).
fn query_id(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        matches!(k, "id" | "tid").then_some(v)
    })
}

/// Catalog entries a request's host belongs to, after telling shared Google hosts apart by id.
fn host_candidates<'c>(catalog: &'c Catalog, req: &CapturedRequest, host: &str) -> Vec<&'c Entry> {
    let mut cands = catalog.match_host(host);
    if let Some(id) = query_id(&req.url) {
        let hit = |e: &Entry| e.id_prefixes.iter().any(|p| id.starts_with(p.as_str()));
        if cands.iter().any(|e| hit(e)) {
            cands.retain(|e| e.id_prefixes.is_empty() || hit(e));
        }
    }
    cands
}

/// Keep only the candidates with the most specific host match.
fn most_specific<'c>(cands: Vec<&'c Entry>, host: &str) -> Vec<&'c Entry> {
    let best = cands
        .iter()
        .filter_map(|e| e.host_match_len(host))
        .max()
        .unwrap_or(0);
    cands
        .into_iter()
        .filter(|e| e.host_match_len(host) == Some(best))
        .collect()
}

/// HTTP(S) and WebSocket URLs: what can reach a vendor.
fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    ["http://", "https://", "ws://", "wss://"]
        .iter()
        .any(|s| lower.starts_with(s))
}

fn strip_www(h: &str) -> &str {
    h.strip_prefix("www.").unwrap_or(h)
}

const SEGMENT_DOMAINS: [&str; 4] = [
    "segment.com",
    "segment.io",
    "segmentapis.com",
    "segment.build",
];

/// A declared destination while routing.
struct Target<'a> {
    name: &'a str,
    aliases: Vec<String>,
    entry: Option<&'a Entry>,
    slugs: Vec<String>,
    dirs: Vec<String>,
    hosts: &'a [String],
    outcome: Outcome,
}

impl Target<'_> {
    fn matches_load(&self, load: &LoadKind) -> bool {
        match load {
            LoadKind::ClassicDestination { slug } => self
                .slugs
                .iter()
                .any(|s| s == slug || &base64_unpadded(s) == slug),
            LoadKind::ActionDestination { dir } => self.dirs.iter().any(|d| d == dir),
            _ => false,
        }
    }
}

#[derive(Default)]
struct UndeclaredSet(BTreeMap<String, Undeclared>);

impl UndeclaredSet {
    fn add(&mut self, name: &str, catalog: Option<&Entry>, ev: Evidence) {
        let u = self
            .0
            .entry(name.to_string())
            .or_insert_with(|| Undeclared {
                name: name.to_string(),
                catalog: catalog.map(|e| e.id.clone()),
                evidence: Vec::new(),
            });
        if u.catalog.is_none() {
            u.catalog = catalog.map(|e| e.id.clone());
        }
        if !u.evidence.contains(&ev) {
            u.evidence.push(ev);
        }
    }
}

/// Route one capture: see the module docs.
pub fn route(
    spec: &Spec,
    settings: Option<&CdnSettings>,
    capture: &Capture,
    decoded: &Decoded,
) -> Routing {
    route_with(Catalog::builtin(), spec, settings, capture, decoded)
}

/// [`route`] with an explicit catalog.
pub fn route_with(
    catalog: &Catalog,
    spec: &Spec,
    settings: Option<&CdnSettings>,
    capture: &Capture,
    decoded: &Decoded,
) -> Routing {
    // 1. Declared destinations: mode, categories, signatures.
    let mut targets: Vec<Target> = spec
        .destinations
        .iter()
        .map(|(name, d)| {
            let entry = catalog.by_name(name);
            let aliases = aliases(name, entry, settings);
            let in_settings = |f: &dyn Fn(&CdnSettings, &str) -> bool| {
                settings.is_some_and(|s| aliases.iter().any(|a| f(s, a)))
            };
            let (mode, mode_source) = if let Some(m) = d.mode {
                (m, ModeSource::Spec)
            } else if let Some(m) = entry.and_then(|e| e.default_mode) {
                (m.mode(), ModeSource::Catalog)
            } else if in_settings(&|s, a| s.is_device_mode(a)) {
                (Mode::Device, ModeSource::Settings)
            } else if entry.is_some_and(Entry::has_browser_signature) || !d.hosts.is_empty() {
                (Mode::Device, ModeSource::Signature)
            } else {
                (Mode::Cloud, ModeSource::Default)
            };
            let settings_categories = settings.and_then(|s| {
                aliases
                    .iter()
                    .find_map(|a| s.categories(a))
                    .map(<[String]>::to_vec)
            });
            let (categories, categories_source) = match (&d.categories, settings_categories) {
                (Some(c), _) => (c.clone(), CategorySource::Spec),
                (None, Some(c)) => (c, CategorySource::Settings),
                (None, None) => (Vec::new(), CategorySource::None),
            };
            let mut slugs: Vec<String> = aliases
                .iter()
                .map(|a| CdnSettings::classic_slug(a))
                .collect();
            slugs.extend(entry.and_then(|e| e.classic_slug.clone()));
            let mut dirs: Vec<String> = settings
                .map(|s| aliases.iter().filter_map(|a| s.action_dir_for(a)).collect())
                .unwrap_or_default();
            dirs.extend(entry.and_then(|e| e.action_dir.clone()));
            Target {
                name,
                entry,
                slugs,
                dirs,
                hosts: &d.hosts,
                outcome: Outcome {
                    name: name.clone(),
                    mode,
                    mode_source,
                    categories,
                    categories_source,
                    catalog: entry.map(|e| e.id.clone()),
                    receptions: Vec::new(),
                },
                aliases,
            }
        })
        .collect();
    let declared_entry_ids: BTreeSet<&str> = targets
        .iter()
        .filter_map(|t| t.entry.map(|e| e.id.as_str()))
        .collect();
    let is_declared = |n: &str| targets.iter().any(|t| t.aliases.iter().any(|a| a == n));
    let settings_names: Vec<String> = settings
        .map(CdnSettings::declared_names)
        .unwrap_or_default();
    // The name an undeclared catalog entry goes by: the settings key when the settings name it.
    let entry_name = |e: &Entry| -> String {
        e.names
            .iter()
            .find(|n| settings_names.contains(n))
            .unwrap_or(&e.names[0])
            .clone()
    };

    let mut undeclared = UndeclaredSet::default();

    // 2. Undeclared destinations the settings name.
    if let Some(s) = settings {
        for n in s.declared_names() {
            if is_declared(&n) {
                continue;
            }
            let detail = if s.remote_plugin(&n).is_some() {
                "remotePlugins entry (device mode, action destination)".to_string()
            } else if s.is_device_mode(&n) {
                "integrations entry (device mode)".to_string()
            } else {
                "integrations entry".to_string()
            };
            undeclared.add(&n, catalog.by_name(&n), Evidence::Settings { detail });
        }
    }

    // 3. Requests: destination code and hosts.
    let site_hosts: Vec<String> = std::iter::once(spec.site.url.as_str())
        .chain(spec.site.serve.keys().map(String::as_str))
        .chain(
            spec.site
                .pages
                .iter()
                .map(String::as_str)
                .filter(|p| is_web_url(p)),
        )
        .map(|u| strip_www(&url_host(u)).to_string())
        .filter(|h| !h.is_empty())
        .collect();
    let api_host = settings
        .and_then(CdnSettings::api_host)
        .map(|h| url_host(&format!("https://{h}")));
    let mut reqs: Vec<&CapturedRequest> = capture.requests.iter().collect();
    reqs.sort_by_key(|r| (r.at_ms, r.seq));
    let kinds: Vec<RequestKind> = reqs.iter().map(|r| classify(r)).collect();
    let segment_hosts: BTreeSet<String> = reqs
        .iter()
        .zip(&kinds)
        .filter(|(_, k)| k.is_segment())
        .map(|(r, _)| r.host())
        .chain(api_host)
        .collect();
    let mut other_hosts = BTreeSet::new();
    for (req, kind) in reqs.iter().zip(&kinds) {
        if matches!(kind, RequestKind::Preflight) || !is_web_url(&req.url) {
            continue;
        }
        let reception = |kind: ReceptionKind| Reception {
            seq: req.seq,
            at_ms: req.at_ms,
            phase: req.phase,
            kind,
        };
        if let RequestKind::Load(
            load @ (LoadKind::ClassicDestination { .. } | LoadKind::ActionDestination { .. }),
        ) = kind
        {
            let path = req.path().to_string();
            let code = match load {
                LoadKind::ClassicDestination { slug } => format!("integrations/{slug}"),
                LoadKind::ActionDestination { dir } => format!("actions/{dir}"),
                _ => unreachable!("matched above"),
            };
            let mut claimed = false;
            for t in targets.iter_mut().filter(|t| t.matches_load(load)) {
                claimed = true;
                t.outcome
                    .receptions
                    .push(reception(ReceptionKind::CodeLoaded {
                        code: code.clone(),
                        path: path.clone(),
                    }));
            }
            if !claimed {
                let entry = catalog.match_loader_path(&path);
                let name = match (load, entry) {
                    (_, Some(e)) => entry_name(e),
                    (LoadKind::ClassicDestination { slug }, None) => settings_names
                        .iter()
                        .find(|n| {
                            let s = CdnSettings::classic_slug(n);
                            &s == slug || &base64_unpadded(&s) == slug
                        })
                        .cloned()
                        .unwrap_or_else(|| format!("classic destination `{slug}`")),
                    (LoadKind::ActionDestination { dir }, None) => settings
                        .and_then(|s| {
                            s.remote_plugins
                                .iter()
                                .find(|p| CdnSettings::action_dir(&p.url).as_deref() == Some(dir))
                        })
                        .map(|p| p.creation_name.clone())
                        .unwrap_or_else(|| format!("action destination `{dir}`")),
                    _ => unreachable!("matched above"),
                };
                undeclared.add(&name, entry, Evidence::CodeLoaded { seq: req.seq, path });
            }
            continue;
        }
        if kind.is_segment() {
            continue;
        }
        let host = req.host();
        if host.is_empty() {
            continue;
        }
        let path = req.path().to_string();
        // A WebSocket handshake is contact like any request; its frames are counted.
        let contact = || {
            if req.is_socket() {
                let frames = capture.socket(req.seq);
                ReceptionKind::SocketOpened {
                    host: host.clone(),
                    path: path.clone(),
                    frames_sent: frames.map_or(0, |f| f.sent),
                    bytes_sent: frames.map_or(0, |f| f.sent_bytes),
                }
            } else {
                ReceptionKind::HostContacted {
                    host: host.clone(),
                    path: path.clone(),
                }
            }
        };
        let mut claimed = false;
        for t in targets.iter_mut() {
            if t.hosts.iter().any(|h| host_matches(&host, h)) {
                claimed = true;
                t.outcome.receptions.push(reception(contact()));
            }
        }
        let cands = host_candidates(catalog, req, &host);
        let declared_cands: Vec<&Entry> = cands
            .iter()
            .copied()
            .filter(|e| declared_entry_ids.contains(e.id.as_str()))
            .collect();
        if !declared_cands.is_empty() {
            let best: BTreeSet<&str> = most_specific(declared_cands, &host)
                .into_iter()
                .map(|e| e.id.as_str())
                .collect();
            for t in targets.iter_mut() {
                let hit = t.entry.is_some_and(|e| best.contains(e.id.as_str()));
                let already = t.hosts.iter().any(|h| host_matches(&host, h));
                if hit && !already {
                    claimed = true;
                    t.outcome.receptions.push(reception(contact()));
                }
            }
        }
        if claimed {
            continue;
        }
        if !cands.is_empty() {
            let best = most_specific(cands, &host);
            let pick = best
                .iter()
                .find(|e| e.names.iter().any(|n| settings_names.contains(n)))
                .or(best.first())
                .copied();
            if let Some(e) = pick {
                undeclared.add(
                    &entry_name(e),
                    Some(e),
                    Evidence::HostContacted {
                        seq: req.seq,
                        host: host.clone(),
                    },
                );
            }
            continue;
        }
        let first_party = site_hosts
            .iter()
            .any(|s| host_matches(strip_www(&host), s) || host_matches(&host, s));
        let segment =
            segment_hosts.contains(&host) || SEGMENT_DOMAINS.iter().any(|d| host_matches(&host, d));
        if !first_party && !segment {
            other_hosts.insert(host);
        }
    }

    // 4. Cloud routing of every decoded event.
    let mut event_destinations = Vec::with_capacity(decoded.events.len());
    for (i, ev) in decoded.events.iter().enumerate() {
        let mut dests = Vec::new();
        for t in targets.iter_mut().filter(|t| t.outcome.mode == Mode::Cloud) {
            let names: Vec<&str> = t.aliases.iter().map(String::as_str).collect();
            if cloud_delivers_any(&ev.consent, &ev.integrations, &names, &t.outcome.categories) {
                dests.push(t.name.to_string());
                t.outcome.receptions.push(Reception {
                    seq: ev.seq,
                    at_ms: ev.at_ms,
                    phase: ev.phase,
                    kind: ReceptionKind::Event {
                        event: i,
                        call: ev.call,
                        name: ev.name.clone(),
                    },
                });
            }
        }
        event_destinations.push(dests);
    }

    let mut destinations = IndexMap::new();
    for mut t in targets {
        t.outcome.receptions.sort_by_key(|r| (r.at_ms, r.seq));
        destinations.insert(t.name.to_string(), t.outcome);
    }
    Routing {
        destinations,
        event_destinations,
        undeclared: undeclared.0.into_values().collect(),
        other_hosts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::segment::decode;
    use crate::capture::Answer;
    use crate::spec::types::{
        ConsentModel, Destination, Library, Regime, SegmentOptions, Site, Timing,
    };
    use serde_json::json;
    use std::path::PathBuf;

    fn prefs(pairs: &[(&str, bool)]) -> ConsentStamp {
        ConsentStamp::Preferences(pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect())
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn cats(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn consent_rules() {
        let none = Map::new();
        let ad = cats(&["ad"]);
        // No consent object / consent without categoryPreferences: every destination.
        assert!(cloud_delivers(&ConsentStamp::Absent, &none, "FB", &ad));
        assert!(cloud_delivers(
            &ConsentStamp::NoPreferences,
            &none,
            "FB",
            &ad
        ));
        // Unmapped destination: every stamped event, even with everything denied.
        assert!(cloud_delivers(&prefs(&[("ad", false)]), &none, "FB", &[]));
        assert!(cloud_delivers(&prefs(&[]), &none, "FB", &[]));
        // Mapped: the category must be true; missing = false; {} = all false.
        assert!(cloud_delivers(&prefs(&[("ad", true)]), &none, "FB", &ad));
        assert!(!cloud_delivers(&prefs(&[("ad", false)]), &none, "FB", &ad));
        assert!(!cloud_delivers(
            &prefs(&[("analytics", true)]),
            &none,
            "FB",
            &ad
        ));
        assert!(!cloud_delivers(&prefs(&[]), &none, "FB", &ad));
        // Several categories: all must be true.
        let two = cats(&["ad", "analytics"]);
        assert!(cloud_delivers(
            &prefs(&[("ad", true), ("analytics", true)]),
            &none,
            "FB",
            &two
        ));
        assert!(!cloud_delivers(
            &prefs(&[("ad", true), ("analytics", false)]),
            &none,
            "FB",
            &two
        ));
    }

    #[test]
    fn integrations_rules() {
        let s = ConsentStamp::Absent;
        assert!(!cloud_delivers(&s, &map(json!({"FB": false})), "FB", &[]));
        assert!(cloud_delivers(&s, &map(json!({"Other": false})), "FB", &[]));
        assert!(!cloud_delivers(&s, &map(json!({"All": false})), "FB", &[]));
        assert!(cloud_delivers(
            &s,
            &map(json!({"All": false, "FB": true})),
            "FB",
            &[]
        ));
        assert!(cloud_delivers(
            &s,
            &map(json!({"All": false, "FB": {"opt": 1}})),
            "FB",
            &[]
        ));
        assert!(!cloud_delivers(
            &s,
            &map(json!({"All": true, "FB": false})),
            "FB",
            &[]
        ));
        assert!(cloud_delivers(&s, &map(json!({"FB": null})), "FB", &[]));
        // Keys are case-sensitive.
        assert!(cloud_delivers(&s, &map(json!({"fb": false})), "FB", &[]));
        // Consent first: the integrations object cannot re-enable a denied category.
        assert!(!cloud_delivers(
            &prefs(&[("ad", false)]),
            &map(json!({"FB": true})),
            "FB",
            &cats(&["ad"])
        ));
        // Aliases: the first key found decides.
        assert!(!cloud_delivers_any(
            &s,
            &map(json!({"Amplitude (Actions)": false})),
            &["Actions Amplitude", "Amplitude (Actions)"],
            &[]
        ));
    }

    /// docs/segment.md §3.4, the table in segment-docs
    /// `privacy/consent-management/consent-in-segment-connections.md` ("Reconcile consent object and
    /// integrations object conflicts"). Destinations: facebook, google-ads (ad), amplitude.
    #[test]
    fn segment_docs_table() {
        let deliver =
            |stamp: &ConsentStamp, integ: Value, fb: &[&str], ga: &[&str], amp: &[&str]| {
                let integ = map(integ);
                let mut out = Vec::new();
                for (name, c) in [("facebook", fb), ("google-ads", ga), ("amplitude", amp)] {
                    if cloud_delivers(stamp, &integ, name, &cats(c)) {
                        out.push(name);
                    }
                }
                out
            };
        let all = vec!["facebook", "google-ads", "amplitude"];
        let fb_false_amp = json!({"facebook": true, "amplitude": false});
        // Row 1: no or empty consent object, no integrations → all destinations.
        assert_eq!(
            deliver(
                &ConsentStamp::Absent,
                json!({}),
                &["ad"],
                &["ad"],
                &["analytics"]
            ),
            all
        );
        assert_eq!(
            deliver(
                &ConsentStamp::NoPreferences,
                json!({}),
                &["ad"],
                &["ad"],
                &["analytics"]
            ),
            all
        );
        // Row 2: empty categoryPreferences → no mapped destination, unmapped ones still.
        assert_eq!(
            deliver(&prefs(&[]), json!({}), &["ad"], &["ad"], &[]),
            vec!["amplitude"]
        );
        // Row 3: no consent, {facebook: true, amplitude: false} → facebook (and the unlisted google-ads).
        assert_eq!(
            deliver(
                &ConsentStamp::Absent,
                fb_false_amp.clone(),
                &["ad"],
                &["ad"],
                &["analytics"]
            ),
            vec!["facebook", "google-ads"]
        );
        // Row 4 (categoryPreferences: {} variant): mapped destinations get nothing, unmapped ones
        // follow the integrations object. (The doc's `consent: {}` variant of this row contradicts
        // row 1; consent-gates follows row 1, see docs/segment.md §3.4.)
        assert_eq!(
            deliver(&prefs(&[]), fb_false_amp.clone(), &["ad"], &[], &[]),
            vec!["google-ads"]
        );
        let ad_only = prefs(&[("ad", true), ("analytics", false)]);
        // Row 5: categories unmapped in Segment → all destinations.
        assert_eq!(deliver(&ad_only, json!({}), &[], &[], &[]), all);
        // Row 6: ad = facebook, google-ads → both ad destinations, no analytics.
        assert_eq!(
            deliver(&ad_only, json!({}), &["ad"], &["ad"], &["analytics"]),
            vec!["facebook", "google-ads"]
        );
        // Row 7: + {facebook: true, amplitude: false} → facebook and google-ads.
        assert_eq!(
            deliver(
                &ad_only,
                fb_false_amp.clone(),
                &["ad"],
                &["ad"],
                &["analytics"]
            ),
            vec!["facebook", "google-ads"]
        );
        // Row 8: {facebook: false, amplitude: false} → only google-ads.
        assert_eq!(
            deliver(
                &ad_only,
                json!({"facebook": false, "amplitude": false}),
                &["ad"],
                &["ad"],
                &["analytics"]
            ),
            vec!["google-ads"]
        );
        // Row 9: facebook mapped to ad + analytics → only google-ads.
        assert_eq!(
            deliver(
                &ad_only,
                fb_false_amp.clone(),
                &["ad", "analytics"],
                &["ad"],
                &["analytics"]
            ),
            vec!["google-ads"]
        );
        // Row 10: {ad: true, analytics: true} → google-ads and facebook, not amplitude (integrations).
        assert_eq!(
            deliver(
                &prefs(&[("ad", true), ("analytics", true)]),
                fb_false_amp.clone(),
                &["ad", "analytics"],
                &["ad"],
                &["analytics"]
            ),
            vec!["facebook", "google-ads"]
        );
        // Row 11: {ad: false, analytics: true} → nothing.
        assert!(
            deliver(
                &prefs(&[("ad", false), ("analytics", true)]),
                fb_false_amp,
                &["ad", "analytics"],
                &["ad"],
                &["analytics"]
            )
            .is_empty()
        );
    }

    fn spec(dests: Vec<(&str, Destination)>) -> Spec {
        Spec {
            name: "t".into(),
            path: PathBuf::from("specs/t.yaml"),
            site: Site {
                url: "https://shop.example/".into(),
                serve: [(
                    "https://static.shop.example".to_string(),
                    PathBuf::from("x"),
                )]
                .into_iter()
                .collect(),
                offline: true,
                pages: vec!["/product/1".into()],
            },
            segment: SegmentOptions {
                settings: None,
                library: Library::Bundled,
                deliver: false,
            },
            regime: Regime::Gdpr,
            consent_model: ConsentModel::OptIn,
            pii: Vec::new(),
            categories: IndexMap::new(),
            cmp: None,
            destinations: dests.into_iter().map(|(n, d)| (n.to_string(), d)).collect(),
            states: IndexMap::new(),
            timing: Timing::default(),
            retries: 0,
        }
    }

    fn req(seq: u64, method: &str, url: &str, body: Option<String>) -> CapturedRequest {
        CapturedRequest {
            seq,
            at_ms: seq * 100,
            phase: if seq >= 10 {
                Phase::After
            } else {
                Phase::Before
            },
            method: method.into(),
            url: url.into(),
            resource_type: "other".into(),
            headers: BTreeMap::new(),
            body: body.map(String::into_bytes),
            answer: Answer::Sinkhole,
        }
    }

    fn settings() -> CdnSettings {
        CdnSettings::from_value(&json!({
            "integrations": {
                "Segment.io": {"apiKey": "WK", "apiHost": "collect.shop-proxy.example/v1"},
                "Facebook Pixel": {"bundlingStatus": "bundled",
                                   "versionSettings": {"componentTypes": ["browser"]},
                                   "consentSettings": {"categories": ["C0004"]}},
                "Actions Amplitude": {"consentSettings": {"categories": ["C0002"]}},
                "Hotjar": {"versionSettings": {"componentTypes": ["browser"]}},
                "Webhooks": {"bundlingStatus": "unbundled"}
            },
            "remotePlugins": [
                {"name": "Amplitude (Actions)", "creationName": "Actions Amplitude",
                 "url": "https://cdn.segment.com/next-integrations/actions/amplitude-plugins/1.js"},
                {"name": "Custom Thing (Actions)", "creationName": "Custom Thing",
                 "url": "https://cdn.segment.com/next-integrations/actions/custom-thing/1.js"}
            ]
        }))
        .unwrap()
    }

    fn ev(kind: &str, stamp: Value) -> String {
        json!({"type": kind, "event": "E", "name": "N", "writeKey": "WK", "messageId": "m",
               "anonymousId": "a", "context": {"consent": stamp}})
        .to_string()
    }

    #[test]
    fn device_mode_by_code_and_host() {
        let spec = spec(vec![
            ("Facebook Pixel", Destination::default()),
            ("Google Analytics 4", Destination::default()),
            ("Google AdWords New", Destination::default()),
            (
                "Support Chat",
                Destination {
                    hosts: vec!["chat.example.net".into()],
                    categories: Some(vec!["C0003".into()]),
                    ..Default::default()
                },
            ),
        ]);
        let s = settings();
        let capture = Capture {
            requests: vec![
                req(
                    1,
                    "GET",
                    "https://cdn.proxy.example/next-integrations/integrations/facebook-pixel/2.11.4/facebook-pixel.dynamic.js.gz",
                    None,
                ),
                req(
                    2,
                    "GET",
                    "https://connect.facebook.net/en_US/fbevents.js",
                    None,
                ),
                req(
                    3,
                    "GET",
                    "https://www.googletagmanager.com/gtag/js?id=G-123&l=ga4DataLayer",
                    None,
                ),
                req(
                    11,
                    "POST",
                    "https://region1.google-analytics.com/g/collect?v=2&tid=G-123",
                    Some(String::new()),
                ),
                req(12, "GET", "https://widget.chat.example.net/w.js", None),
                req(13, "OPTIONS", "https://px.unknown-tracker.example/x", None),
            ],
            ..Default::default()
        };
        let d = decode(&capture);
        let r = route(&spec, Some(&s), &capture, &d);
        let fb = &r.destinations["Facebook Pixel"];
        assert_eq!(
            (fb.mode, fb.mode_source),
            (Mode::Device, ModeSource::Settings)
        );
        assert_eq!(fb.categories, vec!["C0004".to_string()]);
        assert_eq!(fb.categories_source, CategorySource::Settings);
        assert_eq!(fb.receptions.len(), 2);
        assert!(matches!(
            fb.receptions[0].kind,
            ReceptionKind::CodeLoaded { .. }
        ));
        assert!(
            matches!(&fb.receptions[1].kind, ReceptionKind::HostContacted { host, .. } if host == "connect.facebook.net")
        );

        let ga = &r.destinations["Google Analytics 4"];
        assert_eq!(
            (ga.mode, ga.mode_source),
            (Mode::Device, ModeSource::Signature)
        );
        assert_eq!(ga.categories_source, CategorySource::None);
        assert_eq!(
            ga.receptions.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![3, 11]
        );
        assert_eq!(ga.receptions[1].phase, Phase::After);
        // The shared gtag host went to GA4 only: its id says G-.
        assert!(!r.destinations["Google AdWords New"].received());

        let chat = &r.destinations["Support Chat"];
        assert_eq!(
            (chat.mode, chat.categories_source),
            (Mode::Device, CategorySource::Spec)
        );
        assert_eq!(chat.receptions.len(), 1);
        // Preflights are ignored everywhere.
        assert!(r.other_hosts.is_empty(), "{:?}", r.other_hosts);
    }

    #[test]
    fn cloud_routing_and_event_destinations() {
        let spec = spec(vec![
            ("Actions Amplitude", Destination::default()),
            (
                "Mixpanel",
                Destination {
                    mode: Some(Mode::Cloud),
                    categories: Some(vec!["C0002".into(), "C0004".into()]),
                    ..Default::default()
                },
            ),
            ("Webhooks", Destination::default()),
            ("Facebook Pixel", Destination::default()),
        ]);
        let s = settings();
        let capture = Capture {
            requests: vec![
                req(1, "POST", "https://collect.shop-proxy.example/v1/p", Some(ev("page", json!(null)))),
                req(
                    11,
                    "POST",
                    "https://collect.shop-proxy.example/v1/t",
                    Some(ev("track", json!({"categoryPreferences": {"C0002": true, "C0004": false}}))),
                ),
                req(
                    12,
                    "POST",
                    "https://collect.shop-proxy.example/v1/b",
                    Some(
                        json!({"writeKey": "WK", "batch": [
                            {"type": "track", "event": "X", "messageId": "m2",
                             "context": {"consent": {"categoryPreferences": {"C0002": true, "C0004": true}}},
                             "integrations": {"Webhooks": false}}
                        ]})
                        .to_string(),
                    ),
                ),
            ],
            ..Default::default()
        };
        let d = decode(&capture);
        assert_eq!(d.events.len(), 3);
        let r = route(&spec, Some(&s), &capture, &d);
        let amp = &r.destinations["Actions Amplitude"];
        assert_eq!(
            (amp.mode, amp.mode_source),
            (Mode::Cloud, ModeSource::Catalog)
        );
        assert_eq!(amp.categories, vec!["C0002".to_string()]);
        let wh = &r.destinations["Webhooks"];
        assert_eq!(
            (wh.mode, wh.mode_source, wh.categories_source),
            (Mode::Cloud, ModeSource::Default, CategorySource::None)
        );
        let routes: Vec<Vec<&str>> = r
            .event_destinations
            .iter()
            .map(|e| e.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            routes,
            vec![
                vec!["Actions Amplitude", "Mixpanel", "Webhooks"],
                vec!["Actions Amplitude", "Webhooks"],
                vec!["Actions Amplitude", "Mixpanel"],
            ]
        );
        // Device-mode destinations never get cloud copies.
        assert!(!r.destinations["Facebook Pixel"].received());
        assert_eq!(amp.receptions[2].normalised(), "after: event track \"X\"");
        assert!(matches!(
            &amp.receptions[2].kind,
            ReceptionKind::Event { event: 2, call: Call::Track, name: Some(n) } if n == "X"
        ));
        // Segment's own (proxied) host is not "other".
        assert!(r.other_hosts.is_empty());
    }

    #[test]
    fn undeclared_and_other_hosts() {
        let spec = spec(vec![("Facebook Pixel", Destination::default())]);
        let s = settings();
        let capture = Capture {
            requests: vec![
                req(1, "GET", "https://shop.example/", None),
                req(2, "GET", "https://static.shop.example/app.js", None),
                req(
                    3,
                    "GET",
                    "https://cdn.segment.com/analytics.js/v1/WK/analytics.min.js",
                    None,
                ),
                req(
                    4,
                    "GET",
                    "https://cdn.segment.com/next-integrations/actions/custom-thing/1.js",
                    None,
                ),
                req(
                    5,
                    "GET",
                    "https://cdn.segment.com/next-integrations/integrations/hotjar/latest/hotjar.dynamic.js.gz",
                    None,
                ),
                req(6, "GET", "https://static.hotjar.com/c/hotjar-1.js", None),
                req(7, "GET", "https://bat.bing.com/bat.js", None),
                req(8, "GET", "https://fonts.example-cdn.net/font.woff", None),
                req(9, "GET", "data:image/png;base64,AAAA", None),
                req(
                    10,
                    "POST",
                    "https://api.segment.io/v1/m",
                    Some(r#"{"series":[]}"#.into()),
                ),
                req(14, "GET", "https://www.facebook.com/tr?id=1", None),
            ],
            ..Default::default()
        };
        let d = decode(&capture);
        let r = route(&spec, Some(&s), &capture, &d);
        let names: Vec<&str> = r.undeclared.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "Actions Amplitude",
                "Bing Ads",
                "Custom Thing",
                "Hotjar",
                "Webhooks"
            ]
        );
        let hotjar = r.undeclared.iter().find(|u| u.name == "Hotjar").unwrap();
        assert_eq!(hotjar.catalog.as_deref(), Some("hotjar"));
        assert_eq!(hotjar.evidence.len(), 3, "{:?}", hotjar.evidence);
        let custom = r
            .undeclared
            .iter()
            .find(|u| u.name == "Custom Thing")
            .unwrap();
        assert!(
            custom
                .evidence
                .iter()
                .any(|e| matches!(e, Evidence::CodeLoaded { seq: 4, .. }))
        );
        let bing = r.undeclared.iter().find(|u| u.name == "Bing Ads").unwrap();
        assert_eq!(
            bing.evidence,
            vec![Evidence::HostContacted {
                seq: 7,
                host: "bat.bing.com".into()
            }]
        );
        assert_eq!(
            r.other_hosts.iter().collect::<Vec<_>>(),
            vec!["fonts.example-cdn.net"]
        );
        assert_eq!(r.destinations["Facebook Pixel"].receptions.len(), 1);
    }

    #[test]
    fn without_settings_and_aliases() {
        // A spec may name an action destination by its display name; settings use creationName.
        let spec = spec(vec![("Amplitude (Actions)", Destination::default())]);
        let s = settings();
        let capture = Capture {
            requests: vec![req(
                1,
                "GET",
                "https://cdn.segment.com/next-integrations/actions/amplitude-plugins/1.js",
                None,
            )],
            ..Default::default()
        };
        let d = decode(&capture);
        let r = route(&spec, Some(&s), &capture, &d);
        let amp = &r.destinations["Amplitude (Actions)"];
        assert_eq!(amp.categories, vec!["C0002".to_string()]);
        assert_eq!(amp.receptions.len(), 1);
        assert!(!r.undeclared.iter().any(|u| u.name == "Actions Amplitude"));

        let r = route(&spec, None, &capture, &d);
        assert_eq!(
            r.destinations["Amplitude (Actions)"].categories_source,
            CategorySource::None
        );
        assert_eq!(r.destinations["Amplitude (Actions)"].receptions.len(), 1);
        assert!(r.undeclared.is_empty());
    }
}
