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
