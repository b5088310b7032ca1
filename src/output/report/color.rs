//! Colour for the tool's own output (progress, verdict table), following `--color` and
//! `CARGO_TERM_COLOR` like cargo and libtest do. Plain ANSI escapes, only when enabled.

use std::io::IsTerminal;

use libtest_mimic::ColorSetting;

use crate::outcome::Verdict;

/// Whether to colour a stream: `--color always|never` wins, then `CARGO_TERM_COLOR`
/// (`always|never|auto`), then `NO_COLOR` (off) and whether the stream is a terminal.
pub(crate) fn enabled(flag: Option<ColorSetting>, is_terminal: bool) -> bool {
    let env = std::env::var("CARGO_TERM_COLOR").ok();
    decide(
        flag,
        env.as_deref(),
        std::env::var_os("NO_COLOR").is_some(),
        is_terminal,
    )
}

/// [`enabled`] for stderr.
pub(crate) fn stderr(flag: Option<ColorSetting>) -> bool {
    enabled(flag, std::io::stderr().is_terminal())
}

/// [`enabled`] for stdout.
pub(crate) fn stdout(flag: Option<ColorSetting>) -> bool {
    enabled(flag, std::io::stdout().is_terminal())
}

/// The `--color` value `CARGO_TERM_COLOR` asks for, for a libtest run given no `--color`.
pub fn from_cargo_env() -> Option<ColorSetting> {
    match std::env::var("CARGO_TERM_COLOR").ok()?.as_str() {
        "always" => Some(ColorSetting::Always),
        "never" => Some(ColorSetting::Never),
        "auto" => Some(ColorSetting::Auto),
        _ => None,
    }
}

fn decide(flag: Option<ColorSetting>, env: Option<&str>, no_color: bool, tty: bool) -> bool {
    match flag {
        Some(ColorSetting::Always) => return true,
        Some(ColorSetting::Never) => return false,
        Some(ColorSetting::Auto) | None => {}
    }
    match env {
        Some("always") => return true,
        Some("never") => return false,
        _ => {}
    }
    !no_color && tty
}

/// Paints text when enabled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub(crate) fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }
    pub(crate) fn red(self, text: &str) -> String {
        self.wrap("31", text)
    }
    pub(crate) fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }
    pub(crate) fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }
    pub(crate) fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
    /// A verdict word padded to `width` columns, the word in its colour: pass green, fail red,
    /// error yellow (the padding stays outside the escapes, so columns line up).
    pub(crate) fn verdict(self, verdict: Verdict, width: usize) -> String {
        let word = verdict.as_str();
        let painted = match verdict {
            Verdict::Pass => self.green(word),
            Verdict::Fail => self.red(word),
            Verdict::Error => self.yellow(word),
        };
        format!(
            "{painted}{:pad$}",
            "",
            pad = width.saturating_sub(word.len())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_then_cargo_env_then_terminal() {
        assert!(decide(
            Some(ColorSetting::Always),
            Some("never"),
            true,
            false
        ));
        assert!(!decide(
            Some(ColorSetting::Never),
            Some("always"),
            false,
            true
        ));
        assert!(decide(None, Some("always"), false, false));
        assert!(!decide(
            Some(ColorSetting::Auto),
            Some("never"),
            false,
            true
        ));
        assert!(decide(None, None, false, true));
        assert!(!decide(None, None, true, true));
        assert!(!decide(None, Some("auto"), false, false));
    }

    #[test]
    fn paint_only_when_enabled() {
        assert_eq!(Paint(false).red("fail"), "fail");
        assert_eq!(Paint(true).red("fail"), "\x1b[31mfail\x1b[0m");
        assert_eq!(Paint(false).verdict(Verdict::Pass, 7), "pass   ");
        assert_eq!(
            Paint(true).verdict(Verdict::Error, 7),
            "\x1b[33merror\x1b[0m  "
        );
    }
}
