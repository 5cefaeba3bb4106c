//! Plain-scalar resolution and scalar construction, the YAML 1.1 way.
//!
//! PyYAML's resolver decides the type of an untagged plain scalar from its
//! text alone (`yes` is a bool, `0644` an octal int, `1e3` a string because
//! YAML 1.1 floats need a dot). Quoted and block scalars are always strings.
//! The matchers here are hand-written equivalents of PyYAML's resolver
//! patterns, tried in the same order (bool, float, int, merge, null,
//! timestamp, value).

mod bigint;
mod number;
mod patterns;

pub(crate) use number::{construct_float, construct_int};
pub(crate) use patterns::{construct_bool, resolve_plain, Implicit};
