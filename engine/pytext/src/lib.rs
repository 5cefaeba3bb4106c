//! Python's text forms of strings and floats (`repr`, `json.dumps`), and its
//! `str.splitlines()`.
//! Ansible prints values through Python (`repr()` in messages and listings,
//! `str()` when templating) and splits text into lines the Python way, so
//! every crate that shows a value to the user needs these exact spellings;
//! this is their one home.

mod float;
mod json;
mod lines;
mod space;
mod string;

pub use float::float_repr;
pub use json::{json_float, write_json_string};
pub use lines::{splitlines, splitlines_keepends};
pub use space::is_space;
pub use string::{list_repr, str_repr};
