//! `replace`: substitute every match of a (Python) regular expression in a file,
//! optionally only between `after` and `before`, as ansible-core's module does.
//!
//! Patterns and replacement templates are Python's, compiled by `rsible_pyre` (the
//! `regex` crate, or `fancy_regex` for look-around and back-references); what
//! neither takes is left to ansible-core's module (`declines`).

use super::file::with_file_common_params;
use super::lineinfile::{backup_local, check_file_attrs, write_changes};
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use rsible_pyre::{PyBytesRegex, PyRegex, Template};
use serde_json::{json, Map, Value};
use std::path::Path;

pub const SPEC: &[Param] = &with_file_common_params![
    Param::new("path", Kind::Path)
        .required()
        .aliases(&["dest", "destfile", "name"]),
    Param::new("regexp", Kind::Str).required(),
    Param::new("replace", Kind::Str).default(ParamDefault::Str("")),
    Param::new("after", Kind::Str),
    Param::new("before", Kind::Str),
    Param::new("backup", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("validate", Kind::Str),
    Param::new("encoding", Kind::Str).default(ParamDefault::Str("utf-8")),
];

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let text = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let path = text("path").unwrap_or_default();
    let regexp = text("regexp").unwrap_or_default();
    let replacement = text("replace").unwrap_or_default();
    let encoding = text("encoding").unwrap_or_else(|| "utf-8".into());
    if !matches!(
        encoding.to_lowercase().replace('_', "-").as_str(),
        "utf-8" | "utf8" | "ascii"
    ) {
        return Err(ModuleFail::msg(format!(
            "rsible agent: replace encoding {encoding} is not supported natively (only utf-8)"
        )));
    }
    let p = Path::new(&path);
    if p.is_dir() {
        return Err(ModuleFail::msg(format!("Path {path} is a directory !")).with("rc", json!(256)));
    }
    if !p.exists() {
        return Err(ModuleFail::msg(format!("Path {path} does not exist !")).with("rc", json!(257)));
    }
    let bytes = std::fs::read(p).map_err(|e| {
        ModuleFail::msg(format!(
            "Unable to read the contents of {path}: {}",
            crate::util::fs_attrs::py_os_error(&e, p)
        ))
    })?;
    let contents = String::from_utf8(bytes).map_err(|_| {
        ModuleFail::msg(format!(
            "rsible agent: {path} is not valid {encoding}; replace needs text"
        ))
    })?;

    let mut res = Map::new();
    res.insert("rc".into(), json!(0));
    // Empty after/before count as not given, as in Ansible (they are tested for truth).
    let after = text("after").filter(|s| !s.is_empty());
    let before = text("before").filter(|s| !s.is_empty());
    let section_pattern = section_pattern(after.as_deref(), before.as_deref());
    let (start, end) = if section_pattern.is_empty() {
        (0, contents.len())
    } else {
        let section_re = compile_section(&section_pattern)?;
        let subsection = section_re
            .capture_names()
            .iter()
            .position(|n| n.as_deref() == Some("subsection"));
        let found = section_re
            .captures_at(&contents, 0)
            .map_err(ModuleFail::msg)?;
        match found.and_then(|spans| spans.get(subsection?).copied().flatten()) {
            Some((s, e)) => (s, e),
            None => {
                res.insert(
                    "msg".into(),
                    json!(format!(
                        "Pattern for before/after params did not match the given file: {section_pattern}"
                    )),
                );
                res.insert("changed".into(), json!(false));
                return Ok(res);
            }
        }
    };
    let section = &contents[start..end];
    let re = compile_search(&regexp)?;
    let template = Template::parse(&replacement, &re.capture_names())
        .map_err(|e| ModuleFail::msg(format!("Unable to process replace due to error: {e}")))?;
    let (new_section, count) = re.subn(&template, section, 0).map_err(ModuleFail::msg)?;

    let mut changed = false;
    let mut msg = String::new();
    let mut new_contents = contents.clone();
    if count > 0 && new_section != section {
        new_contents = format!("{}{new_section}{}", &contents[..start], &contents[end..]);
        msg = format!("{count} replacements made");
        changed = true;
        if ctx.diff {
            res.insert(
                "diff".into(),
                json!({
                    "before_header": path,
                    "before": contents,
                    "after_header": path,
                    "after": new_contents,
                }),
            );
        }
    }
    if changed && !ctx.check_mode {
        if params.get("backup").and_then(Value::as_bool) == Some(true) && p.exists() {
            res.insert("backup_file".into(), json!(backup_local(p)?));
        }
        write_changes(params, p, new_contents.as_bytes())?;
    }
    let (msg, changed) = check_file_attrs(params, p, ctx, changed, msg, None)?;
    res.insert("msg".into(), json!(msg));
    res.insert("changed".into(), json!(changed));
    Ok(res)
}

/// The pattern that finds the part of the file between `after` and `before` (empty
/// when neither is given), as ansible-core builds it.
fn section_pattern(after: Option<&str>, before: Option<&str>) -> String {
    match (after, before) {
        (Some(a), Some(b)) => format!("{a}(?P<subsection>.*?){b}"),
        (Some(a), None) => format!("{a}(?P<subsection>.*)"),
        (None, Some(b)) => format!("(?P<subsection>.*){b}"),
        (None, None) => String::new(),
    }
}

fn compile_section(section_pattern: &str) -> Result<PyRegex, ModuleFail> {
    PyRegex::new(&format!("(?s){section_pattern}")).map_err(ModuleFail::msg)
}

fn compile_search(regexp: &str) -> Result<PyRegex, ModuleFail> {
    PyRegex::new(&format!("(?m){regexp}")).map_err(ModuleFail::msg)
}

/// Whether this call needs Python's `re` (a look-around, a back-reference, or anything
/// else the native engine cannot compile), so the executor runs ansible-core's module
/// instead. Decided by compiling exactly what `run` compiles, so the two never
/// disagree. Arguments are unvalidated: non-string values are left to `run`.
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let text = |k: &str| {
        args.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let section = section_pattern(text("after"), text("before"));
    if !section.is_empty() && compile_section(&section).is_err() {
        return Some("after/before pattern beyond the native regex engine");
    }
    match text("regexp") {
        Some(regexp) if compile_search(regexp).is_err() => {
            Some("regexp beyond the native regex engine")
        }
        _ => None,
    }
}

/// Whether one of the byte patterns `keys` name in `args` cannot be compiled natively
/// (`lineinfile`, `blockinfile`: see `replace::declines`).
pub(super) fn declines_bytes_patterns(args: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter()
        .filter_map(|k| args.get(*k).and_then(Value::as_str))
        .any(|p| compile_bytes(p).is_err())
}

/// Compile a Python bytes pattern (ASCII classes, `.` matches any byte) as
/// lineinfile, blockinfile and find use them.
pub(super) fn compile_bytes(pattern: &str) -> Result<PyBytesRegex, ModuleFail> {
    PyBytesRegex::new(pattern).map_err(ModuleFail::msg)
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;
    use std::fs;

    fn call(args: Value) -> Value {
        run_module(
            "replace",
            args.as_object().unwrap(),
            &ModuleContext::default(),
        )
    }

    #[test]
    fn replaces_with_groups_only_after_the_anchor() {
        // Reference: replace regexp='^a=(\d)$' replace='A=\g<1>\1' after='\[s\]'
        // on "a=1\nb=2\n[s]\na=3\n" gave "1 replacements made" and "A=33".
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r");
        fs::write(&p, "a=1\nb=2\n[s]\na=3\n").unwrap();
        let r = call(
            json!({"path": p, "regexp": "^a=(\\d)$", "replace": "A=\\g<1>\\1", "after": "\\[s\\]"}),
        );
        assert_eq!(r["msg"], json!("1 replacements made"), "{r}");
        assert_eq!(r["rc"], json!(0));
        assert_eq!(fs::read_to_string(&p).unwrap(), "a=1\nb=2\n[s]\nA=33\n");
        let r = call(
            json!({"path": p, "regexp": "^a=(\\d)$", "replace": "A=\\g<1>\\1", "after": "\\[s\\]"}),
        );
        assert_eq!(r["changed"], json!(false));
        assert_eq!(r["msg"], json!(""));
    }

    #[test]
    fn empty_matches_follow_python_rules() {
        // Reference: replace regexp='a*' replace='-' on "baac\n" gave "-b--c-\n-", 5.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r");
        fs::write(&p, "baac\n").unwrap();
        let r = call(json!({"path": p, "regexp": "a*", "replace": "-"}));
        assert_eq!(r["msg"], json!("5 replacements made"));
        assert_eq!(fs::read_to_string(&p).unwrap(), "-b--c-\n-");
    }

    #[test]
    fn section_not_found_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r");
        fs::write(&p, "x\n").unwrap();
        let r = call(json!({"path": p, "regexp": "zzz", "before": "nomatch"}));
        assert_eq!(
            r["msg"],
            json!("Pattern for before/after params did not match the given file: (?P<subsection>.*)nomatch")
        );
        assert_eq!(r["changed"], json!(false));
        let r = call(json!({"path": dir.path().join("no"), "regexp": "x"}));
        assert_eq!(r["rc"], json!(257));
        let r = call(json!({"path": p, "regexp": "x", "replace": "\\q"}));
        assert_eq!(r["failed"], json!(true));
        assert_eq!(
            r["msg"],
            json!("Unable to process replace due to error: bad escape \\q at position 0")
        );
    }

    #[test]
    fn python_only_patterns_leave_the_call_to_python() {
        let native = |module: &str, args: Value| {
            let Value::Object(args) = args else {
                panic!("arguments must be a map")
            };
            crate::modules::runs_natively(module, &args)
        };
        // Kubespray's two resolv.conf patterns (look-ahead, negative look-ahead).
        let before_block = "^search\\s[^#]*(?=# Ansible entries BEGIN)";
        let after_block = "(# Ansible entries END\\n(?:(?!^search\\s).*\\n)*)(?:^search\\s.*\\n?)+";
        // replace runs them natively through fancy-regex.
        assert!(native(
            "replace",
            json!({"path": "/f", "regexp": before_block})
        ));
        assert!(native(
            "ansible.builtin.replace",
            json!({"path": "/f", "regexp": after_block, "replace": "\\1"})
        ));
        assert!(native("replace", json!({"path": "/f", "regexp": "(a)\\1"})));
        assert!(native(
            "replace",
            json!({"path": "/f", "regexp": "x", "after": "(?<=a)b"})
        ));
        // Conditionals and atomic groups too; conditionals with three branches (an
        // error in Python) and multi-digit references still go to Python.
        assert!(native(
            "replace",
            json!({"path": "/f", "regexp": "(a)?(?(1)b|c)"})
        ));
        assert!(native("replace", json!({"path": "/f", "regexp": "(?>a)"})));
        assert!(!native(
            "replace",
            json!({"path": "/f", "regexp": "(a)?(?(1)b|c|d)"})
        ));
        assert!(!native(
            "replace",
            json!({"path": "/f", "regexp": "(a)\\12"})
        ));
        // lineinfile and blockinfile (bytes patterns) run them natively too.
        assert!(native(
            "lineinfile",
            json!({"path": "/f", "regex": "(?<=^ns )1", "line": "l"})
        ));
        assert!(native(
            "lineinfile",
            json!({"path": "/f", "line": "l", "insertbefore": "(?=x)"})
        ));
        assert!(native(
            "blockinfile",
            json!({"path": "/f", "insertafter": "^d(?= c)"})
        ));
        // Non-ASCII text in a case-insensitive bytes pattern, a bad escape: Python's.
        assert!(!native(
            "lineinfile",
            json!({"path": "/f", "regex": "(?i)\u{e9}(?=x)", "line": "l"})
        ));
        assert!(!native(
            "blockinfile",
            json!({"path": "/f", "insertafter": "\\p{L}"})
        ));
        // Plain patterns, BOF/EOF and non-string values stay native.
        assert!(native(
            "replace",
            json!({"path": "/f", "regexp": "^options ndots:5$", "after": "BEGIN"})
        ));
        assert!(native(
            "ansible.builtin.lineinfile",
            json!({"path": "/f", "regexp": "^# keep", "line": "l", "insertafter": "EOF"})
        ));
        assert!(native(
            "blockinfile",
            json!({"path": "/f", "insertbefore": "BOF", "block": "b"})
        ));
        assert!(native("replace", json!({"path": "/f", "regexp": 5})));
        // find and wait_for compile their patterns the same way.
        assert!(native("find", json!({"paths": "/f", "contains": "a(?=b)"})));
        assert!(native(
            "find",
            json!({"paths": "/f", "patterns": "x,(?<=a)b", "use_regex": "yes"})
        ));
        assert!(!native(
            "find",
            json!({"paths": "/f", "patterns": "x,(?i)\u{e9}(?=b)", "use_regex": "yes"})
        ));
        assert!(native(
            "find",
            json!({"paths": "/f", "patterns": ["^a.*"], "use_regex": true, "contains": "^x"})
        ));
        assert!(native(
            "wait_for",
            json!({"path": "/f", "search_regex": "(a)\\1"})
        ));
        assert!(!native(
            "wait_for",
            json!({"path": "/f", "search_regex": "(a)?(?(1)b|c|d)"})
        ));
        assert!(native(
            "wait_for",
            json!({"path": "/f", "search_regex": "ready$"})
        ));
    }

    #[test]
    fn look_around_and_back_references_run_natively() {
        // Reference: Python re.subn with these patterns and flags=re.MULTILINE.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r");
        fs::write(&p, "ab ac\nxx yy\nna=1 nb=1\n").unwrap();
        let r = call(json!({"path": p, "regexp": "a(?!b)", "replace": "A"}));
        assert_eq!(r["msg"], json!("2 replacements made"), "{r}");
        let r = call(json!({"path": p, "regexp": "(?<=n)(?P<k>[ab])=1", "replace": "\\g<k>=2"}));
        assert_eq!(r["msg"], json!("1 replacements made"), "{r}");
        let r = call(json!({"path": p, "regexp": "(?P<c>\\w)(?P=c)", "replace": "<\\g<0>>"}));
        assert_eq!(r["msg"], json!("2 replacements made"), "{r}");
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "ab Ac\n<xx> <yy>\nnA=1 nb=2\n"
        );
    }
}
