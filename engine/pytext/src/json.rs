//! The leaves of Python's `json.dumps` output, shared by the crates that
//! write JSON the way Ansible does (callback output, inventory listings, the
//! `to_json` filters): how a string and a float are spelled.

use crate::float_repr;

/// Appends `s` as `json.dumps` writes a string: the short escapes, `\u00XX`
/// for the other control characters, and with `ensure_ascii` every character
/// beyond `~` as `\uXXXX` (UTF-16 surrogate pairs above the BMP).
pub fn write_json_string(s: &str, ensure_ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && (c as u32) > 0x7e) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as `json.dumps` writes it: `repr(float)`, except that the
/// non-finite values are spelled `NaN`, `Infinity` and `-Infinity`.
pub fn json_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        float_repr(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str, ensure_ascii: bool) -> String {
        let mut out = String::new();
        write_json_string(s, ensure_ascii, &mut out);
        out
    }

    // Expected values: python3 -c 'import json; print(json.dumps(x, ensure_ascii=...))'.
    #[test]
    fn strings_escape_as_python_does() {
        assert_eq!(string("a\u{1}b\tc\"\\", false), r#""a\u0001b\tc\"\\""#);
        assert_eq!(string("\x08\x0c\r\n", false), r#""\b\f\r\n""#);
        assert_eq!(string("héllo\u{7f}", false), "\"héllo\u{7f}\"");
        assert_eq!(string("héllo\u{7f}", true), r#""h\u00e9llo\u007f""#);
        assert_eq!(string("\u{1f600}", true), r#""\ud83d\ude00""#);
    }

    #[test]
    fn floats_spell_non_finite_values_as_python_does() {
        assert_eq!(json_float(f64::NAN), "NaN");
        assert_eq!(json_float(f64::INFINITY), "Infinity");
        assert_eq!(json_float(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(json_float(1e16), "1e+16");
        assert_eq!(json_float(0.1), "0.1");
    }
}
