//! The JSON Schema of the spec format, generated from the parser's own raw types (the serde
//! structs that read the YAML, with `deny_unknown_fields`), so that editors complete and validate
//! specs with exactly the keys the tool accepts.
//!
//! The committed copy is `schema/spec.schema.json` (kept in sync by `tests/schema.rs`; regenerate
//! with `UPDATE_SCHEMA=1 cargo test --test schema`, or print it with `consent-gates schema`). Specs
//! point at it on their first line:
//!
//! ```yaml
//! # yaml-language-server: $schema=../schema/spec.schema.json
//! ```
//!
//! The parser reads some keys as free YAML values and checks them itself (steps, categories,
//! `allowed`/`blocked`); the helper types here describe their shapes for the schema only.

/// The schema as JSON (draft-07, which every YAML editor understands).
pub fn spec_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<super::parse::RawSpec>();
    let obj = schema.ensure_object();
    obj.insert("title".into(), "consent-gates spec".into());
    obj.insert(
        "description".into(),
        "A consent-gates spec: a site, its consent categories and Segment destinations, and the \
         visitor states to test (one cargo-test trial per state). See docs/spec.md in the consent-gates repository."
            .into(),
    );
    let mut value = schema.to_value();
    describe(&mut value);
    value
}

/// The schema as the committed file holds it: pretty JSON with a final newline.
pub fn spec_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&spec_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Descriptions editors show on hover, by JSON pointer into the generated schema.
const DESCRIPTIONS: &[(&str, &str)] = &[
    (
        "/properties/site",
        "The site: its first page, and how its origins are answered.",
    ),
    (
        "/properties/segment",
        "How Segment's library, settings and tracking API are answered.",
    ),
    (
        "/properties/regime",
        "Legal regime whose defaults complete each state's expectations: gdpr (no decision → collection none, blocked all), cpra (gpc: true, or a GPP opt-out of sale, sharing or targeted advertising → advertising destinations blocked), none.",
    ),
    (
        "/properties/consentModel",
        "How the site's Segment consent wrapper loads: opt-in (default) or opt-out.",
    ),
    (
        "/properties/pii",
        "Extra personal fields (names or dotted paths) the pii-leak check looks for.",
    ),
    (
        "/properties/categories",
        "The CMP's consent categories, by the id Segment's consent stamp carries: `C0002: analytics` or `C0002: {purpose: analytics, cmp: statistics}`.",
    ),
    (
        "/properties/cmp",
        "Built-in CMP adapter: unlocks `cmp:` steps.",
    ),
    (
        "/properties/destinations",
        "Every destination this source may feed, by Segment settings key: `{}` (device mode, categories from settings), `{mode: cloud, categories: [C0002]}`, `{hosts: [chat.example.net]}`.",
    ),
    (
        "/properties/states",
        "Visitor states to test; each is a trial named `<spec>::<state>`.",
    ),
    ("/properties/timing", "Bounds on waiting, in milliseconds."),
    (
        "/properties/gpp",
        "IAB GPP: category id → the opt-outs (sale, sharing, targeted_advertising) that switch it off; the stamp must agree with the GPP string's usnat and usca sections.",
    ),
    (
        "/definitions/RawSite/properties/url",
        "First page the browser opens (http or https).",
    ),
    (
        "/definitions/RawSite/properties/serve",
        "Answer these origins from local folders (paths relative to the spec file): `https://shop.example: ../site/www`.",
    ),
    (
        "/definitions/RawSite/properties/offline",
        "Answer every other request locally (empty 204, still recorded) and resolve no host names.",
    ),
    (
        "/definitions/RawSite/properties/pages",
        "Paths or URLs visited in order after each state's steps.",
    ),
    (
        "/definitions/RawSite/properties/allow_hosts",
        "Third-party hosts that may be contacted in any state (fonts, CDNs: nothing personal), as globs: `[fonts.gstatic.com, \"*.cdn.example\"]`. Any other third-party host that no destination claims fails unknown-recipient in a state that blocks something; not written: strict under regime gdpr, not judged otherwise.",
    ),
    (
        "/definitions/RawSite/properties/first_party",
        "Hosts that are the site's own besides its URL's host and subdomains (globs): never a catalog vendor by host name alone.",
    ),
    (
        "/properties/visitor",
        "What the simulated visitor does in every state, before and after the decision, besides the steps (never a choice): `{scroll: false, pointer: false}` turns parts off for a page that breaks.",
    ),
    (
        "/definitions/RawVisitor/properties/scroll",
        "Scroll through the page with the mouse wheel (default true).",
    ),
    (
        "/definitions/RawVisitor/properties/pointer",
        "Move the pointer across the page (default true).",
    ),
    (
        "/definitions/RawSegment/properties/settings",
        "Answer Segment's settings request with this JSON file (relative to the spec file).",
    ),
    (
        "/definitions/RawSegment/properties/library",
        "`bundled`: answer analytics.js from the pinned npm build; `site`: let the site answer it.",
    ),
    (
        "/definitions/RawSegment/properties/deliver",
        "Forward tracking calls to Segment's real API (default false: recorded and answered locally).",
    ),
    (
        "/definitions/RawState/properties/gpc",
        "Send `Sec-GPC: 1` and define `navigator.globalPrivacyControl = true` before any page script.",
    ),
    (
        "/definitions/RawState/properties/steps",
        "The visitor's actions; the first one is the consent decision. A step that matches nothing fails the trial (step-did-not-match).",
    ),
    (
        "/definitions/RawState/properties/expect",
        "What must hold in this state (all optional); the regime's defaults complete it.",
    ),
    (
        "/definitions/RawExpect/properties/allowed",
        "Destinations that must receive data (`all` or a list of names).",
    ),
    (
        "/definitions/RawExpect/properties/blocked",
        "Destinations that must receive nothing (`all` or a list of names).",
    ),
    (
        "/definitions/RawExpect/properties/collection",
        "What may reach Segment's tracking API: none | anonymous | any.",
    ),
    (
        "/definitions/RawExpect/properties/calls",
        "Per call type: none | anonymous | any.",
    ),
    (
        "/definitions/RawExpect/properties/consent",
        "The consent stamp every event after the decision must carry: `{C0002: true, C0004: false}`.",
    ),
    (
        "/definitions/RawDestination/properties/mode",
        "device (code in the browser) or cloud (delivered by Segment's servers); default from settings and catalog.",
    ),
    (
        "/definitions/RawDestination/properties/categories",
        "Consent category ids gating it; default: the settings' consentSettings.categories.",
    ),
    (
        "/definitions/RawDestination/properties/hosts",
        "Extra hosts that count as this destination, beside the built-in catalog's.",
    ),
];

fn describe(schema: &mut serde_json::Value) {
    for (pointer, text) in DESCRIPTIONS {
        if let Some(serde_json::Value::Object(o)) = schema.pointer_mut(pointer) {
            o.entry("description")
                .or_insert_with(|| serde_json::Value::String((*text).to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_closes_every_object_and_lists_adapters() {
        let s = super::spec_schema();
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["definitions"]["RawState"]["additionalProperties"], false);
        let adapters = s["definitions"]["CmpAdapter"]["enum"].as_array().unwrap();
        assert!(adapters.iter().any(|a| a == "vanilla-cookieconsent"));
        assert!(s["properties"]["site"]["description"].is_string());
    }

    /// The schema's step shapes and the parser's step kinds are the same words.
    #[test]
    fn schema_steps_are_the_step_kinds() {
        use crate::spec::types::{StepKind, Word};
        let s = super::spec_schema();
        let mut in_schema: Vec<String> = s["definitions"]["StepSchema"]["oneOf"]
            .as_array()
            .expect("StepSchema is a oneOf")
            .iter()
            .flat_map(|v| v["required"].as_array().cloned().unwrap_or_default())
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
        let mut kinds = StepKind::words();
        in_schema.sort();
        kinds.sort();
        assert_eq!(in_schema, kinds);
        for k in kinds {
            assert!(
                StepKind::help().contains(&format!("`{k}:")),
                "{k} in the help"
            );
        }
    }
}
