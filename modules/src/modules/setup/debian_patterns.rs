//! Two of Ansible's Debian distribution patterns matched by hand. They run on
//! every Debian host's gathering, and building them with the regex crate is the
//! first regex of the agent's process: ~1 ms of CPU per host (the crate's
//! start-up and the Unicode `\d` automaton), a tenth of a whole gathering.
//! Each function returns what Python's `re.search(pattern, text).group(n)`
//! returns; the tests check them against the regex crate on generated text.

/// `re.search(r"PRETTY_NAME=[^(]+ \(?([^)]+?)\)", text).group(1)`.
pub(super) fn pretty_name_codename(text: &str) -> Option<&str> {
    const KEY: &str = "PRETTY_NAME=";
    let mut from = 0;
    while let Some(found) = text[from..].find(KEY) {
        let start = from + found;
        if let Some(codename) = codename_after_key(&text[start + KEY.len()..]) {
            return Some(codename);
        }
        from = start + 1;
    }
    None
}

/// `[^(]+ \(?([^)]+?)\)` at the start of `rest`, group 1. The greedy `[^(]+`
/// tries its longest span first, so the space is tried from the last one
/// before the first `(` backwards; `\(?` tries with the parenthesis first.
fn codename_after_key(rest: &str) -> Option<&str> {
    let bytes = rest.as_bytes();
    let limit = rest.find('(').unwrap_or(rest.len());
    // Byte search is safe: a space never occurs inside a multi-byte character.
    for space in (1..limit).rev().filter(|&i| bytes[i] == b' ') {
        let after = space + 1;
        if bytes.get(after) == Some(&b'(') {
            if let Some(group) = up_to_paren(rest, after + 1) {
                return Some(group);
            }
        }
        if let Some(group) = up_to_paren(rest, after) {
            return Some(group);
        }
    }
    None
}

/// `([^)]+?)\)` at `from`: the non-empty text before the next `)`.
fn up_to_paren(rest: &str, from: usize) -> Option<&str> {
    let end = from + rest.get(from..)?.find(')')?;
    (end > from).then(|| &rest[from..end])
}

/// `re.search(r"(\d+)\.(\d+)", text).group(2)` for ASCII text (where `\d` is
/// `[0-9]`); None for other text, which the caller matches with the pattern.
pub(super) fn ascii_minor_version(text: &str) -> Option<Option<&str>> {
    if !text.is_ascii() {
        return None;
    }
    let b = text.as_bytes();
    let run_end = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A match starting inside this run of digits would end at the same
        // place, so only the run's first digit needs trying.
        let dot = run_end(i);
        if b.get(dot) == Some(&b'.') && b.get(dot + 1).is_some_and(u8::is_ascii_digit) {
            return Some(Some(&text[dot + 1..run_end(dot + 1)]));
        }
        i = dot;
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random strings over the characters that matter.
    fn generated(alphabet: &[&str], count: usize, max_len: usize) -> Vec<String> {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|_| {
                let len = (next() % max_len as u64) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn pretty_name_codename_agrees_with_the_pattern() {
        let re = regex::Regex::new(r"PRETTY_NAME=[^(]+ \(?([^)]+?)\)").expect("pattern");
        let mut cases: Vec<String> = vec![
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"".into(),
            "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nVERSION=\"13 (trixie)\"".into(),
            "PRETTY_NAME=Raspbian GNU/Linux 11 (bullseye)".into(),
            "PRETTY_NAME=x ()".into(),
            "PRETTY_NAME=x (y".into(),
            "PRETTY_NAME= (a)".into(),
            "PRETTY_NAME=a  b) c (d)".into(),
            "PRETTY_NAME=é (ü)".into(),
        ];
        cases.extend(generated(
            &[
                "PRETTY_NAME=",
                " ",
                "(",
                ")",
                "x",
                "\n",
                "é",
                "\"",
                "PRETTY",
            ],
            20_000,
            14,
        ));
        for text in &cases {
            let want = re.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str());
            assert_eq!(pretty_name_codename(text), want, "{text:?}");
        }
    }

    #[test]
    fn ascii_minor_version_agrees_with_the_pattern() {
        let re = regex::Regex::new(r"(\d+)\.(\d+)").expect("pattern");
        let mut cases: Vec<String> = vec![
            "12.12".into(),
            "bookworm/sid".into(),
            "11.0".into(),
            "a1.b2.3".into(),
            "1..2".into(),
            "10.".into(),
        ];
        cases.extend(generated(&["1", "0", ".", "a", " "], 20_000, 10));
        for text in &cases {
            let want = re.captures(text).and_then(|c| c.get(2)).map(|m| m.as_str());
            assert_eq!(ascii_minor_version(text), Some(want), "{text:?}");
        }
        assert_eq!(ascii_minor_version("１２.３"), None);
    }
}
