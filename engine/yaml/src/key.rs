//! Mapping keys compared the way a Python dict compares them: `1`, `1.0` and
//! `true` are the same key; a string and its `!unsafe` twin are too.

use std::collections::HashMap;

use crate::Value;

#[derive(Debug, PartialEq, Eq, Hash)]
enum KeyId {
    Null,
    /// bool, int, and floats with an integral value that fits.
    Number(i64),
    FloatBits(u64),
    Big(String),
    Text(String),
    Vault(String),
}

fn key_id(value: &Value) -> Option<KeyId> {
    Some(match value {
        Value::Null => KeyId::Null,
        Value::Bool(b) => KeyId::Number(i64::from(*b)),
        Value::Int(n) => KeyId::Number(*n),
        Value::BigInt(s) => KeyId::Big(s.clone()),
        Value::Float(f) if f.is_nan() => return None,
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => KeyId::Number(*f as i64),
        Value::Float(f) => KeyId::FloatBits(f.to_bits()),
        Value::Str(s) | Value::Unsafe(s) => KeyId::Text(s.clone()),
        Value::Vault(s) => KeyId::Vault(s.clone()),
        Value::Seq(_) | Value::Map(_) => return None,
    })
}

/// Where each key of a mapping under construction sits.
#[derive(Default)]
pub(crate) struct KeyIndex {
    positions: HashMap<KeyId, usize>,
}

impl KeyIndex {
    pub(crate) fn position(&self, key: &Value) -> Option<usize> {
        key_id(key).and_then(|id| self.positions.get(&id).copied())
    }
    pub(crate) fn insert(&mut self, key: &Value, position: usize) {
        if let Some(id) = key_id(key) {
            self.positions.insert(id, position);
        }
    }
}

/// Python's `str()` of a scalar key, as Ansible's duplicate-key warning prints it.
pub(crate) fn python_str(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(n) => n.to_string(),
        Value::Float(f) => python_float_repr(*f),
        Value::BigInt(s) | Value::Str(s) | Value::Unsafe(s) | Value::Vault(s) => s.clone(),
        Value::Seq(_) => "[...]".into(),
        Value::Map(_) => "{...}".into(),
    }
}

pub(crate) use rsible_pytext::float_repr as python_float_repr;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_dict_equality() {
        let mut index = KeyIndex::default();
        index.insert(&Value::Int(1), 0);
        assert_eq!(index.position(&Value::Bool(true)), Some(0));
        assert_eq!(index.position(&Value::Float(1.0)), Some(0));
        assert_eq!(index.position(&Value::Str("1".into())), None);
        index.insert(&Value::Str("a".into()), 1);
        assert_eq!(index.position(&Value::Unsafe("a".into())), Some(1));
        index.insert(&Value::Float(f64::NAN), 2);
        assert_eq!(index.position(&Value::Float(f64::NAN)), None);
    }

    // Expected strings are Python 3.11's repr() of the same floats.
    #[test]
    fn float_repr_like_python() {
        assert_eq!(python_float_repr(1.0), "1.0");
        assert_eq!(python_float_repr(0.5), "0.5");
        assert_eq!(python_float_repr(685230.15), "685230.15");
        assert_eq!(python_float_repr(1e16), "1e+16");
        assert_eq!(python_float_repr(1234567890123456.0), "1234567890123456.0");
        assert_eq!(python_float_repr(0.0001), "0.0001");
        assert_eq!(python_float_repr(0.00001), "1e-05");
        assert_eq!(python_float_repr(-1.5e-7), "-1.5e-07");
        assert_eq!(python_float_repr(1.5e300), "1.5e+300");
        assert_eq!(python_float_repr(-0.0), "-0.0");
        assert_eq!(python_float_repr(f64::NEG_INFINITY), "-inf");
    }
}
