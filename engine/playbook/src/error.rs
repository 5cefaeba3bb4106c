//! Errors raised while loading a playbook, in Ansible's wording.
//!
//! Ansible prints a parse error as `ERROR! <message>` followed by a block that
//! shows the offending line; the exit code is 4. We keep the message and the
//! position apart so that callers can render either form.

use std::fmt;

use rsible_yaml::Mark;

/// Exit code Ansible uses for errors found while parsing a playbook.
pub const EXIT_PARSE_ERROR: i32 = 4;
/// Exit code Ansible uses for other errors (a missing playbook file, ...).
pub const EXIT_GENERIC_ERROR: i32 = 1;

#[derive(Clone, Debug, PartialEq)]
pub struct PlaybookError {
    /// The message without the `ERROR! ` prefix.
    pub message: String,
    /// Where the offending data starts, when it came from a file.
    pub mark: Option<Mark>,
    pub exit_code: i32,
}

impl PlaybookError {
    /// A parse error pointing at `mark`.
    pub fn at(message: impl Into<String>, mark: &Mark) -> Self {
        PlaybookError {
            message: message.into(),
            mark: if mark.source.is_some() {
                Some(mark.clone())
            } else {
                None
            },
            exit_code: EXIT_PARSE_ERROR,
        }
    }

    /// A parse error with no position.
    pub fn parse(message: impl Into<String>) -> Self {
        PlaybookError {
            message: message.into(),
            mark: None,
            exit_code: EXIT_PARSE_ERROR,
        }
    }

    /// An error that is not about the playbook's content (exit code 1).
    pub fn generic(message: impl Into<String>) -> Self {
        PlaybookError {
            message: message.into(),
            mark: None,
            exit_code: EXIT_GENERIC_ERROR,
        }
    }

    /// The full text Ansible writes to stderr: `ERROR! msg` and, when the
    /// position is known, the "error appears to be in" block.
    pub fn render(&self) -> String {
        match &self.mark {
            Some(mark) => {
                let context = crate::error_context::render(mark);
                format!("ERROR! {}\n\n{}", self.message, context)
            }
            None => format!("ERROR! {}", self.message),
        }
    }
}

impl fmt::Display for PlaybookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PlaybookError {}

pub type Result<T> = std::result::Result<T, PlaybookError>;
