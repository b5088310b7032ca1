//! JSON Schema shapes for keys whose YAML form is looser than their Rust type (a word or a map,
//! a list or `all`). The parser's raw types name these in `#[schemars(with = …)]`; [`super::schema`]
//! generates the document from the raw types.

use std::borrow::Cow;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::types::{Collection, Purpose};

/// `categories:` values: a purpose, or the long form naming the CMP's own category name.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(crate) enum CategorySchema {
    Purpose(Purpose),
    Long(CategoryLong),
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct CategoryLong {
    purpose: Purpose,
    /// The CMP's own name for the category, when it differs from the stamp id.
    cmp: Option<String>,
}

/// One step: an object with exactly one key.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) enum StepSchema {
    /// Click the element a CSS selector finds.
    Click(String),
    /// Act through the spec's CMP adapter.
    Cmp(CmpStepSchema),
    /// Run JavaScript in the page (a promise is awaited only up to the step bound).
    Eval(String),
    /// Navigate to a path or URL.
    Visit(String),
    /// Wait until a CSS selector matches.
    WaitFor(String),
    /// Type text into fields: `{SELECTOR: TEXT}`.
    Fill(IndexMap<String, String>),
    /// Not an action: the next step is a decision, starting the phase of this name.
    Decision(String),
}

/// `cmp:` step values.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(crate) enum CmpStepSchema {
    Action(CmpActionName),
    Categories(CmpCategories),
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum CmpActionName {
    AcceptAll,
    RejectAll,
    /// Re-open the preference centre to change one's mind.
    Reopen,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct CmpCategories {
    /// Accept exactly these category ids, reject the rest.
    categories: Vec<String>,
}

/// `allowed:` / `blocked:` values.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(crate) enum DestinationSetSchema {
    All(AllWord),
    Some(Vec<String>),
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum AllWord {
    All,
}

/// `calls:`: per Segment call type.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct CallsSchema {
    page: Option<Collection>,
    identify: Option<Collection>,
    track: Option<Collection>,
    group: Option<Collection>,
    alias: Option<Collection>,
    screen: Option<Collection>,
}

/// `cmp:` at the top level: one of the built-in adapters ([`super::cmp_names::ADAPTERS`]).
pub(crate) struct CmpAdapterName;

impl JsonSchema for CmpAdapterName {
    fn schema_name() -> Cow<'static, str> {
        "CmpAdapter".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "enum": super::cmp_names::ADAPTERS,
        })
    }
}

/// `expect.events[].stamp`: category → value, or `unstamped`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(crate) enum StampSchema {
    Categories(IndexMap<String, bool>),
    Word(UnstampedWord),
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum UnstampedWord {
    Unstamped,
}
