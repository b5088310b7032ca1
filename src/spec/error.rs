//! Spec errors, displayed the way rustc and Hurl show theirs: a headline, the position, the source
//! line with a caret under the offending token, and a hint.

use std::fmt;
use std::path::PathBuf;

/// What is wrong with a spec file, and where. When a file has several problems, the first is
/// held in the fields and the rest in `others` (in file order); `Display` shows them all.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.render())]
pub struct SpecError {
    /// The spec file as given.
    pub(crate) file: PathBuf,
    /// 1-based; 0 when the problem has no position (the file could not be read).
    pub line: usize,
    /// 1-based, counted in characters; 0 when the problem has no position.
    pub column: usize,
    /// The headline, without the `error: ` prefix.
    pub message: String,
    /// What to do about it, when there is something to say.
    pub(crate) help: Option<String>,
    /// The text of line `line`, for the snippet.
    pub(crate) source_line: Option<String>,
    /// Width of the offending token in characters (the caret's length), at least 1.
    pub(crate) width: usize,
    /// Further problems in the same file, each with its own position (their `others` are empty).
    pub(crate) others: Vec<SpecError>,
}

impl SpecError {
    /// An error at `line:column` (1-based) of `file`, with no snippet yet.
    pub(crate) fn new(
        file: impl Into<PathBuf>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        SpecError {
            file: file.into(),
            line,
            column,
            message: message.into(),
            help: None,
            source_line: None,
            width: 1,
            others: Vec::new(),
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Takes the snippet line from `text` (the whole spec source).
    pub(crate) fn with_source(mut self, text: &str) -> Self {
        if self.line > 0 {
            self.source_line = text
                .lines()
                .nth(self.line - 1)
                .map(|l| l.trim_end_matches('\r').to_string());
        }
        self
    }

    pub(crate) fn with_width(mut self, width: usize) -> Self {
        self.width = width.max(1);
        self
    }

    /// The first error followed by the others, flattened.
    pub fn all(&self) -> impl Iterator<Item = &SpecError> {
        std::iter::once(self).chain(self.others.iter())
    }

    /// How many problems this error reports.
    pub fn count(&self) -> usize {
        1 + self.others.len()
    }

    /// Folds a list of errors (in any order) into one, first by position first. `None` when the
    /// list is empty.
    pub(crate) fn combine(mut errors: Vec<SpecError>) -> Option<SpecError> {
        errors.sort_by_key(|e| (e.line, e.column));
        errors.dedup_by(|a, b| a.line == b.line && a.column == b.column && a.message == b.message);
        let mut iter = errors.into_iter();
        let mut first = iter.next()?;
        first.others.extend(iter.flat_map(|mut e| {
            let nested = std::mem::take(&mut e.others);
            std::iter::once(e).chain(nested)
        }));
        Some(first)
    }

    /// The full report: every problem, separated by blank lines.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (i, e) in self.all().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            // Writing into a String cannot fail.
            let _ = e.render_one(&mut out);
        }
        if self.count() > 1 {
            out.push_str(&format!(
                "\nerror: {} problems in {}",
                self.count(),
                self.file.display()
            ));
        }
        out.trim_end().to_string()
    }

    fn render_one(&self, out: &mut String) -> fmt::Result {
        use fmt::Write;
        writeln!(out, "error: {}", self.message)?;
        if self.line == 0 {
            writeln!(out, " --> {}", self.file.display())?;
        } else {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            writeln!(
                out,
                "{pad}--> {}:{}:{}",
                self.file.display(),
                self.line,
                self.column
            )?;
            if let Some(src) = &self.source_line {
                writeln!(out, "{pad} |")?;
                writeln!(out, "{num} | {src}")?;
                // Keep tabs so that the caret lines up under the token.
                let lead: String = src
                    .chars()
                    .take(self.column.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                writeln!(out, "{pad} | {lead}{}", "^".repeat(self.width.max(1)))?;
            }
            if let Some(help) = &self.help {
                writeln!(out, "{pad} = help: {help}")?;
            }
            return Ok(());
        }
        if let Some(help) = &self.help {
            writeln!(out, "  = help: {help}")?;
        }
        Ok(())
    }
}
