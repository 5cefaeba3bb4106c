//! Python's `str.splitlines()`, which Ansible applies to module output
//! (`stdout_lines`), inventory files, diffs and templates: it breaks at
//! every line boundary Python knows, not only `\n`.

/// Whether Python's `str.splitlines()` ends a line at `c` (`\r\n` is one
/// boundary, handled by the caller).
fn is_line_boundary(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\x0b'
            | '\x0c'
            | '\x1c'
            | '\x1d'
            | '\x1e'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Each line of `text` as (its text without the line end, its text with
/// it); no empty last line after a final line end.
fn lines_with_ends(text: &str) -> Vec<(&str, &str)> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !is_line_boundary(c) {
            continue;
        }
        let mut end = i + c.len_utf8();
        if c == '\r' {
            if let Some(&(j, '\n')) = chars.peek() {
                chars.next();
                end = j + 1;
            }
        }
        lines.push((&text[start..i], &text[start..end]));
        start = end;
    }
    if start < text.len() {
        lines.push((&text[start..], &text[start..]));
    }
    lines
}

/// Python's `text.splitlines()`.
pub fn splitlines(text: &str) -> Vec<&str> {
    lines_with_ends(text).into_iter().map(|(l, _)| l).collect()
}

/// Python's `text.splitlines(keepends=True)`.
pub fn splitlines_keepends(text: &str) -> Vec<&str> {
    lines_with_ends(text).into_iter().map(|(_, l)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values are what CPython 3.11 gives for the same calls.
    #[test]
    fn breaks_where_python_does() {
        assert_eq!(splitlines("a\nb\r\nc\n"), ["a", "b", "c"]);
        assert_eq!(splitlines("a\r\nb\r\n"), ["a", "b"]);
        assert_eq!(splitlines("a\n\nb"), ["a", "", "b"]);
        assert_eq!(splitlines("\n"), [""]);
        assert!(splitlines("").is_empty());
        assert_eq!(
            splitlines("a\rb\x0bc\x0cd\x1ce\u{85}f\u{2028}g\u{2029}h\r\r\n"),
            ["a", "b", "c", "d", "e", "f", "g", "h", ""]
        );
        assert_eq!(splitlines("no end"), ["no end"]);
    }

    #[test]
    fn keepends_keeps_each_boundary() {
        assert_eq!(
            splitlines_keepends("a\r\nb\rc\x0cd"),
            ["a\r\n", "b\r", "c\x0c", "d"]
        );
        assert_eq!(splitlines_keepends("a\n"), ["a\n"]);
        assert_eq!(splitlines_keepends("x\u{2028}"), ["x\u{2028}"]);
        assert!(splitlines_keepends("").is_empty());
    }
}
