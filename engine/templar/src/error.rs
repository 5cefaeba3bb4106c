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
    /// The Python exception class Ansible raises for this error, where
    /// rsible knows it (e.g. `ansible.errors.AnsibleFilterError`): a
    /// variable whose templating fails names it in the error it wraps this
    /// one in (see `context::Frame::lookup`).
    pub python_class: Option<&'static str>,
}

impl TemplateError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        TemplateError {
            kind,
            message: message.into(),
            python_class: None,
        }
    }
    pub fn with_python_class(mut self, class: &'static str) -> Self {
        self.python_class = Some(class);
        self
    }
    /// A minijinja error (for a filter to return) that carries this one, so
    /// that the templar reports it with its Python class.
    pub fn into_jinja(self) -> minijinja::Error {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, self.message.clone())
            .with_source(self)
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

/// The class of the errors Ansible's filters raise.
pub const ANSIBLE_FILTER_ERROR: &str = "ansible.errors.AnsibleFilterError";
/// The class of the error Ansible wraps a variable's failed templating in.
pub const ANSIBLE_ERROR: &str = "ansible.errors.AnsibleError";
