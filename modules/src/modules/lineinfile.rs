//! `lineinfile`: make sure one line is (or is not) in a file, as ansible-core's module.
//!
//! The file is handled as bytes split after each `\n` (Python's `readlines`), regular
//! expressions are Python bytes patterns (see `replace::compile_bytes`).
//!
//! Also home of the write path shared with `blockinfile` and `replace`: backups,
//! `validate` and the "ownership, perms or SE linux context changed" message.

pub(super) use super::backup::backup_local;
use super::file::with_file_common_params;
use super::replace::compile_bytes;
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::atomic::{write_atomic, NewMode};
use crate::util::fs_attrs::{py_os_error, set_fs_attributes_if_different, FileArgs};
use rsible_pyre::{PyBytesRegex, Template};
use serde_json::{json, Map, Value};
use std::fs;
use std::path::{Path, PathBuf};

pub const SPEC: &[Param] = &with_file_common_params![
    Param::new("path", Kind::Path)
        .required()
        .aliases(&["dest", "destfile", "name"]),
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["absent", "present"]),
    Param::new("regexp", Kind::Str).aliases(&["regex"]),
    Param::new("search_string", Kind::Str),
    Param::new("line", Kind::Str).aliases(&["value"]),
    Param::new("insertafter", Kind::Str),
    Param::new("insertbefore", Kind::Str),
    Param::new("backrefs", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("create", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("backup", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("firstmatch", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("validate", Kind::Str),
];

const LINESEP: &[u8] = b"\n";

/// The validated arguments lineinfile works with.
struct Args<'a> {
    params: &'a Map<String, Value>,
    path: String,
    regexp: Option<String>,
    search_string: Option<String>,
    line: Option<String>,
    insertafter: Option<String>,
    insertbefore: Option<String>,
    backrefs: bool,
    create: bool,
    backup: bool,
    firstmatch: bool,
}

impl<'a> Args<'a> {
    fn from(params: &'a Map<String, Value>) -> Args<'a> {
        let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
        let b = |k: &str| params.get(k).and_then(Value::as_bool).unwrap_or(false);
        Args {
            params,
            path: s("path").unwrap_or_default(),
            regexp: s("regexp"),
            search_string: s("search_string"),
            line: s("line"),
            insertafter: s("insertafter"),
            insertbefore: s("insertbefore"),
            backrefs: b("backrefs"),
            create: b("create"),
            backup: b("backup"),
            firstmatch: b("firstmatch"),
        }
    }
}

/// Ansible's `mutually_exclusive` check. Ansible runs it before defaults are filled
/// in; here the parameters already hold defaults, so `false` (the default of every
/// boolean involved) counts as not given.
pub(super) fn check_mutually_exclusive(
    params: &Map<String, Value>,
    groups: &[&[&str]],
) -> Result<(), ModuleFail> {
    let clashes: Vec<String> = groups
        .iter()
        .filter(|g| {
            g.iter()
                .filter(|k| {
                    params
                        .get(**k)
                        .is_some_and(|v| !v.is_null() && *v != Value::Bool(false))
                })
                .count()
                > 1
        })
        .map(|g| g.join("|"))
        .collect();
    if clashes.is_empty() {
        Ok(())
    } else {
        Err(ModuleFail::msg(format!(
            "parameters are mutually exclusive: {}",
            clashes.join(", ")
        )))
    }
}

/// Whether this call needs Python's `re` (see `replace::declines`).
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let keys = ["regexp", "regex", "insertafter", "insertbefore"];
    super::replace::declines_bytes_patterns(args, &keys)
        .then_some("regular expression beyond the native regex engine")
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    check_mutually_exclusive(
        params,
        &[
            &["insertbefore", "insertafter"],
            &["regexp", "search_string"],
            &["backrefs", "search_string"],
        ],
    )?;
    let mut args = Args::from(params);
    let mut warnings = Vec::new();
    if args.regexp.as_deref() == Some("") || args.search_string.as_deref() == Some("") {
        let (name, extra) = if args.regexp.as_deref() == Some("") {
            ("regular expression", " If this is desired, use '^' to match every line in the file and avoid this warning.")
        } else {
            ("search string", "")
        };
        warnings.push(format!("The {name} is an empty string, which will match every line in the file. This may have unintended consequences, such as replacing the last line in the file rather than appending.{extra}"));
    }
    if Path::new(&args.path).is_dir() {
        return Err(
            ModuleFail::msg(format!("Path {} is a directory !", args.path)).with("rc", json!(256)),
        );
    }
    let state = params.get("state").and_then(Value::as_str);
    let mut result = if state == Some("absent") {
        if args.regexp.is_none() && args.search_string.is_none() && args.line.is_none() {
            return Err(ModuleFail::msg(
                "one of line, search_string, or regexp is required with state=absent",
            ));
        }
        absent(&args, ctx)?
    } else {
        if args.backrefs && args.regexp.is_none() {
            return Err(ModuleFail::msg("regexp is required with backrefs=true"));
        }
        if args.line.is_none() {
            return Err(ModuleFail::msg("line is required with state=present"));
        }
        if args.insertbefore.is_none() && args.insertafter.is_none() {
            args.insertafter = Some("EOF".into());
        }
        present(&args, ctx)?
    };
    if !warnings.is_empty() {
        result.insert("warnings".into(), json!(warnings));
    }
    Ok(result)
}

/// Python's `readlines()` on bytes: split after every `\n`, keeping it.
pub(super) fn read_lines(data: &[u8]) -> Vec<Vec<u8>> {
    data.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &line[..end]
}

fn ends_with_eol(line: &[u8]) -> bool {
    matches!(line.last(), Some(b'\n' | b'\r'))
}

fn content_diff(dest: &str) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("before".into(), json!(""));
    d.insert("after".into(), json!(""));
    d.insert("before_header".into(), json!(format!("{dest} (content)")));
    d.insert("after_header".into(), json!(format!("{dest} (content)")));
    d
}

fn text_of(lines: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(&lines.concat()).into_owned()
}

fn present(a: &Args, ctx: &ModuleContext) -> ModuleOutcome {
    let dest = a.path.as_str();
    let path = Path::new(dest);
    let mut diff = content_diff(dest);
    let exists = path.exists();
    let mut lines = if exists {
        read_lines(&read_file(path)?)
    } else {
        if !a.create {
            return Err(
                ModuleFail::msg(format!("Destination {dest} does not exist !"))
                    .with("rc", json!(257)),
            );
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.exists() && !ctx.check_mode {
                fs::create_dir_all(parent).map_err(|e| {
                    ModuleFail::msg(format!(
                        "Error creating {} ({})",
                        parent.display(),
                        py_os_error(&e, parent)
                    ))
                })?;
            }
        }
        Vec::new()
    };
    if ctx.diff {
        diff.insert("before".into(), json!(text_of(&lines)));
    }

    let regexp = a.regexp.as_deref().map(compile_bytes).transpose()?;
    let insert_pattern = match (a.insertafter.as_deref(), a.insertbefore.as_deref()) {
        (Some(after), _) if after != "BOF" && after != "EOF" => Some(after),
        (None, Some(before)) if before != "BOF" => Some(before),
        _ => None,
    };
    let insert_re = insert_pattern.map(compile_bytes).transpose()?;
    let line = a.line.clone().unwrap_or_default().into_bytes();
    let after_given = a.insertafter.as_deref().is_some_and(|s| !s.is_empty());
    let before_given = a.insertbefore.as_deref().is_some_and(|s| !s.is_empty());

    // found: the line to replace; insert_at: where insertafter/insertbefore point.
    let mut found: Option<usize> = None;
    let mut matched = false;
    if let Some(re) = &regexp {
        for (n, cur) in lines.iter().enumerate() {
            if re.is_match(cur).map_err(ModuleFail::msg)? {
                found = Some(n);
                matched = true;
                if a.firstmatch {
                    break;
                }
            }
        }
    }
    if let Some(needle) = a.search_string.as_deref() {
        for (n, cur) in lines.iter().enumerate() {
            if contains(cur, needle.as_bytes()) {
                found = Some(n);
                matched = true;
                if a.firstmatch {
                    break;
                }
            }
        }
    }
    let mut insert_at: Option<usize> = None;
    if !matched {
        for (n, cur) in lines.iter().enumerate() {
            if strip_eol(cur) == line.as_slice() {
                found = Some(n);
            } else if match &insert_re {
                Some(re) => re.is_match(cur).map_err(ModuleFail::msg)?,
                None => false,
            } {
                if after_given {
                    insert_at = Some(n + 1);
                    if a.firstmatch {
                        break;
                    }
                }
                if before_given {
                    insert_at = Some(n);
                    if a.firstmatch {
                        break;
                    }
                }
            }
        }
    }

    let mut msg = "";
    let mut changed = false;
    let with_sep = |l: &[u8]| [l, LINESEP].concat();
    if let Some(n) = found {
        let mut new_line = match (&regexp, a.backrefs && matched) {
            (Some(re), true) => expand_backrefs(re, &lines[n], a.line.as_deref().unwrap_or(""))?,
            _ => line.clone(),
        };
        if !new_line.ends_with(LINESEP) {
            new_line.extend_from_slice(LINESEP);
        }
        if lines[n] != new_line {
            lines[n] = new_line;
            msg = "line replaced";
            changed = true;
        }
    } else if a.backrefs {
        // Without a match there is nothing to fill the back-references from.
    } else if a.insertbefore.as_deref() == Some("BOF") || a.insertafter.as_deref() == Some("BOF") {
        lines.insert(0, with_sep(&line));
        msg = "line added";
        changed = true;
    } else if a.insertafter.as_deref() == Some("EOF") || insert_at.is_none() {
        if lines.last().is_some_and(|l| !ends_with_eol(l)) {
            lines.push(LINESEP.to_vec());
        }
        lines.push(with_sep(&line));
        msg = "line added";
        changed = true;
    } else if let Some(at) = insert_at {
        if after_given {
            // Not again if the line is already right there.
            let neighbour = if at == lines.len() { at - 1 } else { at };
            if strip_eol(&lines[neighbour]) != line.as_slice() {
                lines.insert(at, with_sep(&line));
                msg = "line added";
                changed = true;
            }
        } else {
            lines.insert(at, with_sep(&line));
            msg = "line added";
            changed = true;
        }
    }
    if ctx.diff {
        diff.insert("after".into(), json!(text_of(&lines)));
    }

    let mut backup = String::new();
    if changed && !ctx.check_mode {
        if a.backup && path.exists() {
            backup = backup_local(path)?;
        }
        write_changes(a.params, path, &lines.concat())?;
    }
    let mut result = Map::new();
    if ctx.check_mode && !path.exists() {
        result.insert("changed".into(), json!(changed));
        result.insert("msg".into(), json!(msg));
        result.insert("backup".into(), json!(backup));
        result.insert("diff".into(), Value::Object(diff));
        return Ok(result);
    }
    finish_with_attrs(a, ctx, changed, msg.to_string(), backup, diff, None)
}

fn absent(a: &Args, ctx: &ModuleContext) -> ModuleOutcome {
    let dest = a.path.as_str();
    let path = Path::new(dest);
    if !path.exists() {
        let mut r = Map::new();
        r.insert("changed".into(), json!(false));
        r.insert("msg".into(), json!("file not present"));
        return Ok(r);
    }
    let mut diff = content_diff(dest);
    let lines = read_lines(&read_file(path)?);
    if ctx.diff {
        diff.insert("before".into(), json!(text_of(&lines)));
    }
    let regexp = a.regexp.as_deref().map(compile_bytes).transpose()?;
    let line = a.line.clone().unwrap_or_default().into_bytes();
    let is_target = |cur: &[u8]| match (&regexp, a.search_string.as_deref()) {
        (Some(re), _) => re.is_match(cur).map_err(ModuleFail::msg),
        (None, Some(needle)) => Ok(contains(cur, needle.as_bytes())),
        (None, None) => Ok(strip_eol(cur) == line.as_slice()),
    };
    let (mut removed, mut kept): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (Vec::new(), Vec::new());
    for l in lines {
        if is_target(&l)? {
            removed.push(l);
        } else {
            kept.push(l);
        }
    }
    let changed = !removed.is_empty();
    if ctx.diff {
        diff.insert("after".into(), json!(text_of(&kept)));
    }
    let mut backup = String::new();
    if changed && !ctx.check_mode {
        if a.backup {
            backup = backup_local(path)?;
        }
        write_changes(a.params, path, &kept.concat())?;
    }
    let msg = if changed {
        format!("{} line(s) removed", removed.len())
    } else {
        String::new()
    };
    finish_with_attrs(a, ctx, changed, msg, backup, diff, Some(removed.len()))
}

/// Apply owner/group/mode and build the result with Ansible's two-part diff list.
fn finish_with_attrs(
    a: &Args,
    ctx: &ModuleContext,
    changed: bool,
    msg: String,
    backup: String,
    diff: Map<String, Value>,
    found: Option<usize>,
) -> ModuleOutcome {
    let dest = a.path.as_str();
    let mut attr_diff = Map::new();
    let (msg, changed) = check_file_attrs(
        a.params,
        Path::new(dest),
        ctx,
        changed,
        msg,
        Some(&mut attr_diff),
    )?;
    attr_diff.insert(
        "before_header".into(),
        json!(format!("{dest} (file attributes)")),
    );
    attr_diff.insert(
        "after_header".into(),
        json!(format!("{dest} (file attributes)")),
    );
    let mut result = Map::new();
    result.insert("changed".into(), json!(changed));
    if let Some(n) = found {
        result.insert("found".into(), json!(n));
    }
    result.insert("msg".into(), json!(msg));
    result.insert("backup".into(), json!(backup));
    result.insert(
        "diff".into(),
        json!([Value::Object(diff), Value::Object(attr_diff)]),
    );
    Ok(result)
}

/// `match.expand(line)` for `backrefs=true`, on the line the regexp matched.
fn expand_backrefs(re: &PyBytesRegex, cur: &[u8], template: &str) -> Result<Vec<u8>, ModuleFail> {
    let template = Template::parse(template, &re.capture_names()).map_err(ModuleFail::msg)?;
    let spans = re
        .captures(cur)
        .map_err(ModuleFail::msg)?
        .ok_or_else(|| ModuleFail::msg("rsible agent: regexp no longer matches"))?;
    Ok(template.expand_bytes(|g| {
        spans
            .get(g)
            .copied()
            .flatten()
            .and_then(|(s, e)| cur.get(s..e))
    }))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

pub(super) fn read_file(path: &Path) -> Result<Vec<u8>, ModuleFail> {
    fs::read(path).map_err(|e| ModuleFail::msg(py_os_error(&e, path)))
}

/// Python's `os.path.realpath` for a path that may not exist yet.
fn real_path(path: &Path) -> PathBuf {
    if let Ok(p) = fs::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => fs::canonicalize(parent)
            .map(|p| p.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

/// Write `data` to `dest` (through symlinks, as Ansible moves onto the real path),
/// first running `validate` on a temporary copy when the task asks for it.
pub(super) fn write_changes(
    params: &Map<String, Value>,
    dest: &Path,
    data: &[u8],
) -> Result<(), ModuleFail> {
    let real = real_path(dest);
    if let Some(validate) = params.get("validate").and_then(Value::as_str) {
        run_validate(validate, &real, data)?;
    }
    write_atomic(&real, &mut &data[..], NewMode::KeepExisting).map_err(|e| {
        ModuleFail::msg(format!(
            "Unable to make {} into to {}, failed final rename from temp file: {}",
            real.display(),
            dest.display(),
            py_os_error(&e, &real)
        ))
    })?;
    Ok(())
}

/// Run `validate` (with `%s` naming a temp file holding `data`); a non-zero exit is
/// Ansible's "failed to validate: rc:N error:STDERR".
fn run_validate(validate: &str, dest: &Path, data: &[u8]) -> Result<(), ModuleFail> {
    use crate::util::validate::{run, ValidateError};
    run(validate, dest, data, |_| {}).map_err(|e| match e {
        ValidateError::Setup(msg) => ModuleFail::msg(msg),
        ValidateError::Failed(out) => ModuleFail::msg(format!(
            "failed to validate: rc:{} error:{}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr)
        )),
        // Ansible's run_command reports a missing executable as rc 2.
        ValidateError::NotRun(e) => ModuleFail::msg(format!("failed to validate: rc:2 error:{e}")),
    })
}

/// Ansible's `check_file_attrs`: apply owner/group/mode and extend the message.
pub(super) fn check_file_attrs(
    params: &Map<String, Value>,
    path: &Path,
    ctx: &ModuleContext,
    changed: bool,
    mut msg: String,
    diff: Option<&mut Map<String, Value>>,
) -> Result<(String, bool), ModuleFail> {
    let file_args = FileArgs::from_params(params);
    if file_args.owner.is_none() && file_args.group.is_none() && file_args.mode.is_none() {
        return Ok((msg, changed));
    }
    if set_fs_attributes_if_different(path, &file_args, false, ctx.check_mode, diff)? {
        if changed {
            msg.push_str(" and ");
        }
        msg.push_str("ownership, perms or SE linux context changed");
        return Ok((msg, true));
    }
    Ok((msg, changed))
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;

    fn call(args: Value) -> Value {
        run_module(
            "lineinfile",
            args.as_object().unwrap(),
            &ModuleContext::default(),
        )
    }

    fn file_with(content: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, content).unwrap();
        (dir, p)
    }

    #[test]
    fn appends_adding_missing_final_newline_then_is_idempotent() {
        let (_d, p) = file_with("a\nb");
        let r = call(json!({"path": p, "line": "c"}));
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(r["msg"], json!("line added"));
        assert_eq!(r["backup"], json!(""));
        assert_eq!(fs::read_to_string(&p).unwrap(), "a\nb\nc\n");
        let r = call(json!({"path": p, "line": "c"}));
        assert_eq!(r["changed"], json!(false));
        assert_eq!(r["msg"], json!(""));
    }

    #[test]
    fn regexp_replaces_last_match_or_first_with_firstmatch() {
        let (_d, p) = file_with("x=1\ny=2\nx=3\n");
        let r = call(json!({"path": p, "regexp": "^x=", "line": "x=9"}));
        assert_eq!(r["msg"], json!("line replaced"));
        assert_eq!(fs::read_to_string(&p).unwrap(), "x=1\ny=2\nx=9\n");
        let r = call(json!({"path": p, "regexp": "^x=", "line": "x=0", "firstmatch": true}));
        assert_eq!(r["changed"], json!(true));
        assert_eq!(fs::read_to_string(&p).unwrap(), "x=0\ny=2\nx=9\n");
    }

    #[test]
    fn dollar_matches_before_the_newline_as_in_python() {
        let (_d, p) = file_with("key = old\n");
        let r = call(json!({"path": p, "regexp": "^key = .*$", "line": "key = new"}));
        assert_eq!(r["msg"], json!("line replaced"), "{r}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "key = new\n");
    }

    #[test]
    fn backrefs_expand_groups_and_do_nothing_without_match() {
        let (_d, p) = file_with("port: 80\n");
        let r = call(
            json!({"path": p, "regexp": "^port: (\\d+)$", "line": "port: \\g<1>0 # \\1", "backrefs": true}),
        );
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "port: 800 # 80\n");
        let r = call(json!({"path": p, "regexp": "^nomatch", "line": "x", "backrefs": true}));
        assert_eq!(r["changed"], json!(false));
        assert_eq!(fs::read_to_string(&p).unwrap(), "port: 800 # 80\n");
    }

    #[test]
    fn insertafter_and_insertbefore() {
        let (_d, p) = file_with("[a]\nk=1\n[b]\n");
        let r = call(json!({"path": p, "line": "n=2", "insertafter": "^\\[a\\]"}));
        assert_eq!(r["msg"], json!("line added"));
        assert_eq!(fs::read_to_string(&p).unwrap(), "[a]\nn=2\nk=1\n[b]\n");
        // Already right after the anchor: nothing to do.
        let r = call(json!({"path": p, "line": "n=2", "insertafter": "^\\[a\\]"}));
        assert_eq!(r["changed"], json!(false));
        let r = call(json!({"path": p, "line": "z", "insertbefore": "^\\[b\\]"}));
        assert_eq!(r["changed"], json!(true));
        assert_eq!(fs::read_to_string(&p).unwrap(), "[a]\nn=2\nk=1\nz\n[b]\n");
        let r = call(json!({"path": p, "line": "top", "insertbefore": "BOF"}));
        assert_eq!(r["changed"], json!(true));
        assert!(fs::read_to_string(&p).unwrap().starts_with("top\n[a]"));
        // An anchor that does not match appends at the end.
        let r = call(json!({"path": p, "line": "end", "insertafter": "^nothing"}));
        assert_eq!(r["changed"], json!(true));
        assert!(fs::read_to_string(&p).unwrap().ends_with("[b]\nend\n"));
    }

    #[test]
    fn absent_counts_removed_lines() {
        let (_d, p) = file_with("a\nb\na\n");
        let r = call(json!({"path": p, "line": "a", "state": "absent"}));
        assert_eq!(r["msg"], json!("2 line(s) removed"));
        assert_eq!(r["found"], json!(2));
        assert_eq!(fs::read_to_string(&p).unwrap(), "b\n");
        let r = call(json!({"path": p, "regexp": "^z", "state": "absent"}));
        assert_eq!(r["changed"], json!(false));
        assert_eq!(r["found"], json!(0));
        let r = call(json!({"path": "/nonexistent/x", "line": "a", "state": "absent"}));
        assert_eq!(r["msg"], json!("file not present"));
    }

    #[test]
    fn missing_file_create_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/new");
        let r = call(json!({"path": p, "line": "x"}));
        assert_eq!(r["failed"], json!(true));
        assert_eq!(r["rc"], json!(257));
        assert_eq!(
            r["msg"],
            json!(format!("Destination {} does not exist !", p.display()))
        );
        let r = call(json!({"path": p, "line": "x", "create": true, "mode": "0600"}));
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(
            r["msg"],
            json!("line added and ownership, perms or SE linux context changed")
        );
        assert_eq!(fs::read_to_string(&p).unwrap(), "x\n");
        let r = call(json!({"path": dir.path(), "line": "x"}));
        assert_eq!(r["rc"], json!(256));
        let r = call(json!({"path": p, "line": "x", "insertafter": "a", "insertbefore": "b"}));
        assert_eq!(
            r["msg"],
            json!("parameters are mutually exclusive: insertbefore|insertafter")
        );
        // What neither native engine takes fails loudly, naming the construct.
        let r = call(json!({"path": p, "regexp": "(a)(?(1)b|c|d)", "line": "x"}));
        assert_eq!(r["failed"], json!(true));
        assert!(r["msg"].as_str().unwrap().contains("conditional"), "{r}");
    }

    #[test]
    fn check_mode_and_diff_and_backup() {
        let (_d, p) = file_with("a\n");
        let ctx = ModuleContext {
            check_mode: true,
            diff: true,
            ..Default::default()
        };
        let args = json!({"path": p, "line": "b", "backup": true});
        let r = run_module("lineinfile", args.as_object().unwrap(), &ctx);
        assert_eq!(r["changed"], json!(true));
        assert_eq!(r["diff"][0]["before"], json!("a\n"));
        assert_eq!(r["diff"][0]["after"], json!("a\nb\n"));
        assert_eq!(
            r["diff"][1]["before_header"],
            json!(format!("{} (file attributes)", p.display()))
        );
        assert_eq!(fs::read_to_string(&p).unwrap(), "a\n");
        let r = call(args);
        let backup = r["backup"].as_str().unwrap();
        assert_eq!(fs::read_to_string(backup).unwrap(), "a\n");
    }

    #[test]
    fn validate_runs_before_writing() {
        let (_d, p) = file_with("a\n");
        let r = call(json!({"path": p, "line": "b", "validate": "false %s"}));
        assert_eq!(r["failed"], json!(true));
        assert_eq!(r["msg"], json!("failed to validate: rc:1 error:"));
        assert_eq!(fs::read_to_string(&p).unwrap(), "a\n");
        let r = call(json!({"path": p, "line": "b", "validate": "grep -q b %s"}));
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "a\nb\n");
    }
}
