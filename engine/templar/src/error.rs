//! Templating errors, worded as Ansible words them.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A variable or attribute is undefined (`AnsibleUndefinedVariable`).
    Undefined,
    /// The template text does not parse.
    Syntax,
    /// A variable refers to itself.
    Recursion,
    /// A filter, test or lookup failed, or any other error (`AnsibleError`).
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub kind: ErrorKind,
    pub message: String,
}

impl TemplateError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        TemplateError {
            kind,
            message: message.into(),
        }
    }
    pub fn undefined(message: impl Into<String>) -> Self {
        TemplateError::new(ErrorKind::Undefined, message)
    }
    pub fn other(message: impl Into<String>) -> Self {
        TemplateError::new(ErrorKind::Other, message)
    }
    pub fn is_undefined(&self) -> bool {
        self.kind == ErrorKind::Undefined
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}
