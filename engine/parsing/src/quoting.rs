//! One level of matching quotes, as Ansible strips them from k=v values.

/// True when `data` is wrapped in the same quote character at both ends and
/// the closing quote is not backslash-escaped.
pub fn is_quoted(data: &str) -> bool {
    let chars: Vec<char> = data.chars().collect();
    let n = chars.len();
    n > 1 && chars[0] == chars[n - 1] && matches!(chars[0], '"' | '\'') && chars[n - 2] != '\\'
}

/// Remove the outer quotes of a quoted string; anything else is returned as is.
/// Inner quotes and escapes are left alone (Ansible does not unescape here).
pub fn unquote(data: &str) -> &str {
    if is_quoted(data) {
        // Both ends are single-byte ASCII quotes, so byte slicing is safe.
        &data[1..data.len() - 1]
    } else {
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values recorded from /tmp/ref: ansible.parsing.quoting.unquote.
    #[test]
    fn unquote_cases() {
        assert_eq!(unquote("\"a b\""), "a b");
        assert_eq!(unquote("'a b'"), "a b");
        assert_eq!(unquote("'a b\""), "'a b\"");
        assert_eq!(unquote("\"\""), "");
        assert_eq!(unquote("\""), "\"");
        assert_eq!(unquote("'it''s'"), "it''s");
        assert_eq!(unquote("\"abc\\\""), "\"abc\\\"");
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(unquote("'é'"), "é");
        assert_eq!(unquote(""), "");
    }

    #[test]
    fn is_quoted_cases() {
        assert!(is_quoted("''"));
        assert!(!is_quoted("'"));
        assert!(!is_quoted("'x\\'"));
        assert!(is_quoted("\"x\""));
    }
}
