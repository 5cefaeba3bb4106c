//! Which implicit type a plain scalar resolves to.

/// The tag PyYAML's resolver gives an untagged plain scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Implicit {
    Null,
    Bool,
    Int,
    Float,
    /// `<<`, the merge key.
    Merge,
    /// `=`, YAML 1.1's "value" key; PyYAML has no constructor for it.
    ValueKey,
    /// A date or date-time. rsible keeps the text (see COMPATIBILITY notes in lib.rs).
    Timestamp,
    Str,
}

/// Resolve a plain scalar as PyYAML's `Resolver` does.
pub(crate) fn resolve_plain(text: &str) -> Implicit {
    let Some(first) = text.bytes().next() else {
        return Implicit::Null;
    };
    // PyYAML indexes its resolvers by first character; the order below is its registration order.
    if matches!(
        first,
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O'
    ) && is_bool(text)
    {
        return Implicit::Bool;
    }
    if matches!(first, b'-' | b'+' | b'.' | b'0'..=b'9') && is_float(text) {
        return Implicit::Float;
    }
    if matches!(first, b'-' | b'+' | b'0'..=b'9') && is_int(text) {
        return Implicit::Int;
    }
    if text == "<<" {
        return Implicit::Merge;
    }
    if matches!(text, "~" | "null" | "Null" | "NULL") {
        return Implicit::Null;
    }
    if first.is_ascii_digit() && is_timestamp(text) {
        return Implicit::Timestamp;
    }
    if text == "=" {
        return Implicit::ValueKey;
    }
    Implicit::Str
}

fn is_bool(text: &str) -> bool {
    matches!(
        text,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// `!!bool` construction: PyYAML looks the lower-cased text up in its table.
pub(crate) fn construct_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => Some(true),
        "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// A tiny cursor over ASCII bytes, enough to mirror PyYAML's regular expressions.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes(),
            pos: 0,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }
    fn eat(&mut self, pred: impl Fn(u8) -> bool) -> bool {
        match self.peek() {
            Some(b) if pred(b) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }
    fn eat_str(&mut self, s: &str) -> bool {
        if self.bytes[self.pos..].starts_with(s.as_bytes()) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }
    /// Consume as many bytes matching `pred` as possible; returns how many.
    fn eat_while(&mut self, pred: impl Fn(u8) -> bool) -> usize {
        let start = self.pos;
        while self.eat(&pred) {}
        self.pos - start
    }
    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
    fn eat_sign(&mut self) {
        self.eat(|b| b == b'+' || b == b'-');
    }
}

fn digit_or_underscore(b: u8) -> bool {
    b.is_ascii_digit() || b == b'_'
}

/// `(?::[0-5]?[0-9])+` — one or more sexagesimal groups; true if at least one matched.
fn eat_sexagesimal_groups(c: &mut Cursor) -> bool {
    let mut groups = 0;
    while c.peek() == Some(b':') {
        let save = c.pos;
        c.pos += 1;
        let digits = c.eat_while(|b| b.is_ascii_digit());
        let ok = match digits {
            1 => true,
            2 => c.bytes[c.pos - 2] <= b'5',
            _ => false,
        };
        if !ok {
            c.pos = save;
            return false;
        }
        groups += 1;
    }
    groups > 0
}

/// `[eE][-+][0-9]+` (optional as a whole); false if an exponent started but was malformed.
fn eat_optional_exponent(c: &mut Cursor) -> bool {
    if !c.eat(|b| b == b'e' || b == b'E') {
        return true;
    }
    c.eat(|b| b == b'+' || b == b'-') && c.eat_while(|b| b.is_ascii_digit()) > 0
}

fn is_float(text: &str) -> bool {
    // 1. [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?
    let mut c = Cursor::new(text);
    c.eat_sign();
    if c.eat(|b| b.is_ascii_digit()) {
        c.eat_while(digit_or_underscore);
        if c.eat(|b| b == b'.') {
            c.eat_while(digit_or_underscore);
            if eat_optional_exponent(&mut c) && c.at_end() {
                return true;
            }
        }
    }
    // 2. \.[0-9][0-9_]*([eE][-+][0-9]+)?   (no sign allowed)
    let mut c = Cursor::new(text);
    if c.eat(|b| b == b'.') && c.eat(|b| b.is_ascii_digit()) {
        c.eat_while(digit_or_underscore);
        if eat_optional_exponent(&mut c) && c.at_end() {
            return true;
        }
    }
    // 3. [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
    let mut c = Cursor::new(text);
    c.eat_sign();
    if c.eat(|b| b.is_ascii_digit()) {
        c.eat_while(digit_or_underscore);
        if eat_sexagesimal_groups(&mut c) && c.eat(|b| b == b'.') {
            c.eat_while(digit_or_underscore);
            if c.at_end() {
                return true;
            }
        }
    }
    // 4. [-+]?\.(inf|Inf|INF)   5. \.(nan|NaN|NAN)
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN")
}

fn is_int(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    if let Some(rest) = body.strip_prefix("0b") {
        return !rest.is_empty() && rest.bytes().all(|b| b == b'0' || b == b'1' || b == b'_');
    }
    if let Some(rest) = body.strip_prefix("0x") {
        return !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_hexdigit() || b == b'_');
    }
    if let Some(rest) = body.strip_prefix('0') {
        // `0` alone, or octal `0[0-7_]+`
        return rest
            .bytes()
            .all(|b| (b'0'..=b'7').contains(&b) || b == b'_');
    }
    let mut c = Cursor::new(body);
    if !c.eat(|b| (b'1'..=b'9').contains(&b)) {
        return false;
    }
    c.eat_while(digit_or_underscore);
    if c.at_end() {
        return true;
    }
    eat_sexagesimal_groups(&mut c) && c.at_end()
}

fn is_timestamp(text: &str) -> bool {
    let mut c = Cursor::new(text);
    let digits = |c: &mut Cursor, min: usize, max: usize| {
        let start = c.pos;
        while c.pos - start < max && c.eat(|b| b.is_ascii_digit()) {}
        c.pos - start >= min
    };
    // Date part: YYYY-MM-DD exactly, or YYYY-M-D when a time follows.
    if !(digits(&mut c, 4, 4) && c.eat(|b| b == b'-') && digits(&mut c, 1, 2)) {
        return false;
    }
    let month_len = c.pos - 5;
    if !(c.eat(|b| b == b'-') && digits(&mut c, 1, 2)) {
        return false;
    }
    let day_len = c.pos - 6 - month_len;
    if c.at_end() {
        return month_len == 2 && day_len == 2;
    }
    if !(c.eat(|b| b == b'T' || b == b't') || c.eat_while(|b| b == b' ' || b == b'\t') > 0) {
        return false;
    }
    if !(digits(&mut c, 1, 2)
        && c.eat(|b| b == b':')
        && digits(&mut c, 2, 2)
        && c.eat(|b| b == b':')
        && digits(&mut c, 2, 2))
    {
        return false;
    }
    if c.eat(|b| b == b'.') {
        c.eat_while(|b| b.is_ascii_digit());
    }
    if c.at_end() {
        return true;
    }
    c.eat_while(|b| b == b' ' || b == b'\t');
    if c.eat_str("Z") {
        return c.at_end();
    }
    if !(c.eat(|b| b == b'+' || b == b'-') && digits(&mut c, 1, 2)) {
        return false;
    }
    if c.eat(|b| b == b':') && !digits(&mut c, 2, 2) {
        return false;
    }
    c.at_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected types recorded from PyYAML 6.0.3 SafeLoader via the reference venv
    // (`/tmp/ref/bin/python -c 'import yaml; print(repr(yaml.safe_load("a: X")))'`).
    #[test]
    fn bools_are_yaml_1_1_but_not_y_n() {
        for t in [
            "yes", "Yes", "YES", "no", "NO", "on", "On", "OFF", "true", "False", "TRUE",
        ] {
            assert_eq!(resolve_plain(t), Implicit::Bool, "{t}");
        }
        for t in ["y", "n", "Y", "N", "yEs", "tRUE", "oN"] {
            assert_eq!(resolve_plain(t), Implicit::Str, "{t}");
        }
    }

    #[test]
    fn nulls() {
        for t in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(resolve_plain(t), Implicit::Null, "{t}");
        }
        assert_eq!(resolve_plain("nULL"), Implicit::Str);
    }

    #[test]
    fn ints() {
        for t in [
            "0",
            "-0",
            "+12",
            "0644",
            "0_",
            "1_000",
            "1__0",
            "0b1010",
            "-0b11",
            "0x_1F",
            "+0x10",
            "190:20:30",
            "1:2:3",
            "-1:30",
            "12345678901234567890",
        ] {
            assert_eq!(resolve_plain(t), Implicit::Int, "{t}");
        }
        for t in [
            "09", "0o17", "_1", "1:60", "0:30", "0x", "0b", "0b2", "1_000x",
        ] {
            assert_eq!(resolve_plain(t), Implicit::Str, "{t}");
        }
    }

    #[test]
    fn floats_need_a_dot() {
        for t in [
            "1.5",
            "0.",
            "1.",
            ".5",
            "6.8523015e+5",
            "1.5E-3",
            "1_000.5_0",
            "190:20:30.15",
            "-.inf",
            ".Inf",
            "+.INF",
            ".nan",
            ".NaN",
        ] {
            assert_eq!(resolve_plain(t), Implicit::Float, "{t}");
        }
        for t in ["1e3", "1.0e3", "1e+3", "0.1e", "-.nan", "-.5", ".", "+.5"] {
            assert_ne!(resolve_plain(t), Implicit::Float, "{t}");
        }
    }

    #[test]
    fn specials() {
        assert_eq!(resolve_plain("<<"), Implicit::Merge);
        assert_eq!(resolve_plain("="), Implicit::ValueKey);
        assert_eq!(resolve_plain("2001-12-14"), Implicit::Timestamp);
        assert_eq!(
            resolve_plain("2001-12-14 21:59:43.10 -5"),
            Implicit::Timestamp
        );
        assert_eq!(
            resolve_plain("2001-12-14t21:59:43.10-05:00"),
            Implicit::Timestamp
        );
        assert_eq!(resolve_plain("2001-1-14"), Implicit::Str);
        assert_eq!(resolve_plain("2001-12-14x"), Implicit::Str);
    }

    #[test]
    fn explicit_bool_lookup_is_case_insensitive() {
        assert_eq!(construct_bool("yEs"), Some(true));
        assert_eq!(construct_bool("OFF"), Some(false));
        assert_eq!(construct_bool("y"), None);
    }
}
