//! Resolving destinations, before any traffic: each declared destination's mode and consent
//! categories with the source of each fact (spec, settings, catalog), the signatures its traffic
//! carries (names, code slugs and folders, hosts), and the destinations the settings name that
//! the spec does not declare.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;

use crate::analysis::catalog::{Catalog, Entry};
use crate::analysis::segment::base64_unpadded;
use crate::analysis::segment::decode::LoadKind;
use crate::analysis::segment::settings::CdnSettings;
use crate::spec::types::{Mode, Spec};

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

/// What the spec, the settings and the catalog say about one declared destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub(crate) name: String,
    pub mode: Mode,
    pub mode_source: ModeSource,
    pub categories: Vec<String>,
    pub categories_source: CategorySource,
    /// Catalog entry id, when the catalog knows it.
    pub(crate) catalog: Option<String>,
}

/// Why a destination the spec does not declare is believed to exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Evidence {
    Settings {
        detail: String,
    },
    CodeLoaded {
        seq: u64,
        path: String,
    },
    HostContacted {
        seq: u64,
        host: String,
    },
    /// A request carried one of its payload signatures on a host that is not its own.
    Payload {
        seq: u64,
        host: String,
        signature: String,
        first_party: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undeclared {
    pub name: String,
    pub(crate) catalog: Option<String>,
    pub evidence: Vec<Evidence>,
}

/// Where resolved destinations can be looked up by name: a [`Resolution`] alone (`explain`), or
/// a [`super::Routing`] that also attributed traffic.
pub trait Resolves {
    fn resolved(&self, name: &str) -> Option<&Resolved>;
}

/// How a declared destination's traffic is recognised.
pub(super) struct Signature<'a> {
    /// Every name it goes by: its spec name, its catalog names, and the remote plugin
    /// name/creationName the settings give it.
    pub(crate) aliases: Vec<String>,
    pub(crate) entry: Option<&'a Entry>,
    /// Classic destination slugs (`/next-integrations/integrations/<slug>/…`).
    pub(crate) slugs: Vec<String>,
    /// Action destination folders (`/next-integrations/actions/<dir>/…`).
    pub(crate) dirs: Vec<String>,
    /// The spec's own `hosts`.
    pub(crate) hosts: &'a [String],
}

impl Signature<'_> {
    pub(super) fn matches_load(&self, load: &LoadKind) -> bool {
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

/// Undeclared destinations by name, each with its evidence in the order found.
#[derive(Debug, Default)]
pub(super) struct UndeclaredSet(BTreeMap<String, Undeclared>);

impl UndeclaredSet {
    pub(super) fn add(&mut self, name: &str, catalog: Option<&Entry>, ev: Evidence) {
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

    /// Sorted by name.
    pub(super) fn into_vec(self) -> Vec<Undeclared> {
        self.0.into_values().collect()
    }
}

/// Every destination known before any traffic is seen.
pub struct Resolution<'a> {
    /// One per declared destination, in spec order.
    pub destinations: IndexMap<String, Resolved>,
    /// Same order as `destinations`.
    pub(super) signatures: Vec<Signature<'a>>,
    /// Destinations the settings name that the spec does not declare.
    pub(super) undeclared: UndeclaredSet,
    pub(super) catalog: &'a Catalog,
    pub(super) spec: &'a Spec,
    pub(super) settings: Option<&'a CdnSettings>,
    /// Every destination name the settings give.
    pub(super) settings_names: Vec<String>,
}

impl Resolves for Resolution<'_> {
    fn resolved(&self, name: &str) -> Option<&Resolved> {
        self.destinations.get(name)
    }
}

impl Resolution<'_> {
    /// The destinations the settings name that the spec does not declare, sorted by name.
    pub fn undeclared(&self) -> impl Iterator<Item = &Undeclared> {
        self.undeclared.0.values()
    }
}

/// Resolves the spec's destinations with the built-in catalog.
pub fn resolve<'a>(spec: &'a Spec, settings: Option<&'a CdnSettings>) -> Resolution<'a> {
    resolve_with(Catalog::builtin(), spec, settings)
}

/// [`resolve`] with an explicit catalog.
pub fn resolve_with<'a>(
    catalog: &'a Catalog,
    spec: &'a Spec,
    settings: Option<&'a CdnSettings>,
) -> Resolution<'a> {
    let mut destinations = IndexMap::new();
    let mut signatures = Vec::new();
    for (name, d) in &spec.destinations {
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
        destinations.insert(
            name.clone(),
            Resolved {
                name: name.clone(),
                mode,
                mode_source,
                categories,
                categories_source,
                catalog: entry.map(|e| e.id.clone()),
            },
        );
        signatures.push(signature(aliases, entry, settings, &d.hosts));
    }
    let mut resolution = Resolution {
        destinations,
        signatures,
        undeclared: UndeclaredSet::default(),
        catalog,
        spec,
        settings,
        settings_names: settings
            .map(CdnSettings::declared_names)
            .unwrap_or_default(),
    };
    resolution.undeclared = named_by_settings(&resolution);
    resolution
}

fn signature<'a>(
    aliases: Vec<String>,
    entry: Option<&'a Entry>,
    settings: Option<&CdnSettings>,
    hosts: &'a [String],
) -> Signature<'a> {
    let mut slugs: Vec<String> = aliases
        .iter()
        .map(|a| CdnSettings::classic_slug(a))
        .collect();
    slugs.extend(entry.and_then(|e| e.classic_slug.clone()));
    let mut dirs: Vec<String> = settings
        .map(|s| aliases.iter().filter_map(|a| s.action_dir_for(a)).collect())
        .unwrap_or_default();
    dirs.extend(entry.and_then(|e| e.action_dir.clone()));
    Signature {
        aliases,
        entry,
        slugs,
        dirs,
        hosts,
    }
}

/// Undeclared destinations the settings name.
fn named_by_settings(r: &Resolution) -> UndeclaredSet {
    let mut undeclared = UndeclaredSet::default();
    let Some(s) = r.settings else {
        return undeclared;
    };
    let is_declared = |n: &str| {
        r.signatures
            .iter()
            .any(|t| t.aliases.iter().any(|a| a == n))
    };
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
        undeclared.add(&n, r.catalog.by_name(&n), Evidence::Settings { detail });
    }
    undeclared
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
