//! Python `re` patterns run natively. One place translates Python's pattern syntax
//! and compiles it: the `regex` crate when it takes the pattern (linear time), else
//! `fancy_regex` for look-around, back-references, atomic groups and conditionals.
//! What neither takes is refused with the construct named, so modules leave the call
//! to ansible-core's Python module and filters fail loudly.

mod bytes;
mod template;
mod text;
mod translate;

pub use bytes::PyBytesRegex;
pub use template::Template;
pub use text::{GroupSpans, PyRegex};
pub use translate::{sets_flag, translate, Engine, Subject};

#[cfg(test)]
mod tests;
