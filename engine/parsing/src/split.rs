//! Splitting a module argument line into words, Ansible-style.
//!
//! The text is cut on `\n` first and then on single spaces. Words that fall
//! inside an open quote or an open Jinja2 block are glued back onto the
//! previous word with the separator they were cut at, so `a="b c"` and
//! `{{ x | default(1) }}` stay one word. Runs of spaces and the newlines are
//! kept inside the words (the `command` module relies on that), and a lone
//! `\` at the end of a line joins it to the next one.

use crate::Error;

/// The three Jinja2 delimiter pairs whose nesting keeps words together.
const JINJA_PAIRS: [(&str, &str); 3] = [("{{", "}}"), ("{%", "%}"), ("{#", "#}")];

/// Split `args` into words. Fails when a quote or Jinja2 block is still open
/// at the end of the text.
pub fn split_args(args: &str) -> Result<Vec<String>, Error> {
    if args.is_empty() {
        return Ok(Vec::new());
    }
    let mut state = SplitState::default();
    let lines: Vec<&str> = args.split('\n').collect();
    let last_line = lines.len() - 1;
    for (line_no, line) in lines.iter().enumerate() {
        let continued = state.feed_line(line);
        // The newline the text was cut at goes back onto the last word, unless
        // the line ended in a continuation backslash.
        if lines.len() > 1 && line_no != last_line && !continued {
            state.last_word().push('\n');
        }
    }
    if state.is_open() {
        return Err(Error {
            args: args.to_string(),
        });
    }
    Ok(state.words)
}

/// Put words back together: a space between words, nothing after a word that
/// already ends in a newline (so the original line structure survives).
pub fn join_args<S: AsRef<str>>(words: &[S]) -> String {
    let mut out = String::new();
    for word in words {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push(' ');
        }
        out.push_str(word.as_ref());
    }
    out
}

#[derive(Default)]
struct SplitState {
    words: Vec<String>,
    /// The quote character currently open, if any.
    open_quote: Option<char>,
    /// Nesting depth of `{{ }}`, `{% %}` and `{# #}`, in [`JINJA_PAIRS`] order.
    jinja_depth: [usize; 3],
}

impl SplitState {
    fn in_jinja(&self) -> bool {
        self.jinja_depth.iter().any(|&d| d > 0)
    }

    fn is_open(&self) -> bool {
        self.in_jinja() || self.open_quote.is_some()
    }

    /// The word being built; created empty when there is none yet (text that
    /// starts with spaces or a newline).
    fn last_word(&mut self) -> &mut String {
        if self.words.is_empty() {
            self.words.push(String::new());
        }
        let last = self.words.len() - 1;
        &mut self.words[last]
    }

    /// Process one line's space-separated pieces. Returns true when the line
    /// ended in a continuation backslash.
    fn feed_line(&mut self, line: &str) -> bool {
        let mut continued = false;
        for (piece_no, piece) in line.split(' ').enumerate() {
            if piece.is_empty() && piece_no != 0 {
                // Two spaces in a row: keep the extra one on the current word.
                self.last_word().push(' ');
                continue;
            }
            if piece == "\\" && self.open_quote.is_none() {
                continued = true;
                continue;
            }
            self.feed_piece(piece, piece_no);
        }
        continued
    }

    fn feed_piece(&mut self, piece: &str, piece_no: usize) {
        let was_quoted = self.open_quote.is_some();
        self.open_quote = quote_state_after(piece, self.open_quote);
        let now_quoted = self.open_quote.is_some();

        let mut placed = false;
        if now_quoted && !was_quoted && !self.in_jinja() {
            // A quote opens here: start a new word that later pieces extend.
            self.words.push(piece.to_string());
            placed = true;
        } else if self.in_jinja() || now_quoted || was_quoted {
            // Still inside something (or just closing a quote): extend the
            // current word, restoring the space the split removed. The first
            // piece of a line continuing a quote already got its newline.
            let first_on_line = piece_no == 0;
            let word = self.last_word();
            if !first_on_line {
                word.push(' ');
            }
            word.push_str(piece);
            placed = true;
        }

        for (slot, (open, close)) in JINJA_PAIRS.iter().enumerate() {
            let before = self.jinja_depth[slot];
            let opened = piece.matches(open).count();
            let closed = piece.matches(close).count();
            if opened != closed {
                self.jinja_depth[slot] = (before + opened).saturating_sub(closed);
            }
            if self.jinja_depth[slot] != before && !placed {
                self.words.push(piece.to_string());
                placed = true;
            }
        }

        if !placed && !self.is_open() && !piece.is_empty() {
            self.words.push(piece.to_string());
        }
    }
}

/// Walk `piece` and report which quote is open after it, given the one open
/// before it. A quote preceded by a backslash does not count.
fn quote_state_after(piece: &str, mut open: Option<char>) -> Option<char> {
    let mut prev: Option<char> = None;
    for c in piece.chars() {
        if matches!(c, '"' | '\'') && prev != Some('\\') {
            match open {
                Some(q) if q == c => open = None,
                Some(_) => {}
                None => open = Some(c),
            }
        }
        prev = Some(c);
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        split_args(s).expect("splits")
    }

    // Every expected value below was recorded by running
    // `ansible.parsing.splitter.split_args` from ansible-core 2.18 (/tmp/ref).
    #[test]
    fn reference_cases() {
        let cases: &[(&str, &[&str])] = &[
            ("a=b c=d", &["a=b", "c=d"]),
            ("echo \"a=b\" c=d", &["echo", "\"a=b\"", "c=d"]),
            ("msg='it''s'", &["msg='it''s'"]),
            ("a=\"foo bar\" b='x y'", &["a=\"foo bar\"", "b='x y'"]),
            (
                "msg={{ foo | default('x y') }} z=1",
                &["msg={{ foo | default('x y') }}", "z=1"],
            ),
            (
                "creates=/x chdir=/tmp cmd",
                &["creates=/x", "chdir=/tmp", "cmd"],
            ),
            ("a  b", &["a ", "b"]),
            ("  a", &[" ", "a"]),
            ("a\nb", &["a\n", "b"]),
            ("a \\\nb", &["a", "b"]),
            ("a\n\nb", &["a\n\n", "b"]),
            ("\na", &["\n", "a"]),
            ("{% if x %}a{% endif %} b", &["{% if x %}a{% endif %}", "b"]),
            ("{# c o #} b", &["{# c o #}", "b"]),
            ("a=\"x\ny\" b", &["a=\"x\ny\"", "b"]),
            ("a='b\\'c' d", &["a='b\\'c'", "d"]),
            ("{{ a }}{{ b }} c", &["{{ a }}{{ b }}", "c"]),
            ("x=\"{{ a }} b\" c", &["x=\"{{ a }} b\"", "c"]),
            ("a= b", &["a=", "b"]),
            ("a ", &["a "]),
            ("a\tb", &["a\tb"]),
            ("echo 'a \" b' c", &["echo", "'a \" b'", "c"]),
            // The `}}` inside the quoted string closes the block early.
            ("{{ '}}' }} x", &["{{ '}}'", "}}", "x"]),
            ("a \\", &["a"]),
            ("\\ a", &["a"]),
            ("a=\"b \\\nc\"", &["a=\"b \\\nc\""]),
            ("{{ a }} }} b", &["{{ a }}", "}}", "b"]),
            ("}} a", &["}}", "a"]),
        ];
        for (input, expected) in cases {
            assert_eq!(split(input), *expected, "input {input:?}");
        }
    }

    #[test]
    fn empty_is_empty() {
        assert!(split("").is_empty());
    }

    #[test]
    fn unbalanced_fails_with_ansible_message() {
        for bad in ["a=\"b", "{{ a", "{% if", "{# x", "a='b c"] {
            let err = split_args(bad).expect_err(bad);
            assert_eq!(
                err.to_string(),
                format!("failed at splitting arguments, either an unbalanced jinja2 block or quotes: {bad}")
            );
        }
    }

    #[test]
    fn join_keeps_newlines() {
        assert_eq!(join_args(&["a\n", "b", "c"]), "a\nb c");
        assert_eq!(join_args::<&str>(&[]), "");
    }
}
