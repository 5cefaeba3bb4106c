//! The loader's error, displayed the way Ansible reports a file it cannot read.

use std::fmt;

use crate::error_context::extended_error_from_lines;
use crate::Mark;

/// What went wrong, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is neither JSON nor YAML (a PyYAML `YAMLError`: scanner,
    /// parser or constructor error). Ansible exits with code 4 on these.
    Syntax,
    /// The file could not be read.
    Io,
}

/// A load error with everything Ansible's message shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    /// libyaml's "problem" (`mapping values are not allowed in this context`),
    /// or the I/O failure text.
    pub message: String,
    /// Where the problem is (1-based line and column).
    pub mark: Option<Mark>,
    /// The source line at `mark` (or the nearest non-blank line above it, as Ansible picks it).
    pub offending_line: Option<String>,
    /// The line before `offending_line`, shown above it.
    pub previous_line: Option<String>,
    /// libyaml's "context" (`while parsing a block mapping`) and its mark.
    pub context: Option<String>,
    pub context_mark: Option<Mark>,
    /// Python's `json.loads` error for the same text (Ansible tries JSON first).
    pub json_error: Option<String>,
}

impl Error {
    pub(crate) fn io(message: String) -> Self {
        Error {
            kind: ErrorKind::Io,
            message,
            mark: None,
            offending_line: None,
            previous_line: None,
            context: None,
            context_mark: None,
            json_error: None,
        }
    }

    /// PyYAML's `str(MarkedYAMLError)`: context, its mark (when it differs from
    /// the problem's), problem, problem mark — marks named `<unicode string>`
    /// because Ansible hands libyaml a string, not a file.
    pub fn yaml_exception_text(&self) -> String {
        let mut lines: Vec<String> = Vec::new();
        if let Some(context) = &self.context {
            lines.push(context.clone());
        }
        if let Some(cm) = &self.context_mark {
            let same = self
                .mark
                .as_ref()
                .is_some_and(|m| m.line == cm.line && m.column == cm.column);
            if !same {
                lines.push(mark_text(cm));
            }
        }
        lines.push(self.message.clone());
        if let Some(m) = &self.mark {
            lines.push(mark_text(m));
        }
        lines.join("\n")
    }
}

fn mark_text(mark: &Mark) -> String {
    format!(
        "  in \"<unicode string>\", line {}, column {}",
        mark.line, mark.column
    )
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == ErrorKind::Io {
            return f.write_str(&self.message);
        }
        write!(
            f,
            "We were unable to read either as JSON nor YAML, these are the errors we got from each:\n\
             JSON: {}\n\nSyntax Error while loading YAML.\n  {}. {}",
            self.json_error.as_deref().unwrap_or("Expecting value: line 1 column 1 (char 0)"),
            self.message,
            self.yaml_exception_text()
        )?;
        if let Some(mark) = &self.mark {
            let source = mark.source.as_deref().unwrap_or("<string>");
            let lines = self
                .offending_line
                .as_deref()
                .map(|target| (self.previous_line.as_deref().unwrap_or(""), target));
            write!(
                f,
                "\n\n{}",
                extended_error_from_lines(source, mark.line, mark.column, lines)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
