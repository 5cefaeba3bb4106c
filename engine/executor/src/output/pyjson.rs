//! JSON text as Python's `json.dumps` writes it, which is what Ansible's
//! callbacks print: `", "` and `": "` separators on one line, or indent 4 with
//! `","` line ends; keys sorted when asked; non-ASCII kept (the callbacks pass
//! `ensure_ascii=False`).

use rsible_pytext::{json_float, write_json_string};
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
        Value::String(s) => write_json_string(s, false, out),
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
                write_json_string(key, false, out);
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

/// Plain digits for integers, `json.dumps`'s spelling for floats.
fn python_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let text = n.to_string();
    if !text.contains(['.', 'e', 'E']) {
        // an integer beyond 64 bits, its digits kept (arbitrary_precision)
        return text;
    }
    json_float(n.as_f64().unwrap_or(f64::NAN))
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
    fn control_characters_escaped() {
        let v = json!("a\u{1}b\tc");
        let style = PyJsonStyle {
            indent: None,
            sort_keys: false,
        };
        assert_eq!(dumps(&v, style), r#""a\u0001b\tc""#);
    }
}
