//! Attributing traffic: which requests and events reached each resolved destination. Device
//! mode by network signature (destination code loaded, vendor hosts contacted), cloud mode by
//! Segment's server rules ([`super::cloud`]) applied to each decoded event; traffic of no
//! declared destination names undeclared ones or lands in `other_hosts`.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use serde::Serialize;

use crate::analysis::catalog::{Catalog, Entry, host_matches};
use crate::analysis::segment::base64_unpadded;
use crate::analysis::segment::decode::{Decoded, LoadKind, RequestKind, classify};
use crate::analysis::segment::settings::CdnSettings;
use crate::capture::{
    Capture, CapturedRequest, Initiator, Phase, SocketFrames, is_web_url, url_host,
};
use crate::spec::types::{Call, Mode, Spec};

use super::cloud::cloud_delivers_any;
use super::resolve::{
    Evidence, Resolution, Resolved, Resolves, Signature, Undeclared, UndeclaredSet, resolve,
    resolve_with,
};

/// How a destination received something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ReceptionKind {
    /// Its Segment destination code was requested (`/next-integrations/…`); `code` is
    /// `integrations/<slug>` or `actions/<dir>`.
    CodeLoaded { code: String, path: String },
    /// One of its hosts was contacted.
    HostContacted { host: String, path: String },
    /// A request to a host that is not its own carried one of its payload signatures
    /// (`signature` says which); `first_party`: the host is the site's own (a first-party proxy,
    /// a CNAME'd collector, a server-side tag manager).
    Payload {
        host: String,
        path: String,
        signature: String,
        first_party: bool,
    },
    /// A WebSocket to one of its hosts was opened; frames the page sent on it, counted (values
    /// are never recorded).
    SocketOpened {
        host: String,
        path: String,
        frames_sent: u64,
        bytes_sent: u64,
    },
    /// A step sent the visitor to one of its hosts (a link, a form) with a URL or form that
    /// carries something identifying the visitor: `identifiers` names the parameters (never their
    /// values). The same navigation carrying nothing is a [`Departure`], not a reception.
    Navigated {
        host: String,
        path: String,
        identifiers: Vec<String>,
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
    pub(crate) seq: u64,
    pub(crate) at_ms: u64,
    pub(crate) phase: Phase,
    #[serde(flatten)]
    pub(crate) kind: ReceptionKind,
}

/// What one declared destination received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Its mode and categories, as resolved before any traffic.
    #[serde(flatten)]
    pub(crate) resolved: Resolved,
    /// In request order.
    pub(crate) receptions: Vec<Reception>,
}

impl Reception {
    /// One line for failure evidence: `destination code actions/fullstory loaded (/next-…/x.js)`.
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            ReceptionKind::CodeLoaded { code, path } => {
                format!("destination code {code} loaded ({path})")
            }
            ReceptionKind::HostContacted { host, path } => format!("request to {host}{path}"),
            ReceptionKind::Payload {
                host,
                path,
                signature,
                first_party,
            } => payload_words(signature, host, path, *first_party),
            ReceptionKind::SocketOpened {
                host,
                path,
                frames_sent,
                bytes_sent,
            } => format!(
                "WebSocket to {host}{path} ({frames_sent} frame{} sent, {bytes_sent} bytes; \
                 values not recorded)",
                if *frames_sent == 1 { "" } else { "s" }
            ),
            ReceptionKind::Navigated {
                host,
                path,
                identifiers,
            } => format!(
                "the visitor was sent to {host}{path} by a step, carrying {} ({})",
                if identifiers.len() == 1 {
                    "an identifier"
                } else {
                    "identifiers"
                },
                identifiers.join(", ")
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
    pub(crate) fn normalised(&self) -> String {
        let phase = match self.phase {
            Phase::Before => "before",
            Phase::After => "after",
        };
        let what = match &self.kind {
            ReceptionKind::CodeLoaded { code, .. } => format!("code {code}"),
            ReceptionKind::HostContacted { host, .. } => format!("host {host}"),
            ReceptionKind::Payload {
                host,
                signature,
                first_party,
                ..
            } => format!(
                "{signature} on host {host}{}",
                if *first_party {
                    " (first-party proxy)"
                } else {
                    ""
                }
            ),
            ReceptionKind::SocketOpened { host, .. } => format!("socket {host}"),
            ReceptionKind::Navigated {
                host, identifiers, ..
            } => format!("navigation to {host} carrying {}", identifiers.join(", ")),
            ReceptionKind::Event { call, name, .. } => {
                format!("event {}", describe_call(*call, name.as_deref()))
            }
        };
        format!("{phase}: {what}")
    }
}

/// `GA4 measurement protocol hit (gtag.js) sent to sgtm.shop.example/g/collect (first-party
/// proxy)`.
pub fn payload_words(signature: &str, host: &str, path: &str, first_party: bool) -> String {
    let how = if first_party {
        " (first-party proxy: a host of the site that forwards to the vendor)"
    } else {
        " (a host the catalog does not know, recognised by what it carries)"
    };
    format!("{signature} sent to {host}{path}{how}")
}

fn describe_call(call: Call, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{} {n:?}", call.as_str()),
        None => call.as_str().to_string(),
    }
}

impl Outcome {
    #[cfg(test)]
    pub(crate) fn received(&self) -> bool {
        !self.receptions.is_empty()
    }
}

/// Everything routing found in one capture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Routing {
    /// One per declared destination, in spec order.
    pub(crate) destinations: IndexMap<String, Outcome>,
    /// For each decoded event (same index as `Decoded::events`), the cloud destinations Segment's
    /// servers would deliver it to, in spec order.
    pub(crate) event_destinations: Vec<Vec<String>>,
    /// Sorted by name.
    pub undeclared: Vec<Undeclared>,
    /// Third-party hosts contacted that belong to no destination, not the site and not Segment.
    pub other_hosts: BTreeSet<String>,
    /// Every request to one of `other_hosts`, in time order (`unknown-recipient` judges them).
    pub unknown: Vec<UnknownRequest>,
    /// Top-level navigations away from the site that a step caused and that carry nothing
    /// identifying the visitor: the visitor's own choice to leave, not data the site sent.
    pub(crate) departures: Vec<Departure>,
}

/// A request to a third-party host that no destination claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownRequest {
    pub(crate) seq: u64,
    pub(crate) at_ms: u64,
    pub(crate) phase: Phase,
    pub method: String,
    pub host: String,
    pub(crate) path: String,
    /// Playwright's resource type (`script`, `image`, `fetch`, `ping`, `document`, …).
    pub resource_type: String,
    pub(crate) initiator: Initiator,
    /// The URL has a query or the request a body: it may carry something about the visitor.
    pub carries: bool,
}

impl UnknownRequest {
    /// `GET px.trk-relay.example/p.gif (requested by the page: image)`.
    pub(crate) fn describe(&self) -> String {
        let by = match self.initiator {
            Initiator::Page => format!("requested by the page: {}", self.resource_type),
            Initiator::Frame => "an iframe's document".to_string(),
            Initiator::Navigation => "a top-level navigation no step caused".to_string(),
            Initiator::StepNavigation { step } => format!("a navigation step {step} caused"),
            Initiator::Unrouted { target } => {
                let kind = serde_json::to_value(target)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                format!("sent past the routes by a {kind} target")
            }
        };
        format!("{} {}{} ({by})", self.method, self.host, self.path)
    }
}

/// The visitor left the site for `host` (a plain link, a form without personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Departure {
    pub(crate) seq: u64,
    pub(crate) at_ms: u64,
    pub(crate) phase: Phase,
    pub(crate) host: String,
    /// The step (1-based) that caused it.
    pub(crate) step: usize,
}

/// For each top-level navigation a step caused (by request `seq`), the names of the parameters
/// (query or form fields) that identify the visitor; empty or absent: it carries none.
pub type Carried = BTreeMap<u64, Vec<String>>;

impl Resolves for Routing {
    fn resolved(&self, name: &str) -> Option<&Resolved> {
        self.destinations.get(name).map(|o| &o.resolved)
    }
}

/// Route one capture: resolve the spec's destinations, then attribute the capture's traffic.
/// Every request counts as sent by the site; see [`route_carried`] for navigations the visitor
/// made.
pub fn route(
    spec: &Spec,
    settings: Option<&CdnSettings>,
    capture: &Capture,
    decoded: &Decoded,
) -> Routing {
    attribute(resolve(spec, settings), capture, decoded)
}

/// [`route`] with an explicit catalog.
pub fn route_with(
    catalog: &Catalog,
    spec: &Spec,
    settings: Option<&CdnSettings>,
    capture: &Capture,
    decoded: &Decoded,
) -> Routing {
    attribute(resolve_with(catalog, spec, settings), capture, decoded)
}

/// [`route`], telling the visitor's navigations apart: a top-level navigation away from the site
/// that a step caused is a [`Departure`] when `carried` names nothing for it, and a
/// [`ReceptionKind::Navigated`] naming what it carries otherwise.
pub fn route_carried(
    spec: &Spec,
    settings: Option<&CdnSettings>,
    capture: &Capture,
    decoded: &Decoded,
    carried: &Carried,
) -> Routing {
    attribute_carried(resolve(spec, settings), capture, decoded, Some(carried))
}

/// Which requests (in time order) and events reached each destination of `resolution`.
pub fn attribute(resolution: Resolution<'_>, capture: &Capture, decoded: &Decoded) -> Routing {
    attribute_carried(resolution, capture, decoded, None)
}

/// [`attribute`], with the visitor's navigations told apart by `carried` (see [`route_carried`]).
fn attribute_carried(
    resolution: Resolution<'_>,
    capture: &Capture,
    decoded: &Decoded,
    carried: Option<&Carried>,
) -> Routing {
    let mut reqs: Vec<&CapturedRequest> = capture.requests.iter().collect();
    reqs.sort_by_key(|r| (r.at_ms, r.seq));
    let kinds: Vec<RequestKind> = reqs.iter().map(|r| classify(r)).collect();
    let api_host = resolution
        .settings
        .and_then(CdnSettings::api_host)
        .map(|h| url_host(&format!("https://{h}")));
    let segment_hosts: BTreeSet<String> = reqs
        .iter()
        .zip(&kinds)
        .filter(|(_, k)| k.is_segment())
        .map(|(r, _)| r.host())
        .chain(api_host)
        .collect();
    let mut a = Attribution::new(resolution, segment_hosts);
    for (req, kind) in reqs.iter().zip(&kinds) {
        if matches!(kind, RequestKind::Preflight) || !is_web_url(&req.url) {
            continue;
        }
        if let RequestKind::Load(
            load @ (LoadKind::ClassicDestination { .. } | LoadKind::ActionDestination { .. }),
        ) = kind
        {
            a.code_loaded(req, load);
        } else if !kind.is_segment() {
            a.host_contacted(req, carried, capture.socket(req.seq));
        }
    }
    let event_destinations = a.events(decoded);
    a.finish(event_destinations)
}

/// A declared destination while its traffic is attributed.
struct Target<'a> {
    signature: Signature<'a>,
    outcome: Outcome,
}

/// The state of one attribution pass.
struct Attribution<'a> {
    catalog: &'a Catalog,
    settings: Option<&'a CdnSettings>,
    settings_names: Vec<String>,
    targets: Vec<Target<'a>>,
    declared_entry_ids: BTreeSet<&'a str>,
    undeclared: UndeclaredSet,
    /// The site's URL, served origins and pages (`www.` stripped): not somewhere the visitor
    /// leaves to.
    site_hosts: Vec<String>,
    /// The site's own hosts (URL and pages, `www.` stripped, with their subdomains) and the
    /// spec's `site.first_party`: never a catalog vendor by host name alone.
    own_hosts: Vec<String>,
    first_party: &'a crate::spec::HostGlobs,
    /// Hosts that carried Segment traffic, and the settings' API host.
    segment_hosts: BTreeSet<String>,
    other_hosts: BTreeSet<String>,
    unknown: Vec<UnknownRequest>,
    departures: Vec<Departure>,
}

impl<'a> Attribution<'a> {
    fn new(r: Resolution<'a>, segment_hosts: BTreeSet<String>) -> Self {
        let targets: Vec<Target<'a>> = r
            .destinations
            .into_values()
            .zip(r.signatures)
            .map(|(resolved, signature)| Target {
                signature,
                outcome: Outcome {
                    resolved,
                    receptions: Vec::new(),
                },
            })
            .collect();
        let declared_entry_ids = targets
            .iter()
            .filter_map(|t| t.signature.entry.map(|e| e.id.as_str()))
            .collect();
        Attribution {
            catalog: r.catalog,
            settings: r.settings,
            settings_names: r.settings_names,
            targets,
            declared_entry_ids,
            undeclared: r.undeclared,
            site_hosts: site_hosts(r.spec),
            own_hosts: r.spec.site.own_hosts(),
            first_party: &r.spec.site.first_party,
            segment_hosts,
            other_hosts: BTreeSet::new(),
            unknown: Vec::new(),
            departures: Vec::new(),
        }
    }

    /// The name an undeclared catalog entry goes by: the settings key when the settings name it.
    fn entry_name(&self, e: &Entry) -> String {
        e.names
            .iter()
            .find(|n| self.settings_names.contains(n))
            .unwrap_or(&e.names[0])
            .clone()
    }

    /// Destination code was requested: the declared destinations it belongs to, else an
    /// undeclared one.
    fn code_loaded(&mut self, req: &CapturedRequest, load: &LoadKind) {
        let path = req.path().to_string();
        let code = match load {
            LoadKind::ClassicDestination { slug } => format!("integrations/{slug}"),
            LoadKind::ActionDestination { dir } => format!("actions/{dir}"),
            _ => return,
        };
        let mut claimed = false;
        for t in self
            .targets
            .iter_mut()
            .filter(|t| t.signature.matches_load(load))
        {
            claimed = true;
            t.outcome.receptions.push(reception(
                req,
                ReceptionKind::CodeLoaded {
                    code: code.clone(),
                    path: path.clone(),
                },
            ));
        }
        if claimed {
            return;
        }
        let entry = self.catalog.match_loader_path(&path);
        let name = match entry {
            Some(e) => self.entry_name(e),
            None => self.unknown_code_name(load),
        };
        self.undeclared
            .add(&name, entry, Evidence::CodeLoaded { seq: req.seq, path });
    }

    /// Undeclared destination code the catalog does not know: named by the settings entry whose
    /// slug or code folder it is, else by the slug or folder itself.
    fn unknown_code_name(&self, load: &LoadKind) -> String {
        match load {
            LoadKind::ClassicDestination { slug } => self
                .settings_names
                .iter()
                .find(|n| {
                    let s = CdnSettings::classic_slug(n);
                    &s == slug || &base64_unpadded(&s) == slug
                })
                .cloned()
                .unwrap_or_else(|| format!("classic destination `{slug}`")),
            LoadKind::ActionDestination { dir } => self
                .settings
                .and_then(|s| {
                    s.remote_plugins
                        .iter()
                        .find(|p| CdnSettings::action_dir(&p.url).as_deref() == Some(dir))
                })
                .map(|p| p.creation_name.clone())
                .unwrap_or_else(|| format!("action destination `{dir}`")),
            _ => String::new(),
        }
    }

    /// A request to a host: the declared destinations whose hosts (spec's, else the catalog's
    /// most specific) it matches, else an undeclared catalog destination, else an other host.
    /// A navigation a step caused is the visitor leaving (a [`Departure`]) when it carries
    /// nothing and goes off the site, and [`ReceptionKind::Navigated`] when it carries something.
    /// A WebSocket handshake is contact like any request, with its `frames` counted.
    fn host_contacted(
        &mut self,
        req: &CapturedRequest,
        carried: Option<&Carried>,
        frames: Option<&SocketFrames>,
    ) {
        let host = req.host();
        if host.is_empty() {
            return;
        }
        let path = req.path().to_string();
        let carrying = match (carried, req.initiator) {
            (Some(c), Initiator::StepNavigation { step }) => {
                Some((step, c.get(&req.seq).filter(|n| !n.is_empty())))
            }
            _ => None,
        };
        if let Some((step, None)) = carrying
            && !self.is_first_party(&host)
            && !self.segment_hosts.contains(&host)
        {
            self.departures.push(Departure {
                seq: req.seq,
                at_ms: req.at_ms,
                phase: req.phase,
                host,
                step,
            });
            return;
        }
        let navigated = carrying.and_then(|(_, names)| names);
        let contact = contact_kind(req, &host, &path, navigated, frames);
        let mut claimed = self.claim_by_spec_hosts(req, &host, &contact);
        // First party wins: the site's own hosts are a vendor only by what they carry.
        let own = self.is_own(&host);
        let (cands, signature) = self.candidates(req, &host, own, claimed);
        let contact = match &signature {
            Some(sig) => ReceptionKind::Payload {
                host: host.clone(),
                path: path.clone(),
                signature: sig.clone(),
                first_party: own,
            },
            None => contact,
        };
        claimed |= self.claim_declared(req, &host, &cands, signature.is_some(), &contact);
        if !claimed {
            self.unclaimed_host(req, host, cands, signature.map(|s| (s, own)));
        }
    }

    /// The declared destinations whose own hosts (spec's, else the catalog's) match `host`
    /// receive `contact`; whether any did.
    fn claim_by_spec_hosts(
        &mut self,
        req: &CapturedRequest,
        host: &str,
        contact: &ReceptionKind,
    ) -> bool {
        let mut claimed = false;
        for t in self.targets.iter_mut() {
            if t.signature.hosts.iter().any(|h| host_matches(host, h)) {
                claimed = true;
                t.outcome.receptions.push(reception(req, contact.clone()));
            }
        }
        claimed
    }

    /// The catalog destinations a request names: by host (not for the site's own hosts), else,
    /// when nothing claimed it, by a payload signature (returned with them).
    fn candidates(
        &self,
        req: &CapturedRequest,
        host: &str,
        own: bool,
        claimed: bool,
    ) -> (Vec<&'a Entry>, Option<String>) {
        let by_host = if own {
            Vec::new()
        } else {
            host_candidates(self.catalog, req, host)
        };
        if by_host.is_empty() && !claimed {
            let hits = self.catalog.match_payload(req);
            let sig = hits.first().map(|(_, s)| s.what.clone());
            (hits.into_iter().map(|(e, _)| e).collect(), sig)
        } else {
            (by_host, None)
        }
    }

    /// The declared destinations among `cands` (the most specific by host, or all named by a
    /// payload signature) receive `contact` unless their own hosts already did; whether any did.
    fn claim_declared(
        &mut self,
        req: &CapturedRequest,
        host: &str,
        cands: &[&Entry],
        by_signature: bool,
        contact: &ReceptionKind,
    ) -> bool {
        let declared_cands: Vec<&Entry> = cands
            .iter()
            .copied()
            .filter(|e| self.declared_entry_ids.contains(e.id.as_str()))
            .collect();
        if declared_cands.is_empty() {
            return false;
        }
        let best = if by_signature {
            declared_cands
        } else {
            most_specific(declared_cands, host)
        };
        let best: BTreeSet<&str> = best.into_iter().map(|e| e.id.as_str()).collect();
        let mut claimed = false;
        for t in self.targets.iter_mut() {
            let hit = t
                .signature
                .entry
                .is_some_and(|e| best.contains(e.id.as_str()));
            let already = t.signature.hosts.iter().any(|h| host_matches(host, h));
            if hit && !already {
                claimed = true;
                t.outcome.receptions.push(reception(req, contact.clone()));
            }
        }
        claimed
    }

    /// A host no declared destination claimed; `signature`: the payload signature (and whether
    /// the host is the site's own) that named `cands`.
    fn unclaimed_host(
        &mut self,
        req: &CapturedRequest,
        host: String,
        cands: Vec<&Entry>,
        signature: Option<(String, bool)>,
    ) {
        if !cands.is_empty() {
            let best = if signature.is_some() {
                cands
            } else {
                most_specific(cands, &host)
            };
            let pick = best
                .iter()
                .find(|e| e.names.iter().any(|n| self.settings_names.contains(n)))
                .or(best.first())
                .copied();
            if let Some(e) = pick {
                let name = self.entry_name(e);
                let evidence = match signature {
                    Some((signature, first_party)) => Evidence::Payload {
                        seq: req.seq,
                        host,
                        signature,
                        first_party,
                    },
                    None => Evidence::HostContacted { seq: req.seq, host },
                };
                self.undeclared.add(&name, Some(e), evidence);
            }
            return;
        }
        let segment = self.segment_hosts.contains(&host)
            || SEGMENT_DOMAINS.iter().any(|d| host_matches(&host, d));
        if !self.is_own(&host) && !segment {
            self.unknown.push(UnknownRequest {
                seq: req.seq,
                at_ms: req.at_ms,
                phase: req.phase,
                method: req.method.clone(),
                host: host.clone(),
                path: req.path().to_string(),
                resource_type: req.resource_type.clone(),
                initiator: req.initiator,
                carries: req.url.contains('?')
                    || req.body.as_deref().is_some_and(|b| !b.is_empty()),
            });
            self.other_hosts.insert(host);
        }
    }

    /// The site's own host or one the spec declares first-party.
    fn is_own(&self, host: &str) -> bool {
        self.first_party.matches(host)
            || self
                .own_hosts
                .iter()
                .any(|s| host_matches(strip_www(host), s) || host_matches(host, s))
    }

    fn is_first_party(&self, host: &str) -> bool {
        self.site_hosts
            .iter()
            .any(|s| host_matches(strip_www(host), s) || host_matches(host, s))
    }

    /// Cloud routing of every decoded event: for each, the cloud destinations Segment's servers
    /// deliver it to, in spec order.
    fn events(&mut self, decoded: &Decoded) -> Vec<Vec<String>> {
        let mut event_destinations = Vec::with_capacity(decoded.events.len());
        for (i, ev) in decoded.events.iter().enumerate() {
            let mut dests = Vec::new();
            for t in self
                .targets
                .iter_mut()
                .filter(|t| t.outcome.resolved.mode == Mode::Cloud)
            {
                let names: Vec<&str> = t.signature.aliases.iter().map(String::as_str).collect();
                let categories = &t.outcome.resolved.categories;
                if cloud_delivers_any(&ev.consent, &ev.integrations, &names, categories) {
                    dests.push(t.outcome.resolved.name.clone());
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
        event_destinations
    }

    fn finish(self, event_destinations: Vec<Vec<String>>) -> Routing {
        let mut destinations = IndexMap::new();
        for mut t in self.targets {
            t.outcome.receptions.sort_by_key(|r| (r.at_ms, r.seq));
            destinations.insert(t.outcome.resolved.name.clone(), t.outcome);
        }
        Routing {
            destinations,
            event_destinations,
            undeclared: self.undeclared.into_vec(),
            other_hosts: self.other_hosts,
            unknown: self.unknown,
            departures: self.departures,
        }
    }
}

/// How a request to `host` reached a destination: a navigation carrying identifiers, a
/// WebSocket opened (with its frames), or plain contact.
fn contact_kind(
    req: &CapturedRequest,
    host: &str,
    path: &str,
    navigated: Option<&Vec<String>>,
    frames: Option<&SocketFrames>,
) -> ReceptionKind {
    let (host, path) = (host.to_string(), path.to_string());
    match navigated {
        Some(names) => ReceptionKind::Navigated {
            host,
            path,
            identifiers: names.clone(),
        },
        None if req.is_socket() => ReceptionKind::SocketOpened {
            host,
            path,
            frames_sent: frames.map_or(0, |f| f.sent),
            bytes_sent: frames.map_or(0, |f| f.sent_bytes),
        },
        None => ReceptionKind::HostContacted { host, path },
    }
}

fn reception(req: &CapturedRequest, kind: ReceptionKind) -> Reception {
    Reception {
        seq: req.seq,
        at_ms: req.at_ms,
        phase: req.phase,
        kind,
    }
}

/// The site's own hosts, `www.` stripped: its URL, served origins and web pages.
fn site_hosts(spec: &Spec) -> Vec<String> {
    let served = spec
        .site
        .serve
        .keys()
        .map(|u| strip_www(&url_host(u)).to_string());
    spec.site
        .own_hosts()
        .into_iter()
        .chain(served.filter(|h| !h.is_empty()))
        .collect()
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

fn strip_www(h: &str) -> &str {
    h.strip_prefix("www.").unwrap_or(h)
}

const SEGMENT_DOMAINS: [&str; 4] = [
    "segment.com",
    "segment.io",
    "segmentapis.com",
    "segment.build",
];
