//! A small, forgiving YAML *structure* reader that records where every key and value sits in
//! the source text. serde_yaml gives positions only for its own errors; the checks that run after
//! deserialising (unknown names, duplicate keys, missing folders) use this tree to point at the
//! offending token.
//!
//! It understands what specs use: block mappings and sequences (including `- key: v` items and
//! sequences at their key's indentation), flow mappings and sequences over several lines, plain,
//! single- and double-quoted scalars, block scalars (`|`, `>`), comments, anchors, tags and
//! aliases (skipped), and a leading `---`. It never fails: on text it does not understand it stops
//! and keeps what it has, so a lookup may answer `None` and the caller falls back to a coarser
//! position. Syntax errors are serde_yaml's job, which runs first.

/// A position in the source: 1-based line and column (in characters, as libyaml counts them),
/// and the token's width in characters (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) line: usize,
    pub(crate) col: usize,
    pub(crate) len: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Map(Vec<Entry>),
    Seq(Vec<Spanned>),
    /// Scalar text as written (quotes removed, escapes not interpreted).
    Scalar(String),
    /// No value (`key:` followed by nothing).
    Null,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_span: Span,
    pub(crate) value: Spanned,
}

#[derive(Debug, Clone)]
pub(crate) struct Spanned {
    pub(crate) span: Span,
    pub(crate) node: Node,
}

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_string())
    }
}
impl From<&String> for Seg {
    fn from(s: &String) -> Self {
        Seg::Key(s.clone())
    }
}
impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// Builds a `Vec<Seg>` from keys and indices: `segs!["states", name, "steps", 0]`.
macro_rules! segs {
    ($($seg:expr),* $(,)?) => {
        ::std::vec::Vec::<$crate::spec::locate::Seg>::from([$($crate::spec::locate::Seg::from($seg)),*])
    };
}
pub(crate) use segs;

/// Renders a path the way serde_yaml does (`states.a.steps[0]`), for matching its messages.
pub(crate) fn dotted(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

impl Spanned {
    fn null(span: Span) -> Self {
        Spanned {
            span,
            node: Node::Null,
        }
    }

    /// The node at `path`.
    pub(crate) fn get(&self, path: &[Seg]) -> Option<&Spanned> {
        let mut cur = self;
        for seg in path {
            cur = match (seg, &cur.node) {
                (Seg::Key(k), Node::Map(entries)) => &entries.iter().find(|e| &e.key == k)?.value,
                (Seg::Index(i), Node::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The entry whose key ends `path` (the path must end with a key).
    pub(crate) fn entry(&self, path: &[Seg]) -> Option<&Entry> {
        let (last, parent) = path.split_last()?;
        let Seg::Key(k) = last else { return None };
        match &self.get(parent)?.node {
            Node::Map(entries) => entries.iter().find(|e| &e.key == k),
            _ => None,
        }
    }

    /// Where the key ending `path` is written (for "unknown key", "duplicate key" and the like).
    pub(crate) fn key_span(&self, path: &[Seg]) -> Option<Span> {
        self.entry(path).map(|e| e.key_span)
    }

    /// Where the value at `path` is written; for an index, the item.
    pub(crate) fn value_span(&self, path: &[Seg]) -> Option<Span> {
        self.get(path).map(|n| n.span)
    }

    /// Every path whose key or value starts at `line:col`, deepest first, each flagged `true`
    /// when the key (not the value) starts there.
    pub(crate) fn paths_at(&self, line: usize, col: usize) -> Vec<(Vec<Seg>, bool)> {
        let mut out = Vec::new();
        let mut prefix = Vec::new();
        self.collect_at(line, col, &mut prefix, &mut out);
        out.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        out
    }

    fn collect_at(
        &self,
        line: usize,
        col: usize,
        prefix: &mut Vec<Seg>,
        out: &mut Vec<(Vec<Seg>, bool)>,
    ) {
        if self.span.line == line && self.span.col == col {
            out.push((prefix.clone(), false));
        }
        match &self.node {
            Node::Map(entries) => {
                for e in entries {
                    prefix.push(Seg::Key(e.key.clone()));
                    if e.key_span.line == line && e.key_span.col == col {
                        out.push((prefix.clone(), true));
                    }
                    e.value.collect_at(line, col, prefix, out);
                    prefix.pop();
                }
            }
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    prefix.push(Seg::Index(i));
                    item.collect_at(line, col, prefix, out);
                    prefix.pop();
                }
            }
            Node::Scalar(_) | Node::Null => {}
        }
    }

    /// Every key written twice in one mapping: (path of the repeated key, first, repeat).
    pub(crate) fn duplicate_keys(&self) -> Vec<(Vec<Seg>, Span, Span)> {
        let mut out = Vec::new();
        let mut prefix = Vec::new();
        self.collect_dups(&mut prefix, &mut out);
        out
    }

    fn collect_dups(&self, prefix: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, Span, Span)>) {
        match &self.node {
            Node::Map(entries) => {
                for (i, e) in entries.iter().enumerate() {
                    if let Some(first) = entries[..i].iter().find(|f| f.key == e.key) {
                        let mut p = prefix.clone();
                        p.push(Seg::Key(e.key.clone()));
                        out.push((p, first.key_span, e.key_span));
                    }
                }
                for e in entries {
                    prefix.push(Seg::Key(e.key.clone()));
                    e.value.collect_dups(prefix, out);
                    prefix.pop();
                }
            }
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    prefix.push(Seg::Index(i));
                    item.collect_dups(prefix, out);
                    prefix.pop();
                }
            }
            Node::Scalar(_) | Node::Null => {}
        }
    }
}

/// Reads the structure of `text`. Never fails; see the module documentation.
pub(crate) fn parse(text: &str) -> Spanned {
    let lines: Vec<Vec<char>> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).chars().collect())
        .collect();
    let mut r = Reader {
        lines,
        li: 0,
        ci: 0,
        steps: 0,
    };
    // A leading byte-order mark is not content.
    if r.lines.first().and_then(|l| l.first()) == Some(&'\u{feff}') {
        r.ci = 1;
    }
    let start = r.span(1);
    if !r.skip_to_content() {
        return Spanned::null(start);
    }
    r.block_node_here(-1)
}

struct Reader {
    lines: Vec<Vec<char>>,
    li: usize,
    ci: usize,
    /// Guards against loops on text this reader does not understand.
    steps: usize,
}

const STEP_LIMIT: usize = 1_000_000;

impl Reader {
    fn at_eof(&self) -> bool {
        self.li >= self.lines.len()
    }

    /// The character at the cursor; `'\n'` at the end of a line, `None` at the end of the text.
    fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        let line = self.lines.get(self.li)?;
        Some(line.get(self.ci + ahead).copied().unwrap_or('\n'))
    }

    fn bump(&mut self) {
        self.steps += 1;
        match self.lines.get(self.li) {
            Some(line) if self.ci < line.len() => self.ci += 1,
            Some(_) => {
                self.li += 1;
                self.ci = 0;
            }
            None => {}
        }
    }

    fn span(&self, len: usize) -> Span {
        Span {
            line: self.li + 1,
            col: self.ci + 1,
            len: len.max(1),
        }
    }

    fn exhausted(&self) -> bool {
        self.at_eof() || self.steps > STEP_LIMIT
    }

    fn is_blank(c: Option<char>) -> bool {
        matches!(c, Some(' ') | Some('\t') | Some('\n') | None)
    }

    fn skip_inline_ws(&mut self) {
        while matches!(self.peek(), Some(' ') | Some('\t')) {
            self.bump();
        }
    }

    /// At a comment or at the end of the line (after inline whitespace).
    fn at_line_end(&mut self) -> bool {
        self.skip_inline_ws();
        matches!(self.peek(), Some('#') | Some('\n') | None)
    }

    fn next_line(&mut self) {
        self.li += 1;
        self.ci = 0;
        self.steps += 1;
    }

    /// Moves to the next content character (skipping whitespace, comments, blank lines and
    /// document markers). Returns false at the end of the text.
    fn skip_to_content(&mut self) -> bool {
        while !self.exhausted() {
            match self.peek() {
                Some(' ') | Some('\t') | Some('\u{feff}') => self.bump(),
                Some('\n') | Some('#') => self.next_line(),
                Some('-') | Some('.')
                    if self.ci == 0
                        && self.peek_at(1) == self.peek()
                        && self.peek_at(2) == self.peek()
                        && Self::is_blank(self.peek_at(3)) =>
                {
                    self.next_line()
                }
                Some('%') if self.ci == 0 => self.next_line(),
                Some(_) => return true,
                None => return false,
            }
        }
        false
    }

    /// Skips flow whitespace: spaces, newlines and comments.
    fn skip_flow_ws(&mut self) {
        while !self.exhausted() {
            match self.peek() {
                Some(' ') | Some('\t') => self.bump(),
                Some('\n') | Some('#') => self.next_line(),
                _ => return,
            }
        }
    }

    /// Inside a flow collection that `close` ends: skips white space and commas up to the next
    /// entry (`true`), or past the closer, or to where the collection cannot go on (`false`).
    fn flow_entry_follows(&mut self, close: char) -> bool {
        while !self.exhausted() {
            self.skip_flow_ws();
            match self.peek() {
                Some(c) if c == close => {
                    self.bump();
                    return false;
                }
                Some(',') => self.bump(),
                Some(']' | '}') | None => return false,
                _ => return true,
            }
        }
        false
    }

    /// Skips anchors (`&a`) and tags (`!t`) before a node.
    fn skip_properties(&mut self) {
        while matches!(self.peek(), Some('&') | Some('!')) {
            while !Self::is_blank(self.peek()) {
                self.bump();
            }
            self.skip_inline_ws();
        }
    }

    fn at_dash_item(&self) -> bool {
        self.peek() == Some('-') && Self::is_blank(self.peek_at(1))
    }

    /// A block node starting at the cursor (which is at content). `parent` is the indentation of
    /// the enclosing block (-1 at the top).
    fn block_node_here(&mut self, parent: isize) -> Spanned {
        self.skip_properties();
        if self.at_line_end() {
            // Properties alone on a line: the node follows.
            let here = self.span(1);
            if !self.skip_to_content() || (self.ci as isize) <= parent {
                return Spanned::null(here);
            }
        }
        let col = self.ci;
        if self.at_dash_item() {
            return self.block_seq(col);
        }
        match self.peek() {
            Some('[') | Some('{') => return self.flow_node(),
            Some('|') | Some('>') => return self.block_scalar(parent),
            _ => {}
        }
        // A scalar: a mapping key when a `:` follows.
        let (save_li, save_ci) = (self.li, self.ci);
        let scalar = self.block_key_or_scalar();
        self.skip_inline_ws();
        if self.peek() == Some(':') && Self::is_blank(self.peek_at(1)) {
            self.li = save_li;
            self.ci = save_ci;
            return self.block_map(col);
        }
        self.li = save_li;
        self.ci = save_ci;
        let _ = scalar;
        self.inline_value(parent)
    }

    fn block_seq(&mut self, col: usize) -> Spanned {
        let span = self.span(1);
        let mut items = Vec::new();
        loop {
            if !(self.ci == col && self.at_dash_item()) || self.exhausted() {
                break;
            }
            self.bump(); // '-'
            let item_span = self.span(1);
            if self.at_line_end() {
                if self.skip_to_content() && self.ci > col {
                    items.push(self.block_node_here(col as isize));
                } else {
                    items.push(Spanned::null(item_span));
                }
            } else {
                items.push(self.block_node_here(col as isize));
            }
            if !self.skip_to_content() {
                break;
            }
        }
        Spanned {
            span,
            node: Node::Seq(items),
        }
    }

    fn block_map(&mut self, col: usize) -> Spanned {
        let span = self.span(1);
        let mut entries = Vec::new();
        loop {
            if self.ci != col || self.exhausted() || self.at_dash_item() {
                break;
            }
            let before = (self.li, self.ci, self.steps);
            let key_span_start = self.span(1);
            let Some(key) = self.block_key_or_scalar() else {
                break;
            };
            let key_span = Span {
                len: key.1,
                ..key_span_start
            };
            self.skip_inline_ws();
            if self.peek() != Some(':') {
                break;
            }
            self.bump(); // ':'
            let value = self.map_value(col, key_span);
            entries.push(Entry {
                key: key.0,
                key_span,
                value,
            });
            if !self.skip_to_content() || (self.li, self.ci, self.steps) == before {
                break;
            }
        }
        Spanned {
            span,
            node: Node::Map(entries),
        }
    }

    /// The value after `key:` in a block mapping whose keys sit at column `col`.
    fn map_value(&mut self, col: usize, key_span: Span) -> Spanned {
        self.skip_inline_ws();
        self.skip_properties();
        if self.at_line_end() {
            if !self.skip_to_content() {
                return Spanned::null(key_span);
            }
            if self.ci > col || (self.ci == col && self.at_dash_item()) {
                return self.block_node_here(col as isize);
            }
            return Spanned::null(key_span);
        }
        self.inline_value(col as isize)
    }

    /// A value that starts on the current line and is not a block mapping: flow collection,
    /// block scalar, quoted or plain scalar (with its continuation lines skipped).
    fn inline_value(&mut self, parent: isize) -> Spanned {
        match self.peek() {
            Some('[') | Some('{') => self.flow_node(),
            Some('|') | Some('>') => self.block_scalar(parent),
            Some('"') | Some('\'') => {
                let start = self.span(1);
                let (text, len) = self.quoted();
                Spanned {
                    span: Span { len, ..start },
                    node: Node::Scalar(text),
                }
            }
            _ => {
                let start = self.span(1);
                let mut text = String::new();
                while let Some(c) = self.peek() {
                    if c == '\n' || (c == '#' && text.ends_with([' ', '\t'])) {
                        break;
                    }
                    text.push(c);
                    self.bump();
                }
                let text = text.trim_end().to_string();
                let len = text.chars().count();
                // Continuation lines of a multi-line plain scalar.
                self.skip_more_indented(parent);
                Spanned {
                    span: Span { len, ..start },
                    node: Node::Scalar(text),
                }
            }
        }
    }

    /// Skips following lines indented deeper than `parent` (or blank), leaving the cursor at the
    /// start of the first line that is not.
    fn skip_more_indented(&mut self, parent: isize) {
        self.next_line();
        while !self.exhausted() {
            let line = &self.lines[self.li];
            let indent = line.iter().take_while(|c| **c == ' ').count();
            let blank = line[indent..].iter().all(|c| c.is_whitespace());
            if blank || ((indent as isize) > parent && line.get(indent) != Some(&'#')) {
                self.next_line();
            } else {
                break;
            }
        }
    }

    fn block_scalar(&mut self, parent: isize) -> Spanned {
        let span = self.span(1);
        self.skip_more_indented(parent);
        Spanned {
            span,
            node: Node::Scalar(String::new()),
        }
    }

    /// A key in block context (or a scalar that may turn out to be a value): quoted, or plain up
    /// to `: `, a comment or the end of the line. Returns the text and its width in characters.
    fn block_key_or_scalar(&mut self) -> Option<(String, usize)> {
        match self.peek() {
            Some('"') | Some('\'') => Some(self.quoted()),
            Some('\n') | None => None,
            _ => {
                let mut text = String::new();
                while let Some(c) = self.peek() {
                    if c == '\n'
                        || (c == ':' && Self::is_blank(self.peek_at(1)))
                        || (c == '#' && text.ends_with([' ', '\t']))
                    {
                        break;
                    }
                    text.push(c);
                    self.bump();
                }
                let text = text.trim_end().to_string();
                let len = text.chars().count();
                Some((text, len))
            }
        }
    }

    /// A quoted scalar at the cursor; returns its text (quotes removed, `''` and `\"` undone) and
    /// its width on its first line.
    fn quoted(&mut self) -> (String, usize) {
        let Some(q) = self.peek() else {
            return (String::new(), 1);
        };
        let start_line = self.li;
        let start_col = self.ci;
        self.bump();
        let mut text = String::new();
        let mut end_col = None;
        while !self.exhausted() {
            let Some(c) = self.peek() else { break };
            if q == '"' && c == '\\' {
                self.bump();
                if let Some(n) = self.peek() {
                    text.push(n);
                    self.bump();
                }
                continue;
            }
            if c == q {
                if q == '\'' && self.peek_at(1) == Some('\'') {
                    text.push('\'');
                    self.bump();
                    self.bump();
                    continue;
                }
                if self.li == start_line {
                    end_col = Some(self.ci);
                }
                self.bump();
                break;
            }
            if c == '\n' {
                text.push(' ');
                self.next_line();
                continue;
            }
            text.push(c);
            self.bump();
        }
        let len = match end_col {
            Some(end) => end + 1 - start_col,
            None => self
                .lines
                .get(start_line)
                .map_or(1, |l| l.len().saturating_sub(start_col)),
        };
        (text, len.max(1))
    }

    /// A flow collection or flow scalar at the cursor.
    fn flow_node(&mut self) -> Spanned {
        self.skip_properties();
        let start = self.span(1);
        let node = match self.peek() {
            Some('{') => Node::Map(self.flow_collection('}', Self::flow_map_entry)),
            Some('[') => Node::Seq(self.flow_collection(']', Self::flow_seq_item)),
            _ => {
                let (text, len) = self.flow_scalar();
                return Spanned {
                    span: Span { len, ..start },
                    node: Node::Scalar(text),
                };
            }
        };
        Spanned { span: start, node }
    }

    /// The entries of the flow collection whose opening bracket is at the cursor, up to `close`,
    /// each read by `entry`. Stops at an entry that does not move the cursor: text this reader
    /// does not understand (a collection as a key, say).
    fn flow_collection<T>(&mut self, close: char, entry: fn(&mut Self) -> T) -> Vec<T> {
        self.bump();
        let mut out = Vec::new();
        while self.flow_entry_follows(close) {
            let before = (self.li, self.ci);
            out.push(entry(self));
            if (self.li, self.ci) == before {
                break;
            }
        }
        out
    }

    /// One `key: value` entry of a flow mapping.
    fn flow_map_entry(&mut self) -> Entry {
        if self.peek() == Some('?') && Self::is_blank(self.peek_at(1)) {
            self.bump();
            self.skip_flow_ws();
        }
        let key_start = self.span(1);
        let (key, len) = self.flow_scalar();
        let key_span = Span { len, ..key_start };
        self.skip_flow_ws();
        let value = if self.peek() == Some(':') {
            self.bump();
            self.skip_flow_ws();
            if matches!(self.peek(), Some(',') | Some('}')) {
                Spanned::null(key_span)
            } else {
                self.flow_node()
            }
        } else {
            Spanned::null(key_span)
        };
        Entry {
            key,
            key_span,
            value,
        }
    }

    /// One item of a flow sequence.
    fn flow_seq_item(&mut self) -> Spanned {
        let item = self.flow_node();
        self.skip_flow_ws();
        if self.peek() == Some(':') {
            // A single-pair mapping inside a sequence: `[a: 1]`.
            self.bump();
            self.skip_flow_ws();
            let value = self.flow_node();
            let key = match item.node {
                Node::Scalar(s) => s,
                _ => String::new(),
            };
            Spanned {
                span: item.span,
                node: Node::Map(vec![Entry {
                    key,
                    key_span: item.span,
                    value,
                }]),
            }
        } else {
            item
        }
    }

    /// A scalar inside a flow collection.
    fn flow_scalar(&mut self) -> (String, usize) {
        match self.peek() {
            Some('"') | Some('\'') => self.quoted(),
            _ => {
                let mut text = String::new();
                while let Some(c) = self.peek() {
                    let ends = match c {
                        '\n' | ',' | '[' | ']' | '{' | '}' => true,
                        ':' => matches!(
                            self.peek_at(1),
                            Some(' ' | '\t' | '\n' | ',' | '[' | ']' | '{' | '}') | None
                        ),
                        '#' => text.ends_with([' ', '\t']),
                        _ => false,
                    };
                    if ends {
                        break;
                    }
                    text.push(c);
                    self.bump();
                }
                let text = text.trim_end().to_string();
                let len = text.chars().count();
                (text, len.max(1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(tree: &Spanned, p: &[Seg]) -> (usize, usize, usize) {
        let s = tree.key_span(p).expect("key");
        (s.line, s.col, s.len)
    }

    #[test]
    fn block_flow_and_sequences() {
        let text = "\
# comment
site:
  url: https://x.example/   # trailing
  serve:
    https://x.example: ../site
states:
  a:
    steps:
      - click: \"#b [x=y]\"
      - fill: {\"#q\": hello, '#r': 'it''s'}
    expect: {allowed: [One, Two], blocked: [Three]}
  b:
    steps: [{cmp: {categories: [C0002]}}]
    expect:
      collection: none
list:
- x
- y: 1
  z: 2
block: |
  text: not a key
    more
after: 1
";
        let t = parse(text);
        assert_eq!(at(&t, &segs!["site", "url"]), (3, 3, 3));
        assert_eq!(
            at(&t, &segs!["site", "serve", "https://x.example"]),
            (5, 5, 17)
        );
        assert_eq!(
            at(&t, &segs!["states", "a", "steps", 0, "click"]),
            (9, 9, 5)
        );
        let v = t
            .value_span(&segs!["states", "a", "steps", 0, "click"])
            .unwrap();
        assert_eq!((v.line, v.col, v.len), (9, 16, 10));
        assert_eq!(
            at(&t, &segs!["states", "a", "steps", 1, "fill", "#r"]),
            (10, 29, 4)
        );
        let v = t
            .value_span(&segs!["states", "a", "expect", "allowed", 1])
            .unwrap();
        assert_eq!((v.line, v.col, v.len), (11, 29, 3));
        let v = t
            .value_span(&segs!["states", "b", "steps", 0, "cmp", "categories", 0])
            .unwrap();
        assert_eq!((v.line, v.col), (13, 33));
        assert_eq!(
            at(&t, &segs!["states", "b", "expect", "collection"]),
            (15, 7, 10)
        );
        assert_eq!(at(&t, &segs!["list", 1, "z"]), (19, 3, 1));
        assert_eq!(at(&t, &segs!["after"]), (23, 1, 5));
        assert!(t.get(&segs!["block", "text"]).is_none());
        let found = t.paths_at(15, 7);
        assert_eq!(found[0].0, segs!["states", "b", "expect", "collection"]);
        assert!(found[0].1);
    }

    #[test]
    fn duplicates_are_found() {
        let t = parse("states:\n  a: {}\n  b: {}\n  a: {}\n");
        let d = t.duplicate_keys();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0, segs!["states", "a"]);
        assert_eq!((d[0].1.line, d[0].2.line, d[0].2.col), (2, 4, 3));
    }

    #[test]
    fn odd_text_does_not_panic() {
        for text in [
            "",
            "---\n",
            "a: [1, {b: ",
            "- - - x",
            ": :",
            "'unterminated",
            "a: |\n",
            "&x a: *x",
            "\u{feff}a: 1",
            "{",
            "]",
        ] {
            let _ = parse(text);
        }
    }
}
