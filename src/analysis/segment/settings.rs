//! The CDN settings JSON (`GET {cdn}/v1/projects/{writeKey}/settings`), docs/segment.md §2.
//!
//! Parsed leniently from a `serde_json::Value`: a field of an unexpected type is ignored rather
//! than failing the whole document, and unknown keys are kept in `extra`.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

/// The settings could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings file {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("settings file {path}: {source}")]
    File {
        path: std::path::PathBuf,
        source: Box<SettingsError>,
    },
    #[error("settings are not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("settings are not a JSON object")]
    NotObject,
    #[error("settings are not UTF-8 text")]
    NotUtf8,
}

/// One `integrations[<creationName>]` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IntegrationSettings {
    /// Deprecated `type` (`"browser"` makes a classic destination device mode).
    pub(crate) kind: Option<String>,
    /// `bundlingStatus`: `bundled` | `unbundled`.
    pub(crate) bundling_status: Option<String>,
    /// `versionSettings.componentTypes`.
    pub(crate) component_types: Vec<String>,
    /// `versionSettings.override ?? versionSettings.version`.
    pub(crate) version: Option<String>,
    /// `consentSettings.categories`; `None` when there is no `consentSettings`.
    pub(crate) categories: Option<Vec<String>>,
    /// Every other key of the entry (including `versionSettings` and `consentSettings` as given).
    pub(crate) extra: Map<String, Value>,
}

/// One `remotePlugins[]` entry: an action destination loaded in the browser.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RemotePlugin {
    /// Display name, e.g. `Amplitude (Actions)`.
    pub(crate) name: String,
    /// Settings key, e.g. `Actions Amplitude`; falls back to `name` when absent.
    pub(crate) creation_name: String,
    pub(crate) url: String,
    pub(crate) library_name: Option<String>,
    pub(crate) extra: Map<String, Value>,
}

/// Top-level `consentSettings`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConsentSettings {
    pub all_categories: Vec<String>,
    pub(crate) has_unmapped_destinations: bool,
}

/// The CDN settings document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CdnSettings {
    /// By creationName, sorted by name (`Segment.io` included). Sorted explicitly: serde_json's map
    /// order depends on a crate feature another dependency may switch on.
    pub(crate) integrations: IndexMap<String, IntegrationSettings>,
    pub(crate) remote_plugins: Vec<RemotePlugin>,
    pub consent_settings: Option<ConsentSettings>,
    /// Every other top-level key.
    pub(crate) extra: Map<String, Value>,
}

fn str_of(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn strings_of(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl IntegrationSettings {
    fn from_value(v: &Value) -> IntegrationSettings {
        let Some(obj) = v.as_object() else {
            return IntegrationSettings::default();
        };
        let vs = obj.get("versionSettings");
        let mut extra = obj.clone();
        extra.remove("type");
        extra.remove("bundlingStatus");
        IntegrationSettings {
            kind: str_of(obj.get("type")),
            bundling_status: str_of(obj.get("bundlingStatus")),
            component_types: strings_of(vs.and_then(|v| v.get("componentTypes"))),
            version: str_of(vs.and_then(|v| v.get("override")))
                .or_else(|| str_of(vs.and_then(|v| v.get("version")))),
            categories: obj
                .get("consentSettings")
                .and_then(Value::as_object)
                .map(|c| strings_of(c.get("categories"))),
            extra,
        }
    }

    /// Segment's `isInstallableIntegration` device-mode test, without the name rules.
    fn device_mode(&self) -> bool {
        self.bundling_status.as_deref() != Some("unbundled")
            && (self.kind.as_deref() == Some("browser")
                || self.component_types.iter().any(|c| c == "browser"))
    }
}

impl CdnSettings {
    /// Read and parse a settings JSON file (a spec's `segment.settings`).
    pub fn from_file(path: &std::path::Path) -> Result<CdnSettings, SettingsError> {
        let bytes = std::fs::read(path).map_err(|source| SettingsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        CdnSettings::from_bytes(path, &bytes)
    }

    /// Parse the contents of the settings file `path` (named in errors).
    pub(crate) fn from_bytes(
        path: &std::path::Path,
        bytes: &[u8],
    ) -> Result<CdnSettings, SettingsError> {
        let parsed = match std::str::from_utf8(bytes) {
            Ok(text) => CdnSettings::from_json(text),
            Err(_) => Err(SettingsError::NotUtf8),
        };
        parsed.map_err(|e| SettingsError::File {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// Parse the settings JSON text.
    pub(crate) fn from_json(text: &str) -> Result<CdnSettings, SettingsError> {
        let v: Value = serde_json::from_str(text)?;
        CdnSettings::from_value(&v)
    }

    /// Build from an already parsed document.
    pub fn from_value(v: &Value) -> Result<CdnSettings, SettingsError> {
        let obj = v.as_object().ok_or(SettingsError::NotObject)?;
        let integrations = obj
            .get("integrations")
            .and_then(Value::as_object)
            .map(|m| {
                let mut map: IndexMap<String, IntegrationSettings> = m
                    .iter()
                    .map(|(k, v)| (k.clone(), IntegrationSettings::from_value(v)))
                    .collect();
                map.sort_keys();
                map
            })
            .unwrap_or_default();
        let remote_plugins = obj
            .get("remotePlugins")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_object)
                    .map(|p| {
                        let name = str_of(p.get("name")).unwrap_or_default();
                        let mut extra = p.clone();
                        for k in ["name", "creationName", "url", "libraryName"] {
                            extra.remove(k);
                        }
                        RemotePlugin {
                            creation_name: str_of(p.get("creationName"))
                                .unwrap_or_else(|| name.clone()),
                            name,
                            url: str_of(p.get("url")).unwrap_or_default(),
                            library_name: str_of(p.get("libraryName")),
                            extra,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let consent_settings = obj
            .get("consentSettings")
            .and_then(Value::as_object)
            .map(|c| ConsentSettings {
                all_categories: strings_of(c.get("allCategories")),
                has_unmapped_destinations: c
                    .get("hasUnmappedDestinations")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            });
        let mut extra = obj.clone();
        for k in ["integrations", "remotePlugins", "consentSettings"] {
            extra.remove(k);
        }
        Ok(CdnSettings {
            integrations,
            remote_plugins,
            consent_settings,
            extra,
        })
    }

    /// The remote plugin known by this creationName or display name.
    pub(crate) fn remote_plugin(&self, name: &str) -> Option<&RemotePlugin> {
        self.remote_plugins
            .iter()
            .find(|p| p.creation_name == name)
            .or_else(|| self.remote_plugins.iter().find(|p| p.name == name))
    }

    /// The settings key (creationName) for `name`, which may be a remote plugin's display name.
    pub(crate) fn creation_name<'a>(&'a self, name: &'a str) -> &'a str {
        if self.integrations.contains_key(name) {
            return name;
        }
        self.remote_plugin(name)
            .map_or(name, |p| p.creation_name.as_str())
    }

    /// Whether `name` loads in the browser: a classic entry passing Segment's
    /// `isInstallableIntegration` (not unbundled, browser component or `type: browser`, name not
    /// starting with `Segment`, not `Iterable`), or any remote plugin.
    pub fn is_device_mode(&self, name: &str) -> bool {
        if self.remote_plugin(name).is_some() {
            return true;
        }
        self.integrations
            .get(name)
            .is_some_and(|i| !name.starts_with("Segment") && name != "Iterable" && i.device_mode())
    }

    /// Device-mode destination names: installable classic entries, then remote plugins
    /// (creationNames), without duplicates.
    #[cfg(test)]
    pub(crate) fn device_mode_names(&self) -> Vec<String> {
        self.names_with_plugins(|n| self.is_device_mode(n))
    }

    /// Every destination the settings name: `integrations` keys except `Segment.io`, plus remote
    /// plugin creationNames, without duplicates.
    pub fn declared_names(&self) -> Vec<String> {
        self.names_with_plugins(|n| n != "Segment.io")
    }

    /// The `integrations` keys `keep` accepts, then every remote plugin's creationName not
    /// already listed.
    fn names_with_plugins(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let mut out: Vec<String> = self
            .integrations
            .keys()
            .filter(|n| keep(n))
            .cloned()
            .collect();
        for p in &self.remote_plugins {
            if !out.contains(&p.creation_name) {
                out.push(p.creation_name.clone());
            }
        }
        out
    }

    /// `integrations[name].consentSettings.categories` (name may be a remote plugin display name).
    /// `None` when the entry or its `consentSettings` is absent.
    pub fn categories(&self, name: &str) -> Option<&[String]> {
        self.integrations
            .get(self.creation_name(name))
            .and_then(|i| i.categories.as_deref())
    }

    /// The action directory of the remote plugin named `name`.
    pub(crate) fn action_dir_for(&self, name: &str) -> Option<String> {
        self.remote_plugin(name)
            .and_then(|p| CdnSettings::action_dir(&p.url))
    }

    /// `integrations['Segment.io'].apiKey`.
    #[cfg(test)]
    pub(crate) fn write_key(&self) -> Option<&str> {
        self.integrations
            .get("Segment.io")
            .and_then(|i| i.extra.get("apiKey"))
            .and_then(Value::as_str)
    }

    /// `integrations['Segment.io'].apiHost` (e.g. `api.segment.io/v1`).
    pub(crate) fn api_host(&self) -> Option<&str> {
        self.integrations
            .get("Segment.io")
            .and_then(|i| i.extra.get("apiHost"))
            .and_then(Value::as_str)
    }

    /// Segment's classic path name: `name.toLowerCase().replace('.', '').replace(/\s+/g, '-')`.
    /// Like JS `replace('.', '')`, only the **first** dot is removed.
    pub(crate) fn classic_slug(name: &str) -> String {
        let lower = name.to_lowercase();
        let no_dot = lower.replacen('.', "", 1);
        let mut out = String::with_capacity(no_dot.len());
        let mut in_space = false;
        for c in no_dot.chars() {
            if c.is_whitespace() {
                if !in_space {
                    out.push('-');
                }
                in_space = true;
            } else {
                out.push(c);
                in_space = false;
            }
        }
        out
    }

    /// The `<dir>` of `…/next-integrations/actions/<dir>/…` in a remote plugin URL.
    pub(crate) fn action_dir(url: &str) -> Option<String> {
        let path = crate::capture::url_path(url);
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        segs.windows(3)
            .find(|w| w[0] == "next-integrations" && w[1] == "actions")
            .map(|w| w[2].to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn sample() -> CdnSettings {
        CdnSettings::from_value(&json!({
            "integrations": {
                "Segment.io": {"apiKey": "WK123", "apiHost": "collect.example.test/v1",
                               "versionSettings": {"componentTypes": ["browser"]}},
                "Facebook Pixel": {"bundlingStatus": "bundled",
                                   "versionSettings": {"version": "2.11.4", "componentTypes": ["browser"]},
                                   "consentSettings": {"categories": ["C0004"]}},
                "Google Analytics": {"bundlingStatus": "unbundled",
                                     "versionSettings": {"componentTypes": ["browser"]}},
                "Legacy Thing": {"type": "browser"},
                "Iterable": {"versionSettings": {"componentTypes": ["browser"]}},
                "Segment Profiles": {"type": "browser"},
                "Cloud Only": {"versionSettings": {"componentTypes": ["server"]},
                               "consentSettings": {"categories": []}},
                "Actions Amplitude": {"versionSettings": {"componentTypes": []},
                                      "consentSettings": {"categories": ["C0002"]}},
                "Weird": 5
            },
            "remotePlugins": [
                {"name": "Amplitude (Actions)", "creationName": "Actions Amplitude",
                 "url": "https://cdn.segment.com/next-integrations/actions/amplitude-plugins/6762.js",
                 "libraryName": "amplitude-pluginsDestination", "settings": {}},
                {"name": "Fullstory (Actions)",
                 "url": "https://cdn.segment.com/next-integrations/actions/fullstory/abc.js"}
            ],
            "consentSettings": {"allCategories": ["C0002", "C0004"], "hasUnmappedDestinations": true},
            "plan": {"track": {}},
            "edgeFunction": {}
        }))
        .unwrap()
    }

    #[test]
    fn parses_and_keeps_unknown_keys() {
        let s = sample();
        assert!(s.extra.contains_key("plan"));
        assert_eq!(s.write_key(), Some("WK123"));
        assert_eq!(s.api_host(), Some("collect.example.test/v1"));
        assert_eq!(
            s.consent_settings,
            Some(ConsentSettings {
                all_categories: vec!["C0002".into(), "C0004".into()],
                has_unmapped_destinations: true
            })
        );
        assert_eq!(
            s.integrations["Facebook Pixel"].version.as_deref(),
            Some("2.11.4")
        );
        assert!(s.integrations["Weird"].extra.is_empty());
        assert_eq!(s.remote_plugins[1].creation_name, "Fullstory (Actions)");
        assert!(CdnSettings::from_json("[1]").is_err());
        assert!(CdnSettings::from_json("{").is_err());
        assert!(
            CdnSettings::from_json("{}")
                .unwrap()
                .integrations
                .is_empty()
        );
    }

    #[test]
    fn device_mode_and_names() {
        let s = sample();
        assert_eq!(
            s.device_mode_names(),
            vec![
                "Actions Amplitude".to_string(),
                "Facebook Pixel".into(),
                "Legacy Thing".into(),
                "Fullstory (Actions)".into()
            ]
        );
        assert!(!s.is_device_mode("Google Analytics"));
        assert!(!s.is_device_mode("Iterable"));
        assert!(!s.is_device_mode("Segment Profiles"));
        assert!(s.is_device_mode("Amplitude (Actions)"));
        let declared = s.declared_names();
        assert!(!declared.contains(&"Segment.io".to_string()));
        assert!(declared.contains(&"Cloud Only".to_string()));
        assert!(declared.contains(&"Fullstory (Actions)".to_string()));
        assert_eq!(declared.len(), 9);
    }

    #[test]
    fn categories_and_paths() {
        let s = sample();
        assert_eq!(
            s.categories("Facebook Pixel"),
            Some(&["C0004".to_string()][..])
        );
        assert_eq!(
            s.categories("Amplitude (Actions)"),
            Some(&["C0002".to_string()][..])
        );
        assert_eq!(s.categories("Cloud Only"), Some(&[][..]));
        assert_eq!(s.categories("Legacy Thing"), None);
        assert_eq!(s.categories("Nope"), None);
        assert_eq!(
            s.action_dir_for("Actions Amplitude").as_deref(),
            Some("amplitude-plugins")
        );
        assert_eq!(
            s.action_dir_for("Fullstory (Actions)").as_deref(),
            Some("fullstory")
        );
        assert_eq!(CdnSettings::action_dir("https://x/y.js"), None);
    }

    #[test]
    fn classic_slug_follows_segment_rule() {
        assert_eq!(
            CdnSettings::classic_slug("Facebook Pixel"),
            "facebook-pixel"
        );
        assert_eq!(
            CdnSettings::classic_slug("Google Analytics 4"),
            "google-analytics-4"
        );
        assert_eq!(CdnSettings::classic_slug("Customer.io"), "customerio");
        // Only the first dot goes, like JS String.replace with a string pattern.
        assert_eq!(CdnSettings::classic_slug("a.b.c"), "ab.c");
        assert_eq!(CdnSettings::classic_slug("Marketo  V2\t x"), "marketo-v2-x");
    }
}
