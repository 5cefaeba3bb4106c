//! Lookups over data and the environment: env, vars, varnames,
//! inventory_hostnames, items, flattened, dict, nested, indexed_items,
//! together, subelements, sequence, random_choice, pipe, lines.

use indexmap::IndexMap;
use minijinja::value::{Value, ValueKind};
use minijinja::Error;

use super::{err, LookupCall};
use crate::python_repr::str_of;

fn is_list(v: &Value) -> bool {
    v.kind() == ValueKind::Seq || v.kind() == ValueKind::Iterable
}

fn list_of(v: &Value) -> Vec<Value> {
    if is_list(v) {
        v.try_iter().map(|i| i.collect()).unwrap_or_default()
    } else {
        vec![v.clone()]
    }
}

pub fn env(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let default: Option<Value> = call.kwarg("default")?;
    Ok(call
        .terms
        .iter()
        .map(|t| match std::env::var(str_of(t)) {
            Ok(v) => Value::from(v),
            Err(_) => default.clone().unwrap_or_else(|| Value::from("")),
        })
        .collect())
}

pub fn vars(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let default: Option<Value> = call.kwarg("default")?;
    let mut out = Vec::new();
    for t in &call.terms {
        let name = t.as_str().ok_or_else(|| {
            err(format!(
                "Invalid setting identifier, \"{}\" is not a string, its a {}",
                str_of(t),
                crate::python_types::type_name(t)
            ))
        })?;
        match call.var(name) {
            Some(v) => out.push(v),
            None => match &default {
                Some(d) => out.push(d.clone()),
                None => {
                    return Err(Error::new(
                        minijinja::ErrorKind::UndefinedError,
                        format!("No variable found with this name: {}", name),
                    ))
                }
            },
        }
    }
    Ok(out)
}

pub fn varnames(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let names = call.frame.vars.names();
    let mut out = Vec::new();
    for t in &call.terms {
        let pattern = t.as_str().ok_or_else(|| {
            err(format!(
                "Invalid setting identifier, \"{}\" is not a string, it is a {}",
                str_of(t),
                crate::python_types::type_name(t)
            ))
        })?;
        let re = regex::Regex::new(pattern).map_err(|e| {
            err(format!(
                "Unable to use \"{}\" as a search parameter: {}",
                pattern, e
            ))
        })?;
        for n in &names {
            // Python's re.search
            if re.is_match(n) {
                out.push(Value::from(n.as_str()));
            }
        }
    }
    Ok(out)
}

/// Host patterns over the `groups` variable: names, groups, `a:b`, `a,b`,
/// `!x`, `&y`, `*` wildcards.
pub fn inventory_hostnames(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let groups = call.var("groups").unwrap_or_default();
    let group_hosts = |name: &str| -> Option<Vec<String>> {
        let hosts = groups.get_attr(name).ok().filter(|v| !v.is_undefined())?;
        Some(list_of(&hosts).iter().map(str_of).collect())
    };
    let all = group_hosts("all").unwrap_or_default();
    let mut result: Vec<String> = Vec::new();
    for t in &call.terms {
        let text = str_of(t);
        for pat in text
            .split([':', ','])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (op, name) = match pat.as_bytes()[0] {
                b'!' => ('!', &pat[1..]),
                b'&' => ('&', &pat[1..]),
                _ => ('+', pat),
            };
            let matched: Vec<String> = if let Some(h) = group_hosts(name) {
                h
            } else if name.contains('*') {
                let re =
                    regex::Regex::new(&format!("^{}$", regex::escape(name).replace("\\*", ".*")))
                        .map_err(|e| err(e.to_string()))?;
                all.iter().filter(|h| re.is_match(h)).cloned().collect()
            } else if all.iter().any(|h| h == name) {
                vec![name.to_string()]
            } else {
                Vec::new()
            };
            match op {
                '!' => result.retain(|h| !matched.contains(h)),
                '&' => result.retain(|h| matched.contains(h)),
                _ => {
                    for h in matched {
                        if !result.contains(&h) {
                            result.push(h);
                        }
                    }
                }
            }
        }
    }
    Ok(result.into_iter().map(Value::from).collect())
}

/// `items`: the terms with lists flattened one level.
pub fn items(call: &LookupCall) -> Vec<Value> {
    let mut out = Vec::new();
    for t in &call.terms {
        if is_list(t) {
            out.extend(list_of(t));
        } else {
            out.push(t.clone());
        }
    }
    out
}

/// `flattened`: lists flattened at every depth; `None` dropped.
pub fn flattened(call: &LookupCall) -> Result<Vec<Value>, Error> {
    fn walk(v: &Value, out: &mut Vec<Value>) {
        if is_list(v) {
            for i in list_of(v) {
                walk(&i, out);
            }
        } else if !v.is_none() {
            out.push(v.clone());
        }
    }
    let mut out = Vec::new();
    for t in &call.terms {
        walk(t, &mut out);
    }
    Ok(out)
}

pub fn dict(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for t in &call.terms {
        if t.kind() != ValueKind::Map {
            return Err(err(format!(
                "with_dict expects a dict, got {}",
                crate::python_repr::repr(t)
            )));
        }
        for k in t.try_iter()? {
            let v = t.get_item(&k).unwrap_or_default();
            let mut m = IndexMap::new();
            m.insert(Value::from("key"), k);
            m.insert(Value::from("value"), v);
            out.push(Value::from(m));
        }
    }
    Ok(out)
}

pub fn nested(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let lists: Vec<Vec<Value>> = call.terms.iter().map(list_of).collect();
    if lists.is_empty() {
        return Err(err(
            "with_nested requires at least one element in the nested list",
        ));
    }
    let mut combos: Vec<Vec<Value>> = vec![Vec::new()];
    for list in &lists {
        let mut next = Vec::new();
        for c in &combos {
            for item in list {
                let mut n = c.clone();
                n.push(item.clone());
                next.push(n);
            }
        }
        combos = next;
    }
    Ok(combos.into_iter().map(Value::from).collect())
}

pub fn indexed_items(call: &LookupCall) -> Vec<Value> {
    items(call)
        .into_iter()
        .enumerate()
        .map(|(i, v)| Value::from(vec![Value::from(i), v]))
        .collect()
}

pub fn together(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let lists: Vec<Vec<Value>> = call.terms.iter().map(list_of).collect();
    if lists.is_empty() {
        return Err(err(
            "with_together requires at least one element in each list",
        ));
    }
    let len = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok((0..len)
        .map(|i| {
            Value::from(
                lists
                    .iter()
                    .map(|l| l.get(i).cloned().unwrap_or(Value::from(())))
                    .collect::<Vec<_>>(),
            )
        })
        .collect())
}

pub fn subelements(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let usage = || {
        err("subelements lookup expects a list of two or three items, the optional third one being a dict with the flag 'skip_missing'")
    };
    let (data, key) = match call.terms.as_slice() {
        [d, k] | [d, k, _] => (d.clone(), k.clone()),
        _ => return Err(usage()),
    };
    let skip_missing = match call.terms.get(2) {
        Some(flags) if flags.kind() == ValueKind::Map => flags
            .get_attr("skip_missing")
            .map(|v| v.is_true())
            .unwrap_or(false),
        Some(_) => return Err(usage()),
        None => false,
    };
    let key = key
        .as_str()
        .ok_or_else(|| err("the optional third item must be a dict with flags skip_missing"))?
        .to_string();
    let data = if data.kind() == ValueKind::Map {
        data.try_iter()?
            .map(|k| data.get_item(&k).unwrap_or_default())
            .collect::<Vec<_>>()
    } else {
        list_of(&data)
    };
    let mut out = Vec::new();
    for item in data {
        let mut sub = item.clone();
        let mut missing = false;
        for part in key.split('.') {
            match sub.get_attr(part) {
                Ok(v) if !v.is_undefined() => sub = v,
                _ => {
                    missing = true;
                    break;
                }
            }
        }
        if missing {
            if skip_missing {
                continue;
            }
            return Err(err(format!(
                "could not find '{}' key in iterated item '{}'",
                key,
                crate::python_repr::repr(&item)
            )));
        }
        if !is_list(&sub) {
            return Err(err(format!(
                "the key {} should point to a list, got '{}'",
                key,
                crate::python_repr::repr(&sub)
            )));
        }
        // Ansible's lookup drops the subelement's key from the parent item.
        let parent = without_key(&item, &key);
        for s in list_of(&sub) {
            out.push(Value::from(vec![parent.clone(), s]));
        }
    }
    Ok(out)
}

/// `sequence`: `start=1 end=5 stride=1 format=%d`, `count=`, or the short
/// form `[start-]end[/stride][:format]`.
pub fn sequence(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for t in &call.terms {
        let text = str_of(t);
        let (mut start, mut end, mut stride, mut count) = (1i64, None, 1i64, None);
        let mut format = "%d".to_string();
        let parse_int = |s: &str| -> Result<i64, Error> {
            let s = s.trim();
            let r = if let Some(h) = s.strip_prefix("0x") {
                i64::from_str_radix(h, 16)
            } else if let Some(o) = s.strip_prefix("0o") {
                i64::from_str_radix(o, 8)
            } else {
                s.parse()
            };
            r.map_err(|_| err(format!("can't parse {} as an integer", s)))
        };
        if text.contains('=') {
            for part in text.split_whitespace() {
                let (k, v) = part
                    .split_once('=')
                    .ok_or_else(|| err(format!("can't parse arg {} as a key=value pair", part)))?;
                match k {
                    "start" => start = parse_int(v)?,
                    "end" => end = Some(parse_int(v)?),
                    "stride" => stride = parse_int(v)?,
                    "count" => count = Some(parse_int(v)?),
                    "format" => format = v.to_string(),
                    _ => {
                        return Err(err(format!(
                            "unrecognized arguments to with_sequence: {}",
                            k
                        )))
                    }
                }
            }
        } else {
            let (range, fmt) = match text.split_once(':') {
                Some((r, f)) => (r.to_string(), Some(f.to_string())),
                None => (text.clone(), None),
            };
            let (range, st) = match range.split_once('/') {
                Some((r, s)) => (r.to_string(), Some(parse_int(s)?)),
                None => (range, None),
            };
            match range.rsplit_once('-') {
                Some((a, b)) if !a.is_empty() => {
                    start = parse_int(a)?;
                    end = Some(parse_int(b)?);
                }
                _ => end = Some(parse_int(&range)?),
            }
            if let Some(s) = st {
                stride = s;
            }
            if let Some(f) = fmt {
                format = f;
            }
        }
        if let Some(c) = count {
            if end.is_some() {
                return Err(err("can't specify both count and end in with_sequence"));
            }
            if c == 0 {
                continue;
            }
            end = Some(start + c * stride - if stride > 0 { 1 } else { -1 });
        }
        let end = end.ok_or_else(|| err("must specify count or end in with_sequence"))?;
        if stride == 0 {
            continue;
        }
        if (stride > 0 && end < start) || (stride < 0 && end > start) {
            return Err(err("to count backwards make stride negative"));
        }
        let mut i = start;
        while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
            out.push(Value::from(percent_format(&format, i)));
            i += stride;
        }
    }
    Ok(out)
}

/// Python's `%`-formatting of one integer (`%d`, `%02d`, `%x`, `%o`, text).
fn percent_format(format: &str, n: i64) -> String {
    let re = regex::Regex::new(r"%(-?0?)(\d*)([dixXo])").expect("static regex");
    re.replace(format, |c: &regex::Captures| {
        let flags = &c[1];
        let width: usize = c[2].parse().unwrap_or(0);
        let body = match &c[3] {
            "x" => format!("{:x}", n),
            "X" => format!("{:X}", n),
            "o" => format!("{:o}", n),
            _ => n.to_string(),
        };
        if flags.contains('-') {
            format!("{:<width$}", body, width = width)
        } else if flags.contains('0') {
            format!("{:0>width$}", body, width = width)
        } else {
            format!("{:>width$}", body, width = width)
        }
    })
    .replace("%%", "%")
}

pub fn random_choice(call: &LookupCall) -> Result<Vec<Value>, Error> {
    if call.terms.is_empty() {
        return Ok(Vec::new());
    }
    let i = crate::filters::random::below(call.terms.len() as u64) as usize;
    Ok(vec![call.terms[i].clone()])
}

fn shell_output(command: &str) -> Result<String, Error> {
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .output()
        .map_err(|e| {
            err(format!(
                "lookup_plugin.pipe({}) returned an error: {}",
                command, e
            ))
        })?;
    if !out.status.success() {
        return Err(err(format!(
            "lookup_plugin.pipe({}) returned {}",
            command,
            out.status.code().unwrap_or(-1)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn pipe(call: &LookupCall) -> Result<Vec<Value>, Error> {
    call.terms
        .iter()
        .map(|t| shell_output(&str_of(t)).map(|s| Value::from(s.trim_end())))
        .collect()
}

pub fn lines(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for t in &call.terms {
        let text = shell_output(&str_of(t))?;
        out.extend(text.lines().map(Value::from));
    }
    Ok(out)
}

/// A copy of a mapping without its first-level `key` (for a dotted key, the
/// item as it is).
fn without_key(item: &Value, key: &str) -> Value {
    if key.contains('.') || item.kind() != ValueKind::Map {
        return item.clone();
    }
    let Ok(keys) = item.try_iter() else {
        return item.clone();
    };
    let mut m = IndexMap::new();
    for k in keys {
        if k.as_str() != Some(key) {
            let v = item.get_item(&k).unwrap_or_default();
            m.insert(k, v);
        }
    }
    Value::from(m)
}
