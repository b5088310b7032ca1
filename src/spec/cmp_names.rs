//! The names `cmp:` accepts. The spec owns this vocabulary so that the parser needs nothing from
//! the browser layer; `browser::cmp` implements one adapter per name (a unit test there keeps the
//! two in step).

/// `cmp: auto`: detect the CMP on the page and use its adapter.
pub const AUTO: &str = "auto";
/// `cmp: autoconsent`: drive `@duckduckgo/autoconsent`'s rules (accept-all and reject-all only).
pub const AUTOCONSENT: &str = "autoconsent";

/// Every name `cmp:` accepts: the adapters, then `auto` and `autoconsent`.
pub const ADAPTERS: &[&str] = &[
    "onetrust",
    "cookiebot",
    "didomi",
    "usercentrics",
    "trustarc",
    "osano",
    "termly",
    "ketch",
    "sourcepoint",
    "quantcast",
    "vanilla-cookieconsent",
    "klaro",
    "orejime",
    "tarteaucitron",
    "osano-cookieconsent",
    AUTO,
    AUTOCONSENT,
];
