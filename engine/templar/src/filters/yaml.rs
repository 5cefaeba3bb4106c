//! `to_yaml` / `to_nice_yaml` (through [`super::yaml_emit`]) and
//! `from_yaml` / `from_yaml_all` (through rsible-yaml, YAML 1.1 as PyYAML).

use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind};

use super::yaml_emit::{dump, DumpOptions};
use crate::python_repr::str_of;

fn filter_error(filter: &str, msg: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidOperation, format!("{} - {}", filter, msg))
}

/// Reads the `yaml.dump` keyword arguments the filters accept; any other
/// keyword fails as Python's `dump()` would.
fn read_options(filter: &str, kwargs: &Kwargs, opts: &mut DumpOptions) -> Result<(), Error> {
    if let Some(i) = kwargs.get::<Option<i64>>("indent")? {
        opts.indent = i;
    }
    if let Some(w) = kwargs.get::<Option<i64>>("width")? {
        opts.width = w;
    }
    if let Some(s) = kwargs.get::<Option<bool>>("sort_keys")? {
        opts.sort_keys = s;
    }
    if let Some(s) = kwargs.get::<Option<bool>>("explicit_start")? {
        opts.explicit_start = s;
    }
    if let Some(s) = kwargs.get::<Option<bool>>("explicit_end")? {
        opts.explicit_end = s;
    }
    const KNOWN: &[&str] = &[
        "indent",
        "width",
        "sort_keys",
        "explicit_start",
        "explicit_end",
        "default_flow_style",
    ];
    for name in kwargs.args() {
        if !KNOWN.contains(&name) {
            return Err(filter_error(
                filter,
                format!(
                    "dump_all() got an unexpected keyword argument '{}' (or rsible does not support it)",
                    name
                ),
            ));
        }
    }
    Ok(())
}

pub fn to_yaml(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let mut opts = DumpOptions::default();
    // `default_flow_style` is the one option to_yaml itself takes.
    if let Some(v) = kwargs.get::<Option<Value>>("default_flow_style")? {
        opts.default_flow_style = if v.is_none() { None } else { Some(v.is_true()) };
    }
    read_options("to_yaml", &kwargs, &mut opts)?;
    dump(&value, &opts)
        .map(Value::from)
        .map_err(|e| filter_error("to_yaml", e))
}

pub fn to_nice_yaml(value: Value, indent: Option<i64>, kwargs: Kwargs) -> Result<Value, Error> {
    let mut opts = DumpOptions {
        indent: indent.unwrap_or(4),
        default_flow_style: Some(false),
        ..DumpOptions::default()
    };
    read_options("to_nice_yaml", &kwargs, &mut opts)?;
    dump(&value, &opts)
        .map(Value::from)
        .map_err(|e| filter_error("to_nice_yaml", e))
}

fn load_error(e: rsible_yaml::Error) -> Error {
    Error::new(ErrorKind::InvalidOperation, e.to_string())
}

/// Non-strings pass through unchanged, as in Ansible.
pub fn from_yaml(value: Value) -> Result<Value, Error> {
    if value.as_str().is_none() {
        return Ok(value);
    }
    let text = str_of(&value);
    let docs = rsible_yaml::load_str(&text, None).map_err(load_error)?;
    match docs.len() {
        0 => Ok(Value::from(())),
        1 => Ok(crate::value_conv::from_yaml(&docs[0])),
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            "expected a single document in the stream but found another document",
        )),
    }
}

/// Every document of the stream, as a list.
pub fn from_yaml_all(value: Value) -> Result<Value, Error> {
    if value.as_str().is_none() {
        return Ok(value);
    }
    let text = str_of(&value);
    let docs = rsible_yaml::load_str(&text, None).map_err(load_error)?;
    Ok(Value::from(
        docs.iter()
            .map(crate::value_conv::from_yaml)
            .collect::<Vec<_>>(),
    ))
}
