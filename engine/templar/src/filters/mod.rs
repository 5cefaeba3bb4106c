//! Ansible's filters, registered under their short and FQCN names.

pub mod strings;

use minijinja::Environment;

pub fn register(_env: &mut Environment<'static>) {}
