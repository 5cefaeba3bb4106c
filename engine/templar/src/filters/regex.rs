//! `regex_replace`, `regex_search`, `regex_findall`, `regex_escape` with
//! Python's `re` semantics: patterns compiled by `rsible_pyre` (the `regex` crate,
//! or `fancy-regex` for look-around and back-references).

use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind};
use std::collections::HashMap;
use std::sync::Mutex;

use rsible_pyre::{GroupSpans, PyRegex, Template};

use crate::python_repr::str_of;

/// Compiled patterns by flags and pattern: templates apply the same few patterns
/// for every host and every item, and compiling one costs far more than matching
/// it. Bounded: cleared when full.
type RegexCache = HashMap<String, PyRegex>;
static COMPILED: Mutex<Option<RegexCache>> = Mutex::new(None);
const MAX_COMPILED: usize = 512;

fn invalid(e: String) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("invalid regular expression: {e}"),
    )
}

/// Compile a Python pattern with `re.I`/`re.M` as the flags arguments give them
/// (shared by the regex filters and the `match`/`search`/`regex` tests).
pub(crate) fn compile(pattern: &str, ignorecase: bool, multiline: bool) -> Result<PyRegex, Error> {
    let flags = match (ignorecase, multiline) {
        (true, true) => "(?im)",
        (true, false) => "(?i)",
        (false, true) => "(?m)",
        (false, false) => "",
    };
    let key = format!("{flags}{pattern}");
    let lock = || COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(re) = lock().as_ref().and_then(|m| m.get(&key)) {
        return Ok(re.clone());
    }
    let re = PyRegex::new(&key).map_err(invalid)?;
    let mut cache = lock();
    let map = cache.get_or_insert_with(HashMap::new);
    if map.len() >= MAX_COMPILED {
        map.clear();
    }
    map.insert(key, re.clone());
    Ok(re)
}

fn build(pattern: &str, kwargs: &Kwargs) -> Result<PyRegex, Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    compile(
        pattern,
        ignorecase.unwrap_or(false),
        multiline.unwrap_or(false),
    )
}

/// The text of group `g` of a match in `text` (None when it did not take part).
fn group<'t>(text: &'t str, spans: &GroupSpans, g: usize) -> Option<&'t str> {
    spans
        .get(g)
        .copied()
        .flatten()
        .and_then(|(s, e)| text.get(s..e))
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
    // Python's replacement template (`\1`, `\g<name>`), with Python's errors.
    let template =
        Template::parse(&replacement.unwrap_or_default(), &re.capture_names()).map_err(invalid)?;
    let (replaced, _) = re
        .subn(&template, &text, count.unwrap_or(0))
        .map_err(invalid)?;
    Ok(Value::from(replaced))
}

pub fn regex_search(
    value: Value,
    pattern: String,
    groups: minijinja::value::Rest<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let re = build(&pattern, &kwargs)?;
    let text = str_of(&value);
    let Some(caps) = re.captures_at(&text, 0).map_err(invalid)? else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(group(&text, &caps, 0).unwrap_or("")));
    }
    let names = re.capture_names();
    let mut out = Vec::new();
    for g in groups.iter() {
        let m = if let Some(n) = g.strip_prefix("\\g<").and_then(|r| r.strip_suffix('>')) {
            match n.parse::<usize>() {
                Ok(i) => group(&text, &caps, i),
                Err(_) => names
                    .iter()
                    .position(|name| name.as_deref() == Some(n))
                    .and_then(|i| group(&text, &caps, i)),
            }
        } else if let Some(i) = g.strip_prefix('\\').and_then(|n| n.parse::<usize>().ok()) {
            group(&text, &caps, i)
        } else {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("Unknown argument: {}", g),
            ));
        };
        out.push(m.map(Value::from).unwrap_or(Value::from(())));
    }
    Ok(Value::from(out))
}

pub fn regex_findall(value: Value, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let re = build(&pattern, &kwargs)?;
    let text = str_of(&value);
    let groups = re.capture_names().len().saturating_sub(1);
    let mut out = Vec::new();
    // Python's `re.findall`: the whole match without groups, the group with one,
    // a tuple of all groups with more; a group that did not take part is ''.
    for caps in re.find_all(&text, 0).map_err(invalid)? {
        let text_of = |g: usize| Value::from(group(&text, &caps, g).unwrap_or(""));
        let item = match groups {
            0 => text_of(0),
            1 => text_of(1),
            _ => Value::from((1..=groups).map(text_of).collect::<Vec<_>>()),
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
