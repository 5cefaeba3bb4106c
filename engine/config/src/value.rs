//! Setting types and the conversion of raw text into them, following
//! Ansible's `ensure_type`.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::paths::resolve_path;
use crate::pyrepr::{py_list_repr, py_repr};
use crate::EnvLookup;
use rsible_parsing::unquote;

/// The declared type of a setting (base.yml's `type:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Float,
    /// Plain text; unquoted when it comes from the ini file.
    Str,
    /// Comma-separated, each item trimmed and unquoted.
    List,
    /// One path, `~`/`$VAR` expanded, made absolute.
    Path,
    /// Comma-separated paths (`inventory`).
    PathList,
    /// Colon-separated paths (`roles_path`, `library`, ...).
    PathSpec,
    /// A directory for temporary files. Ansible creates a fresh
    /// `ansible-local-<pid>` directory inside it; rsible resolves the base path
    /// only and leaves creating the per-run directory to its user.
    TmpPath,
}

/// A converted setting value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<String>),
    Path(PathBuf),
    Paths(Vec<PathBuf>),
}

/// A default as declared in the settings table, before conversion.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Text converted like any configured value. `{ANSIBLE_HOME}` is replaced
    /// by the resolved `ANSIBLE_HOME` setting first.
    Str(&'static str),
    List(&'static [&'static str]),
}

/// Where a raw value came from; decides unquoting and the base directory of
/// relative paths.
pub struct Source<'a> {
    /// True for values read from the ini file (str/untyped values are unquoted).
    pub from_ini: bool,
    /// Directory relative paths are resolved against.
    pub base_dir: &'a Path,
    pub cwd: &'a Path,
    pub env: EnvLookup<'a>,
}

/// Python-style truthiness for config booleans, non-strict: anything not in
/// the true set is false.
pub fn to_bool(text: &str) -> bool {
    matches!(
        text.trim().to_lowercase().as_str(),
        "y" | "yes" | "on" | "1" | "true" | "t"
    )
}

/// Integers as Python's `Decimal` reads them: surrounding spaces, a sign,
/// `_` between digits, a fraction or exponent as long as the number is whole.
/// The error text is what Ansible shows after the colon (empty for text that
/// is not a number at all).
pub fn to_int(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let cleaned: String = t.chars().filter(|c| *c != '_').collect();
    if let Ok(n) = cleaned.parse::<i64>() {
        return Ok(n);
    }
    let looks_numeric = !cleaned.is_empty()
        && cleaned
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        && cleaned.chars().any(|c| c.is_ascii_digit());
    match cleaned.parse::<f64>() {
        Ok(f) if looks_numeric && f.is_finite() => {
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                Ok(f as i64)
            } else {
                Err(format!(
                    "Invalid type provided for \"int\": {}",
                    py_repr(text)
                ))
            }
        }
        _ => Err(String::new()),
    }
}

/// Convert raw text to `kind`. Errors carry the text Ansible prints after
/// "Invalid type for configuration option ...: ".
pub fn convert(raw: &str, kind: Kind, src: &Source<'_>) -> Result<Value, String> {
    let resolve = |p: &str| resolve_path(p, src.base_dir, src.cwd, src.env);
    Ok(match kind {
        Kind::Bool => Value::Bool(to_bool(raw)),
        Kind::Int => Value::Int(to_int(raw)?),
        Kind::Float => Value::Float(
            raw.trim()
                .parse::<f64>()
                .map_err(|_| format!("could not convert string to float: {}", py_repr(raw)))?,
        ),
        Kind::Str => Value::Str(if src.from_ini {
            unquote(raw).to_string()
        } else {
            raw.to_string()
        }),
        Kind::List => Value::List(
            raw.split(',')
                .map(|x| unquote(x.trim()).to_string())
                .collect(),
        ),
        Kind::Path | Kind::TmpPath => Value::Path(resolve(raw)),
        Kind::PathList => Value::Paths(raw.split(',').map(|x| resolve(x.trim())).collect()),
        Kind::PathSpec => Value::Paths(raw.split(':').map(resolve).collect()),
    })
}

/// Convert a table default. Lists given as lists skip the splitting.
pub fn convert_default(
    default: &Default,
    kind: Kind,
    home: &str,
    src: &Source<'_>,
) -> Result<Value, String> {
    match default {
        Default::None => Ok(Value::None),
        Default::Bool(b) => Ok(Value::Bool(*b)),
        Default::Int(n) => Ok(Value::Int(*n)),
        Default::Float(f) => Ok(Value::Float(*f)),
        Default::Str(text) => convert(&text.replace("{ANSIBLE_HOME}", home), kind, src),
        Default::List(items) => Ok(Value::List(items.iter().map(|s| s.to_string()).collect())),
    }
}

/// Python's rendering, as `ansible-config dump` prints values.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) if x.fract() == 0.0 && x.is_finite() => write!(f, "{x:.1}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::List(items) => f.write_str(&py_list_repr(items)),
            Value::Path(p) => write!(f, "{}", p.display()),
            Value::Paths(items) => {
                let texts: Vec<String> = items
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                f.write_str(&py_list_repr(&texts))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn src(from_ini: bool) -> Source<'static> {
        Source {
            from_ini,
            base_dir: Path::new("/cfg"),
            cwd: Path::new("/cwd"),
            env: &no_env,
        }
    }

    #[test]
    fn booleans_are_non_strict() {
        for t in ["yes", "YES", "on", "1", "true", "True", " t ", "y"] {
            assert!(to_bool(t), "{t}");
        }
        for f in ["no", "off", "0", "false", "", "maybe", "2"] {
            assert!(!to_bool(f), "{f}");
        }
    }

    #[test]
    fn integers_like_decimal() {
        assert_eq!(to_int("5"), Ok(5));
        assert_eq!(to_int(" 300 "), Ok(300));
        assert_eq!(to_int("-2"), Ok(-2));
        assert_eq!(to_int("1_000"), Ok(1000));
        assert_eq!(to_int("2.0"), Ok(2));
        assert_eq!(to_int("1e3"), Ok(1000));
        // Recorded from ansible-config with forks = abc / forks = 1.5.
        assert_eq!(to_int("abc"), Err(String::new()));
        assert_eq!(
            to_int("1.5"),
            Err("Invalid type provided for \"int\": '1.5'".into())
        );
        assert_eq!(to_int(""), Err(String::new()));
    }

    #[test]
    fn lists_split_strip_unquote() {
        assert_eq!(
            convert(" a, 'b' ,\"c d\",", Kind::List, &src(false)),
            Ok(Value::List(vec![
                "a".into(),
                "b".into(),
                "c d".into(),
                "".into()
            ]))
        );
    }

    #[test]
    fn strings_unquoted_only_from_ini() {
        assert_eq!(
            convert("'yaml'", Kind::Str, &src(true)),
            Ok(Value::Str("yaml".into()))
        );
        assert_eq!(
            convert("'yaml'", Kind::Str, &src(false)),
            Ok(Value::Str("'yaml'".into()))
        );
    }

    #[test]
    fn paths_resolve_against_base() {
        assert_eq!(
            convert("./lib", Kind::Path, &src(true)),
            Ok(Value::Path("/cfg/lib".into()))
        );
        assert_eq!(
            convert("roles:/abs", Kind::PathSpec, &src(true)),
            Ok(Value::Paths(vec!["/cfg/roles".into(), "/abs".into()]))
        );
        assert_eq!(
            convert("a , /b", Kind::PathList, &src(true)),
            Ok(Value::Paths(vec!["/cfg/a".into(), "/b".into()]))
        );
    }

    #[test]
    fn floats() {
        assert_eq!(
            convert("0.5", Kind::Float, &src(true)),
            Ok(Value::Float(0.5))
        );
        assert!(convert("x", Kind::Float, &src(true)).is_err());
        assert_eq!(Value::Float(2.0).to_string(), "2.0");
    }
}
