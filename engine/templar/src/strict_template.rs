//! Ansible's strict undefined inside whole templates: the expressions of
//! `{{ }}`, `{% if %}`/`{% elif %}`, `{% for %}` and `{% set x = %}` get the
//! guards `strict_undefined` gives conditionals, so that `{% if nope %}`,
//! `{% for i in nope %}`, `{{ nope | length }}` or `{{ nope ~ 'x' }}` fail
//! with "'nope' is undefined" as in ansible-core 2.18, where minijinja's
//! chainable undefined would render false or empty.
//!
//! The template is tokenised with minijinja's lexer (token spans are exact;
//! the parser's expression spans are not), each tag's expression text is
//! re-printed guarded and spliced back in. The line count of each expression
//! is kept so that error positions still point at the original lines.

use minijinja::machinery::{tokenize, Span, Token};
use minijinja::syntax::SyntaxConfig;

use crate::strict_undefined::guard_expression_with;

/// The template with guarded expressions, or None when nothing needed a
/// guard (or the template does not tokenise: the compiler then reports it).
/// `loop_names` are the names each `for` body (in source order) resolves at
/// each iteration (see eager_resolve): a call looking them up is put at the
/// start of the body.
pub fn guard_template(
    source: &str,
    syntax: SyntaxConfig,
    loop_names: &[Vec<String>],
) -> Option<String> {
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut loop_starts: Vec<(usize, String)> = Vec::new();
    let mut loops_seen = 0usize;
    let (block_open, block_close) = syntax.block_delimiters();
    let (block_open, block_close) = (block_open.to_string(), block_close.to_string());
    let mut tokens = tokenize(source, false, syntax);
    while let Some(item) = tokens.next() {
        let (token, _) = item.ok()?;
        let is_block = match token {
            Token::VariableStart => false,
            Token::BlockStart => true,
            _ => continue,
        };
        let mut tag: Vec<(Token<'_>, Span)> = Vec::new();
        let tag_end = loop {
            let (t, span) = tokens.next()?.ok()?;
            if matches!(t, Token::VariableEnd | Token::BlockEnd) {
                break span;
            }
            tag.push((t, span));
        };
        if is_block && matches!(tag.first(), Some((Token::Ident("for"), _))) {
            if let Some(names) = loop_names.get(loops_seen).filter(|n| !n.is_empty()) {
                let end = tag_end.end_offset as usize;
                let trims = source
                    .get(tag_end.start_offset as usize..end)
                    .is_some_and(|t| t.starts_with('-'));
                loop_starts.push((end, resolve_call(names, trims, (&block_open, &block_close))));
            }
            loops_seen += 1;
        }
        for (range, guard_top) in tag_expressions(&tag, is_block) {
            let (Some(first), Some(last)) = (tag.get(range.start), tag.get(range.end - 1)) else {
                continue;
            };
            let (start, end) = (first.1.start_offset as usize, last.1.end_offset as usize);
            let Some(text) = source.get(start..end) else {
                continue;
            };
            // Jinja reads `for x in a, b` and `set x = a, b` as tuples;
            // minijinja needs the parentheses.
            let bare_tuple = top_level(&tag[range.clone()], 0, |t| matches!(t, Token::Comma))
                .is_some()
                && is_block;
            let text = if bare_tuple {
                format!("({text})")
            } else {
                text.to_string()
            };
            let edited = match guard_expression_with(&text, guard_top) {
                Some(guarded) => Some(guarded),
                None if bare_tuple => Some(text.clone()),
                None => None,
            };
            if let Some(mut edited) = edited {
                // keep the lines after this one where they were
                for _ in 0..text.matches('\n').count() {
                    edited.push('\n');
                }
                edits.push((start, end, edited));
            }
        }
    }
    // loops matched to the wrong bodies would look up the wrong names
    if loops_seen == loop_names.len() {
        edits.extend(loop_starts.into_iter().map(|(at, text)| (at, at, text)));
        edits.sort_by_key(|(start, _, _)| *start);
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(source.len() + edits.len() * 32);
    let mut at = 0;
    for (start, end, text) in edits {
        out.push_str(source.get(at..start)?);
        out.push_str(&text);
        at = end;
    }
    out.push_str(source.get(at..)?);
    Some(out)
}

/// A tag pair that looks `names` up and prints nothing; it ends the way the
/// `for` tag before it ended, so `-%}` still strips what follows.
fn resolve_call(names: &[String], trims: bool, (open, close): (&str, &str)) -> String {
    let mut call = format!("{open} if {}(", crate::eager_resolve::RESOLVE);
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            call.push_str(", ");
        }
        call.push('"');
        call.push_str(name);
        call.push('"');
    }
    call.push_str(") ");
    call.push_str(close);
    call.push_str(open);
    call.push_str(" endif ");
    if trims {
        call.push('-');
    }
    call.push_str(close);
    call
}

/// The token ranges of the expressions a tag evaluates, each with whether
/// its value's truth or items are taken (then an undefined result fails).
fn tag_expressions(
    tag: &[(Token<'_>, Span)],
    is_block: bool,
) -> Vec<(std::ops::Range<usize>, bool)> {
    if !is_block {
        // `{{ expr }}`: printing an undefined result already fails
        return non_empty(vec![(0..tag.len(), false)]);
    }
    let keyword = match tag.first() {
        Some((Token::Ident(k), _)) => *k,
        _ => return Vec::new(),
    };
    match keyword {
        "if" | "elif" => non_empty(vec![(1..tag.len(), true)]),
        "for" => {
            // for TARGET in ITER [if FILTER] [recursive]
            let Some(in_at) = top_level_ident(tag, 1, "in") else {
                return Vec::new();
            };
            let mut end = tag.len();
            if matches!(tag.last(), Some((Token::Ident("recursive"), _))) {
                end -= 1;
            }
            match top_level_ident(&tag[..end], in_at + 1, "if") {
                Some(if_at) => non_empty(vec![(in_at + 1..if_at, true), (if_at + 1..end, true)]),
                None => non_empty(vec![(in_at + 1..end, true)]),
            }
        }
        "set" => match top_level(tag, 1, |t| matches!(t, Token::Assign)) {
            Some(eq) => non_empty(vec![(eq + 1..tag.len(), false)]),
            None => Vec::new(), // a `{% set x %}...{% endset %}` block
        },
        _ => Vec::new(),
    }
}

fn non_empty(ranges: Vec<(std::ops::Range<usize>, bool)>) -> Vec<(std::ops::Range<usize>, bool)> {
    ranges
        .into_iter()
        .filter(|(r, _)| r.start < r.end)
        .collect()
}

fn top_level_ident(tag: &[(Token<'_>, Span)], from: usize, word: &str) -> Option<usize> {
    top_level(tag, from, |t| matches!(t, Token::Ident(w) if *w == word))
}

/// The first token from `from` on, outside brackets, that `pred` accepts.
fn top_level(
    tag: &[(Token<'_>, Span)],
    from: usize,
    pred: impl Fn(&Token<'_>) -> bool,
) -> Option<usize> {
    let mut depth = 0i32;
    for (i, (t, _)) in tag.iter().enumerate() {
        match t {
            Token::ParenOpen | Token::BracketOpen | Token::BraceOpen => depth += 1,
            Token::ParenClose | Token::BracketClose | Token::BraceClose => depth -= 1,
            _ if i >= from && depth == 0 && pred(t) => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strict_undefined::GUARD;

    fn guarded(s: &str) -> String {
        guard_template(s, SyntaxConfig::default(), &[]).unwrap_or_else(|| "<unchanged>".into())
    }

    #[test]
    fn conditions_and_loop_sources_are_guarded_whole() {
        let g = GUARD;
        assert_eq!(
            guarded("{% if x %}a{% endif %}"),
            format!("{{% if {g}(x) %}}a{{% endif %}}")
        );
        assert_eq!(
            guarded("{%- elif x.y -%}"),
            format!("{{%- elif {g}(x.y) -%}}")
        );
        assert_eq!(
            guarded("{% for a, b in x.items() if a recursive %}"),
            format!("{{% for a, b in {g}(x.items()) if {g}(a) recursive %}}")
        );
    }

    #[test]
    fn printed_and_assigned_values_guard_their_operands_only() {
        let g = GUARD;
        assert_eq!(guarded("{{ x }}{% set y = x %}"), "<unchanged>");
        assert_eq!(
            guarded("a {{ x | length }} b"),
            format!("a {{{{ ({g}(x) | length()) }}}} b")
        );
        assert_eq!(
            guarded("{% set y = x ~ 'a' %}"),
            format!("{{% set y = ({g}(x) ~ \"a\") %}}")
        );
    }

    #[test]
    fn raw_text_comments_and_set_blocks_are_left_alone() {
        assert_eq!(
            guarded(
                "{% raw %}{% if x %}{% endraw %}{# {{ x | length }} #}{% set y %}z{% endset %}"
            ),
            "<unchanged>"
        );
    }

    #[test]
    fn bare_tuples_get_their_parentheses() {
        let g = GUARD;
        assert_eq!(
            guarded("{% for s in 'a', \"b\" %}"),
            format!("{{% for s in {g}((\"a\", \"b\",)) %}}")
        );
        assert_eq!(guarded("{% set x = 1, 2 %}"), "{% set x = (1, 2) %}");
    }

    #[test]
    fn loop_bodies_start_by_resolving_their_names() {
        let names = vec![vec!["a".to_string(), "b".to_string()], vec![]];
        let out = guard_template(
            "{% for x in l -%}\n{% for y in x %}{{ a }}{% endfor %}{{ b }}{% endfor %}",
            SyntaxConfig::default(),
            &names,
        );
        assert_eq!(
            out.as_deref(),
            Some(
                "{% for x in __rsible_defined_or_fail(l) -%}{% if __rsible_resolve(\"a\", \"b\") %}{% endif -%}\n\
                 {% for y in __rsible_defined_or_fail(x) %}{{ a }}{% endfor %}{{ b }}{% endfor %}"
            )
        );
    }

    #[test]
    fn multi_line_expressions_keep_their_line_count() {
        let out = guarded("{% if x\n and y %}\n{{ z }}");
        assert_eq!(out.matches('\n').count(), 2, "{out}");
    }
}
