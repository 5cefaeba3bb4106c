//! `file`: states file, directory, touch, absent and link, with Ansible's results and
//! diffs. (`hard` and explicit timestamps other than now/preserve are reported as not
//! implemented rather than guessed.)

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::fs_attrs::{
    py_os_error, py_os_error_bytes, set_fs_attributes_if_different, FileArgs,
};
use crate::util::pytime::epoch_float;
use serde_json::{json, Map, Value};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A file-handling module's parameter list: its own parameters, then the
/// "file common arguments" every such module accepts (mode, owner, ...).
macro_rules! with_file_common_params {
    ($($param:expr),* $(,)?) => {
        [
            $($param,)*
            Param::new("mode", Kind::Raw),
            Param::new("owner", Kind::Str),
            Param::new("group", Kind::Str),
            Param::new("seuser", Kind::Str),
            Param::new("serole", Kind::Str),
            Param::new("selevel", Kind::Str),
            Param::new("setype", Kind::Str),
            Param::new("attributes", Kind::Str).aliases(&["attr"]),
            Param::new("unsafe_writes", Kind::Bool).default(ParamDefault::Bool(false)),
        ]
    };
}
pub(crate) use with_file_common_params;

pub const SPEC: &[Param] = &with_file_common_params![
    Param::new("state", Kind::Str).choices(&[
        "absent",
        "directory",
        "file",
        "hard",
        "link",
        "touch",
    ]),
    Param::new("path", Kind::Path)
        .required()
        .aliases(&["dest", "name"]),
    Param::new("_original_basename", Kind::Str),
    Param::new("recurse", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("force", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("follow", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("_diff_peek", Kind::Bool),
    Param::new("src", Kind::Path),
    Param::new("modification_time", Kind::Str),
    Param::new("modification_time_format", Kind::Str).default(ParamDefault::Str("%Y%m%d%H%M.%S")),
    Param::new("access_time", Kind::Str),
    Param::new("access_time_format", Kind::Str).default(ParamDefault::Str("%Y%m%d%H%M.%S")),
];

/// The state of a path as Ansible's `get_state` sees it.
pub fn get_state(path: &Path) -> &'static str {
    match fs::symlink_metadata(path) {
        Err(_) => "absent",
        Ok(m) if m.file_type().is_symlink() => "link",
        Ok(m) if m.is_dir() => "directory",
        Ok(m) if m.nlink() > 1 => "hard",
        Ok(_) => "file",
    }
}

fn s<'a>(params: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    params.get(k).and_then(Value::as_str)
}

fn b(params: &Map<String, Value>, k: &str) -> bool {
    params.get(k).and_then(Value::as_bool).unwrap_or(false)
}

fn fail_path(msg: impl Into<String>, path: &str) -> ModuleFail {
    ModuleFail::msg(msg).with("path", json!(path))
}

/// Whether to touch timestamps: None = preserve, Some(()) = now.
#[derive(Clone, Copy, PartialEq)]
enum Stamp {
    Preserve,
    Now,
}

fn stamp(value: Option<&str>, state: &str) -> Result<Stamp, ModuleFail> {
    match value {
        None if state == "touch" => Ok(Stamp::Now),
        None | Some("preserve") => Ok(Stamp::Preserve),
        Some("now") => Ok(Stamp::Now),
        Some(other) => Err(ModuleFail::msg(format!(
            "rsible agent: file timestamps other than 'now'/'preserve' are not implemented natively (got {other})"
        ))),
    }
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let mut path = s(params, "path").unwrap_or_default().to_string();
    let src = s(params, "src").map(str::to_string);
    let recurse = b(params, "recurse");
    let follow = b(params, "follow");
    let force = b(params, "force");
    let mut state = s(params, "state").map(str::to_string);

    // additional_parameter_handling: a directory path plus a basename means "inside it".
    if !matches!(state.as_deref(), Some("link" | "absent")) && Path::new(&path).is_dir() {
        let base = s(params, "_original_basename")
            .map(str::to_string)
            .or_else(|| {
                src.as_deref()
                    .and_then(|p| Path::new(p).file_name())
                    .map(|n| n.to_string_lossy().into_owned())
            });
        if let Some(base) = base {
            path = Path::new(&path).join(base).display().to_string();
        }
    }
    let prev_state = get_state(Path::new(&path));
    let state = match state.take() {
        Some(st) => st,
        None if prev_state != "absent" => prev_state.to_string(),
        None if recurse => "directory".into(),
        None => "file".into(),
    };
    if recurse && state != "directory" {
        return Err(fail_path(
            "recurse option requires state to be 'directory'",
            &path,
        ));
    }
    if src.is_some() && !matches!(state.as_str(), "link" | "hard") {
        return Err(fail_path(
            "src option requires state to be 'link' or 'hard'",
            &path,
        ));
    }
    if params.get("_diff_peek").is_some_and(|v| !v.is_null()) {
        let appears_binary = fs::read(&path)
            .map(|d| d.iter().take(8192).any(|&c| c == 0))
            .unwrap_or(false);
        let mut r = Map::new();
        r.insert("path".into(), json!(path));
        r.insert("changed".into(), json!(false));
        r.insert("appears_binary".into(), json!(appears_binary));
        return Ok(r);
    }
    let mtime = stamp(s(params, "modification_time"), &state)?;
    let atime = stamp(s(params, "access_time"), &state)?;
    let file_args = FileArgs::from_params(params);
    if ctx.check_mode && state != "absent" {
        if let Some(o) = &file_args.owner {
            if crate::util::users::resolve_uid(o).is_none() {
                return Err(ModuleFail::msg(format!("failed to look up user {o}")));
            }
        }
        if let Some(g) = &file_args.group {
            if crate::util::users::resolve_gid(g).is_none() {
                return Err(ModuleFail::msg(format!("failed to look up group {g}")));
            }
        }
    }
    let stamps = (mtime, atime);
    match state.as_str() {
        "file" => ensure_file(&path, follow, &file_args, stamps, ctx),
        "directory" => ensure_directory(&path, follow, recurse, &file_args, stamps, ctx),
        "link" => ensure_symlink(
            &path,
            src.as_deref(),
            follow,
            force,
            &file_args,
            stamps,
            ctx,
        ),
        "touch" => touch(&path, &file_args, stamps, ctx),
        "absent" => ensure_absent(&path, ctx),
        other => Err(fail_path(
            format!("rsible agent: file state={other} is not implemented natively"),
            &path,
        )),
    }
}

fn initial_diff(path: &str, state: &str, prev_state: &str) -> Map<String, Value> {
    let mut before = Map::new();
    let mut after = Map::new();
    before.insert("path".into(), json!(path));
    after.insert("path".into(), json!(path));
    if prev_state != state {
        before.insert("state".into(), json!(prev_state));
        after.insert("state".into(), json!(state));
        if state == "absent" && prev_state == "directory" {
            let (mut dirs, mut files) = (Vec::new(), Vec::new());
            walk(Path::new(path), &mut |p, is_dir| {
                if is_dir {
                    dirs.push(json!(p.display().to_string()))
                } else {
                    files.push(json!(p.display().to_string()))
                }
            });
            before.insert(
                "path_content".into(),
                json!({"directories": dirs, "files": files}),
            );
        }
    }
    let mut d = Map::new();
    d.insert("before".into(), Value::Object(before));
    d.insert("after".into(), Value::Object(after));
    d
}

/// Depth-first walk without following links, like os.walk.
fn walk(root: &Path, f: &mut dyn FnMut(&Path, bool)) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    let (dirs, files): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .partition(|p| fs::symlink_metadata(p).map(|m| m.is_dir()).unwrap_or(false));
    for d in &dirs {
        f(d, true);
    }
    for file in &files {
        f(file, false);
    }
    for d in &dirs {
        walk(d, f);
    }
}

/// update_timestamp_for_file for the now/preserve cases.
fn update_times(
    path: &Path,
    stamps: (Stamp, Stamp),
    check_mode: bool,
    diff: Option<&mut Map<String, Value>>,
) -> Result<bool, ModuleFail> {
    if stamps == (Stamp::Preserve, Stamp::Preserve) {
        return Ok(false);
    }
    let meta = fs::metadata(path).map_err(|e| {
        fail_path(
            format!(
                "Error while updating modification or access time: {}",
                py_os_error(&e, path)
            ),
            &path.display().to_string(),
        )
    })?;
    let prev_m = epoch_float(meta.mtime(), meta.mtime_nsec());
    let prev_a = epoch_float(meta.atime(), meta.atime_nsec());
    let now = SystemTime::now();
    let now_f = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    if !check_mode {
        let f = fs::File::options()
            .write(true)
            .open(path)
            .or_else(|_| fs::File::open(path));
        let times = fs::FileTimes::new();
        let times = if stamps.0 == Stamp::Now {
            times.set_modified(now)
        } else {
            times
        };
        let times = if stamps.1 == Stamp::Now {
            times.set_accessed(now)
        } else {
            times
        };
        f.and_then(|f| f.set_times(times)).map_err(|e| {
            fail_path(
                format!(
                    "Error while updating modification or access time: {}",
                    py_os_error(&e, path)
                ),
                &path.display().to_string(),
            )
        })?;
    }
    if let Some(d) = diff {
        for (key, wanted, prev) in [("mtime", stamps.0, prev_m), ("atime", stamps.1, prev_a)] {
            if wanted == Stamp::Now {
                if let Some(Value::Object(before)) = d.get_mut("before") {
                    before.insert(key.into(), json!(prev));
                }
                if let Some(Value::Object(after)) = d.get_mut("after") {
                    after.insert(key.into(), json!(now_f));
                }
            }
        }
    }
    Ok(true)
}

fn result(
    path_key: &str,
    path: &str,
    changed: bool,
    diff: Map<String, Value>,
) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert(path_key.into(), json!(path));
    r.insert("changed".into(), json!(changed));
    r.insert("diff".into(), Value::Object(diff));
    r
}

fn ensure_file(
    path: &str,
    follow: bool,
    args: &FileArgs,
    stamps: (Stamp, Stamp),
    ctx: &ModuleContext,
) -> ModuleOutcome {
    let mut path = path.to_string();
    let mut prev = get_state(Path::new(&path));
    if prev != "file" && follow && prev == "link" {
        if let Ok(real) = fs::canonicalize(&path) {
            path = real.display().to_string();
            prev = get_state(&real);
        }
    }
    if !matches!(prev, "file" | "hard") {
        return Err(
            fail_path(format!("file ({path}) is {prev}, cannot continue"), &path)
                .with("state", json!(prev)),
        );
    }
    let mut diff = initial_diff(&path, "file", prev);
    let p = Path::new(&path);
    let mut changed =
        set_fs_attributes_if_different(p, args, false, ctx.check_mode, Some(&mut diff))?;
    changed |= update_times(p, stamps, ctx.check_mode, Some(&mut diff))?;
    Ok(result("path", &path, changed, diff))
}

fn ensure_directory(
    path: &str,
    follow: bool,
    recurse: bool,
    args: &FileArgs,
    stamps: (Stamp, Stamp),
    ctx: &ModuleContext,
) -> ModuleOutcome {
    let mut path = path.to_string();
    let mut prev = get_state(Path::new(&path));
    if follow && prev == "link" {
        if let Ok(real) = fs::canonicalize(&path) {
            path = real.display().to_string();
            prev = get_state(&real);
        }
    }
    let mut diff = initial_diff(&path, "directory", prev);
    let mut changed = false;
    if prev == "absent" {
        if ctx.check_mode {
            return Ok(result("path", &path, true, diff));
        }
        // Create each missing component, applying the attributes to each new one.
        let absolute = path.starts_with('/');
        let mut cur = String::new();
        for part in path.trim_matches('/').split('/') {
            cur = if cur.is_empty() && !absolute {
                part.to_string()
            } else {
                format!("{cur}/{part}")
            };
            let cp = Path::new(&cur);
            if cp.exists() {
                continue;
            }
            if let Err(e) = fs::create_dir(cp) {
                if !(e.kind() == std::io::ErrorKind::AlreadyExists && cp.is_dir()) {
                    return Err(fail_path(
                        format!(
                            "There was an issue creating {cur} as requested: {}",
                            py_os_error(&e, cp)
                        ),
                        &path,
                    ));
                }
            }
            changed = true;
            changed = set_fs_attributes_if_different(cp, args, changed, false, Some(&mut diff))?;
            changed |= update_times(Path::new(&path), stamps, false, Some(&mut diff))?;
        }
        return Ok(result("path", &path, changed, diff));
    }
    if prev != "directory" {
        return Err(fail_path(
            format!("{path} already exists as a {prev}"),
            &path,
        ));
    }
    let p = Path::new(&path);
    changed = set_fs_attributes_if_different(p, args, changed, ctx.check_mode, Some(&mut diff))?;
    changed |= update_times(p, stamps, ctx.check_mode, Some(&mut diff))?;
    if recurse {
        changed |= recursive_set(p, follow, args, stamps, ctx.check_mode)?;
    }
    Ok(result("path", &path, changed, diff))
}

fn recursive_set(
    root: &Path,
    follow: bool,
    args: &FileArgs,
    stamps: (Stamp, Stamp),
    check_mode: bool,
) -> Result<bool, ModuleFail> {
    let mut changed = false;
    let mut items = Vec::new();
    walk(root, &mut |p, _| items.push(p.to_path_buf()));
    for item in items {
        changed |= set_fs_attributes_if_different(&item, args, changed, check_mode, None)?;
        changed |= update_times(&item, stamps, check_mode, None).unwrap_or(false);
        let is_link = fs::symlink_metadata(&item)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        if is_link && follow {
            if let Ok(target) = fs::canonicalize(&item) {
                if target.is_dir() {
                    changed |= recursive_set(&target, follow, args, stamps, check_mode)?;
                }
                changed |=
                    set_fs_attributes_if_different(&target, args, changed, check_mode, None)?;
            }
        }
    }
    Ok(changed)
}

fn touch(
    path: &str,
    args: &FileArgs,
    stamps: (Stamp, Stamp),
    ctx: &ModuleContext,
) -> ModuleOutcome {
    let p = Path::new(path);
    let prev = get_state(p);
    let mut changed = false;
    if prev == "absent" {
        if ctx.check_mode {
            let mut r = Map::new();
            r.insert("dest".into(), json!(path));
            r.insert("changed".into(), json!(true));
            return Ok(r);
        }
        fs::File::create(p).map_err(|e| {
            fail_path(
                format!(
                    "Error, could not touch target: {}",
                    py_os_error_bytes(&e, p)
                ),
                path,
            )
        })?;
        changed = true;
    }
    let mut diff = initial_diff(path, "touch", prev);
    let outcome = set_fs_attributes_if_different(p, args, changed, ctx.check_mode, Some(&mut diff))
        .and_then(|c| Ok(c | update_times(p, stamps, ctx.check_mode, Some(&mut diff))?));
    match outcome {
        Ok(c) => Ok(result("dest", path, c, diff)),
        Err(e) => {
            if prev == "absent" {
                let _ = fs::remove_file(p);
            }
            Err(e)
        }
    }
}

fn ensure_absent(path: &str, ctx: &ModuleContext) -> ModuleOutcome {
    let p = Path::new(path);
    let prev = get_state(p);
    let mut r = Map::new();
    r.insert("path".into(), json!(path));
    r.insert("state".into(), json!("absent"));
    if prev == "absent" {
        r.insert("changed".into(), json!(false));
        return Ok(r);
    }
    let diff = initial_diff(path, "absent", prev);
    if !ctx.check_mode {
        if prev == "directory" {
            fs::remove_dir_all(p)
                .map_err(|e| ModuleFail::msg(format!("rmtree failed: {}", py_os_error(&e, p))))?;
        } else if let Err(e) = fs::remove_file(p) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(fail_path(
                    format!("unlinking failed: {} ", py_os_error(&e, p)),
                    path,
                ));
            }
        }
    }
    r.insert("changed".into(), json!(true));
    r.insert("diff".into(), Value::Object(diff));
    Ok(r)
}

#[allow(clippy::too_many_arguments)]
fn ensure_symlink(
    path: &str,
    src: Option<&str>,
    follow: bool,
    force: bool,
    args: &FileArgs,
    stamps: (Stamp, Stamp),
    ctx: &ModuleContext,
) -> ModuleOutcome {
    let p = Path::new(path);
    let prev = get_state(p);
    let mut src = src.map(str::to_string);
    if src.is_none() && follow && p.exists() {
        src = fs::read_link(p).ok().map(|t| t.display().to_string());
    }
    let is_real_dir = prev == "directory";
    let rel_base = if is_real_dir {
        p.to_path_buf()
    } else {
        p.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    if let Some(src) = &src {
        let absrc = rel_base.join(src);
        if !force && !absrc.exists() {
            return Err(ModuleFail::msg(format!(
                "src file does not exist, use \"force=yes\" if you really want to create the link: {}",
                absrc.display()
            ))
            .with("path", json!(path))
            .with("src", json!(src)));
        }
    }
    if prev == "directory" {
        if !force {
            return Err(fail_path(
                format!("refusing to convert from {prev} to symlink for {path}"),
                path,
            ));
        }
        if fs::read_dir(p)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
        {
            return Err(fail_path(
                format!("the directory {path} is not empty, refusing to convert it"),
                path,
            ));
        }
    } else if matches!(prev, "file" | "hard") && !force {
        return Err(fail_path(
            format!("refusing to convert from {prev} to symlink for {path}"),
            path,
        ));
    }
    let mut diff = initial_diff(path, "link", prev);
    let mut changed = false;
    if prev == "link" {
        if let Some(src) = &src {
            let old = fs::read_link(p)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            if &old != src {
                if let Some(Value::Object(b)) = diff.get_mut("before") {
                    b.insert("src".into(), json!(old));
                }
                if let Some(Value::Object(a)) = diff.get_mut("after") {
                    a.insert("src".into(), json!(src));
                }
                changed = true;
            }
        }
    } else {
        if src.is_none() {
            return Err(ModuleFail::msg("src is required for creating new symlinks"));
        }
        changed = true;
    }
    let src_text = src.clone().unwrap_or_default();
    if changed && !ctx.check_mode {
        if prev != "absent" {
            let tmp = p.with_file_name(format!(
                ".{}.{}.tmp",
                std::process::id(),
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(0.0)
            ));
            let replaced = (|| {
                if prev == "directory" {
                    fs::remove_dir(p)?;
                }
                std::os::unix::fs::symlink(&src_text, &tmp)?;
                fs::rename(&tmp, p)
            })();
            if let Err(e) = replaced {
                let _ = fs::remove_file(&tmp);
                return Err(fail_path(
                    format!("Error while replacing: {}", py_os_error(&e, p)),
                    path,
                ));
            }
        } else if let Err(e) = std::os::unix::fs::symlink(&src_text, p) {
            return Err(fail_path(
                format!("Error while linking: {}", py_os_error(&e, p)),
                path,
            ));
        }
    }
    let mut r = Map::new();
    r.insert("dest".into(), json!(path));
    r.insert("src".into(), src.map(Value::String).unwrap_or(Value::Null));
    if ctx.check_mode && !p.exists() {
        r.insert("changed".into(), json!(changed));
        r.insert("diff".into(), Value::Object(diff));
        return Ok(r);
    }
    let mut warnings = Vec::new();
    if follow && !p.exists() {
        warnings.push(json!("Cannot set fs attributes on a non-existent symlink target. follow should be set to False to avoid this."));
    } else {
        // With follow the attributes land on the link's target, as in Ansible.
        let target = if follow {
            fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
        } else {
            p.to_path_buf()
        };
        changed = set_fs_attributes_if_different(
            &target,
            args,
            changed,
            ctx.check_mode,
            Some(&mut diff),
        )?;
        changed |= update_times(&target, stamps, ctx.check_mode, Some(&mut diff))?;
    }
    r.insert("changed".into(), json!(changed));
    r.insert("diff".into(), Value::Object(diff));
    if !warnings.is_empty() {
        r.insert("warnings".into(), Value::Array(warnings));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn call(args: Value) -> Value {
        run_module("file", args.as_object().unwrap(), &ModuleContext::default())
    }

    #[test]
    fn directory_created_with_mode_then_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("a/b");
        let r = call(json!({"path": d, "state": "directory", "mode": "0750"}));
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(r["state"], json!("directory"));
        assert_eq!(r["mode"], json!("0750"));
        assert_eq!(r["diff"]["before"]["state"], json!("absent"));
        assert_eq!(r["diff"]["after"]["mode"], json!("0750"));
        assert_eq!(fs::metadata(&d).unwrap().mode() & 0o777, 0o750);
        // Ansible applies the mode to each created parent as well.
        assert_eq!(
            fs::metadata(dir.path().join("a")).unwrap().mode() & 0o777,
            0o750
        );
        let r = call(json!({"path": d, "state": "directory", "mode": "0750"}));
        assert_eq!(r["changed"], json!(false));
        assert_eq!(
            r["diff"],
            json!({"before": {"path": d}, "after": {"path": d}})
        );
    }

    #[test]
    fn recurse_applies_mode_below() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x");
        fs::write(&f, b"").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o600)).unwrap();
        let r = call(
            json!({"path": dir.path(), "state": "directory", "recurse": true, "mode": "u=rwX,g=rX,o=rX"}),
        );
        assert_eq!(r["changed"], json!(true));
        assert_eq!(fs::metadata(&f).unwrap().mode() & 0o777, 0o644);
    }

    #[test]
    fn touch_file_and_absent() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t");
        let r = call(json!({"path": f, "state": "touch", "mode": "0600"}));
        assert_eq!(r["changed"], json!(true));
        assert_eq!(r["dest"], json!(f));
        assert_eq!(r["mode"], json!("0600"));
        assert_eq!(r["diff"]["before"]["state"], json!("absent"));
        assert!(r["diff"]["after"]["mtime"].is_f64());
        let r = call(json!({"path": f, "state": "file"}));
        assert_eq!(r["changed"], json!(false));
        assert_eq!(r["state"], json!("file"));
        let r = call(json!({"path": f, "state": "absent"}));
        assert_eq!(r["changed"], json!(true));
        assert!(!f.exists());
        let r = call(json!({"path": f, "state": "absent"}));
        assert_eq!(r["changed"], json!(false));
        // Reference: file path=/tmp/fa/nope state=file
        let r = call(json!({"path": f, "state": "file"}));
        assert_eq!(r["failed"], json!(true));
        assert_eq!(
            r["msg"],
            json!(format!("file ({}) is absent, cannot continue", f.display()))
        );
        assert_eq!(r["state"], json!("absent"));
    }

    #[test]
    fn symlinks_created_and_retargeted() {
        let dir = tempfile::tempdir().unwrap();
        let t1 = dir.path().join("t1");
        let t2 = dir.path().join("t2");
        fs::write(&t1, b"1").unwrap();
        fs::write(&t2, b"2").unwrap();
        let l = dir.path().join("l");
        let r = call(json!({"path": l, "src": t1, "state": "link"}));
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(r["state"], json!("link"));
        assert_eq!(fs::read_link(&l).unwrap(), t1);
        let r = call(json!({"path": l, "src": t1, "state": "link"}));
        assert_eq!(r["changed"], json!(false));
        let r = call(json!({"path": l, "src": t2, "state": "link"}));
        assert_eq!(r["changed"], json!(true));
        assert_eq!(r["diff"]["before"]["src"], json!(t1));
        assert_eq!(fs::read_link(&l).unwrap(), t2);
        let r = call(json!({"path": dir.path().join("l2"), "src": "missing", "state": "link"}));
        assert_eq!(r["failed"], json!(true));
        assert!(r["msg"]
            .as_str()
            .unwrap()
            .starts_with("src file does not exist"));
    }

    #[test]
    fn check_mode_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        let ctx = ModuleContext {
            check_mode: true,
            ..Default::default()
        };
        let args = json!({"path": d, "state": "directory"});
        let r = run_module("file", args.as_object().unwrap(), &ctx);
        assert_eq!(r["changed"], json!(true));
        assert!(!d.exists());
    }

    #[test]
    fn owner_lookup_failure_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let r =
            call(json!({"path": dir.path(), "state": "directory", "owner": "no-such-user-rsible"}));
        assert_eq!(r["failed"], json!(true));
        assert_eq!(
            r["msg"],
            json!("chown failed: failed to look up user no-such-user-rsible")
        );
    }
}
