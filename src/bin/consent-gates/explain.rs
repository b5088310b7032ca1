//! `consent-gates explain SPEC...`: what the tool reads from a spec, before any browser runs.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use consent_gates::analysis::routing::{self, CategorySource, ModeSource};
use consent_gates::analysis::segment::CdnSettings;
use consent_gates::analysis::verdict::{self, Source};
use consent_gates::spec::{self, DestinationSet, Purpose, Spec, Word};

/// Print how the tool reads specs, before any browser runs.
///
/// For each spec: each state's steps (marking the decision) and its effective expectations with
/// their source — `(spec)`, or `(regime gdpr)` for a regime default — and each destination's mode
/// and categories, saying `(from settings)` where they come from the settings file.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Spec files.
    #[arg(value_name = "SPEC", required = true)]
    specs: Vec<PathBuf>,
}

pub fn main(args: Args) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    for (i, path) in args.specs.iter().enumerate() {
        if i > 0 {
            println!();
        }
        match spec::load(path) {
            Ok(spec) => print!("{}", explain(&spec)),
            Err(e) => {
                eprintln!("{e}");
                code = ExitCode::from(consent_gates::runner::exit::INVALID_SPEC);
            }
        }
    }
    code
}

fn purpose(p: Purpose) -> &'static str {
    match p {
        Purpose::Necessary => "necessary",
        Purpose::Functional => "functional",
        Purpose::Analytics => "analytics",
        Purpose::Advertising => "advertising",
    }
}

fn mode_source(s: ModeSource) -> &'static str {
    match s {
        ModeSource::Spec => "from spec",
        ModeSource::Catalog => "from the catalog",
        ModeSource::Settings => "from settings",
        ModeSource::Signature => "from the catalog's signature",
        ModeSource::Default => "default: nothing says device mode",
    }
}

/// How `unknown-recipient` treats third-party hosts no destination claims.
fn third_parties(spec: &Spec) -> String {
    match (&spec.site.allow_hosts, verdict::recipients::judged(spec)) {
        (Some(a), _) if a.is_empty() => {
            "third parties: none allowed (site.allow_hosts: []): any host no destination claims \
             fails unknown-recipient in a blocking state"
                .to_string()
        }
        (Some(a), _) => format!(
            "third parties allowed (site.allow_hosts): {}; any other host no destination claims \
             fails unknown-recipient in a blocking state",
            a.patterns().join(", ")
        ),
        (None, true) => "third parties: none allowed (strict under regime gdpr; write \
                         site.allow_hosts to allow some): any host no destination claims fails \
                         unknown-recipient in a blocking state"
            .to_string(),
        (None, false) => {
            "third parties: not judged (no site.allow_hosts under this regime)".to_string()
        }
    }
}

/// The explanation of one spec, as printed: the spec's site, Segment and CMP set-up, its
/// destinations, each state, then the built-in checks.
pub fn explain(spec: &Spec) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} ({}): trials {}::<state>",
        spec.name,
        spec.path.display(),
        spec.name
    );
    site(&mut o, spec);
    let settings = read_settings(&mut o, spec);
    segment_and_categories(&mut o, spec);
    // What routing settles on from the spec, the settings and the catalog alone.
    let resolved = routing::resolve(spec, settings.as_ref());
    destinations(&mut o, spec, &resolved);
    for (name, state) in &spec.states {
        state_section(&mut o, spec, name, state, &resolved);
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "  built-in checks in every state: undeclared-destination, ungated-destination, \
         unstamped-events, consent-mismatch, pii-leak{}, events-held, undecodable-segment, \
         unrecorded-traffic, step-did-not-match; expect.events: event-missing, event-unexpected",
        if spec.pii.is_empty() {
            String::new()
        } else {
            format!(" (also {})", spec.pii.join(", "))
        }
    );
    o
}

/// The site: its URL, what it serves and visits, third parties, the visitor.
fn site(o: &mut String, spec: &Spec) {
    let mut site = spec.site.url.clone();
    if spec.site.offline {
        site.push_str(", offline (every other request answered locally)");
    }
    let _ = writeln!(o, "  site          {site}");
    for (origin, dir) in &spec.site.serve {
        let _ = writeln!(o, "                serves {origin} from {}", dir.display());
    }
    if !spec.site.pages.is_empty() {
        let _ = writeln!(
            o,
            "                then visits {}",
            spec.site.pages.join(", ")
        );
    }
    let _ = writeln!(o, "                {}", third_parties(spec));
    if !spec.site.first_party.is_empty() {
        let _ = writeln!(
            o,
            "                first party besides its own hosts: {}",
            spec.site.first_party.patterns().join(", ")
        );
    }
    if !(spec.visitor.scroll && spec.visitor.pointer) {
        let _ = writeln!(
            o,
            "                the visitor {}",
            match (spec.visitor.scroll, spec.visitor.pointer) {
                (false, false) => "neither scrolls nor moves the pointer (visitor)",
                (false, true) => "moves the pointer but does not scroll (visitor)",
                _ => "scrolls but does not move the pointer (visitor)",
            }
        );
    }
}

/// The settings file, parsed; a line saying why when it cannot be read.
fn read_settings(o: &mut String, spec: &Spec) -> Option<CdnSettings> {
    match &spec.segment.settings {
        Some(p) => match CdnSettings::from_file(p) {
            Ok(s) => Some(s),
            Err(e) => {
                let _ = writeln!(o, "  settings      {} cannot be read: {e}", p.display());
                None
            }
        },
        None => None,
    }
}

/// Segment's settings and library, the regime, consent model and CMP, the categories.
fn segment_and_categories(o: &mut String, spec: &Spec) {
    let library_note = if spec.segment.library == spec::Library::Bundled {
        "\n                (answers requests for analytics.js by URL, a snippet's load; a site that \
         bundles analytics-next from npm makes none, and a run then says the key had no effect)"
    } else {
        ""
    };
    let _ = writeln!(
        o,
        "  segment       settings {}, library {}{library_note}",
        spec.segment
            .settings
            .as_ref()
            .map_or("from the site".to_string(), |p| p.display().to_string()),
        match spec.segment.library {
            spec::Library::Bundled => "bundled (pinned npm build)",
            spec::Library::Site => "from the site",
        }
    );
    let _ = writeln!(
        o,
        "  regime        {}; consent model {}; CMP adapter {}",
        spec.regime.word(),
        spec.consent_model.word(),
        spec.cmp.as_deref().unwrap_or("none")
    );
    let cats: Vec<String> = spec
        .categories
        .iter()
        .map(|(id, c)| match &c.cmp {
            Some(name) if name != id => format!("{id} {} (CMP: {name})", purpose(c.purpose)),
            _ => format!("{id} {}", purpose(c.purpose)),
        })
        .collect();
    let _ = writeln!(
        o,
        "  categories    {}",
        if cats.is_empty() {
            "none declared".to_string()
        } else {
            cats.join(" · ")
        }
    );
}

/// Each destination's mode and categories with their source, and the undeclared ones.
fn destinations(o: &mut String, spec: &Spec, resolved: &routing::Resolution) {
    let width = spec.destinations.keys().map(|n| n.len()).max().unwrap_or(0);
    let _ = writeln!(o, "  destinations");
    for (name, outcome) in &resolved.destinations {
        let mode = outcome.mode.word();
        let categories = match outcome.categories_source {
            CategorySource::Spec => {
                format!("categories {} (from spec)", outcome.categories.join(", "))
            }
            CategorySource::Settings => {
                format!(
                    "categories {} (from settings)",
                    outcome.categories.join(", ")
                )
            }
            CategorySource::None if verdict::exempt::is_exempt(spec, name) => format!(
                "exempt from consent: {}",
                spec.destinations[name]
                    .exempt
                    .as_deref()
                    .unwrap_or_default()
            ),
            CategorySource::None => {
                if spec.categories.is_empty() {
                    "no categories".to_string()
                } else {
                    "no categories: ungated, receives data whatever the visitor chooses (ungated-destination)".to_string()
                }
            }
        };
        let _ = writeln!(
            o,
            "    {name:width$}  {mode} ({}); {categories}",
            mode_source(outcome.mode_source)
        );
    }
    let undeclared: Vec<&str> = resolved.undeclared().map(|u| u.name.as_str()).collect();
    if !undeclared.is_empty() {
        let _ = writeln!(
            o,
            "    not declared, named by the settings (undeclared-destination): {}",
            undeclared.join(", ")
        );
    }
}

/// One state: its steps (marking the decision), its effective expectations and warnings.
fn state_section(
    o: &mut String,
    spec: &Spec,
    name: &str,
    state: &spec::State,
    resolved: &routing::Resolution,
) {
    let _ = writeln!(o);
    let mut head = format!("  state {name} (line {})", state.line);
    if state.gpc {
        head.push_str(", GPC on (Sec-GPC: 1, navigator.globalPrivacyControl)");
    }
    let _ = writeln!(o, "{head}");
    if state.steps.is_empty() {
        let _ = writeln!(
            o,
            "    steps       none: the visitor makes no choice; allowed/blocked judge the whole visit"
        );
    } else {
        for (i, step) in state.steps.iter().enumerate() {
            let decision = state.decisions.iter().find(|d| d.step == i);
            let note = match decision {
                Some(d) if state.decision_step() == Some(i) => match &d.name {
                    None => {
                        "   <- the decision: allowed/blocked judge traffic from here on".to_string()
                    }
                    Some(n) => format!(
                        "   <- the decision, phase `{n}`: allowed/blocked judge traffic from here on"
                    ),
                },
                Some(d) => format!(
                    "   <- decision, phase `{}` until the next",
                    d.name.as_deref().unwrap_or_default()
                ),
                None => String::new(),
            };
            let label = if i == 0 { "steps" } else { "" };
            let _ = writeln!(o, "    {label:11} {}. {}{note}", i + 1, step.describe());
        }
    }
    let eff = verdict::effective(spec, state, resolved);
    let lines = eff.lines();
    if lines.is_empty() {
        let _ = writeln!(o, "    expect      nothing beyond the built-in checks");
    }
    for (i, line) in lines.iter().enumerate() {
        let label = if i == 0 { "expect" } else { "" };
        let _ = writeln!(o, "    {label:11} {line}");
    }
    gpp_opt_out_note(o, spec, state, &eff, resolved);
    for w in &eff.warnings {
        let _ = writeln!(o, "    warning     {w}");
    }
    all_spelled_out(o, spec, &eff);
}

/// Known only after the visit: on a site that speaks GPP, what an opt-out in its GPP string
/// would add (it is judged as GPC is, so the GPC default is what it would be).
fn gpp_opt_out_note(
    o: &mut String,
    spec: &Spec,
    state: &spec::State,
    eff: &verdict::Effective,
    resolved: &routing::Resolution,
) {
    let speaks_gpp = !spec.gpp.is_empty() || spec.states.values().any(|s| s.expect.gpp.is_some());
    if spec.regime == spec::Regime::Cpra
        && speaks_gpp
        && !state.gpc
        && state.phases.is_empty()
        && eff.blocked.is_none()
    {
        let as_if = spec::State {
            gpc: true,
            ..state.clone()
        };
        if let Some(DestinationSet::Some(names)) = verdict::effective(spec, &as_if, resolved)
            .blocked
            .map(|b| b.value)
        {
            let _ = writeln!(
                o,
                "                blocked: [{}] if the GPP string opts out of sale, sharing or \
                 targeted advertising (regime cpra)",
                names.join(", ")
            );
        }
    }
}

/// `all` spelled out, so a reader sees exactly which destinations it covers.
fn all_spelled_out(o: &mut String, spec: &Spec, eff: &verdict::Effective) {
    for (which, set) in [("allowed", &eff.allowed), ("blocked", &eff.blocked)] {
        if let Some(s) = set
            && s.value == DestinationSet::All
            && !spec.destinations.is_empty()
        {
            let _ = writeln!(
                o,
                "                {which}: all = {}{}",
                spec.destinations
                    .keys()
                    .filter(|n| which == "allowed" || !verdict::exempt::is_exempt(spec, n))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if s.source == Source::Spec {
                    ""
                } else {
                    " (and any undeclared)"
                }
            );
        }
    }
}
