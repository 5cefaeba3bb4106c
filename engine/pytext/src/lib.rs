//! Python's text forms of strings and floats. Ansible prints values through
//! Python (`repr()` in messages and listings, `str()` when templating), so
//! every crate that shows a value to the user needs these exact spellings;
//! this is their one home.

mod float;
mod string;

pub use float::float_repr;
pub use string::{list_repr, str_repr};
