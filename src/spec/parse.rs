//! YAML → raw serde structs → validated [`Spec`]. serde_yaml stays inside this module.
//!
//! Order of work: the structure reader ([`locate`]) records positions and finds duplicate keys;
//! serde_yaml parses to a `Value` (syntax errors, with its positions), then to the raw structs
//! (unknown keys and wrong types, first one only); the conversion then checks names, paths and
//! values and reports every problem it finds, each pointing at its token.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_yaml::Value;

mod journey;

use super::error::SpecError;
use super::host_globs::HostGlobs;
use super::locate::{self, Seg, Span, Spanned, dotted, segs};
use super::types::*;

/// CMP adapters the tool ships; `cmp:` must name one of them.
pub const KNOWN_CMP_ADAPTERS: &[&str] = super::cmp_names::ADAPTERS;

/// Upper bound of `retries:`.
const MAX_RETRIES: u32 = 5;

// ---------------------------------------------------------------------------------------------
// Raw shapes, as written.

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    site: RawSite,
    segment: Option<RawSegment>,
    #[schemars(with = "Option<Regime>")]
    regime: Option<String>,
    #[serde(rename = "consentModel", alias = "consent_model")]
    #[schemars(with = "Option<ConsentModel>")]
    consent_model: Option<String>,
    pii: Option<Vec<String>>,
    #[schemars(with = "Option<IndexMap<String, super::schema_shapes::CategorySchema>>")]
    categories: Option<IndexMap<String, Value>>,
    #[schemars(with = "Option<super::schema_shapes::CmpAdapterName>")]
    cmp: Option<String>,
    destinations: Option<IndexMap<String, Option<RawDestination>>>,
    states: Option<IndexMap<String, Option<RawState>>>,
    timing: Option<RawTiming>,
    visitor: Option<RawVisitor>,
    retries: Option<u32>,
    tcf: Option<IndexMap<String, Vec<u8>>>,
    gpp: Option<IndexMap<String, Vec<super::signals::GppOptOut>>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawVisitor {
    scroll: Option<bool>,
    pointer: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawSite {
    url: String,
    serve: Option<IndexMap<String, String>>,
    offline: Option<bool>,
    pages: Option<Vec<String>>,
    allow_hosts: Option<Vec<String>>,
    first_party: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawSegment {
    settings: Option<String>,
    #[schemars(with = "Option<Library>")]
    library: Option<String>,
    deliver: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    purpose: String,
    cmp: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawDestination {
    #[schemars(with = "Option<Mode>")]
    mode: Option<String>,
    categories: Option<Vec<String>>,
    hosts: Option<Vec<String>>,
    /// Needs no consent (a fraud or security tool, a strictly necessary service): the reason,
    /// required. Judged as always allowed; never `ungated-destination`.
    exempt: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawState {
    gpc: Option<bool>,
    #[schemars(with = "Option<Vec<super::schema_shapes::StepSchema>>")]
    steps: Option<Vec<IndexMap<String, Value>>>,
    expect: Option<RawExpect>,
    /// Expectations per decision named by a `decision:` marker, judged from that decision until
    /// the next.
    phases: Option<IndexMap<String, RawExpect>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[schemars(with = "Option<super::schema_shapes::DestinationSetSchema>")]
    allowed: Option<Value>,
    #[schemars(with = "Option<super::schema_shapes::DestinationSetSchema>")]
    blocked: Option<Value>,
    #[schemars(with = "Option<Collection>")]
    collection: Option<String>,
    #[schemars(with = "Option<super::schema_shapes::CallsSchema>")]
    calls: Option<IndexMap<String, String>>,
    consent: Option<IndexMap<String, bool>>,
    /// Segment events that must (or must not) be sent.
    events: Option<Vec<journey::RawEvent>>,
    tcf: Option<super::signals::TcfExpect>,
    gpp: Option<super::signals::GppExpect>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawTiming {
    step_ms: Option<u64>,
    quiet_ms: Option<u64>,
    min_quiet_ms: Option<u64>,
    settle_max_ms: Option<u64>,
    #[schemars(with = "Option<ClockMode>")]
    clock: Option<String>,
    horizon_ms: Option<u64>,
    navigation_ms: Option<u64>,
    trial_ms: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Entry point.

pub(super) fn parse_spec(text: &str, file: &Path) -> Result<Spec, SpecError> {
    let mut cx = Cx {
        file,
        text,
        tree: locate::parse(text),
        errors: Vec::new(),
        expect_at: Vec::new(),
    };

    // Duplicate keys first: serde would keep the last one silently (maps) or point at the
    // enclosing mapping (structs).
    for (p, first, repeat) in cx.tree.duplicate_keys() {
        let key = match p.last() {
            Some(Seg::Key(k)) => k.clone(),
            _ => String::new(),
        };
        let parent = describe(&p[..p.len().saturating_sub(1)]);
        let what = match p.as_slice() {
            [Seg::Key(s), _] if s == "states" => "state names must be unique; rename one",
            [Seg::Key(s), _] if s == "destinations" => "each destination is declared once",
            _ => "a key may appear once per mapping; merge the two",
        };
        cx.errors.push(cx.error_at(
            repeat,
            format!("duplicate key `{key}` in {parent}"),
            Some(format!("first written on line {}; {what}", first.line)),
        ));
    }
    cx.finish()?;

    let value: Value = serde_yaml::from_str(text).map_err(|e| cx.syntax_error(&e))?;
    match value {
        Value::Mapping(_) => {}
        Value::Null => {
            return Err(cx.error_at(
                Span {
                    line: 1,
                    col: 1,
                    len: 1,
                },
                "the spec is empty".into(),
                Some("a spec needs at least `site: {url: ...}` and `states:`".into()),
            ));
        }
        _ => {
            return Err(cx.error_at(
                Span {
                    line: 1,
                    col: 1,
                    len: 1,
                },
                "a spec must be a mapping of keys (`site`, `states`, ...)".into(),
                None,
            ));
        }
    }
    let raw: RawSpec = serde_path_to_error::deserialize(serde_yaml::Deserializer::from_str(text))
        .map_err(|e| cx.shape_error(&e))?;
    let spec = cx.convert(raw);
    cx.finish()?;
    spec.ok_or_else(|| {
        // Unreachable in practice: conversion yields no spec only after reporting an error.
        cx.error_at(
            Span {
                line: 1,
                col: 1,
                len: 1,
            },
            "invalid spec".into(),
            None,
        )
    })
}

struct Cx<'a> {
    file: &'a Path,
    text: &'a str,
    tree: Spanned,
    errors: Vec<SpecError>,
    /// Where the expectations being read are written: `states.<name>.expect`, or
    /// `states.<name>.phases.<phase>` (positions of their errors).
    expect_at: Vec<Seg>,
}

impl Cx<'_> {
    fn finish(&mut self) -> Result<(), SpecError> {
        match SpecError::combine(std::mem::take(&mut self.errors)) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn error_at(&self, span: Span, message: String, help: Option<String>) -> SpecError {
        let mut e = SpecError::new(self.file, span.line, span.col, message)
            .with_width(span.len)
            .with_source(self.text);
        e.help = help;
        e
    }

    /// Where `path` is written: its key (when `key`) or its value, else the nearest ancestor.
    fn locate(&self, p: &[Seg], key: bool) -> Span {
        let direct = if key {
            self.tree.key_span(p).or_else(|| self.tree.value_span(p))
        } else {
            self.tree.value_span(p).or_else(|| self.tree.key_span(p))
        };
        if let Some(s) = direct {
            return s;
        }
        for n in (0..p.len()).rev() {
            if n == 0 {
                break;
            }
            if let Some(s) = self
                .tree
                .key_span(&p[..n])
                .or_else(|| self.tree.value_span(&p[..n]))
            {
                return s;
            }
        }
        Span {
            line: 1,
            col: 1,
            len: 1,
        }
    }

    fn key_err(&mut self, p: &[Seg], message: String, help: Option<String>) {
        let e = self.error_at(self.locate(p, true), message, help);
        self.errors.push(e);
    }

    fn value_err(&mut self, p: &[Seg], message: String, help: Option<String>) {
        let e = self.error_at(self.locate(p, false), message, help);
        self.errors.push(e);
    }

    /// The path of the entry `name` of the top-level map `key`; `None` (reported as an empty
    /// `what`) when the name is blank.
    fn entry(&mut self, key: &str, name: &str, what: &str) -> Option<Vec<Seg>> {
        let p = segs![key, name];
        if name.trim().is_empty() {
            self.key_err(&p, format!("empty {what}"), None);
            return None;
        }
        Some(p)
    }

    /// [`Self::value_err`], and no value: the caller gives up on this one.
    fn reject<T>(&mut self, p: &[Seg], message: String, help: Option<String>) -> Option<T> {
        self.value_err(p, message, help);
        None
    }

    /// [`Self::reject`] of a value of the wrong kind: `{expected}, found a list`.
    fn wrong_kind<T>(
        &mut self,
        p: &[Seg],
        expected: String,
        found: &Value,
        help: &str,
    ) -> Option<T> {
        let message = format!("{expected}, found {}", kind_of(found));
        self.reject(p, message, Some(help.into()))
    }

    /// One of a fixed set of words; reports an unknown one with a suggestion.
    /// [`Self::pick`] for a value whose words are not an enum's own (`accept_all`).
    fn pick_from<T: Clone>(
        &mut self,
        p: &[Seg],
        what: &str,
        input: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        if let Some((_, v)) = options.iter().find(|(name, _)| *name == input) {
            return Some(v.clone());
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        self.value_err(
            p,
            format!("unknown {what} `{input}`{}", context(p)),
            Some(unknown_help(input, &names, "expected one of")),
        );
        None
    }

    /// The value of a one-word key (`regime: gdpr`), or an error listing the words.
    fn pick<T: Word>(&mut self, p: &[Seg], what: &str, input: &str) -> Option<T> {
        if let Some(v) = T::from_word(input) {
            return Some(v);
        }
        let help = word_help::<T>(input, "expected one of");
        self.reject(
            p,
            format!("unknown {what} `{input}`{}", context(p)),
            Some(help),
        )
    }

    // -----------------------------------------------------------------------------------------
    // serde errors

    /// A syntax error of the YAML itself (no path: the text never became a tree).
    fn syntax_error(&self, err: &serde_yaml::Error) -> SpecError {
        let span = self.span_at(err, &[]);
        let body = strip_location(&err.to_string());
        self.error_at(span, body, None)
    }

    /// A shape error (unknown key, wrong type, missing key) at the path serde reports through
    /// `serde_path_to_error`.
    fn shape_error(&self, err: &serde_path_to_error::Error<serde_yaml::Error>) -> SpecError {
        let path = path_segments(err.path());
        let body = serde_body(err.inner(), &path);
        let span = self.span_at(err.inner(), &path);
        let (message, help) = explain_serde(&body, container(&body, &path));
        self.error_at(span, message, help)
    }

    /// Where serde_yaml points, with the length of the token there (for the caret); falls back
    /// to the path's own token when serde gives no position.
    fn span_at(&self, err: &serde_yaml::Error, path: &[Seg]) -> Span {
        let Some(loc) = err.location() else {
            return self.locate(path, false);
        };
        let (line, col) = (loc.line(), loc.column());
        let len = self
            .tree
            .paths_at(line, col)
            .iter()
            .find_map(|(p, is_key)| {
                if *is_key {
                    self.tree.key_span(p)
                } else {
                    self.tree.value_span(p)
                }
            })
            .map_or(1, |s| s.len);
        Span { line, col, len }
    }

    /// `serde_yaml::from_value` for a nested piece (its errors carry no position).
    fn value_into<T: for<'de> Deserialize<'de>>(&mut self, v: Value, p: &[Seg]) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(v) {
            Ok(t) => Some(t),
            Err(err) => {
                let mut at = p.to_vec();
                at.extend(path_segments(err.path()));
                let body = serde_body(err.inner(), &at[p.len()..]);
                let at = container(&body, &at).to_vec();
                let (message, help) = explain_serde(&body, &at);
                let target = match body.strip_prefix("unknown field `") {
                    Some(rest) => {
                        let key = rest.split('`').next().unwrap_or_default();
                        let mut kp = at.clone();
                        kp.push(Seg::Key(key.to_string()));
                        self.locate(&kp, true)
                    }
                    None => self.locate(&at, false),
                };
                let e = self.error_at(target, message, help);
                self.errors.push(e);
                None
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Conversion

    fn convert(&mut self, raw: RawSpec) -> Option<Spec> {
        let base = self.file.parent().unwrap_or(Path::new("")).to_path_buf();
        let name = self
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();

        let site = self.site(raw.site, &base);
        let segment = self.segment(raw.segment, &base);
        if let (Some(site), Some(seg)) = (&site, &segment)
            && site.offline
            && seg.deliver
        {
            self.value_err(
                &segs!["segment", "deliver"],
                "`segment.deliver: true` cannot forward anything in an offline run".into(),
                Some("drop `site.offline: true` or set `deliver: false`".into()),
            );
        }
        let regime = match &raw.regime {
            None => Some(Regime::None),
            Some(r) => self.pick(&segs!["regime"], "regime", r),
        };
        let consent_model = match &raw.consent_model {
            None => Some(ConsentModel::OptIn),
            Some(m) => self.pick(&segs!["consentModel"], "consentModel", m),
        };
        let pii = self.pii(raw.pii.unwrap_or_default());
        let categories = self.categories(raw.categories.unwrap_or_default());
        let cmp_declared = raw.cmp.is_some();
        let cmp = raw.cmp.and_then(|c| self.cmp_adapter(c));
        let destinations = self.destinations(raw.destinations.unwrap_or_default(), &categories);
        let states = self.states(raw.states, &categories, &destinations, cmp_declared);
        let timing = raw
            .timing
            .map_or(Some(Timing::default()), |t| self.timing(t));
        let visitor = raw.visitor.map_or_else(Visitor::default, |v| Visitor {
            scroll: v.scroll.unwrap_or(true),
            pointer: v.pointer.unwrap_or(true),
        });
        let tcf = self.tcf_purposes(raw.tcf.unwrap_or_default(), &categories);
        let gpp = self.gpp_opt_outs(raw.gpp.unwrap_or_default(), &categories);
        let retries = self.retries(raw.retries.unwrap_or(0));

        Some(Spec {
            name,
            path: self.file.to_path_buf(),
            site: site?,
            segment: segment?,
            regime: regime?,
            consent_model: consent_model?,
            pii,
            categories,
            cmp,
            destinations,
            states,
            timing: timing?,
            visitor,
            retries,
            tcf,
            gpp,
        })
    }

    /// `pii`: extra field names or paths, none empty.
    fn pii(&mut self, pii: Vec<String>) -> Vec<String> {
        for (i, field) in pii.iter().enumerate() {
            if field.trim().is_empty() {
                self.value_err(
                    &segs!["pii", i],
                    "an empty `pii` field name matches nothing".into(),
                    Some("list field names or paths such as `email` or `traits.phone`".into()),
                );
            }
        }
        pii
    }

    /// `cmp`: one of the known adapters.
    fn cmp_adapter(&mut self, c: String) -> Option<String> {
        if KNOWN_CMP_ADAPTERS.contains(&c.as_str()) {
            Some(c)
        } else {
            self.value_err(
                &segs!["cmp"],
                format!("unknown CMP adapter `{c}`"),
                Some(unknown_help(&c, KNOWN_CMP_ADAPTERS, "known adapters:")),
            );
            None
        }
    }

    /// `retries`: at most [`MAX_RETRIES`].
    fn retries(&mut self, retries: u32) -> u32 {
        if retries > MAX_RETRIES {
            self.value_err(
                &segs!["retries"],
                format!("`retries: {retries}` is more than the limit of {MAX_RETRIES}"),
                Some(
                    "retries are for live sites that fail now and then; a trial that needs more \
                     is broken, not flaky"
                        .into(),
                ),
            );
        }
        retries
    }

    fn site(&mut self, raw: RawSite, base: &Path) -> Option<Site> {
        let mut ok = true;
        if let Err(why) = check_http_url(&raw.url) {
            ok = false;
            self.value_err(
                &segs!["site", "url"],
                format!("`site.url` must be an absolute http(s) URL: {why}"),
                Some("write it like `https://shop.example/`".into()),
            );
        }
        let mut serve: IndexMap<String, PathBuf> = IndexMap::new();
        for (origin, folder) in raw.serve.unwrap_or_default() {
            let kp = segs!["site", "serve", &origin];
            let norm = match normalise_origin(&origin) {
                Ok(o) => o,
                Err(why) => {
                    ok = false;
                    self.key_err(
                        &kp,
                        format!("`{origin}` is not an origin: {why}"),
                        Some(
                            "an origin is `scheme://host[:port]`, e.g. `https://shop.example`"
                                .into(),
                        ),
                    );
                    continue;
                }
            };
            if serve.contains_key(&norm) {
                ok = false;
                self.key_err(
                    &kp,
                    format!("origin `{norm}` is served twice"),
                    Some("origins are compared lower-case and without a trailing slash".into()),
                );
                continue;
            }
            match self.existing(&kp, &folder, base, true) {
                Some(p) => {
                    serve.insert(norm, p);
                }
                None => ok = false,
            }
        }
        let mut pages = Vec::new();
        for (i, page) in raw.pages.unwrap_or_default().into_iter().enumerate() {
            if let Err(why) = check_page(&page) {
                ok = false;
                self.value_err(
                    &segs!["site", "pages", i],
                    format!("page {} in `site.pages` {why}", i + 1),
                    Some("write a path such as `/product/1` or an absolute http(s) URL".into()),
                );
            }
            pages.push(page);
        }
        let allow_hosts = match raw.allow_hosts {
            Some(p) => Some(self.host_globs(p, "allow_hosts")?),
            None => None,
        };
        let first_party = self.host_globs(raw.first_party.unwrap_or_default(), "first_party")?;
        ok.then_some(Site {
            url: raw.url,
            serve,
            offline: raw.offline.unwrap_or(false),
            pages,
            allow_hosts,
            first_party,
        })
    }

    /// `site.<key>`: host globs; `None` after reporting the first bad one.
    fn host_globs(&mut self, patterns: Vec<String>, key: &str) -> Option<HostGlobs> {
        match HostGlobs::new(patterns) {
            Ok(g) => Some(g),
            Err((i, why)) => {
                self.value_err(
                    &segs!["site", key, i],
                    format!("`site.{key}` entry {}: {why}", i + 1),
                    Some("write host globs such as `fonts.gstatic.com` or `*.cdn.example`".into()),
                );
                None
            }
        }
    }

    /// Resolves `rel` against the spec's folder and checks that it exists (as a folder when
    /// `dir`, else as a file).
    fn existing(&mut self, p: &[Seg], rel: &str, base: &Path, dir: bool) -> Option<PathBuf> {
        let kind = if dir { "folder" } else { "file" };
        if rel.trim().is_empty() {
            return self.reject(p, format!("empty {kind} path"), None);
        }
        let resolved = base.join(rel);
        let good = if dir {
            resolved.is_dir()
        } else {
            resolved.is_file()
        };
        if good {
            let root = repository_root(base);
            return match resolved.canonicalize() {
                Ok(real) if real.starts_with(&root) => Some(resolved),
                Ok(real) => {
                    self.value_err(
                        p,
                        format!(
                            "{kind} `{rel}` lies outside the spec's repository (resolved to `{}`)",
                            real.display()
                        ),
                        Some(format!(
                            "a spec may only read files inside its repository `{}` (the nearest \
                             folder above the spec holding `.git`, else the spec's folder); \
                             symbolic links are followed before checking",
                            root.display()
                        )),
                    );
                    None
                }
                Err(e) => {
                    self.value_err(p, format!("cannot resolve {kind} `{rel}`: {e}"), None);
                    None
                }
            };
        }
        let message = if resolved.exists() {
            format!(
                "`{rel}` is not a {kind} (resolved to `{}`)",
                resolved.display()
            )
        } else {
            format!(
                "{kind} `{rel}` does not exist (resolved to `{}`)",
                resolved.display()
            )
        };
        let shown = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        };
        self.value_err(
            p,
            message,
            Some(format!(
                "relative paths are resolved against the spec file's folder `{}`",
                shown.display()
            )),
        );
        None
    }

    fn segment(&mut self, raw: Option<RawSegment>, base: &Path) -> Option<SegmentOptions> {
        let Some(raw) = raw else {
            return Some(SegmentOptions {
                settings: None,
                library: Library::Site,
                deliver: false,
            });
        };
        let mut ok = true;
        let mut settings = None;
        if let Some(rel) = &raw.settings {
            let p = segs!["segment", "settings"];
            match self.existing(&p, rel, base, false) {
                None => ok = false,
                Some(file) => {
                    let parsed = std::fs::read_to_string(&file)
                        .map_err(|e| format!("cannot read it: {e}"))
                        .and_then(|t| {
                            serde_json::from_str::<serde_json::Value>(&t)
                                .map_err(|e| format!("not valid JSON: {e}"))
                        });
                    match parsed {
                        Ok(_) => settings = Some(file),
                        Err(why) => {
                            ok = false;
                            self.value_err(
                                &p,
                                format!("settings file `{}`: {why}", file.display()),
                                Some(
                                    "the file must hold Segment's CDN settings JSON (as served at \
                                     /v1/projects/<writeKey>/settings)"
                                        .into(),
                                ),
                            );
                        }
                    }
                }
            }
        }
        let library = match &raw.library {
            None => Some(Library::Site),
            Some(l) => self.pick(&segs!["segment", "library"], "library source", l),
        };
        let library = library?;
        ok.then_some(SegmentOptions {
            settings,
            library,
            deliver: raw.deliver.unwrap_or(false),
        })
    }

    fn categories(&mut self, raw: IndexMap<String, Value>) -> IndexMap<String, Category> {
        let mut out = IndexMap::new();
        for (id, v) in raw {
            let Some(p) = self.entry("categories", &id, "category id") else {
                continue;
            };
            let (purpose, cmp, ppath) = match v {
                Value::String(s) => (s, None, p.clone()),
                Value::Mapping(_) => {
                    let Some(long) = self.value_into::<RawCategory>(v, &p) else {
                        continue;
                    };
                    let mut pp = p.clone();
                    pp.push(Seg::Key("purpose".into()));
                    (long.purpose, long.cmp, pp)
                }
                Value::Null => {
                    self.key_err(
                        &p,
                        format!("category `{id}` has no purpose"),
                        Some(format!(
                            "write `{id}: analytics` or `{id}: {{purpose: analytics, cmp: <CMP's name>}}`; \
                             purposes: necessary, functional, analytics, advertising"
                        )),
                    );
                    continue;
                }
                _ => {
                    self.value_err(
                        &p,
                        format!(
                            "category `{id}` must be a purpose or `{{purpose: ..., cmp: ...}}`"
                        ),
                        None,
                    );
                    continue;
                }
            };
            let Some(purpose) = self.pick::<Purpose>(&ppath, "purpose", &purpose) else {
                continue;
            };
            if let Some(c) = &cmp
                && c.trim().is_empty()
            {
                let mut cp = p.clone();
                cp.push(Seg::Key("cmp".into()));
                self.value_err(&cp, "empty CMP category name".into(), None);
                continue;
            }
            out.insert(id, Category { purpose, cmp });
        }
        out
    }

    /// Checks that `id` names a declared category (when any are declared).
    fn check_category(
        &mut self,
        p: &[Seg],
        id: &str,
        categories: &IndexMap<String, Category>,
        key: bool,
    ) {
        if categories.is_empty() || categories.contains_key(id) {
            return;
        }
        let names: Vec<&str> = categories.keys().map(String::as_str).collect();
        let message = format!("unknown category `{id}` in {}", describe(parent(p)));
        let help = Some(unknown_help(id, &names, "declared categories:"));
        if key {
            self.key_err(p, message, help);
        } else {
            self.value_err(p, message, help);
        }
    }

    fn destinations(
        &mut self,
        raw: IndexMap<String, Option<RawDestination>>,
        categories: &IndexMap<String, Category>,
    ) -> IndexMap<String, Destination> {
        let mut out = IndexMap::new();
        for (name, d) in raw {
            let Some(p) = self.entry("destinations", &name, "destination name") else {
                continue;
            };
            let Some(d) = d else {
                out.insert(name, Destination::default());
                continue;
            };
            let mode = match &d.mode {
                None => None,
                Some(m) => {
                    let mut mp = p.clone();
                    mp.push(Seg::Key("mode".into()));
                    self.pick(&mp, "mode", m)
                }
            };
            if let Some(cats) = &d.categories {
                for (i, id) in cats.iter().enumerate() {
                    let cp = segs!["destinations", &name, "categories", i];
                    self.check_category(&cp, id, categories, false);
                }
            }
            let mut hosts = Vec::new();
            for (i, h) in d.hosts.unwrap_or_default().into_iter().enumerate() {
                let hp = segs!["destinations", &name, "hosts", i];
                let h = h.trim().to_ascii_lowercase();
                if h.is_empty() || h.contains('/') || h.contains(' ') {
                    self.value_err(
                        &hp,
                        format!("`{h}` is not a host name"),
                        Some(
                            "write the host alone, e.g. `chat.example.net` (no scheme, no path)"
                                .into(),
                        ),
                    );
                    continue;
                }
                hosts.push(h);
            }
            let exempt = self.exempt(&name, d.exempt, d.categories.as_ref());
            out.insert(
                name,
                Destination {
                    mode,
                    categories: d.categories,
                    hosts,
                    exempt,
                },
            );
        }
        out
    }

    fn states(
        &mut self,
        raw: Option<IndexMap<String, Option<RawState>>>,
        categories: &IndexMap<String, Category>,
        destinations: &IndexMap<String, Destination>,
        cmp_declared: bool,
    ) -> IndexMap<String, State> {
        let raw = raw.unwrap_or_default();
        if raw.is_empty() {
            let p = segs!["states"];
            let message = "the spec has no states".to_string();
            let help = Some(
                "add `states:` with at least one state, e.g. `no-choice: {expect: {collection: none}}`"
                    .to_string(),
            );
            if self.tree.get(&p).is_some() {
                self.key_err(&p, message, help);
            } else {
                let e = self.error_at(
                    Span {
                        line: 1,
                        col: 1,
                        len: 1,
                    },
                    message,
                    help,
                );
                self.errors.push(e);
            }
            return IndexMap::new();
        }
        let mut out = IndexMap::new();
        for (name, st) in raw {
            let sp = segs!["states", &name];
            let line = self.locate(&sp, true).line;
            if name.trim().is_empty() {
                self.key_err(&sp, "empty state name".into(), None);
                continue;
            }
            let st = st.unwrap_or(RawState {
                gpc: None,
                steps: None,
                expect: None,
                phases: None,
            });
            let (steps, decisions) = self.steps_and_decisions(
                &name,
                st.steps.unwrap_or_default(),
                categories,
                cmp_declared,
            );
            self.expect_at = segs!["states", &name, "expect"];
            let expect = if st.expect.is_none() && st.phases.as_ref().is_some_and(|p| !p.is_empty())
            {
                Expect::default()
            } else {
                self.expect(&name, st.expect, categories, destinations)
            };
            let phases = self.phases(
                &name,
                st.phases.unwrap_or_default(),
                &decisions,
                categories,
                destinations,
            );
            out.insert(
                name,
                State {
                    gpc: st.gpc.unwrap_or(false),
                    steps,
                    expect,
                    line,
                    decisions,
                    phases,
                },
            );
        }
        out
    }

    fn step(
        &mut self,
        state: &str,
        i: usize,
        step: IndexMap<String, Value>,
        categories: &IndexMap<String, Category>,
        cmp_declared: bool,
    ) -> Option<Step> {
        let p = segs!["states", state, "steps", i];
        let label = format!("step {} of state `{state}`", i + 1);
        let kinds_help = StepKind::help();
        if step.len() != 1 {
            let message = if step.is_empty() {
                format!("{label} is empty")
            } else {
                let keys: Vec<String> = step.keys().map(|k| format!("`{k}`")).collect();
                format!(
                    "{label} has {} keys ({}); a step has exactly one",
                    step.len(),
                    keys.join(", ")
                )
            };
            let help = if step.is_empty() {
                kinds_help
            } else {
                "write each action as its own `- ` item".to_string()
            };
            return self.reject(&p, message, Some(help));
        }
        let (kind, value) = step.into_iter().next()?;
        let mut kp = p.clone();
        kp.push(Seg::Key(kind.clone()));
        let Some(step_kind) = StepKind::from_word(&kind) else {
            let help = match closest::<StepKind>(&kind) {
                Some(s) => format!("did you mean `{s}`?"),
                None => kinds_help,
            };
            self.key_err(&kp, format!("unknown step `{kind}` in {label}"), Some(help));
            return None;
        };
        match step_kind {
            StepKind::Click | StepKind::WaitFor | StepKind::Eval | StepKind::Visit => {
                self.text_step(step_kind, &kind, value, &kp, &label)
            }
            StepKind::Fill => self.fill_step(value, &kp, &label),
            StepKind::Decision => {
                // Markers are taken out before steps are read (`steps_and_decisions`).
                self.key_err(
                    &kp,
                    format!("{label}: a `decision:` marker must be followed by a step"),
                    None,
                );
                None
            }
            StepKind::Cmp => self.cmp_step(value, &kp, &label, categories, cmp_declared),
        }
    }

    /// A step whose value is one string: `click`, `wait_for` (selectors), `eval` (a script),
    /// `visit` (a path or URL).
    fn text_step(
        &mut self,
        step_kind: StepKind,
        kind: &str,
        value: Value,
        kp: &[Seg],
        label: &str,
    ) -> Option<Step> {
        let what = match step_kind {
            StepKind::Eval => "script",
            StepKind::Visit => "path",
            _ => "selector",
        };
        let text = match value {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => {
                let expected = format!("`{kind}` in {label} needs a {what} string");
                return self.wrong_kind(kp, expected, &other, "quote it: `\"...\"`");
            }
        };
        if text.trim().is_empty() {
            return self.reject(
                kp,
                format!("empty {what} in {label}"),
                Some(format!("give `{kind}:` a {what}")),
            );
        }
        if matches!(step_kind, StepKind::Click | StepKind::WaitFor)
            && let Err(why) = check_selector(&text)
        {
            return self.reject(
                kp,
                format!("invalid selector in {label}: {why}"),
                Some(SELECTOR_HELP.into()),
            );
        }
        Some(match step_kind {
            StepKind::Click => Step::Click(text),
            StepKind::WaitFor => Step::WaitFor(text),
            StepKind::Eval => Step::Eval(text),
            _ => {
                if let Err(why) = check_page(&text) {
                    return self.reject(
                        kp,
                        format!("`visit` in {label} {why}"),
                        Some("write a path such as `/product/1` or an absolute http(s) URL".into()),
                    );
                }
                Step::Visit(text)
            }
        })
    }

    /// `fill`: a mapping of selector to the text typed into it.
    fn fill_step(&mut self, value: Value, kp: &[Seg], label: &str) -> Option<Step> {
        let Value::Mapping(map) = value else {
            let expected = format!("`fill` in {label} needs a mapping of selector to text");
            let help = "write `fill: {\"#email\": jane@example.com}`";
            return self.wrong_kind(kp, expected, &value, help);
        };
        if map.is_empty() {
            return self.reject(kp, format!("`fill` in {label} fills nothing"), None);
        }
        let mut pairs = Vec::new();
        let mut ok = true;
        for (k, v) in map {
            let Value::String(sel) = k else {
                ok = false;
                self.value_err(
                    kp,
                    format!("`fill` in {label}: selectors must be strings"),
                    None,
                );
                continue;
            };
            let mut fp = kp.to_vec();
            fp.push(Seg::Key(sel.clone()));
            if sel.trim().is_empty() {
                ok = false;
                self.key_err(&fp, format!("empty selector in `fill` of {label}"), None);
                continue;
            }
            if let Err(why) = check_selector(&sel) {
                ok = false;
                self.key_err(
                    &fp,
                    format!("invalid selector in `fill` of {label}: {why}"),
                    Some(SELECTOR_HELP.into()),
                );
                continue;
            }
            let text = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                other => {
                    ok = false;
                    self.value_err(
                        &fp,
                        format!(
                            "text for `{sel}` in {label} must be a string, found {}",
                            kind_of(&other)
                        ),
                        None,
                    );
                    continue;
                }
            };
            pairs.push((sel, text));
        }
        ok.then_some(Step::Fill(pairs))
    }

    /// `cmp`: an action through the spec's CMP adapter, or a choice of categories.
    fn cmp_step(
        &mut self,
        value: Value,
        kp: &[Seg],
        label: &str,
        categories: &IndexMap<String, Category>,
        cmp_declared: bool,
    ) -> Option<Step> {
        let mut ok = true;
        if !cmp_declared {
            ok = false;
            self.key_err(
                kp,
                format!("{label} is a `cmp:` step but the spec names no CMP adapter"),
                Some(format!(
                    "add a top-level `cmp: <adapter>` (known adapters: {}), or use `click:` steps",
                    backticked(KNOWN_CMP_ADAPTERS)
                )),
            );
        }
        let action = match value {
            Value::String(s) => self.pick_from(
                kp,
                "CMP action",
                &s,
                &[
                    ("accept_all", CmpAction::AcceptAll),
                    ("reject_all", CmpAction::RejectAll),
                    ("reopen", CmpAction::Reopen),
                ],
            ),
            Value::Mapping(map) => self.cmp_categories(map, kp, label, categories, &mut ok),
            other => {
                self.value_err(
                    kp,
                    format!("`cmp` in {label} must be `accept_all`, `reject_all` or `{{categories: [..]}}`, found {}", kind_of(&other)),
                    None,
                );
                None
            }
        };
        if ok { action.map(Step::Cmp) } else { None }
    }

    /// `cmp: {categories: [...]}`: the category ids to accept; `ok` turns false on an error.
    fn cmp_categories(
        &mut self,
        map: serde_yaml::Mapping,
        kp: &[Seg],
        label: &str,
        categories: &IndexMap<String, Category>,
        ok: &mut bool,
    ) -> Option<CmpAction> {
        let mut ids = None;
        for (k, v) in map {
            let key = match &k {
                Value::String(s) => s.clone(),
                other => format!("{other:?}"),
            };
            let mut cp = kp.to_vec();
            cp.push(Seg::Key(key.clone()));
            if key != "categories" {
                *ok = false;
                self.key_err(
                    &cp,
                    format!("unknown key `{key}` in `cmp` of {label}"),
                    Some(unknown_help(&key, &["categories"], "allowed keys:")),
                );
                continue;
            }
            let list = match v {
                Value::Sequence(items) => items,
                Value::Null => Vec::new(),
                other => {
                    *ok = false;
                    self.value_err(
                        &cp,
                        format!(
                            "`categories` in {label} must be a list, found {}",
                            kind_of(&other)
                        ),
                        Some("write `cmp: {categories: [C0002]}`".into()),
                    );
                    continue;
                }
            };
            let mut out = Vec::new();
            for (j, item) in list.into_iter().enumerate() {
                let mut ip = cp.clone();
                ip.push(Seg::Index(j));
                match item {
                    Value::String(id) => {
                        self.check_category(&ip, &id, categories, false);
                        out.push(id);
                    }
                    other => {
                        *ok = false;
                        self.value_err(
                            &ip,
                            format!("category ids are strings, found {}", kind_of(&other)),
                            None,
                        );
                    }
                }
            }
            ids = Some(out);
        }
        match ids {
            Some(ids) => Some(CmpAction::Categories(ids)),
            None => {
                if *ok {
                    self.value_err(
                        kp,
                        format!("`cmp` in {label} needs `categories: [...]`"),
                        None,
                    );
                }
                None
            }
        }
    }

    fn expect(
        &mut self,
        state: &str,
        raw: Option<RawExpect>,
        categories: &IndexMap<String, Category>,
        destinations: &IndexMap<String, Destination>,
    ) -> Expect {
        let sp = segs!["states", state];
        let ep = self.expect_at.clone();
        let nothing_help = "a state with no expectations tests nothing; add `expect:` with `allowed`, \
                            `blocked`, `collection`, `calls`, `consent` or `events`";
        let Some(raw) = raw else {
            let at: &[Seg] = if self.tree.get(&ep).is_some() {
                &ep
            } else {
                &sp
            };
            self.key_err(
                at,
                format!("state `{state}` has no expectations"),
                Some(nothing_help.into()),
            );
            return Expect::default();
        };
        // Judged on what was written, so that an invalid value is not also reported as "no
        // expectations".
        let written = raw.allowed.is_some()
            || raw.blocked.is_some()
            || raw.collection.is_some()
            || raw.calls.as_ref().is_some_and(|c| !c.is_empty())
            || raw.consent.as_ref().is_some_and(|c| !c.is_empty())
            || raw.events.as_ref().is_some_and(|e| !e.is_empty())
            || raw.tcf.is_some()
            || raw.gpp.is_some();
        let allowed = raw
            .allowed
            .and_then(|v| self.destination_set(state, "allowed", v, destinations));
        let blocked = raw
            .blocked
            .and_then(|v| self.destination_set(state, "blocked", v, destinations));
        self.check_allowed_blocked(state, allowed.as_ref(), blocked.as_ref(), destinations);
        let collection = raw
            .collection
            .and_then(|c| self.pick(&self.at(segs!["collection"]), "collection level", &c));
        let calls = self.calls(state, raw.calls.unwrap_or_default());
        let consent = raw.consent.map(|m| {
            let mut out = BTreeMap::new();
            for (id, v) in m {
                let cp = self.at(segs!["consent", &id]);
                self.check_category(&cp, &id, categories, true);
                out.insert(id, v);
            }
            out
        });
        let events = self.events(state, raw.events.unwrap_or_default(), categories);
        if !written {
            self.key_err(
                &ep,
                format!("state `{state}` has no expectations"),
                Some(nothing_help.into()),
            );
        }
        let tcf = raw.tcf;
        if let Some(t) = &tcf {
            self.check_tcf(state, t);
        }
        Expect {
            allowed,
            blocked,
            collection,
            calls,
            consent,
            events,
            tcf,
            gpp: raw.gpp,
        }
    }

    /// `blocked` names no consent-exempt destination, and no destination is both allowed and
    /// blocked.
    fn check_allowed_blocked(
        &mut self,
        state: &str,
        allowed: Option<&DestinationSet>,
        blocked: Option<&DestinationSet>,
        destinations: &IndexMap<String, Destination>,
    ) {
        if let Some(b) = blocked {
            let exempt: BTreeMap<&str, &str> = destinations
                .iter()
                .filter_map(|(n, d)| d.exempt.as_deref().map(|r| (n.as_str(), r)))
                .collect();
            self.check_not_exempt(state, b, &exempt);
        }
        if let (Some(a), Some(b)) = (allowed, blocked) {
            let both: Vec<String> = match (a, b) {
                (DestinationSet::All, DestinationSet::All) => vec!["all".into()],
                // `blocked: all` never covers a consent-exempt destination.
                (DestinationSet::Some(v), DestinationSet::All) => v
                    .iter()
                    .filter(|n| destinations.get(*n).is_none_or(|d| d.exempt.is_none()))
                    .cloned()
                    .collect(),
                (DestinationSet::All, DestinationSet::Some(v)) => v.clone(),
                (DestinationSet::Some(x), DestinationSet::Some(y)) => {
                    x.iter().filter(|n| y.contains(n)).cloned().collect()
                }
            };
            for name in both {
                let bp = match b {
                    DestinationSet::Some(v) => {
                        let idx = v.iter().position(|n| *n == name).unwrap_or(0);
                        self.at(segs!["blocked", idx])
                    }
                    DestinationSet::All => self.at(segs!["blocked"]),
                };
                self.value_err(
                    &bp,
                    format!("`{name}` is both allowed and blocked in state `{state}`"),
                    Some(
                        "a destination is either allowed or blocked; remove it from one list"
                            .into(),
                    ),
                );
            }
        }
    }

    /// `expect.calls`: call type → collection level.
    fn calls(&mut self, state: &str, raw: IndexMap<String, String>) -> BTreeMap<Call, Collection> {
        let mut calls = BTreeMap::new();
        for (call, level) in raw {
            let cp = self.at(segs!["calls", &call]);
            let Some(c) = Call::from_word(&call) else {
                let message = format!("unknown call type `{call}` in state `{state}` expect.calls");
                let help = word_help::<Call>(&call, "call types:");
                self.key_err(&cp, message, Some(help));
                continue;
            };
            if let Some(l) = self.pick(&cp, "collection level", &level) {
                calls.insert(c, l);
            }
        }
        calls
    }

    /// `expect.tcf`: every purpose and special feature is one TCF v2.2 defines.
    fn check_tcf(&mut self, state: &str, t: &super::signals::TcfExpect) {
        for (field, i, n) in t.out_of_range() {
            let range = if field == "special_features" {
                "1 to 2"
            } else {
                "1 to 11"
            };
            self.value_err(
                &segs!["states", state, "expect", "tcf", field, i],
                format!(
                    "TCF v2.2 has no {} {n}",
                    if field == "special_features" {
                        "special feature"
                    } else {
                        "purpose"
                    }
                ),
                Some(format!("`{field}` lists numbers from {range}")),
            );
        }
    }

    /// The top-level `gpp:` map: declared categories → the GPP opt-outs that switch them off,
    /// none empty.
    fn gpp_opt_outs(
        &mut self,
        raw: IndexMap<String, Vec<super::signals::GppOptOut>>,
        categories: &IndexMap<String, Category>,
    ) -> IndexMap<String, Vec<super::signals::GppOptOut>> {
        let help = "list the GPP opt-outs that switch the category off, e.g. `[sale, sharing, \
                    targeted_advertising]`";
        self.signal_map("gpp", raw, categories, "opt-outs", help)
    }

    /// The top-level `tcf:` map: declared categories → TCF purposes 1 to 11, none empty.
    fn tcf_purposes(
        &mut self,
        raw: IndexMap<String, Vec<u8>>,
        categories: &IndexMap<String, Category>,
    ) -> IndexMap<String, Vec<u8>> {
        let help =
            "list the TCF purposes (1 to 11) the category needs consent to, e.g. `[1, 3, 4]`";
        let out = self.signal_map("tcf", raw, categories, "purposes", help);
        for (id, purposes) in &out {
            for (i, n) in purposes.iter().enumerate() {
                if !super::signals::TCF_PURPOSES.contains(n) {
                    self.value_err(
                        &segs!["tcf", id, i],
                        format!("TCF v2.2 has no purpose {n}"),
                        Some("TCF purposes are numbered 1 to 11".into()),
                    );
                }
            }
        }
        out
    }

    /// A top-level signal map (`tcf:`, `gpp:`): each key a declared category, each list
    /// (of `what`) not empty.
    fn signal_map<T>(
        &mut self,
        key: &str,
        raw: IndexMap<String, Vec<T>>,
        categories: &IndexMap<String, Category>,
        what: &str,
        help: &str,
    ) -> IndexMap<String, Vec<T>> {
        for (id, list) in &raw {
            let p = segs![key, id];
            self.check_category(&p, id, categories, true);
            if list.is_empty() {
                let message = format!("`{key}.{id}` lists no {what}");
                self.value_err(&p, message, Some(help.into()));
            }
        }
        raw
    }

    fn destination_set(
        &mut self,
        state: &str,
        which: &str,
        v: Value,
        destinations: &IndexMap<String, Destination>,
    ) -> Option<DestinationSet> {
        let p = self.at(segs![which]);
        let names: Vec<&str> = destinations.keys().map(String::as_str).collect();
        match v {
            Value::String(s) if s == "all" => Some(DestinationSet::All),
            Value::String(s) => {
                let help = if destinations.contains_key(&s) {
                    format!("write a list: `{which}: [{s}]`")
                } else {
                    format!("write `{which}: all` or a list of destination names")
                };
                self.value_err(
                    &p,
                    format!("`{which}` in state `{state}` must be `all` or a list, found `{s}`"),
                    Some(help),
                );
                None
            }
            Value::Sequence(items) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (i, item) in items.into_iter().enumerate() {
                    let ip = self.at(segs![which, i]);
                    let Value::String(name) = item else {
                        ok = false;
                        self.value_err(
                            &ip,
                            format!("destination names are strings, found {}", kind_of(&item)),
                            None,
                        );
                        continue;
                    };
                    if !destinations.contains_key(&name) {
                        ok = false;
                        let help = if destinations.is_empty() {
                            format!("declare it under `destinations:` (`{name}: {{}}`)")
                        } else {
                            unknown_help(&name, &names, "declared destinations:")
                        };
                        self.value_err(
                            &ip,
                            format!(
                                "unknown destination `{name}` in state `{state}` expect.{which}"
                            ),
                            Some(help),
                        );
                        continue;
                    }
                    out.push(name);
                }
                ok.then_some(DestinationSet::Some(out))
            }
            other => {
                self.value_err(
                    &p,
                    format!(
                        "`{which}` in state `{state}` must be `all` or a list, found {}",
                        kind_of(&other)
                    ),
                    None,
                );
                None
            }
        }
    }

    fn timing(&mut self, raw: RawTiming) -> Option<Timing> {
        let d = Timing::default();
        let clock = match &raw.clock {
            None => Some(d.clock),
            Some(c) => self.pick::<ClockMode>(&segs!["timing", "clock"], "timing.clock", c),
        };
        let mut ok = clock.is_some();
        let clock = clock.unwrap_or(d.clock);
        let mut take = |cx: &mut Self, key: &str, v: Option<u64>, default: u64| match v {
            Some(0) => {
                ok = false;
                cx.value_err(
                    &segs!["timing", key],
                    format!("`timing.{key}` must be more than 0"),
                    Some(format!("the default is {default}")),
                );
                default
            }
            Some(v) => v,
            None => default,
        };
        let t = Timing {
            step_ms: take(self, "step_ms", raw.step_ms, d.step_ms),
            quiet_ms: take(self, "quiet_ms", raw.quiet_ms, d.quiet_ms),
            min_quiet_ms: raw
                .min_quiet_ms
                .map(|v| take(self, "min_quiet_ms", Some(v), 1)),
            settle_max_ms: take(
                self,
                "settle_max_ms",
                raw.settle_max_ms,
                Timing::default_settle_max_ms(clock),
            ),
            clock,
            horizon_ms: take(self, "horizon_ms", raw.horizon_ms, d.horizon_ms),
            navigation_ms: take(self, "navigation_ms", raw.navigation_ms, d.navigation_ms),
            trial_ms: raw.trial_ms.map(|v| take(self, "trial_ms", Some(v), 1)),
        };
        ok.then_some(t)
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// The container of a key or list item: `states.a.expect.collection` → `states.a.expect`,
/// `destinations.X.categories[0]` → `destinations.X.categories`.
fn parent(p: &[Seg]) -> &[Seg] {
    p.split_last().map_or(p, |(_, rest)| rest)
}

/// Where a value sits, for "unknown ... `x` in ...": nothing at the top level, the category
/// itself for a category's purpose.
fn context(p: &[Seg]) -> String {
    match parent(p) {
        [] => String::new(),
        [Seg::Key(c)] if c == "categories" => format!(" for {}", describe(p)),
        [Seg::Key(c), _, Seg::Key(k)] if c == "categories" && k == "purpose" => {
            format!(" for {}", describe(&p[..2]))
        }
        up => format!(" in {}", describe(up)),
    }
}

/// A path for people: `state `reject-all` expect`, `destination `Facebook Pixel``.
pub(crate) fn describe(p: &[Seg]) -> String {
    fn key(s: &Seg) -> Option<&str> {
        match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        }
    }
    let rest_of = |rest: &[Seg]| -> String {
        match rest {
            [] => String::new(),
            [Seg::Key(s), Seg::Index(i), more @ ..] if s == "steps" => {
                if more.is_empty() {
                    format!(" step {}", i + 1)
                } else {
                    format!(" step {} {}", i + 1, dotted(more))
                }
            }
            _ => format!(" {}", dotted(rest)),
        }
    };
    match p {
        [] => "the top level".to_string(),
        [first, name, rest @ ..] if key(first).is_some() => {
            let Some(n) = key(name) else {
                return format!("`{}`", dotted(p));
            };
            let what = match key(first) {
                Some("states") => "state",
                Some("destinations") => "destination",
                Some("categories") => "category",
                _ => return format!("`{}`", dotted(p)),
            };
            format!("{what} `{n}`{}", rest_of(rest))
        }
        _ => format!("`{}`", dotted(p)),
    }
}

/// The closest candidate, when one is close enough to be a likely typo.
pub(crate) fn suggest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = input.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for c in candidates {
        let cl = c.to_lowercase();
        let mut score = strsim::normalized_damerau_levenshtein(&lower, &cl);
        if lower == cl {
            score = 1.0;
        } else if lower.len() >= 3 && (cl.starts_with(&lower) || lower.starts_with(&cl)) {
            score = score.max(0.8);
        }
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.filter(|(s, _)| *s >= 0.6).map(|(_, c)| c)
}

/// "did you mean `x`?", else the list of what is allowed.
/// [`unknown_help`] over the words of `T`.
pub(crate) fn word_help<T: Word>(input: &str, list_label: &str) -> String {
    let words = T::words();
    let names: Vec<&str> = words.iter().map(String::as_str).collect();
    unknown_help(input, &names, list_label)
}

/// The word of `T` closest to `input`, when one is close enough to suggest.
fn closest<T: Word>(input: &str) -> Option<String> {
    let words = T::words();
    let names: Vec<&str> = words.iter().map(String::as_str).collect();
    suggest(input, &names).map(str::to_string)
}

pub(crate) fn unknown_help(input: &str, candidates: &[&str], list_label: &str) -> String {
    match suggest(input, candidates) {
        Some(s) => format!("did you mean `{s}`?"),
        None if candidates.is_empty() => "nothing is declared here".to_string(),
        None => format!("{list_label} {}", backticked(candidates)),
    }
}

fn backticked(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Removes serde_yaml's ` at line L column C` (keeping any `, while parsing ...` context).
fn strip_location(msg: &str) -> String {
    let mut out = msg.to_string();
    while let Some(pos) = out.find(" at line ") {
        let rest = &out[pos + " at line ".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let after = &rest[digits.len()..];
        let Some(after) = after.strip_prefix(" column ") else {
            break;
        };
        let col: String = after.chars().take_while(char::is_ascii_digit).collect();
        let end = pos + " at line ".len() + digits.len() + " column ".len() + col.len();
        out.replace_range(pos..end, "");
    }
    out
}

/// serde_path_to_error's path as the tree's segments.
fn path_segments(path: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// serde's message without serde_yaml's position and without serde_yaml's own copy of the path
/// (which names the mapping, while `path` may go one key deeper: serde_path_to_error records an
/// unknown key before it is refused): `unknown field `x`, expected ...`.
fn serde_body(err: &serde_yaml::Error, path: &[Seg]) -> String {
    let text = strip_location(&err.to_string());
    (1..=path.len())
        .rev()
        .find_map(|k| text.strip_prefix(&format!("{}: ", dotted(&path[..k]))))
        .unwrap_or(&text)
        .to_string()
}

/// The mapping an error concerns: `path` without the unknown key it may end with.
fn container<'p>(body: &str, path: &'p [Seg]) -> &'p [Seg] {
    let unknown = body
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next());
    match (unknown, path.split_last()) {
        (Some(key), Some((Seg::Key(last), up))) if last == key => up,
        _ => path,
    }
}

/// A serde message (path already removed) and the path of the mapping it concerns → headline
/// and help.
fn explain_serde(body: &str, container: &[Seg]) -> (String, Option<String>) {
    let within = describe(container);
    if let Some(rest) = body.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default();
        let allowed = expected_names(body);
        let help = if allowed.is_empty() {
            "this mapping takes no keys".to_string()
        } else {
            unknown_help(key, &allowed, "allowed keys:")
        };
        let message = if container.is_empty() {
            format!("unknown top-level key `{key}`")
        } else {
            format!("unknown key `{key}` in {within}")
        };
        return (message, Some(help));
    }
    if let Some(rest) = body.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or_default();
        let message = if container.is_empty() {
            format!("missing top-level key `{key}`")
        } else {
            format!("missing key `{key}` in {within}")
        };
        let help = match key {
            "site" => "every spec starts with `site: {url: https://...}`".to_string(),
            "url" => "`site.url` is the first page the browser opens".to_string(),
            _ => format!("add `{key}:`"),
        };
        return (message, Some(help));
    }
    if let Some(rest) = body.strip_prefix("duplicate field `") {
        let key = rest.split('`').next().unwrap_or_default();
        return (
            format!("duplicate key `{key}` in {within}"),
            Some("a key may appear once per mapping".into()),
        );
    }
    if let Some(rest) = body.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        let target = if container.is_empty() {
            "the spec".to_string()
        } else {
            within
        };
        let help = if container.len() >= 4 && matches!(&container[2], Seg::Key(k) if k == "steps") {
            Some("a step is a one-key mapping such as `- click: \"#accept\"`".to_string())
        } else if expected == "a boolean" {
            Some("write `true` or `false`".to_string())
        } else {
            None
        };
        return (
            format!("wrong type for {target}: expected {expected}, found {found}"),
            help,
        );
    }
    if container.is_empty() {
        (body.to_string(), None)
    } else {
        (format!("{within}: {body}"), None)
    }
}

/// The backticked names after "expected" in a serde message.
fn expected_names(body: &str) -> Vec<&str> {
    let Some(idx) = body.find("expected") else {
        return Vec::new();
    };
    body[idx..].split('`').skip(1).step_by(2).collect()
}

fn check_http_url(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| format!("`{url}` does not start with `http://` or `https://`"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("`{url}` has no host"));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(format!("`{url}` contains white space"));
    }
    Ok(())
}

/// `HTTPS://Shop.Example:443/` → `https://shop.example`.
pub(crate) fn normalise_origin(origin: &str) -> Result<String, String> {
    let lower = origin.trim().to_ascii_lowercase();
    let (scheme, rest) = lower
        .split_once("://")
        .ok_or_else(|| "it has no scheme (`https://`)".to_string())?;
    if scheme != "http" && scheme != "https" {
        return Err(format!("scheme `{scheme}` is not http or https"));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#']) {
        return Err("it has a path; serve whole origins and put the path in the folder".into());
    }
    if rest.is_empty() || rest.starts_with(':') {
        return Err("it has no host".into());
    }
    if rest.contains('@') || rest.contains(char::is_whitespace) {
        return Err("it is not of the form `scheme://host[:port]`".into());
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => {
            if !p.chars().all(|c| c.is_ascii_digit()) || p.is_empty() || p.parse::<u16>().is_err() {
                if rest.starts_with('[') && !h.ends_with(']') {
                    (rest, None)
                } else {
                    return Err(format!("port `{p}` is not a number"));
                }
            } else {
                (h, Some(p))
            }
        }
        _ => (rest, None),
    };
    let default_port = if scheme == "https" { "443" } else { "80" };
    Ok(match port {
        Some(p) if p != default_port => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// A page or `visit:` target: a path starting with `/`, or an absolute http(s) URL.
fn check_page(page: &str) -> Result<(), String> {
    if page.trim().is_empty() {
        return Err("is empty".into());
    }
    if page.starts_with('/') {
        return Ok(());
    }
    check_http_url(page)
        .map_err(|_| format!("`{page}` is neither a path starting with `/` nor an http(s) URL"))
}

/// The folder a spec may read from: the nearest ancestor of its folder holding `.git`, else the
/// spec's folder itself; symbolic links resolved.
pub(crate) fn repository_root(spec_dir: &Path) -> PathBuf {
    let dir = if spec_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        spec_dir
    };
    let real = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    real.ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(real)
}

const SELECTOR_HELP: &str = "write a CSS selector such as `#accept` or `button.primary`, or a \
     Playwright selector such as `text=Accept all` or `role=button[name=\"Accept\"]`";

/// Rejects selectors that are malformed whatever the page: unbalanced brackets, parentheses or
/// quotes; a CSS part that starts or ends with a combinator, has an empty item in a list, or a
/// `#`/`.` with no name. Playwright engines (`text=`, `role=`, `xpath=`, `//…`, quoted text) are
/// only checked for balance; anything subtler is left to the browser, whose error fails the step
/// with a message naming it.
pub(crate) fn check_selector(sel: &str) -> Result<(), String> {
    let mut stack: Vec<char> = Vec::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut parts: Vec<String> = vec![String::new()];
    let chars: Vec<char> = sel.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else {
            match c {
                '"' | '\'' => quote = Some(c),
                '[' | '(' => stack.push(c),
                ']' | ')' => {
                    let open = if c == ']' { '[' } else { '(' };
                    if stack.pop() != Some(open) {
                        return Err(format!("`{c}` at character {} closes nothing", i + 1));
                    }
                }
                '>' if stack.is_empty() && chars.get(i + 1) == Some(&'>') => {
                    parts.push(String::new());
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
        i += 1;
    }
    if let Some(q) = quote {
        return Err(format!("the quote `{q}` is never closed"));
    }
    if let Some(open) = stack.last() {
        let close = if *open == '[' { ']' } else { ')' };
        return Err(format!("`{open}` is never closed with `{close}`"));
    }
    for part in &parts {
        let part = part.trim();
        if part.is_empty() {
            return Err("a `>>` chain has an empty part".into());
        }
        let engine = part.split_once('=').is_some_and(|(e, _)| {
            !e.is_empty()
                && e.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':')
        });
        if engine
            || part.starts_with("//")
            || part.starts_with("..")
            || part.starts_with(['"', '\''])
        {
            continue;
        }
        check_css(part)?;
    }
    Ok(())
}

/// Each character of `css` with whether it stands outside quotes and brackets, as the state is
/// after it (a closing quote or bracket is outside, an opening one inside).
fn outside_marks(css: &str) -> Vec<(char, bool)> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    css.chars()
        .map(|c| {
            match (quote, c) {
                (Some(q), _) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '[' | '(') => depth += 1,
                (None, ']' | ')') => depth = depth.saturating_sub(1),
                _ => {}
            }
            (c, depth == 0 && quote.is_none())
        })
        .collect()
}

/// Shallow checks of one CSS selector list (brackets already balanced).
fn check_css(css: &str) -> Result<(), String> {
    let marks = outside_marks(css);
    for item in marks.split(|&(c, outside)| c == ',' && outside) {
        // Trimmed as `str::trim` trims, the marks kept beside their characters.
        let start = item.iter().position(|(c, _)| !c.is_whitespace());
        let end = item.iter().rposition(|(c, _)| !c.is_whitespace());
        let item = match (start, end) {
            (Some(a), Some(b)) => &item[a..=b],
            _ => &[][..],
        };
        // Blanked inside quotes and brackets: what is left is the selector's own syntax.
        let bytes: Vec<char> = item
            .iter()
            .map(|&(c, outside)| if outside { c } else { ' ' })
            .collect();
        let item: String = item.iter().map(|(c, _)| c).collect();
        let item = item.as_str();
        if item.is_empty() {
            return Err("a selector list has an empty item (`,` with nothing beside it)".into());
        }
        if let Some(c) = item.chars().next().filter(|c| matches!(c, '>' | '+' | '~')) {
            return Err(format!("`{item}` starts with the combinator `{c}`"));
        }
        if let Some(c) = item.chars().last().filter(|c| matches!(c, '>' | '+' | '~')) {
            return Err(format!("`{item}` ends with the combinator `{c}`"));
        }
        for (j, c) in bytes.iter().enumerate() {
            if matches!(c, '#' | '.') {
                let next = bytes.get(j + 1);
                let named = next.is_some_and(|n| {
                    n.is_alphanumeric() || matches!(n, '-' | '_' | '\\') || !n.is_ascii()
                });
                if !named {
                    return Err(format!("`{c}` in `{item}` is not followed by a name"));
                }
                if *c == '#' && next.is_some_and(|n| n.is_ascii_digit()) {
                    return Err(format!(
                        "`#{}` is not a valid CSS id selector (an id selector cannot start with a digit; write `[id=\"…\"]`)",
                        bytes[j + 1..]
                            .iter()
                            .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
                            .collect::<String>()
                    ));
                }
            }
        }
    }
    Ok(())
}
