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

/// Python's `repr(float)`: shortest round-trip digits, scientific notation
/// when the exponent is below -4 or at least 16 (`1e+20`, `1.5e-05`).
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{:e}", f);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (sci.clone(), 0),
    };
    if (-4..16).contains(&exp) {
        let fixed = format!("{}", f);
        if fixed.contains('.') {
            fixed
        } else {
            format!("{}.0", fixed)
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", mantissa, sign, exp.abs())
    }
}

/// Python's `repr(str)`: single quotes unless the text has a single quote
/// and no double quote; escapes for backslash, the quote and control characters.
pub fn string_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_unprintable(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{:02x}", n));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", n));
                } else {
                    out.push_str(&format!("\\U{:08x}", n));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// An approximation of Python's `str.isprintable` for characters beyond ASCII:
/// separators other than the space and format/private/unassigned characters
/// are escaped by `repr`.
fn is_unprintable(c: char) -> bool {
    matches!(c as u32,
        0xad | 0x2028 | 0x2029 | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064
        | 0xfeff | 0xe000..=0xf8ff | 0xa0 | 0x1680 | 0x2000..=0x200a | 0x202f | 0x205f | 0x3000
        | 0xd800..=0xdfff | 0xfff9..=0xfffb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_python() {
        // Expected strings from python3 repr().
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(1e20), "1e+20");
        assert_eq!(float_repr(1.5e-5), "1.5e-05");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(123456789012345.6), "123456789012345.6");
        assert_eq!(float_repr(0.1), "0.1");
    }

    #[test]
    fn strings_like_python() {
        assert_eq!(string_repr("a"), "'a'");
        assert_eq!(string_repr("it's"), "\"it's\"");
        assert_eq!(string_repr("a'\""), "'a\\'\"'");
        assert_eq!(string_repr("a\\b\n"), "'a\\\\b\\n'");
        assert_eq!(string_repr("é"), "'é'");
    }

    #[test]
    fn containers_like_python() {
        let v = crate::value_conv::from_json(&serde_json::json!({"a": [1, "x", null, true, 1.5]}));
        assert_eq!(repr(&v), "{'a': [1, 'x', None, True, 1.5]}");
    }
}
