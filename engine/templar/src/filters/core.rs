//! Ansible's core filters (ansible/plugins/filter/core.py and mathstuff.py)
//! and Jinja builtins whose Python behaviour differs from minijinja's.

use std::collections::HashSet;

use indexmap::IndexMap;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use crate::mutable::new_map;
use crate::python_repr::str_of;

pub fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn items(v: &Value) -> Result<Vec<Value>, Error> {
    Ok(v.try_iter()?.collect())
}

fn pairs(v: &Value) -> Result<Vec<(Value, Value)>, Error> {
    Ok(v.try_iter()?
        .map(|k| (k.clone(), v.get_item(&k).unwrap_or_default()))
        .collect())
}

/// Ansible's `bool` filter.
pub fn to_bool(value: Value) -> Value {
    match value.kind() {
        ValueKind::Bool => value,
        ValueKind::None | ValueKind::Undefined => Value::from(false),
        _ => {
            let s = str_of(&value).to_lowercase();
            Value::from(
                matches!(s.trim(), "yes" | "on" | "1" | "true" | "y" | "t")
                    || value.as_i64() == Some(1),
            )
        }
    }
}

/// Python `str()`.
pub fn string(value: Value) -> Value {
    if value.kind() == ValueKind::String {
        value
    } else {
        Value::from(str_of(&value))
    }
}

pub fn join(value: Value, sep: Option<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let attribute: Option<String> = kwargs.get("attribute")?;
    let sep = sep.unwrap_or_default();
    if value.is_undefined() {
        // Python iterates the undefined value, which raises.
        let message = crate::context::with_current_frame(|_, f| f.last_missing()).flatten();
        return Err(Error::new(
            minijinja::ErrorKind::UndefinedError,
            message.unwrap_or_else(|| "an undefined variable was used".into()),
        ));
    }
    if value.kind() == ValueKind::String {
        let s = str_of(&value);
        return Ok(Value::from(
            s.chars().map(String::from).collect::<Vec<_>>().join(&sep),
        ));
    }
    let parts: Vec<String> = items(&value)?
        .iter()
        .map(|v| match &attribute {
            Some(a) => str_of(&v.get_attr(a).unwrap_or_default()),
            None => str_of(v),
        })
        .collect();
    Ok(Value::from(parts.join(&sep)))
}

pub fn ternary(value: Value, true_val: Value, false_val: Value, none_val: Option<Value>) -> Value {
    if value.is_none() {
        if let Some(n) = none_val {
            return n;
        }
    }
    if value.is_true() {
        true_val
    } else {
        false_val
    }
}

/// `combine(*dicts, recursive=False, list_merge='replace')`.
pub fn combine(value: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive: Option<bool> = kwargs.get("recursive")?;
    let list_merge: Option<String> = kwargs.get("list_merge")?;
    let recursive = recursive.unwrap_or(false);
    let list_merge = list_merge.unwrap_or_else(|| "replace".into());
    let mut dicts = vec![value];
    for o in others.iter() {
        if o.kind() == ValueKind::Seq {
            dicts.extend(items(o)?);
        } else {
            dicts.push(o.clone());
        }
    }
    let mut result: IndexMap<Value, Value> = IndexMap::new();
    for d in &dicts {
        if d.kind() != ValueKind::Map {
            return Err(err(format!(
                "failed to combine variables, expected dicts but got a '{}'",
                crate::python_types::type_name(d)
            )));
        }
        result = merge(result, d, recursive, &list_merge)?;
    }
    Ok(new_map(result))
}

fn merge(
    mut base: IndexMap<Value, Value>,
    other: &Value,
    recursive: bool,
    list_merge: &str,
) -> Result<IndexMap<Value, Value>, Error> {
    for (k, v) in pairs(other)? {
        let merged = match base.get(&k) {
            Some(old)
                if recursive && old.kind() == ValueKind::Map && v.kind() == ValueKind::Map =>
            {
                let inner: IndexMap<Value, Value> = pairs(old)?.into_iter().collect();
                new_map(merge(inner, &v, recursive, list_merge)?)
            }
            Some(old) if old.kind() == ValueKind::Seq && v.kind() == ValueKind::Seq => {
                let (o, n) = (items(old)?, items(&v)?);
                match list_merge {
                    "keep" => old.clone(),
                    "append" => Value::from(o.into_iter().chain(n).collect::<Vec<_>>()),
                    "prepend" => Value::from(n.into_iter().chain(o).collect::<Vec<_>>()),
                    "append_rp" => {
                        let mut r: Vec<Value> = o.into_iter().filter(|x| !n.contains(x)).collect();
                        r.extend(n);
                        Value::from(r)
                    }
                    "prepend_rp" => {
                        let mut r = n.clone();
                        r.extend(o.into_iter().filter(|x| !n.contains(x)));
                        Value::from(r)
                    }
                    _ => v.clone(),
                }
            }
            _ => v.clone(),
        };
        base.insert(k, merged);
    }
    Ok(base)
}

pub fn dict2items(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    if value.kind() != ValueKind::Map {
        return Err(err(format!(
            "dict2items requires a dictionary, got {} instead.",
            crate::python_types::type_name(&value)
        )));
    }
    let (kn, vn) = (
        key_name.unwrap_or_else(|| "key".into()),
        value_name.unwrap_or_else(|| "value".into()),
    );
    Ok(Value::from(
        pairs(&value)?
            .into_iter()
            .map(|(k, v)| new_map([(Value::from(kn.as_str()), k), (Value::from(vn.as_str()), v)]))
            .collect::<Vec<_>>(),
    ))
}

pub fn items2dict(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    let (kn, vn) = (
        key_name.unwrap_or_else(|| "key".into()),
        value_name.unwrap_or_else(|| "value".into()),
    );
    let mut out = Vec::new();
    for item in items(&value)? {
        let k = item.get_item(&Value::from(kn.as_str())).unwrap_or_default();
        let v = item.get_item(&Value::from(vn.as_str())).unwrap_or_default();
        if k.is_undefined() {
            return Err(err(format!(
                "items2dict requires each dictionary to have '{}' and '{}' keys",
                kn, vn
            )));
        }
        out.push((k, v));
    }
    Ok(new_map(out))
}

/// `community.general.dict`: a list of pairs to a dict.
pub fn dict(value: Value) -> Result<Value, Error> {
    let mut out = Vec::new();
    for item in items(&value)? {
        let kv = items(&item)?;
        if kv.len() != 2 {
            return Err(err(
                "dictionary update sequence element has wrong length; 2 is required",
            ));
        }
        out.push((kv[0].clone(), kv[1].clone()));
    }
    Ok(new_map(out))
}

pub fn flatten(value: Value, levels: Option<i64>, kwargs: Kwargs) -> Result<Value, Error> {
    let kw_levels: Option<i64> = kwargs.get("levels")?;
    let skip_nulls: Option<bool> = kwargs.get("skip_nulls")?;
    let levels = kw_levels.or(levels);
    fn go(
        v: &Value,
        levels: Option<i64>,
        skip_nulls: bool,
        out: &mut Vec<Value>,
    ) -> Result<(), Error> {
        for item in v.try_iter()? {
            if skip_nulls && (item.is_none() || item.as_str() == Some("None")) {
                continue;
            }
            if item.kind() == ValueKind::Seq && levels != Some(0) {
                go(&item, levels.map(|l| l - 1), skip_nulls, out)?;
            } else {
                out.push(item);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    go(&value, levels, skip_nulls.unwrap_or(true), &mut out)?;
    Ok(Value::from(out))
}

fn unique_list(v: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

pub fn unique(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let _: Option<bool> = kwargs.get("case_sensitive")?;
    let _: Option<String> = kwargs.get("attribute")?;
    Ok(Value::from(unique_list(items(&value)?)))
}

pub fn union(a: Value, b: Value) -> Result<Value, Error> {
    let mut v = items(&a)?;
    v.extend(items(&b)?);
    Ok(Value::from(unique_list(v)))
}

pub fn intersect(a: Value, b: Value) -> Result<Value, Error> {
    let bs = items(&b)?;
    Ok(Value::from(unique_list(
        items(&a)?.into_iter().filter(|x| bs.contains(x)).collect(),
    )))
}

pub fn difference(a: Value, b: Value) -> Result<Value, Error> {
    let bs = items(&b)?;
    Ok(Value::from(unique_list(
        items(&a)?.into_iter().filter(|x| !bs.contains(x)).collect(),
    )))
}

pub fn symmetric_difference(a: Value, b: Value) -> Result<Value, Error> {
    let (av, bv) = (items(&a)?, items(&b)?);
    let mut out: Vec<Value> = av.iter().filter(|x| !bv.contains(x)).cloned().collect();
    out.extend(bv.iter().filter(|x| !av.contains(x)).cloned());
    Ok(Value::from(unique_list(out)))
}

pub fn zip(a: Value, others: Rest<Value>) -> Result<Value, Error> {
    let mut lists = vec![items(&a)?];
    for o in others.iter() {
        lists.push(items(o)?);
    }
    let n = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::from(
        (0..n)
            .map(|i| {
                Value::from(minijinja::value::Tuple::from(
                    lists.iter().map(|l| l[i].clone()).collect::<Vec<_>>(),
                ))
            })
            .collect::<Vec<_>>(),
    ))
}

pub fn product(a: Value, others: Rest<Value>) -> Result<Value, Error> {
    let mut acc: Vec<Vec<Value>> = items(&a)?.into_iter().map(|x| vec![x]).collect();
    for o in others.iter() {
        let next = items(o)?;
        acc = acc
            .into_iter()
            .flat_map(|p| {
                next.iter().map(move |x| {
                    let mut q = p.clone();
                    q.push(x.clone());
                    q
                })
            })
            .collect();
    }
    Ok(Value::from(
        acc.into_iter()
            .map(|t| Value::from(minijinja::value::Tuple::from(t)))
            .collect::<Vec<_>>(),
    ))
}

pub fn b64encode(value: Value) -> Value {
    Value::from(base64_encode(str_of(&value).as_bytes()))
}

pub fn b64decode(value: Value) -> Result<Value, Error> {
    let bytes = base64_decode(&str_of(&value)).ok_or_else(|| err("Incorrect padding"))?;
    Ok(Value::from(String::from_utf8_lossy(&bytes).into_owned()))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        if c == b'=' || c.is_ascii_whitespace() {
            continue;
        }
        let v = B64.iter().position(|&b| b == c).or(match c {
            b'-' => Some(62),
            b'_' => Some(63),
            _ => None,
        })? as u32;
        buf = buf << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

pub fn basename(value: Value) -> Value {
    let s = str_of(&value);
    Value::from(s.rsplit('/').next().unwrap_or("").to_string())
}

pub fn dirname(value: Value) -> Value {
    let s = str_of(&value);
    Value::from(match s.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => {
            let head = &s[..i];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head.to_string()
            } else {
                trimmed.to_string()
            }
        }
        None => String::new(),
    })
}

pub fn quote(value: Value) -> Value {
    let s = str_of(&value);
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        Value::from(s)
    } else {
        Value::from(format!("'{}'", s.replace('\'', "'\"'\"'")))
    }
}

pub fn mandatory(value: Value, msg: Option<String>) -> Result<Value, Error> {
    if value.is_undefined() {
        let m = msg.unwrap_or_else(|| {
            crate::context::with_current_frame(|_, f| f.last_missing())
                .flatten()
                .map(|m| {
                    format!(
                        "Mandatory variable {} not defined.",
                        m.split('\'')
                            .nth(1)
                            .map(|n| format!("'{}'", n))
                            .unwrap_or(m)
                    )
                })
                .unwrap_or_else(|| "Mandatory variable not defined.".into())
        });
        return Err(Error::new(ErrorKind::UndefinedError, m));
    }
    Ok(value)
}

pub fn type_debug(value: Value) -> Value {
    Value::from(crate::python_types::type_name(&value))
}

pub fn split(value: Value, sep: Option<String>, maxsplit: Option<i64>) -> Result<Value, Error> {
    Ok(Value::from(crate::methods::python_split(
        &str_of(&value),
        sep.as_deref(),
        maxsplit.unwrap_or(-1),
        false,
    )?))
}

/// `map('extract', container, morekeys=None)`.
pub fn extract(item: Value, container: Value, morekeys: Option<Value>) -> Result<Value, Error> {
    let mut v = container.get_item(&item)?;
    if let Some(keys) = morekeys {
        let keys = if keys.kind() == ValueKind::Seq {
            items(&keys)?
        } else {
            vec![keys]
        };
        for k in keys {
            v = v.get_item(&k)?;
        }
    }
    Ok(v)
}

/// Python `int()` semantics for the Jinja `int` filter: strings like "3.7" give 3.
pub fn int(
    value: Value,
    default: Option<Value>,
    base: Option<u32>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let kw_base: Option<u32> = kwargs.get("base")?;
    let kw_default: Option<Value> = kwargs.get("default")?;
    let default = default.or(kw_default).unwrap_or(Value::from(0));
    let base = base.or(kw_base).unwrap_or(10);
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(value.is_true() as i64),
        ValueKind::Number if value.is_integer() => value,
        ValueKind::Number => Value::from(f64::try_from(value).unwrap_or(0.0).trunc() as i64),
        _ if crate::big_int::big_int_digits(&value).is_some() => value,
        _ => {
            let s = str_of(&value);
            let t = s.trim().replace('_', "");
            if base == 10 {
                // Python's int() has no size limit
                if let Some(big) = crate::big_int::int_from_digits(&t) {
                    return Ok(big);
                }
            }
            let parsed = if base == 10 {
                t.parse::<i128>().ok().or_else(|| {
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(|f| f.trunc() as i128)
                })
            } else {
                let digits = t
                    .trim_start_matches("0x")
                    .trim_start_matches("0o")
                    .trim_start_matches("0b");
                i128::from_str_radix(digits, base).ok()
            };
            parsed.map(Value::from).unwrap_or(default)
        }
    })
}

pub fn float(value: Value, default: Option<Value>) -> Value {
    match value.kind() {
        ValueKind::Number | ValueKind::Bool => Value::from(f64::try_from(value).unwrap_or(0.0)),
        _ => str_of(&value)
            .trim()
            .parse::<f64>()
            .map(Value::from)
            .unwrap_or(default.unwrap_or(Value::from(0.0))),
    }
}

pub fn list(value: Value) -> Result<Value, Error> {
    if value.kind() == ValueKind::String {
        return Ok(Value::from(
            str_of(&value)
                .chars()
                .map(|c| Value::from(c.to_string()))
                .collect::<Vec<_>>(),
        ));
    }
    if value.is_undefined() || value.is_none() {
        return Err(err("'NoneType' object is not iterable"));
    }
    Ok(Value::from(items(&value)?))
}

/// Jinja's `unique`-free `sort` with `attribute` (dotted) and `reverse`.
pub fn sort(
    state: &State,
    value: Value,
    args: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let reverse: Option<bool> = kwargs.get("reverse")?;
    let case_sensitive: Option<bool> = kwargs.get("case_sensitive")?;
    let attribute: Option<String> = kwargs.get("attribute")?;
    let reverse = reverse
        .or(args.first().map(|v| v.is_true()))
        .unwrap_or(false);
    let cs = case_sensitive
        .or(args.get(1).map(|v| v.is_true()))
        .unwrap_or(false);
    let attribute = attribute.or(args.get(2).map(str_of));
    let _ = state;
    let mut v = items(&value)?;
    let key = |x: &Value| -> Value {
        let mut k = x.clone();
        if let Some(a) = &attribute {
            for part in a.split('.') {
                k = match part.parse::<usize>() {
                    Ok(i) => k.get_item_by_index(i).unwrap_or_default(),
                    Err(_) => k.get_attr(part).unwrap_or_default(),
                };
            }
        }
        if !cs {
            if let Some(s) = k.as_str() {
                return Value::from(s.to_lowercase());
            }
        }
        k
    };
    v.sort_by_key(|a| key(a));
    if reverse {
        v.reverse();
    }
    Ok(Value::from(v))
}

pub fn human_to_bytes(
    value: Value,
    default_unit: Option<String>,
    isbits: Option<bool>,
) -> Result<Value, Error> {
    let s = str_of(&value);
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let num: f64 = t[..split].parse().map_err(|_| {
        err(format!(
            "human_to_bytes() can't interpret following string: {}",
            s
        ))
    })?;
    let unit = t[split..].trim();
    let unit = if unit.is_empty() {
        default_unit.unwrap_or_default()
    } else {
        unit.to_string()
    };
    let prefix = unit.chars().next().map(|c| c.to_ascii_uppercase());
    let power = match prefix {
        None | Some('B') => 0,
        Some('K') => 1,
        Some('M') => 2,
        Some('G') => 3,
        Some('T') => 4,
        Some('P') => 5,
        Some('E') => 6,
        Some('Z') => 7,
        Some('Y') => 8,
        _ => {
            return Err(err(format!(
                "human_to_bytes() failed to convert {}. Value is not a valid string",
                s
            )))
        }
    };
    let _ = isbits;
    Ok(Value::from((num * 1024f64.powi(power)).round() as i64))
}

pub fn min_max(value: Value, want_max: bool) -> Result<Value, Error> {
    let v = items(&value)?;
    let r = if want_max {
        v.into_iter().max()
    } else {
        v.into_iter().min()
    };
    Ok(r.unwrap_or(Value::UNDEFINED))
}

pub fn subelements(value: Value, path: String, skip_missing: Option<bool>) -> Result<Value, Error> {
    let mut out = Vec::new();
    for item in items(&value)? {
        let mut sub = item.clone();
        for part in path.split('.') {
            sub = sub.get_attr(part).unwrap_or_default();
        }
        if sub.is_undefined() {
            if skip_missing.unwrap_or(false) {
                continue;
            }
            return Err(err(format!(
                "could not find '{}' key in iterated item '{}'",
                path,
                str_of(&item)
            )));
        }
        for s in items(&sub)? {
            out.push(Value::from(vec![item.clone(), s]));
        }
    }
    Ok(Value::from(out))
}

pub fn hash_set(v: &[Value]) -> HashSet<String> {
    v.iter().map(str_of).collect()
}
