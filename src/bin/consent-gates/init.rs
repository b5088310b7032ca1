//! `consent-gates init URL`: one visit with no choice made, then a starting spec.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use consent_gates::analysis::routing::{self, Evidence, Routing};
use consent_gates::analysis::segment::{self, CdnSettings, Decoded, LibrarySeen};
use consent_gates::browser::edge;
use consent_gates::browser::error::SETUP_COMMAND;
use consent_gates::browser::session::{self, Shared};
use consent_gates::capture::Capture;
use consent_gates::runner::exit;
use consent_gates::spec;

/// Visit a site once (no choice made) and write a starting spec.
///
/// Records what the site loads and which destinations the Segment settings and the network show;
/// with a recognised CMP, a second visit accepts everything. Every guess in the spec is marked
/// `TODO`. `--serve`, `--settings`, `--offline` and `--library` answer the site locally, exactly as
/// the spec keys of the same names do; for a live site give only the URL.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  consent-gates init https://shop.example/ -o specs/shop.yaml \\\n    \
    --offline --library bundled --settings examples/sites/shop/settings.json \\\n    \
    --serve https://shop.example=examples/sites/shop/www"
)]
pub struct Args {
    /// The site's first page (http or https).
    #[arg(value_name = "URL", value_parser = parse_url)]
    url: String,
    /// Write the spec to FILE (its folder must exist; checked before the visit) instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
    /// Answer ORIGIN from the local folder DIR (repeatable), as `site.serve`.
    #[arg(long, value_name = "ORIGIN=DIR", value_parser = parse_serve)]
    serve: Vec<(String, PathBuf)>,
    /// Answer Segment's settings request with FILE, as `segment.settings`.
    #[arg(long, value_name = "FILE", value_parser = parse_file)]
    settings: Option<PathBuf>,
    /// Answer every other request locally, as `site.offline: true`.
    #[arg(long)]
    offline: bool,
    /// Where analytics.js comes from, as `segment.library`.
    #[arg(long, value_name = "bundled|site", value_parser = ["bundled", "site"])]
    library: Option<String>,
}

fn parse_url(url: &str) -> Result<String, String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_string())
    } else {
        Err(format!("`{url}` is not an http or https URL"))
    }
}

fn parse_serve(v: &str) -> Result<(String, PathBuf), String> {
    let (origin, dir) = v
        .split_once('=')
        .ok_or_else(|| format!("takes ORIGIN=DIR, got `{v}`"))?;
    let dir = PathBuf::from(dir);
    if !dir.is_dir() {
        return Err(format!("{origin}: {} is not a folder", dir.display()));
    }
    Ok((origin.trim_end_matches('/').to_string(), dir))
}

fn parse_file(v: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(v);
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!("{} is not a file", p.display()))
    }
}

/// Fails unless `path` can be written: its folder exists and takes a new file, and `path` is not
/// a folder or a read-only file. Checked before the visit, so a typo costs no browser run; an
/// existing file is left as it is until the spec is ready.
fn check_writable(path: &Path) -> Result<(), String> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(format!(
            "cannot write {}: the folder {} does not exist (create it first)",
            path.display(),
            folder.display()
        ));
    }
    if path.is_dir() {
        return Err(format!(
            "cannot write {}: it is a folder; give a file name (-o {}/spec.yaml)",
            path.display(),
            path.display()
        ));
    }
    if path.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    } else {
        // Create and remove a file in its place: the folder's permissions, read-only mounts.
        std::fs::File::create_new(path)
            .and_then(|_| std::fs::remove_file(path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

pub fn main(args: Args) -> ExitCode {
    if let Some(out) = &args.out
        && let Err(e) = check_writable(out)
    {
        eprintln!("consent-gates init: {e}");
        return ExitCode::from(exit::INVALID_SPEC);
    }
    let out_dir = match &args.out {
        Some(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => PathBuf::new(),
    };
    let out_dir = absolute(&out_dir);
    let (capture, settings, spec) = match probe(&args, &out_dir, None) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("consent-gates init: {e}");
            return ExitCode::from(exit::TRIAL_ERROR);
        }
    };
    let decoded = segment::decode(&capture);
    let mut routed = routing::route(&spec, settings.as_ref(), &capture, &decoded);
    let mut library = library_words(&segment::library::recognise(&decoded));
    // With a CMP recognised, a second visit accepts everything: what the network shows then
    // names the destinations an opt-in site holds back until consent.
    if let Some(cmp) = &capture.cmp_detected {
        add_accept_all(
            &args,
            &out_dir,
            cmp,
            &decoded,
            settings.as_ref(),
            &mut routed,
            &mut library,
        );
    }
    let text = render(
        &args,
        &out_dir,
        &capture,
        settings.as_ref(),
        &decoded,
        &routed,
        &library,
    );
    write_out(&args, &text, settings.as_ref(), &routed)
}

/// The accept-all visit through the detected CMP: the destinations it shows join the first
/// visit's undeclared ones, and the library line says when Segment only loaded after accepting.
fn add_accept_all(
    args: &Args,
    out_dir: &Path,
    cmp: &str,
    decoded: &Decoded,
    settings: Option<&CdnSettings>,
    routed: &mut Routing,
    library: &mut String,
) {
    match probe(args, out_dir, Some(cmp)) {
        Ok((accepted, _, spec2)) => {
            let decoded2 = segment::decode(&accepted);
            let seen2 = segment::library::recognise(&decoded2);
            if !segment::library::recognise(decoded).loaded() && seen2.loaded() {
                *library = format!(
                    "not loaded before any choice, {} after accepting all",
                    library_words(&seen2)
                );
            }
            let routed2 = routing::route(&spec2, settings, &accepted, &decoded2);
            for u in routed2.undeclared {
                match routed.undeclared.iter_mut().find(|x| x.name == u.name) {
                    Some(x) => {
                        for e in u.evidence {
                            if !x.evidence.contains(&e) {
                                x.evidence.push(e);
                            }
                        }
                    }
                    None => routed.undeclared.push(u),
                }
            }
        }
        Err(e) => eprintln!(
            "consent-gates init: the accept-all visit failed ({e}); listing what the first visit showed"
        ),
    }
}

/// The spec to the `-o` file (with a line saying what to do next) or to stdout.
fn write_out(
    args: &Args,
    text: &str,
    settings: Option<&CdnSettings>,
    routed: &Routing,
) -> ExitCode {
    match &args.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("consent-gates init: cannot write {}: {e}", path.display());
                return ExitCode::from(exit::TRIAL_ERROR);
            }
            eprintln!(
                "consent-gates init: wrote {} ({} destination{}); fill in its TODOs, then run `consent-gates explain {0}` and `consent-gates test {0}`",
                path.display(),
                destinations(settings, routed).len(),
                if destinations(settings, routed).len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
        }
        None => print!("{text}"),
    }
    ExitCode::SUCCESS
}

/// Visits the site once, as a state with no steps, through the same session the trials use.
/// With `accept` (the detected CMP adapter), the visitor accepts everything through it.
fn probe(
    args: &Args,
    out_dir: &Path,
    accept: Option<&str>,
) -> Result<(Capture, Option<CdnSettings>, spec::Spec), String> {
    let yaml = probe_yaml(args, accept);
    // The probe spec is virtual: place it where every folder it names lies below it (specs may
    // only read files inside their repository).
    let root = probe_root(args, out_dir);
    let spec = spec::parse_str(&yaml, &root.join("init-probe.yaml"))
        .map_err(|e| format!("the options do not make a valid spec:\n{e}"))?;
    let settings = match &spec.segment.settings {
        Some(p) => Some(CdnSettings::from_file(p).map_err(|e| e.to_string())?),
        None => None,
    };
    let state = spec.states.get("init-probe").ok_or("no probe state")?;
    let shared = Shared::get(spec.site.offline);
    let browser = shared.browser().map_err(|e| e.to_string())?;
    let dist = edge::find_segment_dist(out_dir);
    if spec.segment.library == spec::Library::Bundled && dist.is_none() {
        return Err(format!(
            "--library bundled needs @segment/analytics-next: run `{}`",
            SETUP_COMMAND
        ));
    }
    let config = edge::EdgeConfig::from_spec(&spec, dist).map_err(|e| e.to_string())?;
    eprintln!(
        "consent-gates init: visiting {} ({})",
        args.url,
        if accept.is_some() {
            "accepting everything"
        } else {
            "no choice made"
        }
    );
    let visit = shared
        .runtime()
        .block_on(session::visit(&browser, &spec, state, Arc::new(config)))
        .map_err(|e| e.to_string())?;
    Ok((visit.capture, settings, spec))
}

/// The probe's spec: the site as the options give it, one state with no steps (or accepting
/// everything through `accept`) that lets everything through.
fn probe_yaml(args: &Args, accept: Option<&str>) -> String {
    let mut yaml = format!("site:\n  url: {}\n", json(&args.url));
    if !args.serve.is_empty() {
        yaml.push_str("  serve:\n");
        for (origin, dir) in &args.serve {
            let _ = writeln!(
                yaml,
                "    {}: {}",
                json(origin),
                json(&absolute(dir).display().to_string())
            );
        }
    }
    let _ = writeln!(yaml, "  offline: {}", args.offline);
    if args.settings.is_some() || args.library.is_some() {
        yaml.push_str("segment:\n");
        if let Some(s) = &args.settings {
            let _ = writeln!(
                yaml,
                "  settings: {}",
                json(&absolute(s).display().to_string())
            );
        }
        if let Some(l) = &args.library {
            let _ = writeln!(yaml, "  library: {l}");
        }
    }
    match accept {
        None => yaml.push_str("cmp: auto\nstates:\n  init-probe: {expect: {collection: any}}\n"),
        Some(cmp) => {
            let _ = write!(
                yaml,
                "cmp: {cmp}\nstates:\n  init-probe: {{steps: [{{cmp: accept_all}}], expect: {{collection: any}}}}\n"
            );
        }
    }
    yaml
}

/// The probe's folder: the output folder, or the nearest folder above every folder it names.
fn probe_root(args: &Args, out_dir: &Path) -> PathBuf {
    let mut root = out_dir.to_path_buf();
    for p in args
        .serve
        .iter()
        .map(|(_, d)| d)
        .chain(args.settings.as_ref())
    {
        let p = absolute(p);
        while !p.starts_with(&root) {
            if !root.pop() {
                break;
            }
        }
    }
    root
}

/// A YAML scalar: plain when it is safe, else double-quoted (JSON strings are YAML).
fn yaml(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " ._()/-".contains(c))
        && !s.starts_with([' ', '-'])
        && !s.ends_with(' ')
        && !matches!(s, "true" | "false" | "null" | "yes" | "no" | "on" | "off");
    if plain { s.to_string() } else { json(s) }
}

fn json(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    // Normalise `.` and `..` without touching the file system.
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `target` relative to the folder `from` (both absolute).
fn relative(target: &Path, from: &Path) -> String {
    let t: Vec<Component> = target.components().collect();
    let f: Vec<Component> = from.components().collect();
    let common = t.iter().zip(&f).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..f.len() {
        rel.push("..");
    }
    for c in &t[common..] {
        rel.push(c);
    }
    let s = rel.display().to_string();
    if s.is_empty() { ".".into() } else { s }
}

/// OneTrust's usual category ids, the most common convention for Segment consent stamps.
fn guess_purpose(id: &str) -> Option<&'static str> {
    match id {
        "C0001" => Some("necessary"),
        "C0002" => Some("analytics"),
        "C0003" => Some("functional"),
        "C0004" | "C0005" => Some("advertising"),
        _ => None,
    }
}

/// A destination the starting spec lists, and why.
struct Found {
    name: String,
    /// Categories the settings gate it by (`None`: not in the settings' consent mapping).
    settings_categories: Option<Vec<String>>,
    in_settings: bool,
    device: bool,
    seen: Vec<String>,
}

fn destinations(settings: Option<&CdnSettings>, routed: &Routing) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    if let Some(s) = settings {
        for name in s.declared_names() {
            out.push(Found {
                settings_categories: s.categories(&name).map(<[String]>::to_vec),
                device: s.is_device_mode(&name),
                in_settings: true,
                seen: Vec::new(),
                name,
            });
        }
    }
    for u in &routed.undeclared {
        let seen: Vec<String> = u
            .evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Settings { .. } => None,
                Evidence::CodeLoaded { path, .. } => Some(format!("code {path}")),
                Evidence::HostContacted { host, .. } => Some(format!("host {host}")),
                Evidence::Payload {
                    host, signature, ..
                } => Some(format!("{signature} on {host}")),
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        match out.iter_mut().find(|f| f.name == u.name) {
            Some(f) => f.seen = seen,
            None => out.push(Found {
                name: u.name.clone(),
                settings_categories: None,
                in_settings: false,
                device: true,
                seen,
            }),
        }
    }
    out
}

/// Resource types that fetch static files: a host that only served these, without a query or a
/// body, received nothing about the visitor beyond the request itself.
const STATIC_TYPES: [&str; 4] = ["font", "stylesheet", "image", "script"];

/// `site.allow_hosts`, proposed from the third-party hosts no destination claimed: a host that
/// only served static files (no query, no body) is proposed; any other is left commented out
/// with a TODO, for the reader to classify.
fn allow_hosts(routed: &Routing) -> String {
    if routed.other_hosts.is_empty() {
        return "  allow_hosts: []        # the visit contacted no third-party host outside the destinations\n"
            .to_string();
    }
    let mut o = String::from(
        "  allow_hosts:          # third-party hosts no destination claims (any other fails unknown-recipient)\n",
    );
    for host in &routed.other_hosts {
        let reqs: Vec<&routing::UnknownRequest> =
            routed.unknown.iter().filter(|u| &u.host == host).collect();
        let types: BTreeSet<&str> = reqs.iter().map(|u| u.resource_type.as_str()).collect();
        let plain = reqs.iter().all(|u| {
            u.method == "GET" && !u.carries && STATIC_TYPES.contains(&u.resource_type.as_str())
        });
        let what = types.into_iter().collect::<Vec<_>>().join(", ");
        if plain {
            let _ = writeln!(o, "    - {}   # served {what} only", yaml(host));
        } else {
            let _ = writeln!(
                o,
                "    # - {}   # TODO: received {what} requests: allow it only if it carries nothing personal, else declare the destination it feeds",
                yaml(host)
            );
        }
    }
    o
}

/// The starting spec: a header (the schema, what the visit loaded), then the spec's keys in the
/// order a reader fills them in.
fn render(
    args: &Args,
    out_dir: &Path,
    capture: &Capture,
    settings: Option<&CdnSettings>,
    decoded: &Decoded,
    routed: &Routing,
    library: &str,
) -> String {
    let found = destinations(settings, routed);
    let mut o = String::new();
    render_header(&mut o, args, out_dir);
    render_loaded(&mut o, args, capture, decoded, library);
    render_site(&mut o, args, out_dir, routed);
    let ids = render_categories(&mut o, settings, &found);
    match &capture.cmp_detected {
        Some(cmp) => {
            let _ = writeln!(o, "cmp: {cmp}  # detected on the page: unlocks `cmp:` steps");
        }
        None => o.push_str("# cmp: TODO            # no built-in CMP adapter recognised the banner; use `click:` steps\n"),
    }

    render_destinations(&mut o, &found, ids.is_empty());
    render_states(&mut o, capture);
    o
}

/// The schema line for editors, and what the spec was written from.
fn render_header(o: &mut String, args: &Args, out_dir: &Path) {
    // Editors validate and complete the spec when they find the schema.
    if let Some(schema) = out_dir
        .ancestors()
        .map(|d| d.join("schema/spec.schema.json"))
        .find(|p| p.is_file())
    {
        let _ = writeln!(
            o,
            "# yaml-language-server: $schema={}",
            relative(&schema, out_dir)
        );
    } else {
        o.push_str("# yaml-language-server: $schema=spec.schema.json   (write it with `consent-gates schema > spec.schema.json`)\n");
    }
    let _ = writeln!(
        o,
        "# Starting spec written by `consent-gates init` from one visit to {} with no choice made.",
        consent_gates::output::report::strip_query_values(&args.url)
    );
    o.push_str("# Fill in every TODO, then: `consent-gates explain <this file>`, `consent-gates test <this file>`.\n#\n");
}

/// What the visit loaded, as comments: Segment, destination code, site scripts, hosts, cookies.
fn render_loaded(o: &mut String, args: &Args, capture: &Capture, decoded: &Decoded, library: &str) {
    o.push_str("# What the visit loaded:\n");
    let before: Vec<String> = decoded
        .events
        .iter()
        .map(consent_gates::analysis::verdict::describe_event)
        .collect();
    let _ = writeln!(
        o,
        "#   Segment: analytics.js {}, settings {}, {} event{} before any choice{}",
        library,
        if decoded.settings_fetched {
            "fetched"
        } else {
            "not fetched"
        },
        before.len(),
        if before.len() == 1 { "" } else { "s" },
        if before.is_empty() {
            String::new()
        } else {
            format!(" ({})", before.join(", "))
        }
    );
    let code: BTreeSet<String> = decoded.destination_code();
    if !code.is_empty() {
        let _ = writeln!(
            o,
            "#   destination code: {}",
            code.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let site_host = consent_gates::capture::url_host(&args.url);
    let scripts: BTreeSet<&str> = capture
        .requests
        .iter()
        .filter(|r| r.resource_type == "script" && r.host() == site_host)
        .map(|r| r.path())
        .collect();
    if !scripts.is_empty() {
        let _ = writeln!(
            o,
            "#   site scripts: {}",
            scripts.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let hosts: BTreeSet<String> = capture
        .requests
        .iter()
        .map(|r| r.host())
        .filter(|h| !h.is_empty() && *h != site_host)
        .collect();
    if !hosts.is_empty() {
        let _ = writeln!(
            o,
            "#   other hosts: {}",
            hosts.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    if !capture.cookies.is_empty() {
        let names: BTreeSet<&str> = capture.cookies.iter().map(|c| c.name.as_str()).collect();
        let _ = writeln!(
            o,
            "#   cookies set before any choice: {}",
            names.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
}

/// `site:`, `segment:` and `regime:`.
fn render_site(o: &mut String, args: &Args, out_dir: &Path, routed: &Routing) {
    o.push_str("site:\n");
    let _ = writeln!(o, "  url: {}", yaml(&args.url));
    if !args.serve.is_empty() {
        o.push_str("  serve:\n");
        for (origin, dir) in &args.serve {
            let _ = writeln!(
                o,
                "    {}: {}",
                yaml(origin),
                yaml(&relative(&absolute(dir), out_dir))
            );
        }
    }
    if args.offline {
        o.push_str("  offline: true\n");
    }
    o.push_str(&allow_hosts(routed));
    if args.settings.is_some() || args.library.is_some() {
        o.push_str("segment:\n");
        if let Some(s) = &args.settings {
            let _ = writeln!(o, "  settings: {}", yaml(&relative(&absolute(s), out_dir)));
        }
        if let Some(l) = &args.library {
            let _ = writeln!(o, "  library: {l}");
        }
    }
    o.push_str(
        "regime: gdpr          # TODO: gdpr | cpra | none: whose defaults complete each state\n",
    );
}

/// `categories:`: the settings' own list, plus any a destination names; returns the ids.
fn render_categories(
    o: &mut String,
    settings: Option<&CdnSettings>,
    found: &[Found],
) -> Vec<String> {
    let mut ids: Vec<String> = settings
        .and_then(|s| s.consent_settings.as_ref())
        .map(|c| c.all_categories.clone())
        .unwrap_or_default();
    for f in found {
        for c in f.settings_categories.iter().flatten() {
            if !ids.contains(c) {
                ids.push(c.clone());
            }
        }
    }
    if ids.is_empty() {
        o.push_str("# categories:         # TODO: the CMP's category ids, as Segment's consent stamp carries them\n#   C0002: analytics\n");
    } else {
        o.push_str("categories:           # TODO: confirm each purpose: necessary | functional | analytics | advertising\n");
        for id in &ids {
            match guess_purpose(id) {
                Some(p) => {
                    let _ = writeln!(
                        o,
                        "  {}: {p}  # TODO: guessed from OneTrust's usual ids",
                        yaml(id)
                    );
                }
                None => {
                    let _ = writeln!(o, "  {}: analytics  # TODO: purpose unknown", yaml(id));
                }
            }
        }
    }
    ids
}

/// `destinations:`, each with what to confirm about it.
fn render_destinations(o: &mut String, found: &[Found], no_categories: bool) {
    if found.is_empty() {
        o.push_str("destinations: {}      # TODO: neither the settings nor the network showed a destination\n");
    } else {
        o.push_str("destinations:\n");
    }
    for f in found {
        let mode = if f.device || !f.in_settings {
            "{}"
        } else {
            "{mode: cloud}"
        };
        let mut note = match (&f.settings_categories, no_categories) {
            (Some(c), _) if !c.is_empty() => {
                format!("TODO: categories: the settings gate it by [{}]; confirm", c.join(", "))
            }
            (_, false) => "TODO: categories: none in the settings, so it is ungated; add {categories: [...]} or fix the mapping".into(),
            (_, true) => "TODO: categories".into(),
        };
        if !f.in_settings {
            note.push_str("; not in the settings");
        }
        if !f.seen.is_empty() {
            let _ = write!(note, "; seen: {}", f.seen.join(", "));
        }
        let _ = writeln!(o, "  {}: {mode}  # {note}", yaml(&f.name));
    }
    o.push_str("  # TODO: cloud-mode destinations are not in the CDN settings: add each as {mode: cloud, categories: [...]}\n");
}

/// `states:`: the no-choice state, and the states to add for each choice.
fn render_states(o: &mut String, capture: &Capture) {
    o.push_str(
        "states:\n  no-choice:            # no steps: the visitor has not decided; the whole visit is judged\n    expect:\n      collection: none   # TODO: under an opt-out model (consentModel: opt-out), `any`\n      blocked: all\n",
    );
    if let Some(cmp) = &capture.cmp_detected {
        o.push_str(
            "  # TODO: one state per choice, e.g.\n  # reject-all:\n  #   steps: [{cmp: reject_all}]\n  #   expect: {blocked: all}\n  # accept-all:\n  #   steps: [{cmp: accept_all}]\n  #   expect: {allowed: all}\n",
        );
        o.push_str(&journey_proposal(cmp));
    } else {
        o.push_str(
            "  # TODO: one state per choice, e.g.\n  # reject-all:\n  #   steps: [{click: \"#reject-button\"}]\n  #   expect: {blocked: all}\n",
        );
    }
}

/// The change-of-mind journey the detected CMP supports: accept, then withdraw through
/// `cmp: reopen` where the adapter knows the CMP's documented way to re-open its preferences.
fn journey_proposal(cmp: &str) -> String {
    use consent_gates::browser::cmp as adapters;
    let can_reopen = adapters::reopenable().contains(&cmp);
    if can_reopen {
        [
            "  # accept-then-withdraw:     # the CMP can be re-opened: a change of mind",
            "  #   steps:",
            "  #     - decision: accepted",
            "  #     - cmp: accept_all",
            "  #     - cmp: reopen",
            "  #     - decision: withdrawn",
            "  #     - cmp: reject_all",
            "  #   phases:",
            "  #     accepted: {allowed: all}",
            "  #     withdrawn: {blocked: all, events: [{call: track, event: Segment Consent Preference Updated, count: 1}]}",
            "",
        ]
        .join("\n")
    } else {
        format!(
            "  # (no withdrawal journey: the {cmp} adapter knows no documented way to re-open the \
             CMP; use `click:` steps on the site's own cookie-settings link)\n"
        )
    }
}

/// How analytics.js showed itself, for the spec's header: `loaded (snippet)`, `loaded (bundled
/// in the site's own code: settings fetch, …; --library bundled answers nothing there)`.
fn library_words(seen: &LibrarySeen) -> String {
    if seen.bundled_by_site() {
        format!(
            "{}; `segment.library: bundled` has no effect there",
            seen.describe()
        )
    } else {
        seen.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_and_yaml_scalars() {
        assert_eq!(
            relative(Path::new("/r/examples/www"), Path::new("/r/specs")),
            "../examples/www"
        );
        assert_eq!(
            relative(Path::new("/r/specs/x.json"), Path::new("/r/specs")),
            "x.json"
        );
        assert_eq!(yaml("Google Analytics 4 Web"), "Google Analytics 4 Web");
        assert_eq!(yaml("https://shop.example"), "\"https://shop.example\"");
        assert_eq!(yaml("yes"), "\"yes\"");
    }
}
