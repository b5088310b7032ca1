//! The validated spec: what the rest of the tool reads. Paths are already resolved against the
//! spec file's folder; names are already checked against each other.

use std::collections::BTreeMap;
use std::path::PathBuf;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Serialize;
use strum::VariantArray;

/// One spec file, parsed and validated.
#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    /// Test-name prefix: the file stem (`specs/shop.yaml` → `shop`).
    pub name: String,
    /// The spec file as given (for messages).
    pub path: PathBuf,
    pub site: Site,
    pub segment: SegmentOptions,
    pub regime: Regime,
    /// How the site's consent wrapper loads Segment (`consentModel:`, default opt-in).
    pub consent_model: ConsentModel,
    /// Extra personal fields (names or dotted paths) the `pii-leak` check looks for.
    pub pii: Vec<String>,
    /// Category id as the consent stamp carries it → what it means.
    pub categories: IndexMap<String, Category>,
    /// Built-in CMP adapter name, when the spec names one.
    pub cmp: Option<String>,
    /// Every destination this source may feed, by Segment settings key (creationName).
    pub destinations: IndexMap<String, Destination>,
    /// In file order.
    pub states: IndexMap<String, State>,
    pub timing: Timing,
    /// What the simulated visitor does besides the steps (`visitor:`).
    pub visitor: Visitor,
    /// How often a failed trial is re-run (`retries:`, live sites); a trial that passes on a
    /// retry is reported as flaky.
    pub retries: u32,
    /// `tcf:` stamp category id → the IAB TCF purposes it stands for.
    pub(crate) tcf: indexmap::IndexMap<String, Vec<u8>>,
    /// `gpp:` stamp category id → the IAB GPP opt-outs that switch it off.
    pub gpp: indexmap::IndexMap<String, Vec<super::signals::GppOptOut>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Site {
    /// First page the browser opens (http or https).
    pub url: String,
    /// Origin (`https://shop.example`, no trailing slash) → folder answering it.
    pub serve: IndexMap<String, PathBuf>,
    /// Answer every request not otherwise answered locally, and forbid DNS.
    pub offline: bool,
    /// Paths or URLs visited in order after each state's steps.
    pub pages: Vec<String>,
    /// Third-party hosts that may be contacted in any state (`unknown-recipient` skips them):
    /// fonts, CDNs, anything that carries no personal data. `None` (not written): strict under
    /// `regime: gdpr`, not judged under the other regimes.
    pub allow_hosts: Option<super::HostGlobs>,
    /// Hosts that are the site's own besides its URL's (and their subdomains): never a catalog
    /// vendor by host name alone.
    pub first_party: super::HostGlobs,
}

impl Site {
    /// The site's own hosts, `www.` stripped: its URL's and its web pages' (not the origins it
    /// serves offline: those stand in for whoever owns them).
    pub(crate) fn own_hosts(&self) -> Vec<String> {
        std::iter::once(self.url.as_str())
            .chain(
                self.pages
                    .iter()
                    .map(String::as_str)
                    .filter(|p| crate::capture::is_web_url(p)),
            )
            .map(|u| {
                let host = crate::capture::url_host(u);
                host.strip_prefix("www.")
                    .map(str::to_string)
                    .unwrap_or(host)
            })
            .filter(|h| !h.is_empty())
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentOptions {
    /// Answer the settings request with this JSON file.
    pub settings: Option<PathBuf>,
    pub library: Library,
    /// Forward tracking calls to the real API (never in offline runs).
    pub(crate) deliver: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum Library {
    /// Answer analytics.js and its chunks from the pinned npm `@segment/analytics-next`.
    Bundled,
    /// Let the site (or the network) answer them.
    Site,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum Regime {
    None,
    Gdpr,
    Cpra,
}

/// Segment consent-tools' two models (docs/segment.md §3.1): opt-in holds Segment and gated
/// destinations back until consent; opt-out loads everything and blocks per event after a reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentModel {
    OptIn,
    OptOut,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    pub purpose: Purpose,
    /// The CMP's own name for the category, when it differs from the stamp id.
    pub cmp: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    Necessary,
    Functional,
    Analytics,
    Advertising,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Destination {
    /// `None`: device mode when the settings or catalog know its code, else cloud.
    pub(crate) mode: Option<Mode>,
    /// Consent categories declared in the spec; `None` means "take them from the settings".
    pub(crate) categories: Option<Vec<String>>,
    /// Extra hosts that count as this destination (beside the catalog's).
    pub(crate) hosts: Vec<String>,
    /// Declared as needing no consent (`exempt: <reason>`): judged as always allowed, never
    /// `ungated-destination`. The reason is shown in snapshots, the report and `explain`.
    pub exempt: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Device,
    Cloud,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct State {
    /// Send `Sec-GPC: 1` and define `navigator.globalPrivacyControl = true`.
    pub gpc: bool,
    pub steps: Vec<Step>,
    pub expect: Expect,
    /// 1-based line of the state's key in the spec file.
    pub line: usize,
    /// The steps that are decisions, in order. Without `decision:` markers, one unnamed decision:
    /// the first `cmp` step, else the first step (none in a state without steps). Steps before
    /// the first are "before the decision".
    pub decisions: Vec<Decision>,
    /// Expectations per named decision (`phases.<name>`): judged on what was sent from that
    /// decision until the next one.
    pub phases: IndexMap<String, Expect>,
}

/// One decision of a state: the step (0-based index into `steps`) that makes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub step: usize,
    /// The `decision: NAME` marker's name; `None` for the default decision.
    pub name: Option<String>,
}

impl State {
    /// The first decision's step (0-based), where "after the decision" begins.
    pub fn decision_step(&self) -> Option<usize> {
        self.decisions.first().map(|d| d.step)
    }

    /// Whether the state marks its decisions itself (a journey): its snapshot then shows each
    /// phase in order.
    pub(crate) fn is_journey(&self) -> bool {
        self.decisions.iter().any(|d| d.name.is_some())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Click(String),
    Cmp(CmpAction),
    Eval(String),
    Visit(String),
    WaitFor(String),
    /// Selector → text, in file order.
    Fill(Vec<(String, String)>),
}

/// The kinds of step, one word each (the key of a step's one-key mapping). The parser, its
/// help text and the JSON Schema's step shapes all take the kinds from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, VariantArray)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StepKind {
    Click,
    Cmp,
    Eval,
    Visit,
    WaitFor,
    Fill,
    /// Not an action: marks the next step as a decision and names the phase it starts.
    Decision,
}

impl StepKind {
    /// How a step of this kind is written, for help texts.
    pub(crate) fn syntax(self) -> &'static str {
        match self {
            StepKind::Click => "`click: SELECTOR`",
            StepKind::Cmp => "`cmp: accept_all | reject_all | {categories: [..]}`",
            StepKind::Eval => "`eval: JS`",
            StepKind::Visit => "`visit: PATH`",
            StepKind::WaitFor => "`wait_for: SELECTOR`",
            StepKind::Fill => "`fill: {SELECTOR: TEXT}`",
            StepKind::Decision => "`decision: NAME` (marks the next step as a decision)",
        }
    }

    /// "a step is one of `click: SELECTOR`, ...".
    pub(crate) fn help() -> String {
        let all: Vec<&str> = StepKind::VARIANTS.iter().map(|k| k.syntax()).collect();
        format!("a step is one of {}", all.join(", "))
    }
}

impl Step {
    /// Short human description for messages: `click "#accept"`.
    pub fn describe(&self) -> String {
        match self {
            Step::Click(s) => format!("click {s:?}"),
            Step::Cmp(CmpAction::AcceptAll) => "cmp accept_all".to_string(),
            Step::Cmp(CmpAction::RejectAll) => "cmp reject_all".to_string(),
            Step::Cmp(CmpAction::Reopen) => "cmp reopen".to_string(),
            Step::Cmp(CmpAction::Categories(ids)) => format!("cmp categories {ids:?}"),
            Step::Eval(js) => {
                let short: String = js.chars().take(60).collect();
                format!("eval {short:?}")
            }
            Step::Visit(p) => format!("visit {p:?}"),
            Step::WaitFor(s) => format!("wait_for {s:?}"),
            Step::Fill(pairs) => {
                let sels: Vec<&str> = pairs.iter().map(|(s, _)| s.as_str()).collect();
                format!("fill {sels:?}")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpAction {
    AcceptAll,
    RejectAll,
    /// Accept exactly these category ids (stamp ids), reject the rest.
    Categories(Vec<String>),
    /// Re-open the CMP's preference centre (its documented API) to change one's mind; the next
    /// `cmp` step chooses again in it.
    Reopen,
}

/// Expectations of one state; `None` means "not judged".
#[derive(Debug, Clone, Default, Serialize)]
pub struct Expect {
    pub(crate) allowed: Option<DestinationSet>,
    pub(crate) blocked: Option<DestinationSet>,
    pub(crate) collection: Option<Collection>,
    pub(crate) calls: BTreeMap<Call, Collection>,
    /// Category id → the value every event after the decision must carry.
    pub(crate) consent: Option<BTreeMap<String, bool>>,
    /// Segment events that must (or must not) be sent, in file order.
    pub(crate) events: Vec<EventExpectation>,
    /// What the IAB TCF TC string must signal at the end of the state.
    pub(crate) tcf: Option<super::signals::TcfExpect>,
    /// What the IAB GPP string must signal at the end of the state.
    pub gpp: Option<super::signals::GppExpect>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationSet {
    All,
    Some(Vec<String>),
}

impl DestinationSet {
    pub(crate) fn contains(&self, name: &str) -> bool {
        match self {
            DestinationSet::All => true,
            DestinationSet::Some(v) => v.iter().any(|n| n == name),
        }
    }
}

/// What may reach Segment's tracking API (or, for `calls`, one call type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, VariantArray)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Collection {
    None,
    /// No `userId` and no traits.
    Anonymous,
    Any,
}

/// Segment call types. The JSON Schema knows them as `CallName`, the words `expect.events[].call`
/// takes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema, VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[schemars(
    rename = "CallName",
    description = "`expect.events[].call`: a Segment call type."
)]
pub enum Call {
    Page,
    Identify,
    Track,
    Group,
    Alias,
    Screen,
}

impl Call {
    /// The call type as Segment writes it (`type` in a payload); the same as its spec word.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Call::Page => "page",
            Call::Identify => "identify",
            Call::Track => "track",
            Call::Group => "group",
            Call::Alias => "alias",
            Call::Screen => "screen",
        }
    }
}

/// The visitor's browsing in every state, before and after the decision: never a choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Visitor {
    /// Scroll through the page (wheel events) and back.
    pub scroll: bool,
    /// Move the pointer across the page.
    pub pointer: bool,
}

impl Default for Visitor {
    fn default() -> Self {
        Visitor {
            scroll: true,
            pointer: true,
        }
    }
}

/// The clock a page settles on (`timing.clock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, VariantArray)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ClockMode {
    /// Playwright's clock, paused while settling: timers are run forward in page time (up to
    /// `horizon_ms` after the last request), so delayed requests are seen without waiting for them.
    Controlled,
    /// The page's own clock: settling waits `quiet_ms` of real time without a request.
    Real,
}

impl ClockMode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ClockMode::Controlled => "controlled",
            ClockMode::Real => "real",
        }
    }
}

/// Bounds on waiting, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// Upper bound for one step (finding its element, running its action).
    pub(crate) step_ms: u64,
    /// Real clock: settling ends after this long without a new request. Either clock: the quiet
    /// wait before a decision's press, and after a real unload that sent no departure marker.
    pub(crate) quiet_ms: u64,
    /// Smart settling (opt-in): settling may end after only this long without a new request when
    /// the page reports itself idle (no fetch, XHR, inserted script/image/frame or short timer
    /// pending). Off by default (equal to `quiet_ms`): measured faster, but on the example sites a
    /// chain of promises with no pending work in between sometimes ended it early, so snapshots
    /// were not always identical between runs (BENCHMARKS.md).
    pub(crate) min_quiet_ms: Option<u64>,
    /// Wall-time bound of one settle, whatever the page does; running out is reported. A safety
    /// net for a slow machine, not a participant: see [`Timing::default_settle_max_ms`].
    pub(crate) settle_max_ms: u64,
    /// Which clock the page runs on while settling (`controlled` unless the site needs wall time).
    pub(crate) clock: ClockMode,
    /// Controlled clock: a settle ends when the page made no request over this much page time,
    /// run forward timer by timer with the network drained in between.
    pub(crate) horizon_ms: u64,
    /// Upper bound for loading a page.
    pub(crate) navigation_ms: u64,
    /// Upper bound for the whole trial; `None`: derived from the other bounds.
    pub trial_ms: Option<u64>,
}

impl Timing {
    /// The default `settle_max_ms` for `clock`. The controlled clock decides in page time and on
    /// network events; its wall bound only catches a machine too loaded to run the page (a settle
    /// that is idle takes well under a second, a page load under load several), so it is generous.
    /// On the real clock the bound also ends the quiet rule for a page that never goes quiet.
    pub(crate) fn default_settle_max_ms(clock: ClockMode) -> u64 {
        match clock {
            ClockMode::Controlled => 60_000,
            ClockMode::Real => 8_000,
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            step_ms: 5_000,
            quiet_ms: 500,
            min_quiet_ms: None,
            settle_max_ms: Timing::default_settle_max_ms(ClockMode::Controlled),
            clock: ClockMode::Controlled,
            horizon_ms: 30_000,
            navigation_ms: 15_000,
            trial_ms: None,
        }
    }
}

/// A spec value written as one word (`regime: gdpr`, `mode: cloud`). The words are the enums'
/// serde names, so they live in one place (`#[serde(rename_all)]`, which the JSON Schema reads
/// too); the parser takes the values and the words of its errors from here.
pub trait Word: Copy + Serialize + strum::VariantArray + 'static {
    /// The word of this value, as the spec writes it.
    fn word(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => String::new(),
        }
    }

    /// Every word, in declaration order.
    fn words() -> Vec<String> {
        Self::VARIANTS.iter().map(|v| v.word()).collect()
    }

    /// The value a word names.
    fn from_word(word: &str) -> Option<Self> {
        Self::VARIANTS.iter().copied().find(|v| v.word() == word)
    }
}

impl<T: Copy + Serialize + strum::VariantArray + 'static> Word for T {}

// ---------------------------------------------------------------------------------------------
// Event expectations (`expect.events`): Segment events a state must or must not send, matched by
// call type, event name, phase and consent stamp, and by the presence or absence of field names
// (never their values), with a count.

/// When an event was sent, relative to the state's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, VariantArray)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum EventPhase {
    /// Before the decision step ran (in a state without steps: the whole visit).
    Before,
    /// From the decision step on.
    After,
}

/// The consent stamp an event must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StampMatch {
    /// `context.consent.categoryPreferences` holds each of these categories with this value
    /// (other categories may be present).
    Categories(BTreeMap<String, bool>),
    /// No `categoryPreferences` at all.
    Unstamped,
}

/// One `expect.events` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct EventExpectation {
    pub(crate) call: Option<Call>,
    /// Track `event`, page/screen `name`.
    pub(crate) event: Option<String>,
    pub(crate) phase: Option<EventPhase>,
    pub(crate) stamp: Option<StampMatch>,
    /// Dotted field paths every matching event carries (`properties.product_id`).
    pub(crate) has: Vec<String>,
    /// Dotted field paths no matching event carries (`traits.email`).
    pub(crate) lacks: Vec<String>,
    /// At least this many matching events.
    pub(crate) min: u32,
    /// At most this many (`never: true` is 0).
    pub(crate) max: Option<u32>,
    /// 1-based line of the item in the spec file.
    pub(crate) line: usize,
}

impl EventExpectation {
    /// The matcher in words: `track "Segment Consent Preference Updated" after the decision
    /// stamped C0002=true`.
    pub(crate) fn describe(&self) -> String {
        let mut out = match (&self.call, &self.event) {
            (Some(c), Some(e)) => format!("{} {e:?}", c.as_str()),
            (Some(c), None) => c.as_str().to_string(),
            (None, Some(e)) => format!("event {e:?}"),
            (None, None) => "any event".to_string(),
        };
        match self.phase {
            Some(EventPhase::Before) => out.push_str(" before the decision"),
            Some(EventPhase::After) => out.push_str(" after the decision"),
            None => {}
        }
        match &self.stamp {
            Some(StampMatch::Categories(c)) => {
                let s: Vec<String> = c.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!(" stamped {}", s.join(" ")));
            }
            Some(StampMatch::Unstamped) => out.push_str(" unstamped"),
            None => {}
        }
        if !self.has.is_empty() {
            out.push_str(&format!(" with {}", self.has.join(", ")));
        }
        if !self.lacks.is_empty() {
            out.push_str(&format!(" without {}", self.lacks.join(", ")));
        }
        out
    }

    /// The count in words: `never`, `exactly 1`, `at least 1`, `1 to 3`.
    pub(crate) fn count_words(&self) -> String {
        match (self.min, self.max) {
            (_, Some(0)) => "never".to_string(),
            (a, Some(b)) if a == b => format!("exactly {a}"),
            (0, Some(b)) => format!("at most {b}"),
            (a, Some(b)) => format!("{a} to {b}"),
            (a, None) => format!("at least {a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_the_serde_names() {
        assert_eq!(Regime::words(), ["none", "gdpr", "cpra"]);
        assert_eq!(ConsentModel::OptOut.word(), "opt-out");
        assert_eq!(
            Collection::from_word("anonymous"),
            Some(Collection::Anonymous)
        );
        assert_eq!(Mode::from_word("Device"), None);
        for c in Call::VARIANTS {
            assert_eq!(c.as_str(), c.word(), "Segment's call type is the spec word");
        }
    }
}
