//! The one error the splitter can raise.

use std::fmt;

/// Quotes or a Jinja2 block were left open at the end of the argument string.
///
/// The message is Ansible's own wording, followed by the whole argument text,
/// so the user can find the offending line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The complete argument string that could not be split.
    pub args: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "failed at splitting arguments, either an unbalanced jinja2 block or quotes: {}",
            self.args
        )
    }
}

impl std::error::Error for Error {}
