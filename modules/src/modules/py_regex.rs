//! A compiled Python text pattern: the `regex` crate when it can take the pattern
//! (fast, linear time), else `fancy_regex` for what only a backtracking engine
//! expresses (look-ahead, look-behind, back-references), as `replace` needs for
//! Kubespray's resolv.conf edits. Patterns neither takes are refused, so callers
//! leave them to ansible-core's Python module.

use super::replace::{translate_python_pattern, translate_python_pattern_fancy};
use super::ModuleFail;

pub(super) enum PyRegex {
    Plain(regex::Regex),
    Fancy(fancy_regex::Regex),
}

/// The span of each group of one match (index 0 is the whole match).
pub(super) type GroupSpans = Vec<Option<(usize, usize)>>;

impl PyRegex {
    /// Compile `pattern` (Python `re` syntax, Unicode semantics).
    pub(super) fn new(pattern: &str) -> Result<PyRegex, ModuleFail> {
        let plain_error = match translate_python_pattern(pattern) {
            Ok(translated) => match regex::Regex::new(&translated) {
                Ok(re) => return Ok(PyRegex::Plain(re)),
                Err(e) => format!(
                    "rsible agent: the regular expression {pattern:?} cannot be used natively: {e}"
                ),
            },
            Err(e) => e,
        };
        // Only patterns the plain engine refused reach the backtracking one.
        let translated = translate_python_pattern_fancy(pattern).map_err(ModuleFail::msg)?;
        fancy_regex::Regex::new(&translated)
            .map(PyRegex::Fancy)
            .map_err(|e| ModuleFail::msg(format!("{plain_error} (nor by fancy-regex: {e})")))
    }

    pub(super) fn capture_names(&self) -> Vec<Option<String>> {
        let own = |n: Option<&str>| n.map(str::to_string);
        match self {
            PyRegex::Plain(re) => re.capture_names().map(own).collect(),
            PyRegex::Fancy(re) => re.capture_names().map(own).collect(),
        }
    }

    /// The first match starting at or after byte `pos` of `text`, searching with the
    /// whole of `text` as context (anchors and look-behind see what precedes `pos`).
    pub(super) fn captures_at(
        &self,
        text: &str,
        pos: usize,
    ) -> Result<Option<GroupSpans>, ModuleFail> {
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
                Err(e) => Err(ModuleFail::msg(format!(
                    "rsible agent: the regular expression could not be run natively: {e}"
                ))),
            },
        }
    }
}
