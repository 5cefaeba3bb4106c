//! Ansible's templar on minijinja: filters, tests, native types.
//!
//! Reading order: `templar` (the entry point and Ansible's templating rules),
//! `context` (lazy, recursive variable lookup), `detect` (text-level facts
//! about template strings), `literal_eval` and `python_repr` (Python's view of
//! values), `mutable` (containers Python methods can change), `methods`,
//! `filters`, `tests_plugins`.

mod attr_reason;
mod big_int;
mod catalog;
mod context;
mod detect;
mod eager_resolve;
mod error;
pub mod filters;
mod globals;
mod literal_eval;
mod lookups;
mod methods;
mod mutable;
mod plugin_names;
mod prepared;
pub mod python_repr;
mod python_types;
mod strict_template;
mod strict_undefined;
mod templar;
mod tests_plugins;
mod value_conv;
mod vars;

pub use big_int::{big_int_digits, int_from_digits};
pub use context::record_undefined_reason;
pub use error::{ErrorKind, TemplateError};
pub use literal_eval::literal_eval;
pub use minijinja::Value;
pub use mutable::{new_list, new_map, MutList, MutMap};
pub use python_types::type_name;
pub use templar::{Delimiters, JinjaOptions, StringMode, Templar};
pub use value_conv::{
    from_json, from_json_unsafe, from_yaml, is_unsafe, to_json, unsafe_string, vault_ciphertext,
    vault_error, vault_value, VaultString,
};
pub use vars::{MapVars, OverlayVars, VarSource};

/// Ansible's `is_template`: does the string contain a complete Jinja construct?
pub fn is_template(s: &str) -> bool {
    detect::is_template(s)
}
