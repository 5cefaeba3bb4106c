//! A compiled Python `str` pattern: the `regex` crate when it takes the pattern
//! (fast, linear time), else `fancy_regex` for what only a backtracking engine
//! expresses (look-around, back-references, atomic groups, conditionals).

use crate::template::Template;
use crate::translate::{translate, Engine, Subject};

/// The span of each group of one match (index 0 is the whole match).
pub type GroupSpans = Vec<Option<(usize, usize)>>;

#[derive(Debug, Clone)]
pub enum PyRegex {
    Plain(regex::Regex),
    Fancy(fancy_regex::Regex),
}

impl PyRegex {
    /// Compile `pattern` (Python `re` syntax, Unicode semantics). Flags Python takes as
    /// arguments (`re.M`, `re.I`, ...) are given by prefixing `(?m)` and the like. The
    /// error names what neither engine takes; Python itself may still run the pattern.
    pub fn new(pattern: &str) -> Result<PyRegex, String> {
        let plain_error = match translate(pattern, Engine::Linear, Subject::Text) {
            Ok(translated) => match regex::Regex::new(&translated) {
                Ok(re) => return Ok(PyRegex::Plain(re)),
                Err(e) => format!(
                    "rsible: the regular expression {pattern:?} cannot be used natively: {e}"
                ),
            },
            Err(e) => e,
        };
        // Only patterns the linear engine refused reach the backtracking one.
        let translated = translate(pattern, Engine::Backtracking, Subject::Text)?;
        fancy_regex::Regex::new(&translated)
            .map(PyRegex::Fancy)
            .map_err(|e| format!("{plain_error} (nor by fancy-regex: {e})"))
    }

    /// Group names by index (index 0, the whole match, has none).
    pub fn capture_names(&self) -> Vec<Option<String>> {
        let own = |n: Option<&str>| n.map(str::to_string);
        match self {
            PyRegex::Plain(re) => re.capture_names().map(own).collect(),
            PyRegex::Fancy(re) => re.capture_names().map(own).collect(),
        }
    }

    /// Whether the backtracking engine runs this pattern.
    pub fn is_backtracking(&self) -> bool {
        matches!(self, PyRegex::Fancy(_))
    }

    /// The first match starting at or after byte `pos` of `text`, searching with the
    /// whole of `text` as context (anchors and look-behind see what precedes `pos`).
    pub fn captures_at(&self, text: &str, pos: usize) -> Result<Option<GroupSpans>, String> {
        let spans = |get: &dyn Fn(usize) -> Option<(usize, usize)>, len: usize| {
            (0..len).map(get).collect::<GroupSpans>()
        };
        match self {
            PyRegex::Plain(re) => Ok(re
                .captures_at(text, pos)
                .map(|c| spans(&|i| c.get(i).map(|m| (m.start(), m.end())), c.len()))),
            PyRegex::Fancy(re) => match re.captures_from_pos(text, pos) {
                Ok(found) => {
                    Ok(found.map(|c| spans(&|i| c.get(i).map(|m| (m.start(), m.end())), c.len())))
                }
                // Backtracking limit and the like: fail loudly rather than guess.
                Err(e) => Err(format!(
                    "rsible: the regular expression could not be run natively: {e}"
                )),
            },
        }
    }

    /// Python's `re.search(...) is not None`.
    pub fn is_match(&self, text: &str) -> Result<bool, String> {
        match self {
            PyRegex::Plain(re) => Ok(re.is_match(text)),
            PyRegex::Fancy(re) => re.is_match(text).map_err(|e| {
                format!("rsible: the regular expression could not be run natively: {e}")
            }),
        }
    }

    /// Python's `re.finditer`: the groups of every non-overlapping match, where an
    /// empty match right after a previous match still counts (Python 3.7+). At most
    /// `limit` matches when `limit` is not 0.
    pub fn find_all(&self, text: &str, limit: usize) -> Result<Vec<GroupSpans>, String> {
        let mut found = Vec::new();
        let mut pos = 0;
        // Where the previous match was empty: Python allows no second empty match there.
        let mut last_empty_at = None;
        while pos <= text.len() && (limit == 0 || found.len() < limit) {
            let Some(spans) = self.captures_at(text, pos)? else {
                break;
            };
            let Some((start, end)) = spans.first().copied().flatten() else {
                break;
            };
            if start == end && last_empty_at == Some(start) {
                match text[start..].chars().next() {
                    Some(c) => pos = start + c.len_utf8(),
                    None => break,
                }
                continue;
            }
            last_empty_at = (start == end).then_some(start);
            pos = end;
            found.push(spans);
        }
        Ok(found)
    }

    /// Python's `re.subn(pattern, template, text, count=limit)`.
    pub fn subn(
        &self,
        template: &Template,
        text: &str,
        limit: usize,
    ) -> Result<(String, usize), String> {
        let matches = self.find_all(text, limit)?;
        let mut out = String::with_capacity(text.len());
        let mut copied_to = 0;
        for spans in &matches {
            let Some((start, end)) = spans.first().copied().flatten() else {
                continue;
            };
            out.push_str(&text[copied_to..start]);
            template.expand_into(&mut out, |g| {
                spans
                    .get(g)
                    .copied()
                    .flatten()
                    .and_then(|(s, e)| text.get(s..e))
            });
            copied_to = end;
        }
        out.push_str(&text[copied_to..]);
        Ok((out, matches.len()))
    }
}
