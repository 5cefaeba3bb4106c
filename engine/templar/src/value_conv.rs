//! Conversion from the YAML document model to runtime values, and the two
//! special string kinds Ansible has: `!unsafe` (never templated) and
//! `!vault` (encrypted until the vault opens it).

use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::value::{Object, ObjectRepr, Value};
use rsible_yaml::{Node, Value as Y};

/// Converts a YAML node into a runtime value. Mapping keys keep their types
/// (`1: a` has the integer key 1, as in Python).
pub fn from_yaml(node: &Node) -> Value {
    match &node.value {
        Y::Null => Value::from(()),
        Y::Bool(b) => Value::from(*b),
        Y::Int(i) => Value::from(*i),
        Y::BigInt(digits) => match digits.parse::<i128>() {
            Ok(i) => Value::from(i),
            Err(_) => Value::from(digits.as_str()),
        },
        Y::Float(f) => Value::from(*f),
        Y::Str(s) => Value::from(s.as_str()),
        Y::Unsafe(s) => unsafe_string(s),
        Y::Vault(s) => vault_value(s),
        Y::Seq(items) => Value::from(items.iter().map(from_yaml).collect::<Vec<_>>()),
        Y::Map(m) => {
            let mut map = IndexMap::with_capacity(m.len());
            for (k, v) in m.iter() {
                map.insert(from_yaml(k), from_yaml(v));
            }
            Value::from(map)
        }
    }
}

/// A string marked unsafe: the templar returns it as it is.
///
/// minijinja's "safe string" flag (meant for HTML auto-escaping, which
/// Ansible never enables) is the carrier of the mark; it survives cloning and
/// is invisible to filters.
pub fn unsafe_string(s: &str) -> Value {
    Value::from_safe_string(s.to_string())
}

/// Is this value an unsafe string?
pub fn is_unsafe(value: &Value) -> bool {
    value.as_str().is_some() && value.is_safe()
}

/// A `!vault` value, opened with the run's installed secrets: its plaintext,
/// as an unsafe string (Ansible never templates a decrypted value). When it
/// cannot be opened (no secrets given, none fits) it stays a [`VaultString`]
/// carrying the reason, and fails only where it is used, as in Ansible,
/// where a playbook that never reads a vaulted value needs no password.
pub fn vault_value(ciphertext: &str) -> Value {
    match rsible_vault::decrypt_installed(ciphertext.as_bytes(), None) {
        Ok(plaintext) => unsafe_string(&String::from_utf8_lossy(&plaintext)),
        Err(e) => Value::from_object(VaultString {
            ciphertext: ciphertext.to_string(),
            error: e.to_string(),
        }),
    }
}

/// A `!vault` value that could not be decrypted. Rendering it is an error.
pub struct VaultString {
    pub ciphertext: String,
    /// Why it could not be opened, in Ansible's words.
    pub error: String,
}

/// Why a vaulted value could not be opened, if `value` is one.
pub fn vault_error(value: &Value) -> Option<&str> {
    value
        .downcast_object_ref::<VaultString>()
        .map(|v| v.error.as_str())
}

impl fmt::Debug for VaultString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<vaulted value>")
    }
}

impl Object for VaultString {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }
    fn render(self: &Arc<Self>, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Refuse loudly: an encrypted value must never be written out as text.
        Err(fmt::Error)
    }
}

/// The ciphertext of a vaulted value, if `value` is one.
pub fn vault_ciphertext(value: &Value) -> Option<&str> {
    value
        .downcast_object_ref::<VaultString>()
        .map(|v| v.ciphertext.as_str())
}

/// Converts JSON data (e.g. module results) to a runtime value.
pub fn from_json(data: &serde_json::Value) -> Value {
    json_value(data, false)
}

/// Converts what a module returned to a runtime value whose strings are all
/// unsafe: Ansible never templates a task's result again, so a registered
/// `stdout` holding `{{ x }}` stays that text wherever it is used.
pub fn from_json_unsafe(data: &serde_json::Value) -> Value {
    json_value(data, true)
}

fn json_value(data: &serde_json::Value, mark_unsafe: bool) -> Value {
    use serde_json::Value as J;
    match data {
        J::Null => Value::from(()),
        J::Bool(b) => Value::from(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(big) = crate::big_int::int_from_digits(&n.to_string()) {
                // serde_json keeps the digits (arbitrary_precision)
                big
            } else {
                Value::from(n.as_f64().unwrap_or(0.0))
            }
        }
        J::String(s) if mark_unsafe => unsafe_string(s),
        J::String(s) => Value::from(s.as_str()),
        J::Array(items) => Value::from(
            items
                .iter()
                .map(|v| json_value(v, mark_unsafe))
                .collect::<Vec<_>>(),
        ),
        J::Object(map) => {
            let m: IndexMap<Value, Value> = map
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), json_value(v, mark_unsafe)))
                .collect();
            Value::from(m)
        }
    }
}

/// Converts a runtime value to JSON (for callers that print or send values).
/// Undefined becomes null; vaulted values become their ciphertext.
pub fn to_json(value: &Value) -> serde_json::Value {
    use minijinja::value::ValueKind;
    if let Some(c) = vault_ciphertext(value) {
        return serde_json::Value::String(c.to_string());
    }
    if let Some(digits) = crate::big_int::big_int_digits(value) {
        // exact with serde_json's arbitrary_precision
        return serde_json::from_str(digits).unwrap_or(serde_json::Value::Null);
    }
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => serde_json::Value::Null,
        ValueKind::Bool => serde_json::Value::Bool(value.is_true()),
        ValueKind::Number => {
            if let Some(i) = value.as_i64() {
                serde_json::Value::from(i)
            } else if value.is_integer() {
                serde_json::from_str(&value.to_string()).unwrap_or(serde_json::Value::Null)
            } else {
                f64::try_from(value.clone())
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null)
            }
        }
        ValueKind::String => {
            serde_json::Value::String(value.as_str().unwrap_or_default().to_string())
        }
        ValueKind::Bytes => serde_json::Value::String(
            String::from_utf8_lossy(value.as_bytes().unwrap_or_default()).into(),
        ),
        ValueKind::Seq | ValueKind::Iterable => serde_json::Value::Array(
            value
                .try_iter()
                .map(|it| it.map(|v| to_json(&v)).collect())
                .unwrap_or_default(),
        ),
        ValueKind::Map => {
            let mut map = serde_json::Map::new();
            if let Ok(keys) = value.try_iter() {
                for k in keys {
                    let v = value.get_item(&k).unwrap_or_default();
                    map.insert(crate::python_repr::str_of(&k), to_json(&v));
                }
            }
            serde_json::Value::Object(map)
        }
        _ => serde_json::Value::String(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsible_yaml::Mapping;

    #[test]
    fn yaml_scalars_and_keys() {
        let mut m = Mapping::new();
        m.insert(
            Node::unplaced(Y::Int(1)),
            Node::unplaced(Y::Str("a".into())),
        );
        m.insert(
            Node::unplaced(Y::Str("u".into())),
            Node::unplaced(Y::Unsafe("{{ x }}".into())),
        );
        m.insert(
            Node::unplaced(Y::Str("big".into())),
            Node::unplaced(Y::BigInt("170141183460469231731687303715884105728".into())),
        );
        let v = from_yaml(&Node::unplaced(Y::Map(m)));
        assert_eq!(v.get_item(&Value::from(1)).unwrap().as_str(), Some("a"));
        assert!(is_unsafe(&v.get_item(&Value::from("u")).unwrap()));
        // beyond i128: kept as digits
        assert_eq!(
            v.get_item(&Value::from("big")).unwrap().as_str(),
            Some("170141183460469231731687303715884105728")
        );
    }

    #[test]
    fn vault_opens_with_installed_secrets() {
        let secret = rsible_vault::Secret::new(b"pw".to_vec());
        let text = rsible_vault::encrypt(b"{{ not templated }}", &secret, None).unwrap();
        let mut secrets = rsible_vault::Secrets::new();
        secrets.push("default", secret);
        rsible_vault::install(secrets);
        let v = from_yaml(&Node::unplaced(Y::Vault(text)));
        rsible_vault::install(rsible_vault::Secrets::new());
        assert_eq!(v.as_str(), Some("{{ not templated }}"));
        assert!(is_unsafe(&v));
    }

    #[test]
    fn vault_refuses_to_render() {
        let v = from_yaml(&Node::unplaced(Y::Vault(
            "$ANSIBLE_VAULT;1.1;AES256\n00".into(),
        )));
        assert!(vault_ciphertext(&v).is_some());
        let env = minijinja::Environment::new();
        assert!(env
            .render_str("{{ v }}", minijinja::context! { v })
            .is_err());
    }
}
