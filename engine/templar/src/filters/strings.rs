//! String filters and Python's `%`/`str.format` formatting.

use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind};

use crate::python_repr::str_of;

/// Python's `str.format` for the common cases: `{}`, `{0}`, `{name}`,
/// `{{`/`}}`, and a format spec passed through for strings.
pub fn python_format(fmt: &str, args: &[Value], kwargs: Option<&Kwargs>) -> Result<String, Error> {
    let mut out = String::new();
    let mut auto = 0usize;
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    field.push(d);
                }
                let name = field.split([':', '!']).next().unwrap_or("");
                let v = if name.is_empty() {
                    auto += 1;
                    args.get(auto - 1).cloned()
                } else if let Ok(i) = name.parse::<usize>() {
                    args.get(i).cloned()
                } else {
                    kwargs.and_then(|k| k.get::<Value>(name).ok())
                };
                let v = v.ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("Replacement index {} out of range", field),
                    )
                })?;
                out.push_str(&str_of(&v));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Compares versions as LooseVersion does: numbers numerically, words
/// lexically, numbers before words at the same position.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Part {
        Num(u128),
        Word(String),
    }
    fn parts(s: &str) -> Vec<Part> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut cur_num: Option<bool> = None;
        let flush = |cur: &mut String, is_num: Option<bool>, out: &mut Vec<Part>| {
            if !cur.is_empty() {
                if is_num == Some(true) {
                    out.push(Part::Num(cur.parse().unwrap_or(0)));
                } else {
                    out.push(Part::Word(cur.clone()));
                }
                cur.clear();
            }
        };
        for c in s.chars() {
            if c == '.' || c == '-' || c == '+' || c == '_' || c.is_whitespace() {
                flush(&mut cur, cur_num, &mut out);
                cur_num = None;
                continue;
            }
            let is_num = c.is_ascii_digit();
            if cur_num.is_some() && cur_num != Some(is_num) {
                flush(&mut cur, cur_num, &mut out);
            }
            cur_num = Some(is_num);
            cur.push(c);
        }
        flush(&mut cur, cur_num, &mut out);
        out
    }
    parts(a).cmp(&parts(b))
}
