//! Python's `str()` of a value, for the few messages and outputs that print one
//! (`--graph --vars`, error texts).

use rsible_yaml::{Node, Value};

use crate::json_out::python_float_repr;

/// `str(value)`: strings bare, everything else as its repr.
pub fn py_str(node: &Node) -> String {
    match &node.value {
        Value::Str(s) | Value::Unsafe(s) | Value::Vault(s) => s.clone(),
        _ => py_repr(node),
    }
}

/// `repr(value)` as Python prints dicts, lists and scalars.
pub fn py_repr(node: &Node) -> String {
    match &node.value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(i) => i.to_string(),
        Value::BigInt(s) => s.clone(),
        Value::Float(f) => python_float_repr(*f),
        Value::Str(s) | Value::Unsafe(s) | Value::Vault(s) => rsible_pytext::str_repr(s),
        Value::Seq(items) => {
            let inner: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Map(m) => {
            let inner: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr(k), py_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}
