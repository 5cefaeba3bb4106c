//! `to_json` / `to_nice_json` / `from_json` with Python's `json.dumps` output:
//! `", "` and `": "` separators, `ensure_ascii`, floats as Python prints them.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind};

use crate::python_repr::str_of;
use rsible_pytext::{json_float, write_json_string};

pub struct JsonStyle {
    pub indent: Option<usize>,
    pub sort_keys: bool,
    pub ensure_ascii: bool,
}

pub fn dumps(value: &Value, style: &JsonStyle) -> Result<String, Error> {
    let mut out = String::new();
    write_value(&mut out, value, style, 0)?;
    Ok(out)
}

fn newline(out: &mut String, style: &JsonStyle, level: usize) {
    if let Some(n) = style.indent {
        out.push('\n');
        out.push_str(&" ".repeat(n * level));
    }
}

fn write_value(
    out: &mut String,
    value: &Value,
    style: &JsonStyle,
    level: usize,
) -> Result<(), Error> {
    let item_sep = if style.indent.is_some() { "," } else { ", " };
    match value.kind() {
        ValueKind::Undefined => {
            return Err(Error::new(
                ErrorKind::UndefinedError,
                "an undefined value cannot be serialised to JSON",
            ))
        }
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => {
            if value.is_integer() {
                out.push_str(&value.to_string())
            } else {
                let f = f64::try_from(value.clone()).unwrap_or(f64::NAN);
                out.push_str(&json_float(f));
            }
        }
        ValueKind::String => {
            write_json_string(value.as_str().unwrap_or_default(), style.ensure_ascii, out)
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = value.try_iter()?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, style, level + 1);
                write_value(out, item, style, level + 1)?;
            }
            newline(out, style, level);
            out.push(']');
        }
        ValueKind::Map => {
            let mut pairs: Vec<(String, Value)> = value
                .try_iter()?
                .map(|k| {
                    let v = value.get_item(&k).unwrap_or_default();
                    (json_key(&k), v)
                })
                .collect();
            if pairs.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            if style.sort_keys {
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
            }
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, style, level + 1);
                write_json_string(k, style.ensure_ascii, out);
                out.push_str(": ");
                write_value(out, v, style, level + 1)?;
            }
            newline(out, style, level);
            out.push('}');
        }
        _ => {
            if let Some(c) = crate::value_conv::vault_ciphertext(value) {
                write_json_string(c, style.ensure_ascii, out)
            } else {
                write_json_string(&str_of(value), style.ensure_ascii, out)
            }
        }
    }
    Ok(())
}

/// JSON object keys: Python converts True/None/numbers to their JSON text.
fn json_key(k: &Value) -> String {
    match k.kind() {
        ValueKind::Bool => if k.is_true() { "true" } else { "false" }.into(),
        ValueKind::None => "null".into(),
        _ => str_of(k),
    }
}

pub fn to_json(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    let ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
    let _: Option<Value> = kwargs.get("vault_to_text")?;
    let style = JsonStyle {
        indent,
        sort_keys: sort_keys.unwrap_or(false),
        ensure_ascii: ensure_ascii.unwrap_or(true),
    };
    Ok(Value::from(dumps(&value, &style)?))
}

pub fn to_nice_json(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    let ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
    let _: Option<Value> = kwargs.get("vault_to_text")?;
    let style = JsonStyle {
        indent: Some(indent.unwrap_or(4)),
        sort_keys: sort_keys.unwrap_or(true),
        ensure_ascii: ensure_ascii.unwrap_or(true),
    };
    Ok(Value::from(dumps(&value, &style)?))
}

pub fn from_json(value: Value) -> Result<Value, Error> {
    let text = str_of(&value);
    let parsed: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("Expecting value: {}", e),
        )
    })?;
    Ok(crate::value_conv::from_json(&parsed))
}
