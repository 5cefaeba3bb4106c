//! The little templating the loader needs before any host is known: play
//! names and hosts, role names and import paths may be written as
//! `{{ var }}` or `{{ var | default('x') }}` over play vars and extra vars.
//! This local helper covers those forms until rsible-templar is wired in;
//! anything else is left as written.

use indexmap::IndexMap;
use rsible_yaml::{Node, Value};

pub type Vars = IndexMap<String, Node>;

fn lookup<'v>(name: &str, layers: &[&'v Vars]) -> Option<&'v Node> {
    // later layers win (extra vars are passed last)
    layers.iter().rev().find_map(|l| l.get(name))
}

fn scalar(node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) | Value::Unsafe(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        _ => None,
    }
}

fn eval_expr(expr: &str, layers: &[&Vars]) -> Option<String> {
    let mut parts = expr.splitn(2, '|');
    let var = parts.next()?.trim();
    if !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || var.is_empty() {
        return None;
    }
    let value = lookup(var, layers).and_then(scalar);
    match parts.next().map(str::trim) {
        None => value,
        Some(filter) => {
            let arg = filter
                .strip_prefix("default(")
                .or_else(|| filter.strip_prefix("d("))?
                .strip_suffix(')')?
                .trim();
            let quoted = (arg.starts_with('\'') && arg.ends_with('\''))
                || (arg.starts_with('"') && arg.ends_with('"'));
            if !quoted || arg.len() < 2 {
                return None;
            }
            Some(value.unwrap_or_else(|| arg[1..arg.len() - 1].to_string()))
        }
    }
}

/// Template `text`, replacing each `{{ ... }}` this helper understands.
pub fn render(text: &str, layers: &[&Vars]) -> String {
    if !text.contains("{{") {
        return text.to_string();
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let expr = &rest[start + 2..start + len];
        match eval_expr(expr.trim(), layers) {
            Some(v) => {
                out.push_str(&rest[..start]);
                out.push_str(&v);
            }
            None => out.push_str(&rest[..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_vars_and_defaults() {
        let mut vars = Vars::new();
        vars.insert("node".into(), Node::unplaced(Value::Str("n1".into())));
        let empty = Vars::new();
        assert_eq!(render("{{ node | default('x') }}", &[&vars]), "n1");
        assert_eq!(
            render("{{ node | default('this_is_unreachable') }}", &[&empty]),
            "this_is_unreachable"
        );
        assert_eq!(render("a {{ node }} b", &[&vars]), "a n1 b");
        assert_eq!(render("{{ groups['x'] }}", &[&vars]), "{{ groups['x'] }}");
    }
}
