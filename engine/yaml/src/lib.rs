//! YAML as Ansible reads it: PyYAML's YAML 1.1 resolution on top of an event
//! parser, with a source position on every node.
//!
//! The pipeline, in reading order:
//! 1. [`json`]: JSON first, as Ansible's `from_yaml` tries `json.loads` first;
//! 2. [`compose`]: saphyr-parser events to a raw node graph (anchors shared);
//! 3. [`construct`]: tags and YAML 1.1 plain-scalar resolution ([`scalar`]),
//!    merge keys, duplicate keys, `!unsafe` / `!vault`, into [`Node`]s;
//! 4. [`error`]: failures worded as libyaml and Ansible word them, with the
//!    offending-line block of [`error_context`].
//!
//! Known differences from ansible-core 2.18 (also in COMPATIBILITY notes):
//! - timestamps (`2001-12-14`) stay strings; PyYAML makes `date`/`datetime`;
//! - `!!omap`/`!!pairs` give a list of one-entry maps, `!!set` a map with null
//!   values (PyYAML: list of tuples, set); `!!binary` keeps the base64 text;
//! - saphyr-parser accepts a few inputs libyaml rejects (content after `...`
//!   without `---`), and some syntax errors are worded or placed differently;
//! - nesting deeper than 512 levels, or alias expansion beyond ~1M nodes, is refused;
//! - JSON lone surrogate escapes become U+FFFD.

// `Error` carries the whole report (lines, marks, JSON error) by value, as
// the public API promises; load errors are rare, so its size costs nothing.
#![allow(clippy::result_large_err)]

mod compose;
mod construct;
mod error;
mod error_context;
mod json;
mod key;
mod load;
mod node;
mod scalar;
mod source;
mod syntax_error;

pub use error::{Error, ErrorKind};
pub use error_context::{append_position, error_context};
pub use load::{
    load_file, load_file_with_warnings, load_one, load_one_file, load_one_with_warnings, load_str,
    load_str_with_warnings, Loaded,
};
pub use node::{Mapping, Mark, Node, Value};

/// Whether PyYAML's resolver reads `text`, written plain, back as a string
/// (not a bool, number, null, date, `<<` or `=`). A YAML emitter must quote
/// the strings for which this is false.
pub fn plain_text_is_str(text: &str) -> bool {
    scalar::resolve_plain(text) == scalar::Implicit::Str
}
