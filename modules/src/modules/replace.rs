//! `replace`: substitute every match of a (Python) regular expression in a file,
//! optionally only between `after` and `before`, as ansible-core's module does.
//!
//! This file also holds the Python `re` compatibility layer shared with `lineinfile`
//! and `blockinfile`: translating Python pattern syntax to the `regex` crate (or
//! refusing loudly what it cannot express), and Python's replacement templates
//! (`\1`, `\g<name>`).

use super::file::file_common_params;
use super::lineinfile::{backup_local, check_file_attrs, write_changes};
use super::py_regex::PyRegex;
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use serde_json::{json, Map, Value};
use std::path::Path;

const FILE_COMMON: [Param; 9] = file_common_params!();

pub const SPEC: &[Param] = &[
    Param::new("path", Kind::Path)
        .required()
        .aliases(&["dest", "destfile", "name"]),
    Param::new("regexp", Kind::Str).required(),
    Param::new("replace", Kind::Str).default(ParamDefault::Str("")),
    Param::new("after", Kind::Str),
    Param::new("before", Kind::Str),
    Param::new("backup", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("validate", Kind::Str),
    Param::new("encoding", Kind::Str).default(ParamDefault::Str("utf-8")),
    FILE_COMMON[0],
    FILE_COMMON[1],
    FILE_COMMON[2],
    FILE_COMMON[3],
    FILE_COMMON[4],
    FILE_COMMON[5],
    FILE_COMMON[6],
    FILE_COMMON[7],
    FILE_COMMON[8],
];

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let text = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let path = text("path").unwrap_or_default();
    let regexp = text("regexp").unwrap_or_default();
    let replacement = text("replace").unwrap_or_default();
    let encoding = text("encoding").unwrap_or_else(|| "utf-8".into());
    if !matches!(
        encoding.to_lowercase().replace('_', "-").as_str(),
        "utf-8" | "utf8" | "ascii"
    ) {
        return Err(ModuleFail::msg(format!(
            "rsible agent: replace encoding {encoding} is not supported natively (only utf-8)"
        )));
    }
    let p = Path::new(&path);
    if p.is_dir() {
        return Err(ModuleFail::msg(format!("Path {path} is a directory !")).with("rc", json!(256)));
    }
    if !p.exists() {
        return Err(ModuleFail::msg(format!("Path {path} does not exist !")).with("rc", json!(257)));
    }
    let bytes = std::fs::read(p).map_err(|e| {
        ModuleFail::msg(format!(
            "Unable to read the contents of {path}: {}",
            crate::util::fs_attrs::py_os_error(&e, p)
        ))
    })?;
    let contents = String::from_utf8(bytes).map_err(|_| {
        ModuleFail::msg(format!(
            "rsible agent: {path} is not valid {encoding}; replace needs text"
        ))
    })?;

    let mut res = Map::new();
    res.insert("rc".into(), json!(0));
    // Empty after/before count as not given, as in Ansible (they are tested for truth).
    let after = text("after").filter(|s| !s.is_empty());
    let before = text("before").filter(|s| !s.is_empty());
    let section_pattern = section_pattern(after.as_deref(), before.as_deref());
    let (start, end) = if section_pattern.is_empty() {
        (0, contents.len())
    } else {
        let section_re = compile_section(&section_pattern)?;
        let subsection = section_re
            .capture_names()
            .iter()
            .position(|n| n.as_deref() == Some("subsection"));
        let found = section_re.captures_at(&contents, 0)?;
        match found.and_then(|spans| spans.get(subsection?).copied().flatten()) {
            Some((s, e)) => (s, e),
            None => {
                res.insert(
                    "msg".into(),
                    json!(format!(
                        "Pattern for before/after params did not match the given file: {section_pattern}"
                    )),
                );
                res.insert("changed".into(), json!(false));
                return Ok(res);
            }
        }
    };
    let section = &contents[start..end];
    let re = compile_search(&regexp)?;
    let template = Template::parse(&replacement, &re.capture_names())
        .map_err(|e| ModuleFail::msg(format!("Unable to process replace due to error: {e}")))?;
    let (new_section, count) = py_subn(&re, &template, section)?;

    let mut changed = false;
    let mut msg = String::new();
    let mut new_contents = contents.clone();
    if count > 0 && new_section != section {
        new_contents = format!("{}{new_section}{}", &contents[..start], &contents[end..]);
        msg = format!("{count} replacements made");
        changed = true;
        if ctx.diff {
            res.insert(
                "diff".into(),
                json!({
                    "before_header": path,
                    "before": contents,
                    "after_header": path,
                    "after": new_contents,
                }),
            );
        }
    }
    if changed && !ctx.check_mode {
        if params.get("backup").and_then(Value::as_bool) == Some(true) && p.exists() {
            res.insert("backup_file".into(), json!(backup_local(p)?));
        }
        write_changes(params, p, new_contents.as_bytes())?;
    }
    let (msg, changed) = check_file_attrs(params, p, ctx, changed, msg, None)?;
    res.insert("msg".into(), json!(msg));
    res.insert("changed".into(), json!(changed));
    Ok(res)
}

/// Python's `re.subn(pattern, template, text)`: every non-overlapping match, where an
/// empty match right after a previous match is still replaced (Python 3.7+).
fn py_subn(re: &PyRegex, template: &Template, text: &str) -> Result<(String, usize), ModuleFail> {
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    let mut copied_to = 0;
    let mut pos = 0;
    // Where the previous match was empty: Python allows no second empty match there.
    let mut last_empty_at = None;
    while pos <= text.len() {
        let Some(spans) = re.captures_at(text, pos)? else {
            break;
        };
        let Some((start, end)) = spans.first().copied().flatten() else {
            break;
        };
        if start == end && last_empty_at == Some(start) {
            match text[start..].chars().next() {
                Some(c) => pos = start + c.len_utf8(),
                None => break,
            }
            continue;
        }
        out.push_str(&text[copied_to..start]);
        template.expand_into(&mut out, |g| {
            spans
                .get(g)
                .copied()
                .flatten()
                .and_then(|(s, e)| text.get(s..e))
        });
        copied_to = end;
        count += 1;
        last_empty_at = (start == end).then_some(start);
        pos = end;
    }
    out.push_str(&text[copied_to..]);
    Ok((out, count))
}

/// The pattern that finds the part of the file between `after` and `before` (empty
/// when neither is given), as ansible-core builds it.
fn section_pattern(after: Option<&str>, before: Option<&str>) -> String {
    match (after, before) {
        (Some(a), Some(b)) => format!("{a}(?P<subsection>.*?){b}"),
        (Some(a), None) => format!("{a}(?P<subsection>.*)"),
        (None, Some(b)) => format!("(?P<subsection>.*){b}"),
        (None, None) => String::new(),
    }
}

fn compile_section(section_pattern: &str) -> Result<PyRegex, ModuleFail> {
    PyRegex::new(&format!("(?s){section_pattern}"))
}

fn compile_search(regexp: &str) -> Result<PyRegex, ModuleFail> {
    PyRegex::new(&format!("(?m){regexp}"))
}

/// Whether this call needs Python's `re` (a look-around, a back-reference, or anything
/// else the native engine cannot compile), so the executor runs ansible-core's module
/// instead. Decided by compiling exactly what `run` compiles, so the two never
/// disagree. Arguments are unvalidated: non-string values are left to `run`.
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let text = |k: &str| {
        args.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let section = section_pattern(text("after"), text("before"));
    if !section.is_empty() && compile_section(&section).is_err() {
        return Some("after/before pattern beyond the native regex engine");
    }
    match text("regexp") {
        Some(regexp) if compile_search(regexp).is_err() => {
            Some("regexp beyond the native regex engine")
        }
        _ => None,
    }
}

/// Whether one of the byte patterns `keys` name in `args` cannot be compiled natively
/// (`lineinfile`, `blockinfile`: see `replace::declines`).
pub(super) fn declines_bytes_patterns(args: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter()
        .filter_map(|k| args.get(*k).and_then(Value::as_str))
        .any(|p| compile_bytes(p).is_err())
}

/// Compile a Python bytes pattern (ASCII classes, `.` matches any byte) as
/// lineinfile and blockinfile use them.
pub(super) fn compile_bytes(pattern: &str) -> Result<regex::bytes::Regex, ModuleFail> {
    let translated = translate_python_pattern(pattern).map_err(ModuleFail::msg)?;
    regex::bytes::RegexBuilder::new(&translated)
        .unicode(false)
        .build()
        .map_err(|e| regex_error(pattern, &e))
}

fn regex_error(pattern: &str, e: &regex::Error) -> ModuleFail {
    ModuleFail::msg(format!(
        "rsible agent: the regular expression {pattern:?} cannot be used natively: {e}"
    ))
}

/// Whether inline flags in `pattern` turn on MULTILINE (`(?m)`, `(?im:...)`, ...).
fn sets_multiline(pattern: &str) -> bool {
    let mut rest = pattern;
    while let Some(i) = rest.find("(?") {
        let flags: String = rest[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        if flags.contains('m') {
            return true;
        }
        rest = &rest[i + 2..];
    }
    false
}

/// Translate Python `re` syntax to the `regex` crate's, or say which construct has no
/// equivalent there. Differences handled:
/// - `$` without MULTILINE also matches before a final newline in Python;
/// - `\Z` is `\z`; `\<`/`\>` are plain characters in Python but word boundaries here;
/// - a `{` that does not start a valid repetition is literal in Python; `{,n}` is `{0,n}`;
/// - `[` inside a class is literal in Python (nested class here), likewise `&&`/`~~`;
/// - `(?#...)` comments are dropped;
/// - look-around, back-references and conditionals are refused.
pub(super) fn translate_python_pattern(pattern: &str) -> Result<String, String> {
    translate(pattern, false)
}

/// Like `translate_python_pattern`, for `fancy_regex`: look-around and
/// back-references (`\N`, `(?P=name)`) pass through instead of being refused.
pub(super) fn translate_python_pattern_fancy(pattern: &str) -> Result<String, String> {
    translate(pattern, true)
}

fn translate(pattern: &str, fancy: bool) -> Result<String, String> {
    let multiline = sets_multiline(pattern);
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut class_start = 0usize;
    let mut i = 0;
    let unsupported = |what: &str| {
        Err(format!(
            "rsible agent: the regular expression {pattern:?} uses {what}, which the native regex engine does not support"
        ))
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&n) = chars.get(i + 1) else {
                return Err(format!("bad escape (end of pattern) in {pattern:?}"));
            };
            if !in_class {
                match n {
                    '1'..='9' if !fancy => return unsupported("a back-reference (\\N)"),
                    // Python reads `\12` as group 12 (or octal): keep the fallback for those.
                    '1'..='9' if chars.get(i + 2).is_some_and(char::is_ascii_digit) => {
                        return unsupported("a multi-digit back-reference (\\NN)")
                    }
                    'Z' => {
                        out.push_str("\\z");
                        i += 2;
                        continue;
                    }
                    '<' | '>' => {
                        out.push(n);
                        i += 2;
                        continue;
                    }
                    _ => {}
                }
            }
            out.push(c);
            out.push(n);
            i += 2;
            continue;
        }
        if in_class {
            match c {
                ']' if i > class_start => in_class = false,
                '[' | '&' | '~' => out.push('\\'),
                _ => {}
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push(c);
                i += 1;
                // A `]` right after `[` or `[^` is literal in both dialects.
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = i + 1;
                continue;
            }
            '$' if !multiline => {
                out.push_str("(?:\\n?\\z)");
                i += 1;
                continue;
            }
            '{' => {
                let close = chars[i + 1..].iter().position(|&x| x == '}');
                let body: Option<String> = close.map(|k| chars[i + 1..i + 1 + k].iter().collect());
                match body.as_deref().and_then(repetition_body) {
                    Some(rep) => {
                        out.push('{');
                        out.push_str(&rep);
                        out.push('}');
                        i += body.map_or(0, |b| b.chars().count()) + 2;
                    }
                    None => {
                        out.push_str("\\{");
                        i += 1;
                    }
                }
                continue;
            }
            '}' => {
                out.push_str("\\}");
                i += 1;
                continue;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..].iter().take(3).collect();
                if rest.starts_with('#') {
                    // Python comment group: skip to the closing parenthesis.
                    let close = chars[i..].iter().position(|&x| x == ')');
                    match close {
                        Some(k) => i += k + 1,
                        None => {
                            return Err(format!("missing ), unterminated comment in {pattern:?}"))
                        }
                    }
                    continue;
                }
                if !fancy && (rest.starts_with('=') || rest.starts_with('!')) {
                    return unsupported("look-ahead ((?=...) or (?!...))");
                }
                if !fancy && (rest.starts_with("<=") || rest.starts_with("<!")) {
                    return unsupported("look-behind ((?<=...) or (?<!...))");
                }
                if rest.starts_with("P=") {
                    if !fancy {
                        return unsupported("a named back-reference ((?P=name))");
                    }
                    // `(?P=name)` is spelled `\k<name>` in fancy_regex.
                    let Some(k) = chars[i..].iter().position(|&x| x == ')') else {
                        return Err(format!("missing ), unterminated name in {pattern:?}"));
                    };
                    let name: String = chars[i + 4..i + k].iter().collect();
                    out.push_str(&format!("\\k<{name}>"));
                    i += k + 1;
                    continue;
                }
                if rest.starts_with('(') {
                    return unsupported("a conditional group ((?(id)yes|no))");
                }
                if rest.starts_with('>') {
                    return unsupported("an atomic group ((?>...))");
                }
                out.push(c);
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// The inside of `{...}` if Python reads it as a repetition, in the `regex` crate's
/// spelling (`,n` becomes `0,n`).
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

/// A parsed Python replacement template (`re.sub` / `Match.expand`).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Template(Vec<Piece>);

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Group(usize),
}

impl Template {
    /// Parse `template` against a regex whose capture names are `names` (index 0 is
    /// the whole match). Errors are Python's `re.error` texts.
    pub(super) fn parse(template: &str, names: &[Option<String>]) -> Result<Template, String> {
        let group_count = names.len().saturating_sub(1);
        let mut pieces = Vec::new();
        let mut text = String::new();
        let chars: Vec<char> = template.chars().collect();
        let mut i = 0;
        let group = |pieces: &mut Vec<Piece>, text: &mut String, g: usize| {
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(text)));
            }
            pieces.push(Piece::Group(g));
        };
        while i < chars.len() {
            let c = chars[i];
            if c != '\\' {
                text.push(c);
                i += 1;
                continue;
            }
            let Some(&n) = chars.get(i + 1) else {
                return Err("bad escape (end of pattern) at position ".to_string() + &i.to_string());
            };
            i += 2;
            match n {
                'g' => {
                    if chars.get(i) != Some(&'<') {
                        return Err(format!("missing < at position {i}"));
                    }
                    let close = chars[i..].iter().position(|&x| x == '>');
                    let Some(k) = close else {
                        return Err(format!(
                            "missing >, unterminated name at position {}",
                            i + 1
                        ));
                    };
                    let name: String = chars[i + 1..i + k].iter().collect();
                    i += k + 1;
                    let index = if !name.is_empty() && name.chars().all(|c| c.is_ascii_digit()) {
                        let g: usize = name
                            .parse()
                            .map_err(|_| format!("invalid group reference {name}"))?;
                        if g > group_count {
                            return Err(format!("invalid group reference {g}"));
                        }
                        g
                    } else {
                        names
                            .iter()
                            .position(|n| n.as_deref() == Some(name.as_str()))
                            .ok_or_else(|| format!("unknown group name '{name}'"))?
                    };
                    group(&mut pieces, &mut text, index);
                }
                '0' => {
                    // Octal escape: \0 plus up to two more octal digits.
                    let mut value = 0u32;
                    let mut taken = 0;
                    while taken < 2 && chars.get(i).is_some_and(|c| ('0'..='7').contains(c)) {
                        value = value * 8 + chars[i].to_digit(8).unwrap_or(0);
                        i += 1;
                        taken += 1;
                    }
                    text.push(char::from_u32(value).unwrap_or('\0'));
                }
                '1'..='9' => {
                    let d1 = n;
                    let d2 = chars.get(i).copied().filter(char::is_ascii_digit);
                    let d3 = d2.and(
                        chars
                            .get(i + 1)
                            .copied()
                            .filter(|c| ('0'..='7').contains(c)),
                    );
                    if let (Some(d2), Some(d3)) = (d2, d3) {
                        if ('0'..='7').contains(&d1) && ('0'..='7').contains(&d2) {
                            let v = u32::from_str_radix(&format!("{d1}{d2}{d3}"), 8).unwrap_or(0);
                            if v > 0o377 {
                                return Err(format!(
                                    "octal escape value \\{d1}{d2}{d3} outside of range 0-0o377 at position {}",
                                    i - 2
                                ));
                            }
                            text.push(char::from_u32(v).unwrap_or('\0'));
                            i += 2;
                            continue;
                        }
                    }
                    let mut g = d1.to_digit(10).unwrap_or(0) as usize;
                    if let Some(d2) = d2 {
                        g = g * 10 + d2.to_digit(10).unwrap_or(0) as usize;
                        i += 1;
                    }
                    if g > group_count {
                        return Err(format!("invalid group reference {g} at position {}", i - 1));
                    }
                    group(&mut pieces, &mut text, g);
                }
                'a' => text.push('\x07'),
                'b' => text.push('\x08'),
                'f' => text.push('\x0c'),
                'n' => text.push('\n'),
                'r' => text.push('\r'),
                't' => text.push('\t'),
                'v' => text.push('\x0b'),
                '\\' => text.push('\\'),
                other if other.is_ascii_alphabetic() => {
                    return Err(format!("bad escape \\{other} at position {}", i - 2));
                }
                other => {
                    text.push('\\');
                    text.push(other);
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template(pieces))
    }

    /// Append the expansion to `out`; unmatched groups expand to nothing (Python 3.5+).
    pub(super) fn expand_into<'a>(
        &self,
        out: &mut String,
        group: impl Fn(usize) -> Option<&'a str>,
    ) {
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Group(g) => out.push_str(group(*g).unwrap_or("")),
            }
        }
    }

    /// The bytes version, for lineinfile's `backrefs`.
    pub(super) fn expand_bytes<'a>(&self, group: impl Fn(usize) -> Option<&'a [u8]>) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.extend_from_slice(t.as_bytes()),
                Piece::Group(g) => out.extend_from_slice(group(*g).unwrap_or(b"")),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;
    use std::fs;

    fn call(args: Value) -> Value {
        run_module(
            "replace",
            args.as_object().unwrap(),
            &ModuleContext::default(),
        )
    }

    #[test]
    fn replaces_with_groups_only_after_the_anchor() {
        // Reference: replace regexp='^a=(\d)$' replace='A=\g<1>\1' after='\[s\]'
        // on "a=1\nb=2\n[s]\na=3\n" gave "1 replacements made" and "A=33".
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r");
        fs::write(&p, "a=1\nb=2\n[s]\na=3\n").unwrap();
        let r = call(
            json!({"path": p, "regexp": "^a=(\\d)$", "replace": "A=\\g<1>\\1", "after": "\\[s\\]"}),
        );
        assert_eq!(r["msg"], json!("1 replacements made"), "{r}");
        assert_eq!(r["rc"], json!(0));
        assert_eq!(fs::read_to_string(&p).unwrap(), "a=1\nb=2\n[s]\nA=33\n");
        let r = call(
            json!({"path": p, "regexp": "^a=(\\d)$", "replace": "A=\\g<1>\\1", "after": "\\[s\\]"}),
        );
        assert_eq!(r["changed"], json!(false));
        assert_eq!(r["msg"], json!(""));
    }

    #[test]
    fn empty_matches_follow_python_rules() {
        // Reference: replace regexp='a*' replace='-' on "baac\n" gave "-b--c-\n-", 5.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r");
        fs::write(&p, "baac\n").unwrap();
        let r = call(json!({"path": p, "regexp": "a*", "replace": "-"}));
        assert_eq!(r["msg"], json!("5 replacements made"));
        assert_eq!(fs::read_to_string(&p).unwrap(), "-b--c-\n-");
    }

    #[test]
    fn section_not_found_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r");
        fs::write(&p, "x\n").unwrap();
        let r = call(json!({"path": p, "regexp": "zzz", "before": "nomatch"}));
        assert_eq!(
            r["msg"],
            json!("Pattern for before/after params did not match the given file: (?P<subsection>.*)nomatch")
        );
        assert_eq!(r["changed"], json!(false));
        let r = call(json!({"path": dir.path().join("no"), "regexp": "x"}));
        assert_eq!(r["rc"], json!(257));
        let r = call(json!({"path": p, "regexp": "x", "replace": "\\q"}));
        assert_eq!(r["failed"], json!(true));
        assert_eq!(
            r["msg"],
            json!("Unable to process replace due to error: bad escape \\q at position 0")
        );
    }

    #[test]
    fn python_only_patterns_leave_the_call_to_python() {
        let native = |module: &str, args: Value| {
            let Value::Object(args) = args else {
                panic!("arguments must be a map")
            };
            crate::modules::runs_natively(module, &args)
        };
        // Kubespray's two resolv.conf patterns (look-ahead, negative look-ahead).
        let before_block = "^search\\s[^#]*(?=# Ansible entries BEGIN)";
        let after_block = "(# Ansible entries END\\n(?:(?!^search\\s).*\\n)*)(?:^search\\s.*\\n?)+";
        // replace runs them natively through fancy-regex.
        assert!(native(
            "replace",
            json!({"path": "/f", "regexp": before_block})
        ));
        assert!(native(
            "ansible.builtin.replace",
            json!({"path": "/f", "regexp": after_block, "replace": "\\1"})
        ));
        assert!(native("replace", json!({"path": "/f", "regexp": "(a)\\1"})));
        assert!(native(
            "replace",
            json!({"path": "/f", "regexp": "x", "after": "(?<=a)b"})
        ));
        // Conditionals, atomic groups and multi-digit references still go to Python.
        assert!(!native(
            "replace",
            json!({"path": "/f", "regexp": "(a)?(?(1)b|c)"})
        ));
        assert!(!native("replace", json!({"path": "/f", "regexp": "(?>a)"})));
        assert!(!native(
            "replace",
            json!({"path": "/f", "regexp": "(a)\\12"})
        ));
        assert!(!native(
            "lineinfile",
            json!({"path": "/f", "regex": "(?<=^ns )1", "line": "l"})
        ));
        assert!(!native(
            "lineinfile",
            json!({"path": "/f", "line": "l", "insertbefore": "(?=x)"})
        ));
        assert!(!native(
            "blockinfile",
            json!({"path": "/f", "insertafter": "^d(?= c)"})
        ));
        // Plain patterns, BOF/EOF and non-string values stay native.
        assert!(native(
            "replace",
            json!({"path": "/f", "regexp": "^options ndots:5$", "after": "BEGIN"})
        ));
        assert!(native(
            "ansible.builtin.lineinfile",
            json!({"path": "/f", "regexp": "^# keep", "line": "l", "insertafter": "EOF"})
        ));
        assert!(native(
            "blockinfile",
            json!({"path": "/f", "insertbefore": "BOF", "block": "b"})
        ));
        assert!(native("replace", json!({"path": "/f", "regexp": 5})));
        // find and wait_for compile their patterns the same way.
        assert!(!native(
            "find",
            json!({"paths": "/f", "contains": "a(?=b)"})
        ));
        assert!(!native(
            "find",
            json!({"paths": "/f", "patterns": "x,(?<=a)b", "use_regex": "yes"})
        ));
        assert!(native(
            "find",
            json!({"paths": "/f", "patterns": ["(?<=a)b"]})
        ));
        assert!(native(
            "find",
            json!({"paths": "/f", "patterns": ["^a.*"], "use_regex": true, "contains": "^x"})
        ));
        assert!(!native(
            "wait_for",
            json!({"path": "/f", "search_regex": "(a)\\1"})
        ));
        assert!(native(
            "wait_for",
            json!({"path": "/f", "search_regex": "ready$"})
        ));
    }

    #[test]
    fn python_syntax_translation() {
        let t = |p: &str| translate_python_pattern(p).unwrap();
        assert_eq!(t("a{"), "a\\{");
        assert_eq!(t("a{,2}b{3}"), "a{0,2}b{3}");
        assert_eq!(t("[[]x"), "[\\[]x");
        assert_eq!(t("end$"), "end(?:\\n?\\z)");
        assert_eq!(t("(?m)end$"), "(?m)end$");
        assert_eq!(t("a\\Z(?#note)"), "a\\z");
        assert_eq!(t("[]$]"), "[]$]");
        assert!(translate_python_pattern("(?<!x)y")
            .unwrap_err()
            .contains("look-behind"));
        assert!(translate_python_pattern("(a)\\1")
            .unwrap_err()
            .contains("back-reference"));
        let re = compile_bytes("^x{").unwrap();
        assert!(re.is_match(b"x{"));
    }

    #[test]
    fn look_around_and_back_references_run_natively() {
        // Reference: Python re.subn with these patterns and flags=re.MULTILINE.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r");
        fs::write(&p, "ab ac\nxx yy\nna=1 nb=1\n").unwrap();
        let r = call(json!({"path": p, "regexp": "a(?!b)", "replace": "A"}));
        assert_eq!(r["msg"], json!("2 replacements made"), "{r}");
        let r = call(json!({"path": p, "regexp": "(?<=n)(?P<k>[ab])=1", "replace": "\\g<k>=2"}));
        assert_eq!(r["msg"], json!("1 replacements made"), "{r}");
        let r = call(json!({"path": p, "regexp": "(?P<c>\\w)(?P=c)", "replace": "<\\g<0>>"}));
        assert_eq!(r["msg"], json!("2 replacements made"), "{r}");
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "ab Ac\n<xx> <yy>\nnA=1 nb=2\n"
        );
    }

    #[test]
    fn fancy_translation() {
        let t = |p: &str| translate_python_pattern_fancy(p).unwrap();
        assert_eq!(t("(?P<c>x)(?P=c)\\1$"), "(?P<c>x)\\k<c>\\1(?:\\n?\\z)");
        assert_eq!(t("(?<=a)(?!b)"), "(?<=a)(?!b)");
        assert!(translate_python_pattern_fancy("(a)?(?(1)b)").is_err());
    }

    #[test]
    fn template_parsing() {
        let names = vec![None, Some("n".to_string())];
        let t = Template::parse("<\\g<n>|\\1|\\n|\\.>", &names).unwrap();
        let mut out = String::new();
        t.expand_into(&mut out, |g| (g == 1).then_some("v"));
        assert_eq!(out, "<v|v|\n|\\.>");
        assert_eq!(
            Template::parse("\\2", &names).unwrap_err(),
            "invalid group reference 2 at position 1"
        );
    }
}
