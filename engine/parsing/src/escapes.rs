//! Backslash escapes that `parse_kv` decodes in each word before looking
//! for `=`: `\\`, `\'`, `\"`, `\a \b \f \n \r \t \v`, `\xHH`, `\uHHHH` and
//! `\UHHHHHHHH`. Any other backslash is left exactly as written (so `\=` and
//! Windows-ish paths survive).

/// Decode the escapes listed in the module docs; everything else is copied.
///
/// Deviation: `\N{NAME}` (a character by its Unicode name) is left undecoded,
/// and hex escapes naming no valid character (surrogates, > U+10FFFF) are kept
/// as written where Python would produce a surrogate or fail.
pub(crate) fn decode_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match decode_one(after) {
            Some((decoded, used)) => {
                out.push(decoded);
                rest = &after[used..];
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decode the escape whose body (the text after the backslash) starts `body`.
/// Returns the character and how many bytes of `body` it used.
fn decode_one(body: &str) -> Option<(char, usize)> {
    let first = body.chars().next()?;
    let simple = match first {
        '\\' => Some('\\'),
        '\'' => Some('\''),
        '"' => Some('"'),
        'a' => Some('\u{07}'),
        'b' => Some('\u{08}'),
        'f' => Some('\u{0c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{0b}'),
        _ => None,
    };
    if let Some(c) = simple {
        return Some((c, 1));
    }
    let digits = match first {
        'x' => 2,
        'u' => 4,
        'U' => 8,
        _ => return None,
    };
    let hex = body.get(1..1 + digits)?;
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let code = u32::from_str_radix(hex, 16).ok()?;
    Some((char::from_u32(code)?, 1 + digits))
}

#[cfg(test)]
mod tests {
    use super::decode_escapes;

    #[test]
    fn decodes_known_escapes() {
        assert_eq!(decode_escapes(r"a\nb"), "a\nb");
        assert_eq!(
            decode_escapes(r#"\t\\\'\"\a\b\f\r\v"#),
            "\t\\'\"\u{7}\u{8}\u{c}\r\u{b}"
        );
        assert_eq!(decode_escapes(r"\x41\u00e9\U0001F600"), "Aé😀");
    }

    #[test]
    fn leaves_other_backslashes() {
        assert_eq!(decode_escapes(r"a\=b"), r"a\=b");
        assert_eq!(decode_escapes(r"C:\path"), r"C:\path");
        assert_eq!(decode_escapes(r"\x4"), r"\x4");
        assert_eq!(decode_escapes(r"\xZZ"), r"\xZZ");
        assert_eq!(decode_escapes("end\\"), "end\\");
        // `\\n` is an escaped backslash followed by a plain n.
        assert_eq!(decode_escapes(r"\\n"), r"\n");
    }
}
