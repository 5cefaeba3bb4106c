//! Ansible's argument splitter and k=v parser (`ansible.parsing.splitter`),
//! written anew from its observable behaviour.
//!
//! * [`split_args`] cuts a free-form module line into words the way Ansible
//!   does: on spaces and newlines, but keeping quoted strings and Jinja2
//!   `{{ }}` / `{% %}` / `{# #}` blocks whole, and keeping the newlines.
//! * [`parse_kv`] turns those words into `key=value` options plus the
//!   `_raw_params` remainder that `command`/`shell` run.
//! * [`unquote`] / [`is_quoted`] strip one level of matching quotes.

mod error;
mod escapes;
mod kv;
mod quoting;
mod split;

pub use error::Error;
pub use kv::{parse_kv, RAW_PARAMS};
pub use quoting::{is_quoted, unquote};
pub use split::{join_args, split_args};
