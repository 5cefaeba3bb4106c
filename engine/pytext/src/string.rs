//! `repr(str)`.

/// Python's `repr(s)`: single quotes unless the text has a single quote and
/// no double quote; backslash escapes for the backslash, the chosen quote and
/// the characters `str.isprintable` rejects.
pub fn str_repr(s: &str) -> String {
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
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr(list_of_str)`: `['a', 'b']`.
pub fn list_repr<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| str_repr(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

/// An approximation of Python's `str.isprintable` beyond ASCII and Latin-1
/// controls: separators other than the space, format characters, surrogates
/// and the private use area are escaped by `repr`. Unassigned code points are
/// not recognised (they print as themselves).
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
    fn strings_like_python() {
        // Expected strings from python3's repr().
        for (text, python) in [
            ("a", "'a'"),
            ("it's", "\"it's\""),
            ("a'\"", "'a\\'\"'"),
            ("a\\b\n", "'a\\\\b\\n'"),
            ("é", "'é'"),
            ("\x7f\u{85}\u{a0}", "'\\x7f\\x85\\xa0'"),
            ("\u{200b}\u{2028}", "'\\u200b\\u2028'"),
            ("\u{1F600}", "'\u{1F600}'"),
            ("\0\t\r", "'\\x00\\t\\r'"),
            ("x\u{ad}", "'x\\xad'"),
        ] {
            assert_eq!(str_repr(text), python, "{text:?}");
        }
        assert_eq!(list_repr(&["a", "\nb"]), "['a', '\\nb']");
        assert_eq!(list_repr::<&str>(&[]), "[]");
    }
}
