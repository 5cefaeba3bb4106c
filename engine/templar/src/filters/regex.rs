//! `regex_replace`, `regex_search`, `regex_findall`, `regex_escape` with
//! Python's regex flavour translated to the `regex` crate where they differ.

use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind};
use std::collections::HashMap;
use std::sync::Mutex;

use regex::{Regex, RegexBuilder};

use crate::python_repr::str_of;

/// Compiled patterns by (pattern, ignorecase, multiline): templates apply
/// the same few patterns for every host and every item, and compiling one
/// costs far more than matching it. Bounded: cleared when full.
type RegexCache = HashMap<(String, bool, bool), Regex>;
static COMPILED: Mutex<Option<RegexCache>> = Mutex::new(None);
const MAX_COMPILED: usize = 512;

fn build(pattern: &str, kwargs: &Kwargs) -> Result<Regex, Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    let key = (
        pattern.to_string(),
        ignorecase.unwrap_or(false),
        multiline.unwrap_or(false),
    );
    let lock = || COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(re) = lock().as_ref().and_then(|m| m.get(&key)) {
        return Ok(re.clone());
    }
    let re = RegexBuilder::new(pattern)
        .case_insensitive(key.1)
        .multi_line(key.2)
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("invalid regular expression: {}", e),
            )
        })?;
    let mut cache = lock();
    let map = cache.get_or_insert_with(HashMap::new);
    if map.len() >= MAX_COMPILED {
        map.clear();
    }
    map.insert(key, re.clone());
    Ok(re)
}

/// Translates a Python replacement string (`\1`, `\g<1>`, `\g<name>`) to the
/// regex crate's (`${1}`, `${name}`), escaping literal `$`.
pub fn python_replacement(rep: &str) -> String {
    let mut out = String::new();
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut num = String::new();
                    while let Some(&d) = chars.peek() {
                        if d.is_ascii_digit() && num.len() < 2 {
                            num.push(d);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    out.push_str(&format!("${{{}}}", num));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                        out.push_str(&format!("${{{}}}", name));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

pub fn regex_replace(
    value: Value,
    pattern: Option<String>,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let count: Option<usize> = kwargs.get("count")?;
    let re = build(&pattern.unwrap_or_default(), &kwargs)?;
    let text = str_of(&value);
    let rep = python_replacement(&replacement.unwrap_or_default());
    Ok(Value::from(
        re.replacen(&text, count.unwrap_or(0), rep.as_str())
            .into_owned(),
    ))
}

pub fn regex_search(
    value: Value,
    pattern: String,
    groups: minijinja::value::Rest<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let re = build(&pattern, &kwargs)?;
    let text = str_of(&value);
    let Some(caps) = re.captures(&text) else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map(|m| m.as_str()).unwrap_or("")));
    }
    let mut out = Vec::new();
    for g in groups.iter() {
        let m = if let Some(n) = g.strip_prefix("\\g<").and_then(|r| r.strip_suffix('>')) {
            match n.parse::<usize>() {
                Ok(i) => caps.get(i),
                Err(_) => caps.name(n),
            }
        } else if let Some(i) = g.strip_prefix('\\').and_then(|n| n.parse::<usize>().ok()) {
            caps.get(i)
        } else {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("Unknown argument: {}", g),
            ));
        };
        out.push(
            m.map(|m| Value::from(m.as_str()))
                .unwrap_or(Value::from(())),
        );
    }
    Ok(Value::from(out))
}

pub fn regex_findall(value: Value, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let re = build(&pattern, &kwargs)?;
    let text = str_of(&value);
    let groups = re.captures_len() - 1;
    let mut out = Vec::new();
    for caps in re.captures_iter(&text) {
        let item = match groups {
            0 => Value::from(caps.get(0).map(|m| m.as_str()).unwrap_or("")),
            1 => Value::from(caps.get(1).map(|m| m.as_str()).unwrap_or("")),
            _ => Value::from(
                (1..=groups)
                    .map(|i| Value::from(caps.get(i).map(|m| m.as_str()).unwrap_or("")))
                    .collect::<Vec<_>>(),
            ),
        };
        out.push(item);
    }
    Ok(Value::from(out))
}

/// Python's `re.escape`.
pub fn regex_escape(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let _: Option<String> = kwargs.get("re_type")?;
    let text = str_of(&value);
    let mut out = String::new();
    for c in text.chars() {
        if !(c.is_alphanumeric() || c == '_') && (c as u32) < 128 {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(Value::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn replacements() {
        assert_eq!(python_replacement(r"\1-\g<2>-$"), "${1}-${2}-$$");
    }
}
