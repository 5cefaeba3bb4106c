//! The filters and tests a template names, found from its tokens. Jinja
//! loads them when it compiles the template, so an unknown one fails the
//! template even where it sits in a branch that is never taken; minijinja
//! looks them up only when the expression runs.

use minijinja::machinery::{tokenize, Token};
use minijinja::syntax::SyntaxConfig;

/// A filter (`x | name`) or a test (`x is name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PluginKind {
    Filter,
    Test,
}

/// Every filter and test name in `source` (a whole template, or one bare
/// expression when `in_expr`), dotted names joined; empty when it does not
/// tokenise (the compiler reports that).
pub fn plugin_names(
    source: &str,
    in_expr: bool,
    syntax: SyntaxConfig,
) -> Vec<(PluginKind, String)> {
    let mut tokens = Vec::new();
    for item in tokenize(source, in_expr, syntax) {
        match item {
            Ok((t, _)) => tokens.push(t),
            Err(_) => return Vec::new(),
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let kind = match &tokens[i] {
            Token::Pipe => Some(PluginKind::Filter),
            Token::Ident("is") => Some(PluginKind::Test),
            _ => None,
        };
        i += 1;
        let Some(kind) = kind else { continue };
        if kind == PluginKind::Test && matches!(tokens.get(i), Some(Token::Ident("not"))) {
            i += 1;
        }
        let mut name = String::new();
        while let Some(Token::Ident(part)) = tokens.get(i) {
            name.push_str(part);
            i += 1;
            if matches!(tokens.get(i), Some(Token::Dot))
                && matches!(tokens.get(i + 1), Some(Token::Ident(_)))
            {
                name.push('.');
                i += 1;
            } else {
                break;
            }
        }
        if !name.is_empty() {
            out.push((kind, name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_tests_with_dotted_names() {
        let names = plugin_names(
            "{% if a is not defined %}{{ b | ansible.utils.ipaddr('x') | d(1) }}{% endif %}{{ 'a|b' }}",
            false,
            SyntaxConfig::default(),
        );
        assert_eq!(
            names,
            [
                (PluginKind::Test, "defined".to_string()),
                (PluginKind::Filter, "ansible.utils.ipaddr".to_string()),
                (PluginKind::Filter, "d".to_string()),
            ]
        );
        assert_eq!(
            plugin_names("x is version('1', '>')", true, SyntaxConfig::default()),
            [(PluginKind::Test, "version".to_string())]
        );
    }
}
