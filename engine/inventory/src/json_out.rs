//! JSON text exactly as Python's `json.dumps(..., sort_keys=True, indent=4)` writes it,
//! with Ansible's encoder for its own types (`!vault` values become
//! `{"__ansible_vault": ...}`, `!unsafe` strings print as plain strings).

use rsible_pytext::write_json_string;
use rsible_yaml::{Node, Value};

#[derive(Clone, Copy, Debug)]
pub struct JsonStyle {
    /// Spaces per level; `None` writes everything on one line with `", "` and `": "`.
    pub indent: Option<usize>,
    pub sort_keys: bool,
    /// Escape every non-ASCII character as `\uXXXX` (Python's default; ansible-inventory turns it off).
    pub ensure_ascii: bool,
}

impl JsonStyle {
    /// What ansible-inventory uses: sort_keys, indent 4, ensure_ascii=False.
    pub fn ansible_inventory() -> Self {
        JsonStyle {
            indent: Some(4),
            sort_keys: true,
            ensure_ascii: false,
        }
    }
}

/// Serialise one node.
pub fn to_json(node: &Node, style: JsonStyle) -> String {
    let mut out = String::new();
    write_value(&node.value, style, 0, &mut out);
    out
}

/// Serialise a mapping given as (key, value) string-keyed pairs, e.g. a host's vars.
pub fn object_to_json<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a Node)>,
    style: JsonStyle,
    level: usize,
) -> String {
    let mut out = String::new();
    let keyed: Vec<(Key, &Value)> = entries
        .into_iter()
        .map(|(k, v)| (Key::Str(k.to_string()), &v.value))
        .collect();
    write_object(keyed, style, level, &mut out);
    out
}

/// A mapping key as Python sorts and prints it.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
enum Key {
    Null,
    Num(f64, String),
    Str(String),
}

impl Key {
    fn of(v: &Value) -> Key {
        match v {
            Value::Null => Key::Null,
            Value::Bool(b) => Key::Num(*b as i64 as f64, if *b { "true" } else { "false" }.into()),
            Value::Int(i) => Key::Num(*i as f64, i.to_string()),
            Value::BigInt(s) => Key::Num(s.parse().unwrap_or(0.0), s.clone()),
            Value::Float(f) => Key::Num(*f, rsible_pytext::json_float(*f)),
            Value::Str(s) | Value::Unsafe(s) | Value::Vault(s) => Key::Str(s.clone()),
            // Python would fail on unhashable keys; print their repr as text.
            other => Key::Str(crate::pyrepr::py_repr(&Node::unplaced(other.clone()))),
        }
    }
    fn text(&self) -> String {
        match self {
            Key::Null => "null".into(),
            Key::Num(_, t) => t.clone(),
            Key::Str(s) => s.clone(),
        }
    }
    fn kind(&self) -> u8 {
        match self {
            Key::Null => 0,
            Key::Num(..) => 1,
            Key::Str(_) => 2,
        }
    }
}

fn write_value(v: &Value, style: JsonStyle, level: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::BigInt(s) => out.push_str(s),
        Value::Float(f) => out.push_str(&rsible_pytext::json_float(*f)),
        Value::Str(s) | Value::Unsafe(s) => write_json_string(s, style.ensure_ascii, out),
        Value::Vault(cipher) => {
            let entries = [(Key::Str("__ansible_vault".into()), v_str(cipher))];
            let refs: Vec<(Key, &Value)> = entries.iter().map(|(k, v)| (k.clone(), v)).collect();
            write_object(refs, style, level, out);
        }
        Value::Seq(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    if style.indent.is_none() {
                        out.push(' ');
                    }
                }
                newline(style, level + 1, out);
                write_value(&item.value, style, level + 1, out);
            }
            newline(style, level, out);
            out.push(']');
        }
        Value::Map(m) => {
            let keyed: Vec<(Key, &Value)> = m
                .iter()
                .map(|(k, v)| (Key::of(&k.value), &v.value))
                .collect();
            write_object(keyed, style, level, out);
        }
    }
}

fn v_str(s: &str) -> Value {
    Value::Str(s.to_string())
}

fn write_object(mut entries: Vec<(Key, &Value)>, style: JsonStyle, level: usize, out: &mut String) {
    if entries.is_empty() {
        out.push_str("{}");
        return;
    }
    // Python sorts only when all keys compare (same kind); otherwise Ansible falls back to unsorted.
    let same_kind = entries.windows(2).all(|w| w[0].0.kind() == w[1].0.kind());
    if style.sort_keys && same_kind {
        entries.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    }
    out.push('{');
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
            if style.indent.is_none() {
                out.push(' ');
            }
        }
        newline(style, level + 1, out);
        write_json_string(&k.text(), style.ensure_ascii, out);
        out.push_str(": ");
        write_value(v, style, level + 1, out);
    }
    newline(style, level, out);
    out.push('}');
}

fn newline(style: JsonStyle, level: usize, out: &mut String) {
    if let Some(n) = style.indent {
        out.push('\n');
        for _ in 0..n * level {
            out.push(' ');
        }
    }
}

pub use rsible_pytext::float_repr as python_float_repr;

#[cfg(test)]
mod tests {
    use super::*;
    use rsible_yaml::Mapping;

    #[test]
    fn floats_like_python() {
        // Expected values: python3 -c "print(repr(x))".
        for (f, s) in [
            (1.5, "1.5"),
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (-0.0, "-0.0"),
            (123456.789, "123456.789"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(python_float_repr(f), s);
        }
    }

    #[test]
    fn nested_with_indent() {
        let mut m = Mapping::new();
        m.insert(
            Node::unplaced(Value::Str("b".into())),
            Node::unplaced(Value::Seq(vec![])),
        );
        m.insert(
            Node::unplaced(Value::Str("a".into())),
            Node::unplaced(Value::Seq(vec![
                Node::unplaced(Value::Int(1)),
                Node::unplaced(Value::Str("é".into())),
            ])),
        );
        let n = Node::unplaced(Value::Map(m));
        let style = JsonStyle {
            indent: Some(4),
            sort_keys: true,
            ensure_ascii: true,
        };
        assert_eq!(
            to_json(&n, style),
            "{\n    \"a\": [\n        1,\n        \"\\u00e9\"\n    ],\n    \"b\": []\n}"
        );
        let flat = JsonStyle {
            indent: None,
            sort_keys: false,
            ensure_ascii: false,
        };
        assert_eq!(to_json(&n, flat), "{\"b\": [], \"a\": [1, \"é\"]}");
    }
}
