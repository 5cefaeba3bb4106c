//! Python methods on values (`s.split()`, `d.items()`, `l.append(x)`, ...),
//! reached through minijinja's unknown-method callback. Mutating methods work
//! on the mutable containers of `crate::mutable`; on a plain (immutable)
//! container they are an error rather than a silent no-op.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use crate::mutable::{new_list, MutList, MutMap};
use crate::python_repr::str_of;

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn unknown(value: &Value, name: &str) -> Error {
    Error::new(
        ErrorKind::UnknownMethod,
        format!(
            "'{}' object has no attribute '{}'",
            crate::python_types::type_name(value),
            name
        ),
    )
}

/// Positional arguments (keyword arguments are not used by these methods).
fn positional(args: &[Value]) -> Vec<Value> {
    args.iter().filter(|a| !a.is_kwargs()).cloned().collect()
}

pub fn call_method(
    state: &mut State,
    value: &Value,
    name: &str,
    args: &[Value],
) -> Result<Value, Error> {
    if value.is_undefined() {
        // Python looks the method up on the undefined value: "'x' is undefined"
        let message = crate::context::with_current_frame(|_, f| f.last_missing()).flatten();
        return Err(Error::new(
            ErrorKind::UndefinedError,
            message.unwrap_or_else(|| "an undefined variable was used".into()),
        ));
    }
    let pos = positional(args);
    if let Some(s) = value.as_str() {
        return str_method(state, value, s, name, &pos, args);
    }
    match value.kind() {
        ValueKind::Map => map_method(value, name, &pos),
        ValueKind::Seq => list_method(value, name, &pos),
        _ => Err(unknown(value, name)),
    }
}

fn arg_str(pos: &[Value], i: usize) -> Option<String> {
    pos.get(i).filter(|v| !v.is_none()).map(str_of)
}

fn str_method(
    state: &mut State,
    value: &Value,
    s: &str,
    name: &str,
    pos: &[Value],
    all: &[Value],
) -> Result<Value, Error> {
    Ok(match name {
        "split" | "rsplit" => {
            let sep = arg_str(pos, 0);
            let max = pos.get(1).and_then(|v| v.as_i64()).unwrap_or(-1);
            Value::from(python_split(s, sep.as_deref(), max, name == "rsplit")?)
        }
        "splitlines" => {
            // Python breaks lines at \r, \v, \f, \x1c-\x1e, \x85, \u2028 and \u2029
            // too, not only at \n and \r\n as Rust's `lines()` does.
            let keepends = pos.first().cloned().or_else(|| {
                all.iter()
                    .find(|a| a.is_kwargs())
                    .and_then(|k| Kwargs::try_from(k.clone()).ok())
                    .and_then(|k| k.get::<Value>("keepends").ok())
            });
            let lines = if keepends.is_some_and(|v| v.is_true()) {
                rsible_pytext::splitlines_keepends(s)
            } else {
                rsible_pytext::splitlines(s)
            };
            Value::from(lines.into_iter().map(Value::from).collect::<Vec<_>>())
        }
        "strip" | "lstrip" | "rstrip" => {
            let chars = arg_str(pos, 0);
            let is_strip = |c: char| match &chars {
                Some(set) => set.contains(c),
                None => rsible_pytext::is_space(c),
            };
            Value::from(match name {
                "strip" => s.trim_matches(is_strip),
                "lstrip" => s.trim_start_matches(is_strip),
                _ => s.trim_end_matches(is_strip),
            })
        }
        "startswith" | "endswith" => {
            let candidates: Vec<String> = match pos.first() {
                Some(v) if v.kind() == ValueKind::Seq => {
                    v.try_iter()?.map(|x| str_of(&x)).collect()
                }
                Some(v) => vec![str_of(v)],
                None => return Err(err(format!("{name}() takes at least 1 argument (0 given)"))),
            };
            Value::from(candidates.iter().any(|c| {
                if name == "startswith" {
                    s.starts_with(c.as_str())
                } else {
                    s.ends_with(c.as_str())
                }
            }))
        }
        "replace" => {
            let (Some(old), Some(new)) = (arg_str(pos, 0), arg_str(pos, 1)) else {
                return Err(err("replace() takes at least 2 arguments"));
            };
            match pos.get(2).and_then(|v| v.as_i64()) {
                Some(n) if n >= 0 => Value::from(s.replacen(&old, &new, n as usize)),
                _ => Value::from(s.replace(&old, &new)),
            }
        }
        "find" | "rfind" | "index" | "rindex" => {
            let needle = arg_str(pos, 0).unwrap_or_default();
            let found = if name.starts_with('r') {
                s.rfind(&needle)
            } else {
                s.find(&needle)
            };
            match found {
                Some(byte) => Value::from(s[..byte].chars().count() as i64),
                None if name.ends_with("find") => Value::from(-1),
                None => return Err(err("substring not found")),
            }
        }
        "count" => Value::from(
            s.matches(arg_str(pos, 0).unwrap_or_default().as_str())
                .count() as i64,
        ),
        "lower" => Value::from(s.to_lowercase()),
        "upper" => Value::from(s.to_uppercase()),
        "capitalize" => {
            let mut c = s.chars();
            Value::from(match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                None => String::new(),
            })
        }
        "title" => state.apply_filter("title", std::slice::from_ref(value))?,
        "isdigit" => Value::from(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit())),
        "isalpha" => Value::from(!s.is_empty() && s.chars().all(char::is_alphabetic)),
        "isalnum" => Value::from(!s.is_empty() && s.chars().all(char::is_alphanumeric)),
        "islower" => {
            Value::from(s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase))
        }
        "isupper" => {
            Value::from(s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase))
        }
        "isspace" => Value::from(!s.is_empty() && s.chars().all(rsible_pytext::is_space)),
        "removeprefix" => {
            let p = arg_str(pos, 0).unwrap_or_default();
            Value::from(s.strip_prefix(p.as_str()).unwrap_or(s))
        }
        "removesuffix" => {
            let p = arg_str(pos, 0).unwrap_or_default();
            Value::from(s.strip_suffix(p.as_str()).unwrap_or(s))
        }
        "join" => {
            let items = pos
                .first()
                .ok_or_else(|| err("join() takes exactly one argument"))?;
            let parts: Vec<String> = items.try_iter()?.map(|v| str_of(&v)).collect();
            Value::from(parts.join(s))
        }
        "format" => {
            let kwargs = all
                .iter()
                .find(|a| a.is_kwargs())
                .and_then(|k| Kwargs::try_from(k.clone()).ok());
            Value::from(crate::filters::strings::python_format(
                s,
                pos,
                kwargs.as_ref(),
            )?)
        }
        "zfill" => {
            let width = pos.first().and_then(|v| v.as_i64()).unwrap_or(0).max(0) as usize;
            let len = s.chars().count();
            if len >= width {
                Value::from(s)
            } else {
                let (sign, rest) = match s.strip_prefix(['-', '+']) {
                    Some(r) => (&s[..1], r),
                    None => ("", s),
                };
                Value::from(format!("{}{}{}", sign, "0".repeat(width - len), rest))
            }
        }
        "encode" | "decode" => value.clone(),
        _ => return Err(unknown(value, name)),
    })
}

/// Python's `str.split` / `str.rsplit`.
pub fn python_split(
    s: &str,
    sep: Option<&str>,
    maxsplit: i64,
    from_right: bool,
) -> Result<Vec<Value>, Error> {
    let max = if maxsplit < 0 {
        usize::MAX
    } else {
        maxsplit as usize
    };
    let parts: Vec<String> = match sep {
        Some("") => return Err(err("empty separator")),
        Some(sep) => {
            if from_right {
                let mut v: Vec<String> = s
                    .rsplitn(max.saturating_add(1), sep)
                    .map(str::to_string)
                    .collect();
                v.reverse();
                v
            } else {
                s.splitn(max.saturating_add(1), sep)
                    .map(str::to_string)
                    .collect()
            }
        }
        None => {
            // Whitespace split: runs of whitespace, no empty strings; once
            // `max` splits are made the rest is one item, as it stands.
            let words: Vec<&str> = s
                .split(rsible_pytext::is_space)
                .filter(|w| !w.is_empty())
                .collect();
            if words.len() <= max {
                words.iter().map(|w| w.to_string()).collect()
            } else if from_right {
                let keep = words.len() - max;
                let head_end = nth_word_end(s, keep);
                // Python keeps the head's leading whitespace.
                let mut v = vec![s[..head_end].to_string()];
                v.extend(words[keep..].iter().map(|w| w.to_string()));
                v
            } else {
                let start = nth_word_start(s, max);
                let mut v: Vec<String> = words[..max].iter().map(|w| w.to_string()).collect();
                // Python keeps the rest as it is, trailing whitespace included.
                v.push(s[start..].to_string());
                v
            }
        }
    };
    Ok(parts.into_iter().map(Value::from).collect())
}

fn nth_word_start(s: &str, n: usize) -> usize {
    let mut count = 0;
    let mut in_word = false;
    for (i, c) in s.char_indices() {
        if rsible_pytext::is_space(c) {
            in_word = false;
        } else if !in_word {
            if count == n {
                return i;
            }
            count += 1;
            in_word = true;
        }
    }
    s.len()
}

fn nth_word_end(s: &str, n: usize) -> usize {
    let mut count = 0;
    let mut in_word = false;
    for (i, c) in s.char_indices() {
        if rsible_pytext::is_space(c) {
            if in_word {
                count += 1;
                if count == n {
                    return i;
                }
            }
            in_word = false;
        } else {
            in_word = true;
        }
    }
    s.len()
}

fn map_pairs(value: &Value) -> Result<Vec<(Value, Value)>, Error> {
    if let Some(m) = value.downcast_object_ref::<MutMap>() {
        return Ok(m.snapshot());
    }
    Ok(value
        .try_iter()?
        .map(|k| (k.clone(), value.get_item(&k).unwrap_or_default()))
        .collect())
}

fn map_method(value: &Value, name: &str, pos: &[Value]) -> Result<Value, Error> {
    let mutable = value.downcast_object_ref::<MutMap>();
    Ok(match name {
        "items" => Value::from(
            map_pairs(value)?
                .into_iter()
                .map(|(k, v)| Value::from(minijinja::value::Tuple::from(vec![k, v])))
                .collect::<Vec<_>>(),
        ),
        "keys" => Value::from(
            map_pairs(value)?
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>(),
        ),
        "values" => Value::from(
            map_pairs(value)?
                .into_iter()
                .map(|(_, v)| v)
                .collect::<Vec<_>>(),
        ),
        "get" => {
            let key = pos.first().cloned().unwrap_or_default();
            // A missing key is no error here: an undefined default keeps
            // its own reason ("'nope' is undefined") for where it is used.
            let reason = crate::context::with_current_frame(|_, f| f.last_missing()).flatten();
            match value.get_item(&key) {
                Ok(v) if !v.is_undefined() => v,
                _ => {
                    if let Some(reason) = reason {
                        crate::context::with_current_frame(|_, f| f.record_missing(reason));
                    }
                    pos.get(1).cloned().unwrap_or(Value::from(()))
                }
            }
        }
        "copy" => crate::mutable::new_map(map_pairs(value)?),
        "update" | "__setitem__" | "pop" | "setdefault" | "clear" | "popitem" => {
            let Some(m) = mutable else {
                return Err(err(format!("cannot call {name}() on an immutable dict")));
            };
            match name {
                "update" => {
                    for src in pos {
                        for (k, v) in map_pairs(src)? {
                            m.insert(k, v);
                        }
                    }
                    Value::from(())
                }
                "__setitem__" => {
                    let [k, v] = pos else {
                        return Err(err("__setitem__ expected 2 arguments"));
                    };
                    m.insert(k.clone(), v.clone());
                    Value::from(())
                }
                "pop" => {
                    let key = pos.first().cloned().unwrap_or_default();
                    match m.remove(&key) {
                        Some(v) => v,
                        None => match pos.get(1) {
                            Some(d) => d.clone(),
                            None => {
                                return Err(err(format!(
                                    "KeyError: {}",
                                    crate::python_repr::repr(&key)
                                )))
                            }
                        },
                    }
                }
                "setdefault" => {
                    let key = pos.first().cloned().unwrap_or_default();
                    match m.get(&key) {
                        Some(v) => v,
                        None => {
                            let d = pos.get(1).cloned().unwrap_or(Value::from(()));
                            m.insert(key, d.clone());
                            d
                        }
                    }
                }
                "popitem" => match m.snapshot().last() {
                    Some((k, v)) => {
                        m.remove(k);
                        Value::from(vec![k.clone(), v.clone()])
                    }
                    None => return Err(err("popitem(): dictionary is empty")),
                },
                _ => {
                    m.clear();
                    Value::from(())
                }
            }
        }
        _ => return Err(unknown(value, name)),
    })
}

fn list_method(value: &Value, name: &str, pos: &[Value]) -> Result<Value, Error> {
    let items = || -> Result<Vec<Value>, Error> { Ok(value.try_iter()?.collect()) };
    match name {
        "index" => {
            let needle = pos.first().cloned().unwrap_or_default();
            return match items()?.iter().position(|v| *v == needle) {
                Some(i) => Ok(Value::from(i as i64)),
                None => Err(err(format!(
                    "{} is not in list",
                    crate::python_repr::repr(&needle)
                ))),
            };
        }
        "count" => {
            let needle = pos.first().cloned().unwrap_or_default();
            return Ok(Value::from(
                items()?.iter().filter(|v| **v == needle).count() as i64,
            ));
        }
        "copy" => return Ok(new_list(items()?)),
        _ => {}
    }
    let Some(l) = value.downcast_object_ref::<MutList>() else {
        return match name {
            "append" | "extend" | "pop" | "insert" | "remove" | "reverse" | "sort" | "clear" => {
                Err(err(format!("cannot call {name}() on an immutable list")))
            }
            _ => Err(unknown(value, name)),
        };
    };
    l.with_items(|v| -> Result<Value, Error> {
        Ok(match name {
            "append" => {
                v.push(pos.first().cloned().unwrap_or_default());
                Value::from(())
            }
            "extend" => {
                if let Some(src) = pos.first() {
                    v.extend(src.try_iter()?);
                }
                Value::from(())
            }
            "insert" => {
                let len = v.len() as i64;
                let mut i = pos.first().and_then(|x| x.as_i64()).unwrap_or(0);
                if i < 0 {
                    i = (i + len).max(0);
                }
                v.insert(i.min(len) as usize, pos.get(1).cloned().unwrap_or_default());
                Value::from(())
            }
            "pop" => {
                let len = v.len() as i64;
                let mut i = pos.first().and_then(|x| x.as_i64()).unwrap_or(-1);
                if i < 0 {
                    i += len;
                }
                if i < 0 || i >= len {
                    return Err(err("pop index out of range"));
                }
                v.remove(i as usize)
            }
            "remove" => {
                let needle = pos.first().cloned().unwrap_or_default();
                match v.iter().position(|x| *x == needle) {
                    Some(i) => {
                        v.remove(i);
                        Value::from(())
                    }
                    None => return Err(err("list.remove(x): x not in list")),
                }
            }
            "reverse" => {
                v.reverse();
                Value::from(())
            }
            "sort" => {
                v.sort();
                Value::from(())
            }
            "clear" => {
                v.clear();
                Value::from(())
            }
            _ => return Err(unknown(value, name)),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Vec<Value>) -> Vec<String> {
        v.iter().map(str_of).collect()
    }

    #[test]
    fn split_like_python() {
        assert_eq!(
            strs(python_split(" a  b c ", None, -1, false).unwrap()),
            ["a", "b", "c"]
        );
        assert_eq!(
            strs(python_split("a,b,,c", Some(","), -1, false).unwrap()),
            ["a", "b", "", "c"]
        );
        assert_eq!(
            strs(python_split("a.b.c", Some("."), 1, true).unwrap()),
            ["a.b", "c"]
        );
        assert_eq!(
            strs(python_split("a b  c d", None, 1, false).unwrap()),
            ["a", "b  c d"]
        );
    }
}
