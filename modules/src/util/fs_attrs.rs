//! Ansible's "file common arguments": owner, group and mode applied when different,
//! with the diff entries Ansible records, plus `add_path_info` for results.

use super::mode::{current_umask, resolve_mode};
use super::users::{group_name, resolve_gid, resolve_uid, user_name};
use crate::modules::ModuleFail;
use serde_json::{json, Map, Value};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The owner/group/mode wanted for a path.
#[derive(Debug, Clone, Default)]
pub struct FileArgs {
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<Value>,
}

impl FileArgs {
    /// Read the common arguments from validated module params.
    pub fn from_params(params: &Map<String, Value>) -> FileArgs {
        let s = |k: &str| params.get(k).and_then(|v| v.as_str()).map(str::to_string);
        FileArgs {
            owner: s("owner"),
            group: s("group"),
            mode: params.get("mode").filter(|v| !v.is_null()).cloned(),
        }
    }
}

fn diff_side<'a>(diff: &'a mut Map<String, Value>, side: &str) -> &'a mut Map<String, Value> {
    let entry = diff
        .entry(side.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

/// Apply owner, group and mode to `path` where they differ; returns whether anything
/// changed (or would, in check mode), starting from `changed`.
pub fn set_fs_attributes_if_different(
    path: &Path,
    args: &FileArgs,
    mut changed: bool,
    check_mode: bool,
    mut diff: Option<&mut Map<String, Value>>,
) -> Result<bool, ModuleFail> {
    // Ansible's set_*_if_different return before looking at the path when
    // their attribute is not given: nothing to set, nothing to stat (a path
    // that does not exist is neither an error nor, in check mode, a change).
    if args.owner.is_none() && args.group.is_none() && args.mode.is_none() {
        return Ok(changed);
    }
    let path_text = path.display().to_string();
    let fail = |msg: String| ModuleFail::msg(msg).with("path", json!(path_text));
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(_) if check_mode => return Ok(true),
        Err(e) => return Err(fail(format!("cannot stat {path_text}: {e}"))),
    };
    if let Some(owner) = &args.owner {
        let uid = resolve_uid(owner)
            .ok_or_else(|| fail(format!("chown failed: failed to look up user {owner}")))?;
        if uid != meta.uid() {
            if let Some(d) = diff.as_deref_mut() {
                diff_side(d, "before").insert("owner".into(), json!(meta.uid()));
                diff_side(d, "after").insert("owner".into(), json!(uid));
            }
            if check_mode {
                return Ok(true);
            }
            std::os::unix::fs::lchown(path, Some(uid), None)
                .map_err(|e| fail(format!("chown failed: {}", py_os_error(&e, path))))?;
            changed = true;
        }
    }
    if let Some(group) = &args.group {
        let gid = resolve_gid(group)
            .ok_or_else(|| fail(format!("chgrp failed: failed to look up group {group}")))?;
        if gid != meta.gid() {
            if let Some(d) = diff.as_deref_mut() {
                diff_side(d, "before").insert("group".into(), json!(meta.gid()));
                diff_side(d, "after").insert("group".into(), json!(gid));
            }
            if check_mode {
                return Ok(true);
            }
            std::os::unix::fs::lchown(path, None, Some(gid))
                .map_err(|e| fail(format!("chgrp failed: {}", py_os_error(&e, path))))?;
            changed = true;
        }
    }
    if let Some(mode) = &args.mode {
        let meta = fs::symlink_metadata(path).unwrap_or(meta);
        let prev = meta.mode() & 0o7777;
        let wanted =
            resolve_mode(mode, meta.mode(), meta.is_dir(), current_umask()).map_err(|e| {
                ModuleFail::msg(e.msg)
                    .with("path", json!(path_text))
                    .with("details", json!(e.details))
            })?;
        if wanted != prev {
            if let Some(d) = diff {
                diff_side(d, "before").insert("mode".into(), json!(format!("0{prev:03o}")));
                diff_side(d, "after").insert("mode".into(), json!(format!("0{wanted:03o}")));
            }
            if check_mode {
                return Ok(true);
            }
            // Linux has no lchmod: modes of symlinks themselves are not settable, and
            // chmod would change the target, so links are left alone. Ansible
            // compares the link's mode after its attempt: unchanged, so not changed
            // (outside check mode, where the difference alone counts).
            if !meta.file_type().is_symlink() {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(path, fs::Permissions::from_mode(wanted))
                    .map_err(|e| fail(py_os_error(&e, path)))?;
                changed = true;
            }
        }
    }
    Ok(changed)
}

/// Python's rendering of an OSError: "[Errno 2] No such file or directory: '/x'".
/// [`py_os_error`] for a path Python held as bytes (`b'/x'`), as the modules
/// that call `os.chdir`/`os.utime` on `to_bytes(path)` print it.
pub fn py_os_error_bytes(e: &std::io::Error, path: &Path) -> String {
    let text = py_os_error(e, path);
    let quoted = format!(": '{}'", path.display());
    match text.strip_suffix(&quoted) {
        Some(head) if e.raw_os_error().is_some() => format!("{head}: b'{}'", path.display()),
        _ => text,
    }
}

pub fn py_os_error(e: &std::io::Error, path: &Path) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let text = std::io::Error::from_raw_os_error(code).to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            format!("[Errno {code}] {text}: '{}'", path.display())
        }
        None => e.to_string(),
    }
}

/// Ansible's `add_path_info`: for results naming a `path` (or `dest`) that exists, add
/// uid, gid, owner, group, mode, state and size.
pub fn add_path_info(result: &mut Map<String, Value>) {
    let Some(path) = result
        .get("path")
        .or_else(|| result.get("dest"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
    else {
        return;
    };
    let p = Path::new(&path);
    // os.path.exists follows links: a dangling link gets no info.
    if fs::metadata(p).is_err() {
        return;
    }
    let Ok(lmeta) = fs::symlink_metadata(p) else {
        return;
    };
    // user_and_group follows links (os.stat) for uid/gid.
    let meta = fs::metadata(p).unwrap_or_else(|_| lmeta.clone());
    result.insert("uid".into(), json!(meta.uid()));
    result.insert("gid".into(), json!(meta.gid()));
    result.insert(
        "owner".into(),
        json!(user_name(meta.uid()).unwrap_or_else(|| meta.uid().to_string())),
    );
    result.insert(
        "group".into(),
        json!(group_name(meta.gid()).unwrap_or_else(|| meta.gid().to_string())),
    );
    result.insert(
        "mode".into(),
        json!(format!("0{:03o}", lmeta.mode() & 0o7777)),
    );
    let state = if lmeta.file_type().is_symlink() {
        "link"
    } else if meta.is_dir() {
        "directory"
    } else if meta.nlink() > 1 {
        "hard"
    } else {
        "file"
    };
    result.insert("state".into(), json!(state));
    result.insert("size".into(), json!(lmeta.size()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_set_never_looks_at_the_path() {
        let none = FileArgs {
            owner: None,
            group: None,
            mode: None,
        };
        let missing = Path::new("/nonexistent/rsible-fs-attrs-test");
        // As Ansible's set_*_if_different: no stat, so no error and, in check
        // mode, no change for a path that is not there.
        assert!(!set_fs_attributes_if_different(missing, &none, false, false, None).unwrap());
        assert!(!set_fs_attributes_if_different(missing, &none, false, true, None).unwrap());
        assert!(set_fs_attributes_if_different(missing, &none, true, false, None).unwrap());
        // With a mode to set, the missing path is an error, or a change in check mode.
        let mode = FileArgs {
            owner: None,
            group: None,
            mode: Some(json!("0644")),
        };
        assert!(set_fs_attributes_if_different(missing, &mode, false, false, None).is_err());
        assert!(set_fs_attributes_if_different(missing, &mode, false, true, None).unwrap());
    }
}
