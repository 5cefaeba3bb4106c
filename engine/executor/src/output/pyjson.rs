//! JSON text as Python's `json.dumps` writes it, which is what Ansible's
//! callbacks print: `", "` and `": "` separators on one line, or indent 4 with
//! `","` line ends; keys sorted when asked; non-ASCII kept (the callbacks pass
//! `ensure_ascii=False`).

use serde_json::Value;

#[derive(Clone, Copy, Debug)]
pub struct PyJsonStyle {
    pub indent: Option<usize>,
    pub sort_keys: bool,
}

pub fn dumps(value: &Value, style: PyJsonStyle) -> String {
    let mut out = String::new();
    write(value, style, 0, &mut out);
    out
}

fn write(value: &Value, style: PyJsonStyle, level: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&python_number(n)),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                separator(i, style, level + 1, out);
                write(item, style, level + 1, out);
            }
            closing(style, level, out);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if style.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                separator(i, style, level + 1, out);
                write_string(key, out);
                out.push_str(": ");
                write(item, style, level + 1, out);
            }
            closing(style, level, out);
            out.push('}');
        }
    }
}

fn separator(index: usize, style: PyJsonStyle, level: usize, out: &mut String) {
    match style.indent {
        Some(width) => {
            if index > 0 {
                out.push(',');
            }
            out.push('\n');
            out.push_str(&" ".repeat(width * level));
        }
        None => {
            if index > 0 {
                out.push_str(", ");
            }
        }
    }
}

fn closing(style: PyJsonStyle, level: usize, out: &mut String) {
    if let Some(width) = style.indent {
        out.push('\n');
        out.push_str(&" ".repeat(width * level));
    }
}

/// Python's `float.__repr__` for floats, plain digits for integers.
fn python_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    python_float_repr(f)
}

/// A float as `json.dumps` writes it: `repr(float)`, except that the
/// non-finite values are spelled `NaN`, `Infinity` and `-Infinity`.
pub fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        rsible_pytext::float_repr(f)
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected strings produced by CPython 3.11 json.dumps with the same arguments.
    #[test]
    fn one_line_uses_python_separators() {
        let v = json!({"b": [1, 2.5, "x"], "a": {"c": null, "d": true}});
        let style = PyJsonStyle {
            indent: None,
            sort_keys: true,
        };
        assert_eq!(
            dumps(&v, style),
            r#"{"a": {"c": null, "d": true}, "b": [1, 2.5, "x"]}"#
        );
    }

    #[test]
    fn indent_four_sorted() {
        let v = json!({"msg": "héllo", "changed": false, "list": [], "map": {}});
        let style = PyJsonStyle {
            indent: Some(4),
            sort_keys: true,
        };
        assert_eq!(
            dumps(&v, style),
            "{\n    \"changed\": false,\n    \"list\": [],\n    \"map\": {},\n    \"msg\": \"héllo\"\n}"
        );
    }

    #[test]
    fn float_repr_matches_python() {
        assert_eq!(python_float_repr(1.0), "1.0");
        assert_eq!(python_float_repr(0.1), "0.1");
        assert_eq!(python_float_repr(1e20), "1e+20");
        assert_eq!(python_float_repr(1.5e-7), "1.5e-07");
        assert_eq!(python_float_repr(123456.789), "123456.789");
        assert_eq!(python_float_repr(1e16), "1e+16");
        assert_eq!(python_float_repr(0.0001), "0.0001");
    }

    #[test]
    fn control_characters_escaped() {
        let v = json!("a\u{1}b\tc");
        let style = PyJsonStyle {
            indent: None,
            sort_keys: false,
        };
        assert_eq!(dumps(&v, style), r#""a\u0001b\tc""#);
    }
}
