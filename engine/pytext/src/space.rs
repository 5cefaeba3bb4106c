//! Python's idea of whitespace (`str.isspace`, and what `split()`/`strip()`
//! without arguments remove).

/// True where Python's `c.isspace()` is: Unicode White_Space (Rust's
/// `is_whitespace`) plus the information separators \x1c-\x1f, which Python
/// counts as whitespace (their bidirectional class is B or S) and Rust does not.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values are CPython 3.11's `c.isspace()`.
    #[test]
    fn matches_python() {
        for c in [
            ' ', '\t', '\n', '\x0b', '\x0c', '\r', '\x1c', '\x1f', '\u{85}', '\u{a0}', '\u{2028}',
            '\u{3000}',
        ] {
            assert!(is_space(c), "{c:?}");
        }
        for c in ['a', '\0', '\x1b', '\u{200b}', '\u{180e}', '\u{feff}'] {
            assert!(!is_space(c), "{c:?}");
        }
    }
}
