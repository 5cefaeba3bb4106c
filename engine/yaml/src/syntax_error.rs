//! Parser errors reworded as libyaml words them.
//!
//! Ansible reads YAML through libyaml (PyYAML's C parser), and its error text
//! carries libyaml's `problem` and `context` with their marks. saphyr-parser
//! descends from the same design, so most messages map one to one; where
//! saphyr words a problem differently, the libyaml wording is substituted.

use saphyr_parser::ScanError;

use crate::source::SourceText;

/// A YAML error before it is tied to a file: libyaml's (context, problem) pair.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub context: Option<String>,
    /// 1-based (line, column) of the context, when it differs from the problem's.
    pub context_mark: Option<(u32, u32)>,
    pub problem: String,
    pub problem_mark: (u32, u32),
}

/// What an open collection looks like to the error mapper: (is_mapping, line, column).
pub(crate) type OpenCollection = (bool, u32, u32);

impl SyntaxError {
    pub(crate) fn plain(problem: impl Into<String>, line: u32, column: u32) -> Self {
        SyntaxError {
            context: None,
            context_mark: None,
            problem: problem.into(),
            problem_mark: (line, column),
        }
    }

    pub(crate) fn with_context(
        context: &str,
        context_mark: (u32, u32),
        problem: impl Into<String>,
        problem_mark: (u32, u32),
    ) -> Self {
        SyntaxError {
            context: Some(context.to_string()),
            context_mark: Some(context_mark),
            problem: problem.into(),
            problem_mark,
        }
    }

    pub(crate) fn undefined_alias(line: u32, column: u32) -> Self {
        Self::plain("found undefined alias", line, column)
    }

    pub(crate) fn too_deep(line: u32, column: u32) -> Self {
        Self::plain(
            format!(
                "exceeded the maximum nesting depth of {}",
                crate::compose::MAX_DEPTH
            ),
            line,
            column,
        )
    }

    /// Translate a saphyr scan/parse error. `open` lists the collections open
    /// at the time, innermost last, to supply libyaml's context marks.
    pub(crate) fn from_scan(err: &ScanError, text: &SourceText, open: &[OpenCollection]) -> Self {
        let marker = err.marker();
        let line = u32::try_from(marker.line()).unwrap_or(u32::MAX);
        let column = u32::try_from(marker.col()).unwrap_or(u32::MAX - 1) + 1;
        let here = (line, column);
        let innermost = |want_map: bool| {
            open.iter()
                .rev()
                .find(|(is_map, _, _)| *is_map == want_map)
                .map(|&(_, l, c)| (l, c))
                .unwrap_or(here)
        };
        let info = err.info();
        match info {
            "while parsing a block mapping, did not find expected key" => {
                // saphyr points past a stray `- `; libyaml at the dash itself.
                let at = text.block_entry_start(line, column);
                Self::with_context(
                    "while parsing a block mapping",
                    innermost(true),
                    "did not find expected key",
                    at,
                )
            }
            "\"-\" is only valid inside a block" => Self::with_context(
                "while parsing a flow node",
                here,
                "did not find expected node content",
                here,
            ),
            "while parsing a block collection, did not find expected '-' indicator" => {
                Self::with_context(
                    "while parsing a block collection",
                    innermost(false),
                    "did not find expected '-' indicator",
                    here,
                )
            }
            "while parsing a flow sequence, expected ',' or ']'" => Self::with_context(
                "while parsing a flow sequence",
                innermost(false),
                "did not find expected ',' or ']'",
                here,
            ),
            "while parsing a flow mapping, did not find expected ',' or '}'" => Self::with_context(
                "while parsing a flow mapping",
                innermost(true),
                "did not find expected ',' or '}'",
                here,
            ),
            "while scanning a quoted scalar, found unexpected end of stream" => Self::with_context(
                "while scanning a quoted scalar",
                here,
                "found unexpected end of stream",
                text.end_mark(),
            ),
            "while parsing node, found unknown anchor" => Self::undefined_alias(line, column),
            "duplicate version directive" => {
                Self::plain("found duplicate %YAML directive", line, column)
            }
            "simple key expect ':'" => Self::with_context(
                "while scanning a simple key",
                here,
                "could not find expected ':'",
                here,
            ),
            "invalid trailing content after double-quoted scalar"
            | "invalid trailing content after single-quoted scalar"
            | "misplaced bracket" => match open.last() {
                Some(&(true, l, c)) => Self::with_context(
                    "while parsing a block mapping",
                    (l, c),
                    "did not find expected key",
                    here,
                ),
                Some(&(false, l, c)) => Self::with_context(
                    "while parsing a block collection",
                    (l, c),
                    "did not find expected '-' indicator",
                    here,
                ),
                None => Self::plain("did not find expected <document start>", line, column),
            },
            _ if info.starts_with("unexpected character:") => Self::with_context(
                "while scanning for the next token",
                here,
                "found character that cannot start any token",
                here,
            ),
            _ if info.starts_with("tabs disallowed") => {
                let tab = text.last_tab_before(line, column).unwrap_or(here);
                Self::with_context(
                    "while scanning for the next token",
                    tab,
                    "found character that cannot start any token",
                    tab,
                )
            }
            _ => match info
                .strip_prefix("while ")
                .and_then(|rest| rest.split_once(", "))
            {
                Some((context, problem)) => {
                    Self::with_context(&format!("while {context}"), here, problem.to_string(), here)
                }
                None => Self::plain(info, line, column),
            },
        }
    }
}
