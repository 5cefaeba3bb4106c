//! Ansible's Jinja tests (ansible/plugins/test/core.py, mathstuff.py, files.py),
//! under short and FQCN names.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use crate::python_repr::str_of;

macro_rules! add {
    ($env:expr, $name:expr, $f:expr) => {{
        $env.add_test($name, $f);
        $env.add_test(concat!("ansible.builtin.", $name), $f);
    }};
}

fn result_flag(v: &Value, key: &str) -> bool {
    v.get_attr(key).map(|x| x.is_true()).unwrap_or(false)
}

fn check_result(v: &Value, test: &str) -> Result<(), Error> {
    if v.kind() != ValueKind::Map {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("The '{}' test expects a dictionary", test),
        ));
    }
    Ok(())
}

fn failed(v: Value) -> Result<bool, Error> {
    check_result(&v, "failed")?;
    Ok(result_flag(&v, "failed"))
}
fn succeeded(v: Value) -> Result<bool, Error> {
    check_result(&v, "succeeded")?;
    Ok(!result_flag(&v, "failed"))
}
fn changed(v: Value) -> Result<bool, Error> {
    check_result(&v, "changed")?;
    Ok(result_flag(&v, "changed"))
}
fn skipped(v: Value) -> Result<bool, Error> {
    check_result(&v, "skipped")?;
    Ok(result_flag(&v, "skipped"))
}
fn finished(v: Value) -> Result<bool, Error> {
    check_result(&v, "finished")?;
    Ok(v.get_attr("finished")
        .map(|x| x.is_undefined() || x.is_true())
        .unwrap_or(true))
}

fn regex_test(value: Value, pattern: String, kwargs: Kwargs, mode: &str) -> Result<bool, Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    let match_type: Option<String> = kwargs.get("match_type")?;
    let mode = match_type.as_deref().unwrap_or(mode).to_string();
    // Python's re.match / re.fullmatch anchor at the start of the text whatever
    // MULTILINE says: `\A`, not `^`.
    let anchored = match mode.as_str() {
        "match" => format!("\\A(?:{pattern})"),
        "fullmatch" => format!("\\A(?:{pattern})\\Z"),
        _ => pattern,
    };
    let re = crate::filters::regex::compile(
        &anchored,
        ignorecase.unwrap_or(false),
        multiline.unwrap_or(false),
    )?;
    re.is_match(&str_of(&value)).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("invalid regular expression: {e}"),
        )
    })
}

/// Ansible's `version` test (LooseVersion-like comparison, `strict`/`semver` accepted).
fn version(value: Value, other: Value, op: Option<String>, kwargs: Kwargs) -> Result<bool, Error> {
    let kw_op: Option<String> = kwargs.get("operator")?;
    let _: Option<bool> = kwargs.get("strict")?;
    let _: Option<String> = kwargs.get("version_type")?;
    let op = kw_op.or(op).unwrap_or_else(|| "eq".into());
    let ord = crate::filters::strings::compare_versions(&str_of(&value), &str_of(&other));
    use std::cmp::Ordering::*;
    Ok(match op.as_str() {
        "<" | "lt" => ord == Less,
        "<=" | "le" => ord != Greater,
        ">" | "gt" => ord == Greater,
        ">=" | "ge" => ord != Less,
        "==" | "=" | "eq" => ord == Equal,
        "!=" | "<>" | "ne" => ord != Equal,
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("Invalid operator type ({})", op),
            ))
        }
    })
}

fn subset(a: Value, b: Value) -> Result<bool, Error> {
    let bs: Vec<Value> = b.try_iter()?.collect();
    Ok(a.try_iter()?.all(|x| bs.contains(&x)))
}
fn superset(a: Value, b: Value) -> Result<bool, Error> {
    subset(b, a)
}
fn contains(seq: Value, item: Value) -> Result<bool, Error> {
    Ok(seq.try_iter()?.any(|x| x == item))
}
fn any_(v: Value) -> Result<bool, Error> {
    Ok(v.try_iter()?.any(|x| x.is_true()))
}
fn all_(v: Value) -> Result<bool, Error> {
    Ok(v.try_iter()?.all(|x| x.is_true()))
}
fn truthy(v: Value, kwargs: Kwargs) -> Result<bool, Error> {
    let convert: Option<bool> = kwargs.get("convert_bool")?;
    if convert.unwrap_or(false) {
        return Ok(crate::filters::core::to_bool(v).is_true());
    }
    Ok(v.is_true())
}
fn falsy(v: Value, kwargs: Kwargs) -> Result<bool, Error> {
    truthy(v, kwargs).map(|b| !b)
}

pub fn register(env: &mut Environment<'static>) {
    add!(env, "failed", failed);
    add!(env, "failure", failed);
    add!(env, "succeeded", succeeded);
    add!(env, "success", succeeded);
    add!(env, "successful", succeeded);
    add!(env, "changed", changed);
    add!(env, "change", changed);
    add!(env, "skipped", skipped);
    add!(env, "skip", skipped);
    add!(env, "finished", finished);
    add!(env, "match", |v: Value, p: String, k: Kwargs| regex_test(
        v, p, k, "match"
    ));
    add!(env, "search", |v: Value, p: String, k: Kwargs| regex_test(
        v, p, k, "search"
    ));
    add!(env, "regex", |v: Value, p: String, k: Kwargs| regex_test(
        v, p, k, "search"
    ));
    add!(env, "version", version);
    add!(env, "version_compare", version);
    add!(env, "subset", subset);
    add!(env, "issubset", subset);
    add!(env, "superset", superset);
    add!(env, "issuperset", superset);
    add!(env, "contains", contains);
    add!(env, "any", any_);
    add!(env, "all", all_);
    add!(env, "truthy", truthy);
    add!(env, "falsy", falsy);
    add!(env, "abs", |p: String| p.starts_with('/'));
    add!(env, "exists", |p: String| std::path::Path::new(&p).exists());
    add!(env, "file", |p: String| std::path::Path::new(&p).is_file());
    add!(env, "directory", |p: String| std::path::Path::new(&p)
        .is_dir());
    add!(env, "link", |p: String| std::fs::symlink_metadata(&p)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false));
    add!(env, "is_abs", |p: String| p.starts_with('/'));
    env.add_test("string", |v: Value| v.kind() == ValueKind::String);
    env.add_test("mapping", |v: Value| v.kind() == ValueKind::Map);
    env.add_test("sequence", |v: Value| {
        matches!(
            v.kind(),
            ValueKind::Seq | ValueKind::String | ValueKind::Map
        )
    });
    env.add_test("iterable", |v: Value| {
        matches!(
            v.kind(),
            ValueKind::Seq | ValueKind::String | ValueKind::Map | ValueKind::Iterable
        )
    });
    env.add_test("number", |v: Value| v.kind() == ValueKind::Number);
    env.add_test("boolean", |v: Value| v.kind() == ValueKind::Bool);
    register_ip_tests(env);
}

/// `ansible.utils` IP tests, under their FQCN and short names.
fn register_ip_tests(env: &mut Environment<'static>) {
    use crate::filters::ipaddr::{test_ip_address, test_ip_network};
    for (name, f) in [
        (
            "ip",
            (|v: Value| test_ip_network(&v, None)) as fn(Value) -> Result<bool, minijinja::Error>,
        ),
        ("ipv4", |v: Value| test_ip_network(&v, Some(false))),
        ("ipv6", |v: Value| test_ip_network(&v, Some(true))),
        ("ip_address", |v: Value| test_ip_address(&v, None)),
        ("ipv4_address", |v: Value| test_ip_address(&v, Some(false))),
        ("ipv6_address", |v: Value| test_ip_address(&v, Some(true))),
    ] {
        env.add_test(name, f);
        env.add_test(format!("ansible.utils.{}", name), f);
    }
}
