//! Values printed the way Python prints them. Ansible's templar joins output
//! with Python's `str()`, so `{{ [1, 'a'] }}` inside text reads `[1, 'a']`,
//! booleans read `True`/`False` and `None` reads `None`.

use minijinja::value::{Value, ValueKind};

/// Python's `str(value)`.
pub fn str_of(value: &Value) -> String {
    let mut out = String::new();
    write_str(&mut out, value);
    out
}

/// Python's `repr(value)`.
pub fn repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

pub fn write_str(out: &mut String, value: &Value) {
    match value.kind() {
        ValueKind::String => out.push_str(value.as_str().unwrap_or_default()),
        _ => write_repr(out, value),
    }
}

pub fn write_repr(out: &mut String, value: &Value) {
    match value.kind() {
        ValueKind::Undefined => {}
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if value.is_true() { "True" } else { "False" }),
        ValueKind::Number => out.push_str(&number_repr(value)),
        ValueKind::String => out.push_str(&string_repr(value.as_str().unwrap_or_default())),
        ValueKind::Bytes => {
            out.push('b');
            out.push_str(&string_repr(&String::from_utf8_lossy(
                value.as_bytes().unwrap_or_default(),
            )));
        }
        ValueKind::Seq if value.is_tuple() => {
            out.push('(');
            let items: Vec<Value> = value.try_iter().map(|i| i.collect()).unwrap_or_default();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(iter) = value.try_iter() {
                for (i, item) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &item);
                }
            }
            out.push(']');
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(iter) = value.try_iter() {
                for (i, key) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &key);
                    out.push_str(": ");
                    let item = value.get_item(&key).unwrap_or_default();
                    write_repr(out, &item);
                }
            }
            out.push('}');
        }
        _ => out.push_str(&value.to_string()),
    }
}

/// Numbers as Python prints them: ints as digits, floats in `repr` style.
pub fn number_repr(value: &Value) -> String {
    if value.is_integer() {
        return value.to_string();
    }
    match f64::try_from(value.clone()) {
        Ok(f) => float_repr(f),
        Err(_) => value.to_string(),
    }
}

pub use rsible_pytext::float_repr;

pub use rsible_pytext::str_repr as string_repr;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_like_python() {
        let v = crate::value_conv::from_json(&serde_json::json!({"a": [1, "x", null, true, 1.5]}));
        assert_eq!(repr(&v), "{'a': [1, 'x', None, True, 1.5]}");
    }
}
