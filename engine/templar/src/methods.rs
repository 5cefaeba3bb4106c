//! Python methods on values (`s.split()`, `d.items()`, `l.append(x)`, ...).

use minijinja::value::Value;
use minijinja::{Error, ErrorKind, State};

pub fn call_method(
    _state: &mut State,
    _value: &Value,
    _name: &str,
    _args: &[Value],
) -> Result<Value, Error> {
    Err(Error::from(ErrorKind::UnknownMethod))
}
