//! The import statements of a Python file, found the way Ansible's recursive
//! module_utils finder sees them: every `import a.b` and `from a.b import c`,
//! wherever it is (inside `try:` blocks and functions too). A line scanner,
//! not a Python parser: it joins bracketed and backslash-continued lines and
//! skips comments. An import-looking line inside a string may add a file to
//! the payload, which costs bytes but never breaks a module.

/// One import statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Import {
    /// `import a.b.c [as x]`: the dotted name.
    Module(String),
    /// `from <dots><base> import names`: `level` is the number of leading
    /// dots (0 for an absolute import), `names` what is imported (`*` kept).
    From {
        level: usize,
        base: String,
        names: Vec<String>,
    },
}

/// Every import statement in `source`, in order.
pub fn scan(source: &str) -> Vec<Import> {
    let mut out = Vec::new();
    for statement in logical_lines(source) {
        parse_statement(&statement, &mut out);
    }
    out
}

/// Physical lines joined into logical ones, as Python's tokenizer does: open
/// brackets, trailing backslashes and multi-line (triple-quoted) strings continue
/// a line; comments are dropped. Quoted text is skipped when counting brackets and
/// looking for `#`, so a docstring such as `V([^#])` (ansible-core's `replace`)
/// cannot swallow the imports after it. Whitespace runs become one space.
fn logical_lines(source: &str) -> Vec<String> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth: i32 = 0;
    // The open string's quote character and whether it is triple-quoted.
    let mut string: Option<(char, bool)> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some((quote, triple)) = string {
            current.push(c);
            i += 1;
            if c == '\\' {
                // An escaped character (a quote too, even in raw strings).
                if let Some(&next) = chars.get(i) {
                    current.push(next);
                    i += 1;
                }
            } else if c == quote && !triple {
                string = None;
            } else if c == quote && chars.get(i) == Some(&quote) && chars.get(i + 1) == Some(&quote)
            {
                current.push(quote);
                current.push(quote);
                i += 2;
                string = None;
            } else if c == '\n' && !triple {
                // Unterminated: a syntax error in Python; end the string here.
                string = None;
            }
            continue;
        }
        match c {
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '"' | '\'' => {
                let triple = chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c);
                let width = if triple { 3 } else { 1 };
                current.extend(std::iter::repeat_n(c, width));
                string = Some((c, triple));
                i += width;
                continue;
            }
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                current.push(' ');
                i += 2;
                continue;
            }
            '\\' if chars.get(i + 1) == Some(&'\r') && chars.get(i + 2) == Some(&'\n') => {
                current.push(' ');
                i += 3;
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = (depth - 1).max(0),
            '\n' if depth == 0 => {
                push_logical(&mut out, &mut current);
                i += 1;
                continue;
            }
            _ => {}
        }
        current.push(c);
        i += 1;
    }
    push_logical(&mut out, &mut current);
    out
}

fn push_logical(out: &mut Vec<String>, current: &mut String) {
    let line = current.split_whitespace().collect::<Vec<_>>().join(" ");
    if !line.is_empty() {
        out.push(line);
    }
    current.clear();
}

fn parse_statement(statement: &str, out: &mut Vec<Import>) {
    // `if x: import y` and `try: import y` put the import after a colon; a
    // semicolon separates statements on one line.
    for part in statement.split(';') {
        let mut text = part.trim();
        for prefix in ["try:", "else:", "finally:"] {
            if let Some(rest) = text.strip_prefix(prefix) {
                text = rest.trim();
            }
        }
        if let Some(rest) = text.strip_prefix("import ") {
            for item in rest.split(',') {
                let name = item.split_whitespace().next().unwrap_or("");
                if is_dotted_name(name) {
                    out.push(Import::Module(name.to_string()));
                }
            }
        } else if let Some(rest) = text.strip_prefix("from ") {
            let Some((base, names)) = rest.split_once(" import ") else {
                continue;
            };
            let base = base.trim();
            let level = base.chars().take_while(|c| *c == '.').count();
            let base = &base[level..];
            if !base.is_empty() && !is_dotted_name(base) {
                continue;
            }
            let names: Vec<String> = names
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .split(',')
                .filter_map(|n| n.split_whitespace().next())
                .filter(|n| *n == "*" || is_dotted_name(n))
                .map(str::to_string)
                .collect();
            out.push(Import::From {
                level,
                base: base.to_string(),
                names,
            });
        }
    }
}

fn is_dotted_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(level: usize, base: &str, names: &[&str]) -> Import {
        Import::From {
            level,
            base: base.into(),
            names: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn statements_of_every_shape() {
        let src = r#"
import os, sys
import ansible.module_utils.six as six  # comment with import x
from ansible.module_utils.basic import AnsibleModule
try:
    from ansible.module_utils.common.text.converters import (
        to_bytes,
        to_text as t,
    )
except ImportError:
    pass
from ..module_utils.helper import thing
from . import sibling
from ansible.module_utils.basic import *  # noqa
x = "from nowhere import y"
DOC = r'''
  a negated character set like V([^#]) will also not match newlines.
import ansible.module_utils.in_a_docstring
'''
y = 'it\'s (' ; z = '#('
from a.b \
    import c
"#;
        assert_eq!(
            scan(src),
            vec![
                Import::Module("os".into()),
                Import::Module("sys".into()),
                Import::Module("ansible.module_utils.six".into()),
                from(0, "ansible.module_utils.basic", &["AnsibleModule"]),
                from(
                    0,
                    "ansible.module_utils.common.text.converters",
                    &["to_bytes", "to_text"]
                ),
                from(2, "module_utils.helper", &["thing"]),
                from(1, "", &["sibling"]),
                from(0, "ansible.module_utils.basic", &["*"]),
                from(0, "a.b", &["c"]),
            ]
        );
    }
}
