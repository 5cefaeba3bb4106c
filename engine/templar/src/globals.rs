//! Ansible's global template functions other than the lookups: `undef()`.

use minijinja::value::Value;
use minijinja::Environment;

use crate::context::with_current_frame;

/// `undef(hint)`: an undefined value whose error message is the hint, for
/// role defaults that must be overridden.
fn undef(hint: Option<Value>) -> Value {
    let hint = hint
        .filter(|h| !h.is_undefined() && !h.is_none() && h.as_str() != Some(""))
        .map(|h| crate::python_repr::str_of(&h))
        .unwrap_or_else(|| "Mandatory variable has not been overridden".into());
    with_current_frame(|_, frame| frame.record_missing(hint));
    Value::UNDEFINED
}

pub fn register(env: &mut Environment<'static>) {
    env.add_function("undef", undef);
}
