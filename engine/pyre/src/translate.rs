//! Python `re` pattern syntax rewritten for the Rust engines, or refused with the
//! name of the construct neither engine can express the Python way.
//!
//! Differences handled (both engines):
//! - `$` without MULTILINE also matches before a final newline in Python (a look-ahead,
//!   so only the backtracking engine takes it);
//! - `\Z` is `\z`; `\<`/`\>` are plain characters in Python but word boundaries here;
//! - a `{` that does not start a valid repetition is literal in Python; `{,n}` is `{0,n}`;
//! - `[` inside a class is literal in Python (nested class here), likewise `&&`/`~~`;
//! - `\b` inside a class is a backspace; `\0` and `\0oo` are octal escapes;
//! - `(?#...)` comments are dropped;
//! - escapes Python rejects (`\p`, `\k`, `\e`, ...) and inline flags it does not know
//!   (`U`) are refused, so the caller leaves the pattern to Python, which reports them.
//!
//! The backtracking engine (`fancy_regex`) also takes look-ahead, look-behind,
//! back-references (`\N` and `(?P=name)` spelled `\k<N>`, `\k<name>`), atomic groups, possessive
//! quantifiers and conditionals (`(?(1)yes|no)`, `(?(name)...)` spelled
//! `(?(<name>)...)`). For bytes patterns it runs on a Latin-1 view of the bytes (one
//! char per byte), so non-ASCII pattern text becomes byte escapes and `\w`, `\d`, `\s`,
//! `\b` are given their ASCII meaning explicitly.

/// Which Rust engine the translation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The `regex` crate: linear time, no look-around or back-references.
    Linear,
    /// `fancy_regex`: backtracking where the pattern needs it.
    Backtracking,
}

/// What the pattern is matched against, as Python compiled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A `str` pattern: Unicode classes.
    Text,
    /// A `bytes` pattern (lineinfile, blockinfile, find, wait_for): ASCII classes and
    /// `.` matching one byte. The linear engine takes it with Unicode off; the
    /// backtracking one on the Latin-1 view (see `bytes::PyBytesRegex`).
    Bytes,
}

/// Escapes (after `\`) Python accepts outside a class; digits and non-letters aside.
const PY_ESCAPES: &str = "abBdDfnrsStvwWxuUNAZ";
/// Inline flags Python accepts (`(?aiLmsux)`); the Rust engines know only some.
const PY_FLAGS: &str = "aiLmsux";

/// Translate `pattern` for `engine`, or say which construct is beyond it.
pub fn translate(pattern: &str, engine: Engine, subject: Subject) -> Result<String, String> {
    Translator::new(pattern, engine, subject).run()
}

/// Whether inline flags in `pattern` turn on `flag` (`(?m)`, `(?im:...)`, ...).
pub fn sets_flag(pattern: &str, flag: char) -> bool {
    let mut rest = pattern;
    while let Some(i) = rest.find("(?") {
        let flags: String = rest[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        if flags.contains(flag) {
            return true;
        }
        rest = &rest[i + 2..];
    }
    false
}

struct Translator<'p> {
    pattern: &'p str,
    chars: Vec<char>,
    engine: Engine,
    subject: Subject,
    multiline: bool,
    out: String,
}

/// ASCII classes for the backtracking engine's bytes view, by escape letter:
/// (outside a class, inside a class).
fn ascii_class(letter: char) -> Option<(&'static str, &'static str)> {
    Some(match letter {
        'w' => ("[[:word:]]", "[:word:]"),
        'W' => ("[[:^word:]]", "[:^word:]"),
        'd' => ("[[:digit:]]", "[:digit:]"),
        'D' => ("[[:^digit:]]", "[:^digit:]"),
        's' => ("[[:space:]]", "[:space:]"),
        'S' => ("[[:^space:]]", "[:^space:]"),
        _ => return None,
    })
}

const ASCII_WORD_BOUNDARY: &str = "(?:(?<=[[:word:]])(?![[:word:]])|(?<![[:word:]])(?=[[:word:]]))";
const ASCII_NOT_WORD_BOUNDARY: &str =
    "(?:(?<=[[:word:]])(?=[[:word:]])|(?<![[:word:]])(?![[:word:]]))";

impl<'p> Translator<'p> {
    fn new(pattern: &'p str, engine: Engine, subject: Subject) -> Self {
        Translator {
            pattern,
            chars: pattern.chars().collect(),
            engine,
            subject,
            multiline: sets_flag(pattern, 'm'),
            out: String::with_capacity(pattern.len() + 8),
        }
    }

    fn unsupported(&self, what: &str) -> Result<String, String> {
        let engines = match self.engine {
            Engine::Linear => "the regex crate does",
            Engine::Backtracking => "neither native regex engine does",
        };
        Err(format!(
            "rsible: the regular expression {:?} uses {what}, which {engines} not support",
            self.pattern
        ))
    }

    fn backtracking(&self) -> bool {
        self.engine == Engine::Backtracking
    }

    /// The Latin-1 bytes view: every char of the pattern stands for its UTF-8 bytes.
    fn latin1_bytes(&self) -> bool {
        self.backtracking() && self.subject == Subject::Bytes
    }

    fn push_literal(&mut self, c: char) {
        if self.latin1_bytes() && !c.is_ascii() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                self.out.push_str(&format!("\\x{{{b:02X}}}"));
            }
        } else {
            self.out.push(c);
        }
    }

    fn run(mut self) -> Result<String, String> {
        if self.latin1_bytes() && sets_flag(self.pattern, 'i') && !self.pattern.is_ascii() {
            return self.unsupported("non-ASCII text in a case-insensitive bytes pattern");
        }
        let mut in_class = false;
        let mut class_start = 0usize;
        let mut i = 0;
        while i < self.chars.len() {
            let c = self.chars[i];
            if c == '\\' {
                let Some(&n) = self.chars.get(i + 1) else {
                    return Err(format!("bad escape (end of pattern) in {:?}", self.pattern));
                };
                match self.escape(i, n, in_class) {
                    Ok(used) => i += used,
                    Err(e) => return Err(e),
                }
                continue;
            }
            if in_class {
                match c {
                    ']' if i > class_start => in_class = false,
                    '[' | '&' | '~' => self.out.push('\\'),
                    _ => {}
                }
                self.push_literal(c);
                i += 1;
                continue;
            }
            match c {
                '[' => {
                    in_class = true;
                    self.out.push(c);
                    i += 1;
                    // A `]` right after `[` or `[^` is literal in both dialects.
                    if self.chars.get(i) == Some(&'^') {
                        self.out.push('^');
                        i += 1;
                    }
                    // The index of the class's first member.
                    class_start = i;
                }
                // Python's `$` also matches before a final newline, without taking it:
                // only a look-ahead says that.
                '$' if !self.multiline => {
                    if !self.backtracking() {
                        return self.unsupported(
                            "$ without MULTILINE (it also matches before a final newline)",
                        );
                    }
                    self.out.push_str("(?=\\n?\\z)");
                    i += 1;
                }
                '{' => i += self.brace(i),
                '}' => {
                    self.out.push_str("\\}");
                    i += 1;
                }
                '(' if self.chars.get(i + 1) == Some(&'?') => match self.group_opening(i) {
                    Ok(used) => i += used,
                    Err(e) => return Err(e),
                },
                _ => {
                    self.push_literal(c);
                    i += 1;
                }
            }
        }
        Ok(self.out)
    }

    /// Translate the escape `\n` at `i`; returns how many chars it used.
    fn escape(&mut self, i: usize, n: char, in_class: bool) -> Result<usize, String> {
        let bytes = self.subject == Subject::Bytes;
        if n.is_ascii_alphabetic() {
            let known = PY_ESCAPES.contains(n)
                && !(in_class && matches!(n, 'B' | 'A' | 'Z'))
                && !(bytes && matches!(n, 'u' | 'U' | 'N'));
            if !known {
                // Python raises "bad escape": let it say so.
                return self
                    .unsupported(&format!("the escape \\{n}, which Python rejects"))
                    .map(|_| 0);
            }
            if n == 'N' {
                return self
                    .unsupported("a named character escape (\\N{...})")
                    .map(|_| 0);
            }
        }
        if n == '0' {
            // Octal: \0 and up to two more octal digits.
            let digits: String = self.chars[i + 2..]
                .iter()
                .take(2)
                .take_while(|c| ('0'..='7').contains(*c))
                .collect();
            let value = u32::from_str_radix(&format!("0{digits}"), 8).unwrap_or(0);
            self.out.push_str(&format!("\\x{{{value:02X}}}"));
            return Ok(2 + digits.len());
        }
        if in_class {
            if n == 'b' {
                self.out.push_str("\\x08");
                return Ok(2);
            }
            if self.latin1_bytes() {
                if let Some((_, inside)) = ascii_class(n) {
                    self.out.push_str(inside);
                    return Ok(2);
                }
            }
        } else {
            match n {
                '1'..='9' if !self.backtracking() => {
                    return self.unsupported("a back-reference (\\N)").map(|_| 0)
                }
                // Python reads `\12` as group 12 (or octal): keep the fallback for those.
                '1'..='9' if self.chars.get(i + 2).is_some_and(char::is_ascii_digit) => {
                    return self
                        .unsupported("a multi-digit back-reference (\\NN)")
                        .map(|_| 0)
                }
                // fancy-regex refuses `\\1` once the pattern has a named group (Python
                // does not); `\\k<1>` is the same reference without that rule.
                '1'..='9' => {
                    self.out.push_str(&format!("\\k<{n}>"));
                    return Ok(2);
                }
                'Z' => {
                    self.out.push_str("\\z");
                    return Ok(2);
                }
                '<' | '>' => {
                    self.out.push(n);
                    return Ok(2);
                }
                'b' | 'B' if self.latin1_bytes() => {
                    self.out.push_str(if n == 'b' {
                        ASCII_WORD_BOUNDARY
                    } else {
                        ASCII_NOT_WORD_BOUNDARY
                    });
                    return Ok(2);
                }
                _ => {
                    if self.latin1_bytes() {
                        if let Some((outside, _)) = ascii_class(n) {
                            self.out.push_str(outside);
                            return Ok(2);
                        }
                    }
                }
            }
        }
        if n.is_ascii() {
            self.out.push('\\');
            self.out.push(n);
        } else {
            // `\é` is the literal character in Python.
            self.push_literal(n);
        }
        Ok(2)
    }

    /// A `{` at `i`: a repetition if Python reads it as one, else a literal brace.
    fn brace(&mut self, i: usize) -> usize {
        let close = self.chars[i + 1..].iter().position(|&x| x == '}');
        let body: Option<String> = close.map(|k| self.chars[i + 1..i + 1 + k].iter().collect());
        match body.as_deref().and_then(repetition_body) {
            Some(rep) => {
                self.out.push('{');
                self.out.push_str(&rep);
                self.out.push('}');
                body.map_or(0, |b| b.chars().count()) + 2
            }
            None => {
                self.out.push_str("\\{");
                1
            }
        }
    }

    /// A `(?` at `i`; returns how many chars it used.
    fn group_opening(&mut self, i: usize) -> Result<usize, String> {
        let rest: String = self.chars[i + 2..].iter().take(3).collect();
        let fancy = self.backtracking();
        let closing = |from: usize| self.chars[from..].iter().position(|&x| x == ')');
        if rest.starts_with('#') {
            // Python comment group: skip to the closing parenthesis.
            return match closing(i) {
                Some(k) => Ok(k + 1),
                None => Err(format!(
                    "missing ), unterminated comment in {:?}",
                    self.pattern
                )),
            };
        }
        if rest.starts_with('=') || rest.starts_with('!') {
            if !fancy {
                return self
                    .unsupported("look-ahead ((?=...) or (?!...))")
                    .map(|_| 0);
            }
        } else if rest.starts_with("<=") || rest.starts_with("<!") {
            if !fancy {
                return self
                    .unsupported("look-behind ((?<=...) or (?<!...))")
                    .map(|_| 0);
            }
        } else if rest.starts_with("P=") {
            if !fancy {
                return self
                    .unsupported("a named back-reference ((?P=name))")
                    .map(|_| 0);
            }
            // `(?P=name)` is spelled `\k<name>` in fancy_regex.
            let Some(k) = closing(i) else {
                return Err(format!(
                    "missing ), unterminated name in {:?}",
                    self.pattern
                ));
            };
            let name: String = self.chars[i + 4..i + k].iter().collect();
            self.out.push_str(&format!("\\k<{name}>"));
            return Ok(k + 1);
        } else if rest.starts_with('(') {
            return self.conditional(i);
        } else if rest.starts_with('>') {
            if !fancy {
                return self.unsupported("an atomic group ((?>...))").map(|_| 0);
            }
        } else if !rest.starts_with("P<") && !rest.starts_with(':') {
            // Inline flags: `(?im)`, `(?s:...)`, `(?-i:...)`.
            let flags: String = self.chars[i + 2..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic() || **c == '-')
                .collect();
            if let Some(bad) = flags.chars().find(|c| *c != '-' && !PY_FLAGS.contains(*c)) {
                return self
                    .unsupported(&format!("the inline flag {bad}, which Python rejects"))
                    .map(|_| 0);
            }
            if let Some(other) = flags.chars().find(|c| matches!(c, 'a' | 'L')) {
                return self
                    .unsupported(&format!("the inline flag {other}"))
                    .map(|_| 0);
            }
        }
        self.out.push('(');
        Ok(1)
    }

    /// `(?(id)yes|no)` at `i`: the backtracking engine takes it with a numbered or
    /// `<name>` reference and at most two branches (more is an error in Python).
    fn conditional(&mut self, i: usize) -> Result<usize, String> {
        if !self.backtracking() {
            return self
                .unsupported("a conditional group ((?(id)yes|no))")
                .map(|_| 0);
        }
        let Some(k) = self.chars[i + 3..].iter().position(|&x| x == ')') else {
            return Err(format!(
                "missing ), unterminated name in {:?}",
                self.pattern
            ));
        };
        let id: String = self.chars[i + 3..i + 3 + k].iter().collect();
        let numbered = !id.is_empty() && id.chars().all(|c| c.is_ascii_digit());
        let named = !id.is_empty()
            && !id.starts_with(|c: char| c.is_ascii_digit())
            && id.chars().all(|c| c.is_alphanumeric() || c == '_');
        let branches = self.branches_after(i + 4 + k);
        if !(numbered || named) || branches.is_none_or(|b| b > 2) {
            return self
                .unsupported("a conditional group of this form")
                .map(|_| 0);
        }
        // `(?(<1>)` rather than `(?(1)`: see `\\k<1>` in `escape`.
        self.out.push_str(&format!("(?(<{id}>)"));
        Ok(4 + k)
    }

    /// How many `|`-separated branches the group whose body starts at `start` has
    /// (nested groups, classes and escapes skipped); None when it is not closed.
    fn branches_after(&self, start: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut branches = 1;
        let mut in_class = false;
        let mut class_start = 0;
        let mut i = start;
        while i < self.chars.len() {
            let c = self.chars[i];
            match c {
                '\\' => i += 1,
                ']' if in_class && i > class_start => in_class = false,
                _ if in_class => {}
                '[' => {
                    in_class = true;
                    class_start = i + 1 + usize::from(self.chars.get(i + 1) == Some(&'^'));
                }
                '(' => depth += 1,
                ')' if depth == 0 => return Some(branches),
                ')' => depth -= 1,
                '|' if depth == 0 => branches += 1,
                _ => {}
            }
            i += 1;
        }
        None
    }
}

/// The inside of `{...}` if Python reads it as a repetition, in the Rust spelling
/// (`,n` becomes `0,n`).
fn repetition_body(body: &str) -> Option<String> {
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    match body.split_once(',') {
        None if !body.is_empty() && digits(body) => Some(body.to_string()),
        Some((lo, hi)) if digits(lo) && digits(hi) && !(lo.is_empty() && hi.is_empty()) => {
            Some(format!("{},{hi}", if lo.is_empty() { "0" } else { lo }))
        }
        _ => None,
    }
}
