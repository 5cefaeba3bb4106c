//! Jinja's reason for an undefined that came from an attribute or item of a
//! value that has none: `none.x` (Jinja's `none` is Python's None, also when
//! a variable is named `none`), `n.x` with `n: null`, `port.x` with a number.
//! Jinja's `getattr` answers such a lookup with an undefined whose message is
//! "'None' has no attribute 'x'" ("None has no element 0" for an index);
//! minijinja's chainable undefined carries no reason, so the templar, when an
//! undefined fails and no lookup recorded why, finds the first such lookup in
//! the template's text and gives Jinja's words. Only on that error path.

use minijinja::machinery::{tokenize, Token};
use minijinja::value::{Value, ValueKind};

use crate::context::{with_current_frame, Frame};

/// The reason, or None when no name path in `data` reaches an attribute or
/// item of None, a bool or a number. `data` is a template, or a bare
/// expression (a conditional) when it holds no start marker.
pub(crate) fn attribute_reason(frame: &Frame<'_>, data: &str) -> Option<String> {
    // the frame's id, when it is the innermost one (it is, once rendering stopped)
    let id = with_current_frame(|id, current| {
        std::ptr::eq(
            current as *const Frame<'_> as *const u8,
            frame as *const Frame<'_> as *const u8,
        )
        .then_some(id)
    })
    .flatten()?;
    let in_expr = !crate::detect::is_possibly_template(data);
    let tokens: Vec<Token<'_>> = tokenize(data, in_expr, Default::default())
        .map(|t| t.map(|(token, _)| token))
        .collect::<Result<_, _>>()
        .ok()?;
    let mut i = 0;
    while i < tokens.len() {
        let Token::Ident(name) = tokens[i] else {
            i += 1;
            continue;
        };
        let path_start = match i.checked_sub(1).map(|p| &tokens[p]) {
            // an attribute, a filter's or a test's name
            Some(Token::Dot | Token::Pipe | Token::Ident("is")) => false,
            Some(Token::Ident("not")) => !matches!(
                i.checked_sub(2).map(|p| &tokens[p]),
                Some(Token::Ident("is"))
            ),
            _ => true,
        };
        if !path_start {
            i += 1;
            continue;
        }
        let accessors = path_accessors(&tokens, i + 1);
        let end = accessors.last().map_or(i + 1, |a| a.next);
        if accessors.is_empty() || checked_safely(&tokens, end) {
            i = end;
            continue;
        }
        let mut value = match name {
            "none" | "None" => Some(Value::from(())),
            "true" | "True" => Some(Value::from(true)),
            "false" | "False" => Some(Value::from(false)),
            _ => frame.lookup(id, name),
        };
        for accessor in &accessors {
            let Some(current) = value.filter(|v| !v.is_undefined()) else {
                break;
            };
            if let Some(type_repr) = scalar_type_repr(&current) {
                return Some(if accessor.is_index {
                    format!(
                        "{} has no element {}",
                        type_repr,
                        crate::python_repr::repr(&accessor.key)
                    )
                } else {
                    format!(
                        "{} has no attribute {}",
                        crate::python_repr::repr(&Value::from(type_repr)),
                        crate::python_repr::repr(&accessor.key)
                    )
                });
            }
            value = if accessor.is_dot {
                accessor.key.as_str().and_then(|k| current.get_attr(k).ok())
            } else {
                current.get_item(&accessor.key).ok()
            };
        }
        i = end;
    }
    None
}

struct Accessor {
    key: Value,
    /// `.name`
    is_dot: bool,
    /// `[0]`: Jinja says "has no element"; a string key is an attribute
    is_index: bool,
    /// The token after it.
    next: usize,
}

/// The `.name`, `['key']` and `[0]` lookups that follow a name at `at`.
fn path_accessors(tokens: &[Token<'_>], mut at: usize) -> Vec<Accessor> {
    let mut out = Vec::new();
    loop {
        let accessor = match (tokens.get(at), tokens.get(at + 1), tokens.get(at + 2)) {
            (Some(Token::Dot), Some(Token::Ident(a)), _) => Accessor {
                key: Value::from(*a),
                is_dot: true,
                is_index: false,
                next: at + 2,
            },
            (Some(Token::BracketOpen), Some(Token::Str(s)), Some(Token::BracketClose)) => {
                Accessor {
                    key: Value::from(*s),
                    is_dot: false,
                    is_index: false,
                    next: at + 3,
                }
            }
            (Some(Token::BracketOpen), Some(Token::String(s)), Some(Token::BracketClose)) => {
                Accessor {
                    key: Value::from(&**s),
                    is_dot: false,
                    is_index: false,
                    next: at + 3,
                }
            }
            (Some(Token::BracketOpen), Some(Token::Int(n)), Some(Token::BracketClose)) => {
                Accessor {
                    key: Value::from(*n),
                    is_dot: false,
                    is_index: true,
                    next: at + 3,
                }
            }
            _ => return out,
        };
        at = accessor.next;
        out.push(accessor);
    }
}

/// Whether the path ending before `at` is only tested (`is ...`) or given a
/// fallback (`| default(...)`), which an undefined passes.
fn checked_safely(tokens: &[Token<'_>], at: usize) -> bool {
    match (tokens.get(at), tokens.get(at + 1)) {
        (Some(Token::Ident("is")), _) => true,
        (Some(Token::Pipe), Some(Token::Ident(f))) => {
            matches!(*f, "default" | "d" | "ansible.builtin.default")
        }
        _ => false,
    }
}

/// Jinja's `object_type_repr` of values that have no attributes or items.
fn scalar_type_repr(value: &Value) -> Option<&'static str> {
    if crate::big_int::big_int_digits(value).is_some() {
        return Some("int object");
    }
    match value.kind() {
        ValueKind::None => Some("None"),
        ValueKind::Bool => Some("bool object"),
        ValueKind::Number if value.is_integer() => Some("int object"),
        ValueKind::Number => Some("float object"),
        _ => None,
    }
}
