//! Text-level facts about template strings, decided before any parsing:
//! does it look like a template, is it one bare expression, which backslashes
//! need doubling, which `#jinja2:` overrides it carries.

/// Ansible's `is_possibly_template`: any of the three start delimiters.
pub fn is_possibly_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// Jinja's lexer stops wherever the source ends, in any state: a comment
/// opener (`{#`, `{#-`, `{#+`) that ends the text (after the one trailing
/// newline Jinja drops unless `keep_trailing_newline`) opens a comment that
/// is never read, so the template is the text before it ("a {#" renders
/// "a "; `open`/`close` are the comment delimiters). minijinja refuses any
/// unclosed comment; this closes such a trailing one where it stands, so minijinja gives Jinja's result (an opener inside
/// an unclosed tag, string or raw block still fails). None when `s` does not
/// end with an opener.
pub fn close_trailing_comment(
    s: &str,
    keep_trailing_newline: bool,
    (open, close): (&str, &str),
) -> Option<String> {
    if open.is_empty() {
        return None;
    }
    let (text, newline) = match s.strip_suffix('\n') {
        Some(t) if !keep_trailing_newline => (t, "\n"),
        _ => (s, ""),
    };
    let opener = text.strip_suffix(['-', '+']).unwrap_or(text);
    if !opener.ends_with(open) {
        return None;
    }
    Some(format!("{text}{close}{newline}"))
}

/// Ansible's stricter `is_template`: a start delimiter followed later by the
/// matching end delimiter.
pub fn is_template(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'{' {
            let close = match bytes[i + 1] {
                b'{' => "}}",
                b'%' => "%}",
                b'#' => "#}",
                _ => {
                    i += 1;
                    continue;
                }
            };
            return s[i + 2..].contains(close);
        }
        i += 1;
    }
    false
}

/// Ansible's `SINGLE_VAR`: `{{ name }}` with a bare word inside.
pub fn single_var(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    let name = inner.trim();
    if name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        Some(name)
    } else {
        None
    }
}

/// The expression of a string that is exactly one `{{ ... }}` (whitespace
/// control markers removed), or `None`.
pub fn single_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    let inner = inner.strip_suffix(['-', '+']).unwrap_or(inner);
    if inner.contains("{{")
        || inner.contains("}}")
        || inner.contains("{%")
        || inner.contains("{#")
        || inner.contains("%}")
    {
        return None;
    }
    let trimmed = inner.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(trimmed)
}

/// Splits an expression at top-level `|` (outside strings and brackets) and
/// returns the name of the last filter applied, if any.
pub fn outermost_filter(expr: &str) -> Option<&str> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut last_pipe = None;
    for (i, c) in expr.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            '|' if depth == 0 => last_pipe = Some(i),
            _ => {}
        }
    }
    let rest = expr[last_pipe? + 1..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let name = &rest[..end];
    // only a filter applied to the whole expression counts
    let tail = rest[end..].trim();
    if tail.is_empty() || (tail.starts_with('(') && tail.ends_with(')')) {
        Some(name)
    } else {
        None
    }
}

/// Ansible's `_escape_backslashes`: inside `{{ }}`, backslashes in string
/// literals are doubled, so `'\1'` written once in YAML reaches Jinja as `\1`.
pub fn escape_backslashes(s: &str) -> String {
    if !s.contains('\\') || !s.contains("{{") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    loop {
        // skip raw blocks untouched
        let next_var = rest.find("{{");
        let next_raw = find_raw_start(rest);
        match (next_var, next_raw) {
            (_, Some((raw_at, raw_body))) if next_var.is_none_or(|v| raw_at < v) => {
                let end = rest[raw_body..].find("endraw").map(|e| raw_body + e);
                match end.and_then(|e| rest[e..].find("%}").map(|c| e + c + 2)) {
                    Some(stop) => {
                        out.push_str(&rest[..stop]);
                        rest = &rest[stop..];
                    }
                    None => {
                        out.push_str(rest);
                        return out;
                    }
                }
            }
            (Some(v), _) => {
                out.push_str(&rest[..v + 2]);
                rest = &rest[v + 2..];
                // inside a variable tag: copy, doubling backslashes in strings
                let mut quote: Option<char> = None;
                let mut chars = rest.char_indices().peekable();
                let mut consumed = rest.len();
                while let Some((i, c)) = chars.next() {
                    match quote {
                        Some(q) => {
                            if c == '\\' {
                                out.push_str("\\\\");
                                if let Some(&(_, n)) = chars.peek() {
                                    if n == q || n == '\\' {
                                        // an escaped quote or backslash: both doubled forms stay paired
                                        chars.next();
                                        if n == '\\' {
                                            out.push_str("\\\\");
                                        } else {
                                            out.push(n);
                                        }
                                    }
                                }
                                continue;
                            }
                            if c == q {
                                quote = None;
                            }
                            out.push(c);
                        }
                        None => {
                            if c == '}' && rest[i..].starts_with("}}") {
                                consumed = i;
                                break;
                            }
                            if c == '\'' || c == '"' {
                                quote = Some(c);
                            }
                            out.push(c);
                        }
                    }
                }
                rest = &rest[consumed..];
                if rest.is_empty() {
                    return out;
                }
            }
            (None, _) => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

fn find_raw_start(s: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(p) = s[from..].find("{%") {
        let at = from + p;
        let after = s[at + 2..].trim_start_matches(['-', '+']).trim_start();
        if after.starts_with("raw") {
            let close = s[at..].find("%}")?;
            return Some((at, at + close + 2));
        }
        from = at + 2;
    }
    None
}

/// Jinja options a `#jinja2:` first line may override.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderOverrides {
    pub trim_blocks: Option<bool>,
    pub lstrip_blocks: Option<bool>,
    pub keep_trailing_newline: Option<bool>,
}

/// Splits off a `#jinja2: key: value, ...` first line.
pub fn jinja2_header(s: &str) -> Result<(HeaderOverrides, &str), String> {
    let Some(rest) = s.strip_prefix("#jinja2:") else {
        return Ok((HeaderOverrides::default(), s));
    };
    let (line, body) = match rest.find('\n') {
        Some(eol) => (&rest[..eol], &rest[eol + 1..]),
        None => (rest, ""),
    };
    let mut o = HeaderOverrides::default();
    for pair in line.split(',') {
        let Some((key, val)) = pair.split_once(':') else {
            return Err(format!(
                "failed to parse jinja2 override '{}'. Did you use something different from colon as key-value separator?",
                pair.trim()
            ));
        };
        let val = match val.trim() {
            "True" => true,
            "False" => false,
            _ => continue,
        };
        match key.trim() {
            "trim_blocks" => o.trim_blocks = Some(val),
            "lstrip_blocks" => o.lstrip_blocks = Some(val),
            "keep_trailing_newline" => o.keep_trailing_newline = Some(val),
            _ => {}
        }
    }
    Ok((o, body))
}

/// Wraps list/dict literals assigned by `{% set name = [...] %}` /
/// `{% set name = {...} %}` in a call that makes them mutable containers, so
/// that `.append()`/`.update()` on them work as in Python.
#[cfg(test)]
pub fn mutable_set_literals(s: &str, wrapper: &str) -> String {
    mutable_set_literals_in(s, wrapper, ("{%", "%}"))
}

/// [`mutable_set_literals`] with the block tags `open` ... `close`.
pub fn mutable_set_literals_in(s: &str, wrapper: &str, (open, close): (&str, &str)) -> String {
    if !s.contains("set") || open.is_empty() || close.is_empty() {
        return s.to_string();
    }
    let olen = open.len();
    let mut out = String::with_capacity(s.len() + 32);
    let mut rest = s;
    while let Some(p) = rest.find(open) {
        let tag = &rest[p + olen..];
        let body = tag.trim_start_matches(['-', '+']).trim_start();
        let literal_at = body
            .strip_prefix("set")
            .filter(|b| b.starts_with(char::is_whitespace))
            .and_then(|b| {
                let b2 = b.trim_start();
                let name_end = b2.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
                if name_end == 0 {
                    return None;
                }
                let after = b2[name_end..].trim_start().strip_prefix('=')?.trim_start();
                if after.starts_with('[') || after.starts_with('{') {
                    Some(s.len() - (rest.len() - (p + olen) - (tag.len() - after.len())))
                } else {
                    None
                }
            });
        let Some(abs_lit) = literal_at else {
            out.push_str(&rest[..p + olen]);
            rest = &rest[p + olen..];
            continue;
        };
        let rel_lit = abs_lit - (s.len() - rest.len());
        // find the tag end outside strings
        let mut quote: Option<char> = None;
        let mut end = None;
        let mut prev = '\0';
        for (i, c) in rest[rel_lit..].char_indices() {
            if let Some(q) = quote {
                if c == q && prev != '\\' {
                    quote = None;
                }
            } else if c == '\'' || c == '"' {
                quote = Some(c);
            } else if rest[rel_lit + i..].starts_with(close) {
                end = Some(rel_lit + i);
                break;
            }
            prev = c;
        }
        let Some(mut end) = end else {
            out.push_str(rest);
            return out;
        };
        if rest[..end].ends_with(['-', '+']) {
            end -= 1;
        }
        out.push_str(&rest[..rel_lit]);
        out.push_str(wrapper);
        out.push('(');
        out.push_str(rest[rel_lit..end].trim_end());
        out.push_str(") ");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_comment_openers_are_closed() {
        const D: (&str, &str) = ("{#", "#}");
        assert_eq!(
            close_trailing_comment("a {#", false, D).as_deref(),
            Some("a {##}")
        );
        assert_eq!(
            close_trailing_comment("a {#-", false, D).as_deref(),
            Some("a {#-#}")
        );
        assert_eq!(
            close_trailing_comment("a {#\n", false, D).as_deref(),
            Some("a {##}\n")
        );
        assert_eq!(close_trailing_comment("a {#\n", true, D), None);
        assert_eq!(
            close_trailing_comment("a <#", false, ("<#", "#>")).as_deref(),
            Some("a <##>")
        );
        assert_eq!(close_trailing_comment("a {#", false, ("<#", "#>")), None);
        assert_eq!(close_trailing_comment("a {#\n\n", false, D), None);
        assert_eq!(close_trailing_comment("a {# b", false, D), None);
        assert_eq!(close_trailing_comment("a {{ b }}", false, D), None);
    }

    #[test]
    fn detection() {
        assert!(is_possibly_template("a {# b"));
        assert!(!is_template("a {{ b"));
        assert!(is_template("a {{ b }}"));
        assert_eq!(single_var("{{ foo }}"), Some("foo"));
        assert_eq!(single_var("{{ foo.bar }}"), None);
        assert_eq!(single_expression("{{- a | b -}}"), Some("a | b"));
        assert_eq!(single_expression("{{ a }} {{ b }}"), None);
        assert_eq!(outermost_filter("x | to_json"), Some("to_json"));
        assert_eq!(outermost_filter("x | string | length"), Some("length"));
        assert_eq!(outermost_filter("(x | string) + 'a'"), None);
        assert_eq!(
            outermost_filter("x | to_nice_yaml(indent=2)"),
            Some("to_nice_yaml")
        );
    }

    #[test]
    fn backslashes_doubled_only_in_expression_strings() {
        assert_eq!(
            escape_backslashes(r"a\1 {{ x | regex_replace('(a)', '\1') }} b\2"),
            r"a\1 {{ x | regex_replace('(a)', '\\1') }} b\2"
        );
        assert_eq!(
            escape_backslashes(r"{% raw %}{{ '\1' }}{% endraw %}"),
            r"{% raw %}{{ '\1' }}{% endraw %}"
        );
    }

    #[test]
    fn header() {
        let (o, body) =
            jinja2_header("#jinja2: trim_blocks: True, lstrip_blocks: True\nbody").unwrap();
        assert_eq!(o.lstrip_blocks, Some(true));
        assert_eq!(body, "body");
    }

    #[test]
    fn set_literals_wrapped() {
        assert_eq!(
            mutable_set_literals("{% set c = {'a': '%}'} -%}x", "m"),
            "{% set c = m({'a': '%}'}) -%}x"
        );
        assert_eq!(
            mutable_set_literals("{% set c = x %}", "m"),
            "{% set c = x %}"
        );
    }
}
