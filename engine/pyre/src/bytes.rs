//! A compiled Python `bytes` pattern (lineinfile, blockinfile, find, wait_for compile
//! their patterns as bytes): the `regex` crate's bytes engine with Unicode off when
//! it takes the pattern, else `fancy_regex` on a Latin-1 view of the haystack (one
//! char per byte, so `.` still matches one byte) with the pattern translated to match.

use crate::text::GroupSpans;
use crate::translate::{translate, Engine, Subject};
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub enum PyBytesRegex {
    Plain(regex::bytes::Regex),
    Fancy(fancy_regex::Regex),
}

fn run_error(e: fancy_regex::Error) -> String {
    format!("rsible: the regular expression could not be run natively: {e}")
}

/// `hay` with every byte as the char of the same number (Latin-1).
fn latin1(hay: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(hay) {
        Ok(s) if s.is_ascii() => Cow::Borrowed(s),
        _ => Cow::Owned(hay.iter().map(|&b| char::from(b)).collect()),
    }
}

/// The byte offset in the original haystack of offset `at` in its Latin-1 view.
fn original_offset(view: &str, at: usize) -> usize {
    if view.is_ascii() {
        at
    } else {
        view[..at].chars().count()
    }
}

impl PyBytesRegex {
    /// Compile `pattern` as Python compiles `re.compile(pattern.encode())`.
    pub fn new(pattern: &str) -> Result<PyBytesRegex, String> {
        let plain_error = match translate(pattern, Engine::Linear, Subject::Bytes) {
            Ok(translated) => match regex::bytes::RegexBuilder::new(&translated)
                .unicode(false)
                .build()
            {
                Ok(re) => return Ok(PyBytesRegex::Plain(re)),
                Err(e) => format!(
                    "rsible: the regular expression {pattern:?} cannot be used natively: {e}"
                ),
            },
            Err(e) => e,
        };
        let translated = translate(pattern, Engine::Backtracking, Subject::Bytes)?;
        fancy_regex::Regex::new(&translated)
            .map(PyBytesRegex::Fancy)
            .map_err(|e| format!("{plain_error} (nor by fancy-regex: {e})"))
    }

    pub fn capture_names(&self) -> Vec<Option<String>> {
        let own = |n: Option<&str>| n.map(str::to_string);
        match self {
            PyBytesRegex::Plain(re) => re.capture_names().map(own).collect(),
            PyBytesRegex::Fancy(re) => re.capture_names().map(own).collect(),
        }
    }

    /// Python's `re.search(...) is not None`.
    pub fn is_match(&self, hay: &[u8]) -> Result<bool, String> {
        match self {
            PyBytesRegex::Plain(re) => Ok(re.is_match(hay)),
            PyBytesRegex::Fancy(re) => re.is_match(&latin1(hay)).map_err(run_error),
        }
    }

    /// The span of the first match.
    pub fn find(&self, hay: &[u8]) -> Result<Option<(usize, usize)>, String> {
        Ok(self
            .captures(hay)?
            .and_then(|spans| spans.first().copied().flatten()))
    }

    /// The groups of the first match, as byte spans of `hay`.
    pub fn captures(&self, hay: &[u8]) -> Result<Option<GroupSpans>, String> {
        match self {
            PyBytesRegex::Plain(re) => Ok(re.captures(hay).map(|c| {
                (0..c.len())
                    .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                    .collect()
            })),
            PyBytesRegex::Fancy(re) => {
                let view = latin1(hay);
                let Some(c) = re.captures(&view).map_err(run_error)? else {
                    return Ok(None);
                };
                let at = |o: usize| original_offset(&view, o);
                Ok(Some(
                    (0..c.len())
                        .map(|i| c.get(i).map(|m| (at(m.start()), at(m.end()))))
                        .collect(),
                ))
            }
        }
    }
}
