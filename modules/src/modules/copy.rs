//! `copy`, agent side: write `content` (or an agent-side `src` file) to `dest`
//! atomically, with backup, force, validate and the file common arguments.
//! Copying whole directories (remote_src with a directory) is not native yet.

use super::backup::backup_local;
use super::file::with_file_common_params;
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::atomic::{write_atomic, NewMode};
use crate::util::checksum::{digest_file, md5_bytes, sha1_bytes};
use crate::util::fs_attrs::{set_fs_attributes_if_different, FileArgs};
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::fs;
use std::path::{Path, PathBuf};

pub const SPEC: &[Param] = &with_file_common_params![
    Param::new("src", Kind::Path),
    Param::new("content", Kind::Str).no_log(),
    Param::new("dest", Kind::Path).required(),
    Param::new("backup", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("force", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("validate", Kind::Str),
    Param::new("directory_mode", Kind::Raw),
    Param::new("remote_src", Kind::Bool),
    Param::new("local_follow", Kind::Bool),
    Param::new("checksum", Kind::Str),
    Param::new("follow", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("_original_basename", Kind::Str),
    // The template action's rendered bytes when its output_encoding is not
    // UTF-8 (JSON strings cannot carry them): `content`, in base64.
    Param::new("_content_base64", Kind::Str)
        .no_log()
        .rsible_internal(),
];

fn s<'a>(params: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    params.get(k).and_then(Value::as_str)
}

fn b(params: &Map<String, Value>, k: &str) -> bool {
    params.get(k).and_then(Value::as_bool).unwrap_or(false)
}

/// Where the new bytes come from.
enum Source {
    Content(Vec<u8>),
    File(PathBuf),
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let mut dest = s(params, "dest").unwrap_or_default().to_string();
    let encoded = match s(params, "_content_base64") {
        Some(b64) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| ModuleFail::msg(format!("_content_base64: {e}")))?,
        ),
        None => None,
    };
    let content: Option<Vec<u8>> =
        encoded.or_else(|| s(params, "content").map(|c| c.as_bytes().to_vec()));
    let source = match (content, s(params, "src")) {
        (Some(_), Some(_)) => {
            return Err(ModuleFail::msg("src and content are mutually exclusive"))
        }
        (Some(c), None) => {
            // Content the template or copy action read from a file of its own
            // (`_original_basename`) goes into a directory dest under that name.
            if s(params, "_original_basename").is_none()
                && (dest.ends_with('/') || Path::new(&dest).is_dir())
            {
                return Err(ModuleFail::msg("can not use content with a dir as dest"));
            }
            Source::Content(c)
        }
        (None, Some(src)) => {
            let p = PathBuf::from(src);
            if !p.exists() {
                return Err(ModuleFail::msg(format!("Source {src} not found")));
            }
            if p.is_dir() {
                return Err(ModuleFail::msg(
                    "rsible agent: copy of a directory is not implemented natively",
                ));
            }
            if fs::File::open(&p).is_err() {
                return Err(ModuleFail::msg(format!("Source {src} not readable")));
            }
            Source::File(p)
        }
        (None, None) => return Err(ModuleFail::msg("src (or content) is required")),
    };
    let src_text = s(params, "src").map(str::to_string);
    let (checksum_src, md5_src) = match &source {
        Source::Content(data) => (sha1_bytes(data), md5_bytes(data)),
        Source::File(p) => {
            let sha = digest_file(p, "sha1").ok().flatten().unwrap_or_default();
            let md5 = digest_file(p, "md5").ok().flatten().unwrap_or_default();
            (sha, md5)
        }
    };
    if let Some(expected) = s(params, "checksum") {
        if expected != checksum_src {
            return Err(ModuleFail::msg(
                "Copied file does not match the expected checksum. Transfer failed.",
            )
            .with("checksum", json!(checksum_src))
            .with("expected_checksum", json!(expected)));
        }
    }
    let basename = s(params, "_original_basename")
        .map(str::to_string)
        .or_else(|| {
            src_text.as_deref().and_then(|p| {
                Path::new(p)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
        });
    let mut changed = false;
    if dest.ends_with('/') {
        if let Some(base) = &basename {
            dest = format!("{dest}{base}");
        }
        let dirname = Path::new(&dest)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if !dirname.exists() {
            if ctx.check_mode {
                let mut r = Map::new();
                r.insert(
                    "msg".into(),
                    json!(format!(
                        "dest directory {} would be created",
                        dirname.display()
                    )),
                );
                r.insert("changed".into(), json!(true));
                r.insert("src".into(), json!(src_text));
                return Ok(r);
            }
            fs::create_dir_all(&dirname).map_err(|e| {
                ModuleFail::msg(format!("failed to create {}: {e}", dirname.display()))
            })?;
            changed = true;
        }
    }
    if Path::new(&dest).is_dir() {
        if let Some(base) = &basename {
            dest = Path::new(&dest).join(base).display().to_string();
        }
    }
    let mut checksum_dest = None;
    let dest_path = PathBuf::from(&dest);
    if fs::symlink_metadata(&dest_path).is_ok() {
        if dest_path.is_symlink() && b(params, "follow") {
            if let Ok(real) = fs::canonicalize(&dest_path) {
                dest = real.display().to_string();
            }
        }
        if !b(params, "force") {
            let mut r = Map::new();
            r.insert("msg".into(), json!("file already exists"));
            r.insert("src".into(), json!(src_text));
            r.insert("dest".into(), json!(dest));
            r.insert("changed".into(), json!(false));
            return Ok(r);
        }
        if Path::new(&dest).is_file() {
            checksum_dest = digest_file(Path::new(&dest), "sha1").ok().flatten();
        }
    } else {
        if ctx.check_mode && matches!(source, Source::Content(_)) {
            return Ok(check_mode_change());
        }
        let parent = dest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if !parent.as_os_str().is_empty() && !parent.exists() {
            let fail = ModuleFail::msg(format!(
                "Destination directory {} does not exist",
                parent.display()
            ));
            // Ansible's action plugin hands the module the checksum of what it
            // sent, and the module's failure names it; remote_src sends nothing.
            return Err(match source {
                Source::Content(_) => fail.with("checksum", json!(checksum_src)),
                Source::File(_) => fail,
            });
        }
    }
    let dest_path = PathBuf::from(&dest);
    let file_args = FileArgs::from_params(params);
    let is_link = dest_path.is_symlink();
    if checksum_dest.as_deref() == Some(checksum_src.as_str())
        && !is_link
        && b(params, "remote_src")
    {
        // Unchanged content the module itself compared (remote_src): its own
        // result, attributes applied without a diff.
        let changed =
            set_fs_attributes_if_different(&dest_path, &file_args, changed, ctx.check_mode, None)?;
        let mut r = Map::new();
        r.insert("dest".into(), json!(dest));
        r.insert("src".into(), json!(src_text));
        r.insert("md5sum".into(), json!(md5_src));
        r.insert("checksum".into(), json!(checksum_src));
        r.insert("changed".into(), json!(changed));
        return Ok(r);
    }
    if checksum_dest.as_deref() == Some(checksum_src.as_str()) && !is_link {
        // Unchanged content: Ansible's action plugin answers with the file module's
        // result here (path, diff) plus checksum and dest.
        let mut diff = Map::new();
        diff.insert("before".into(), json!({"path": dest}));
        diff.insert("after".into(), json!({"path": dest}));
        let changed = set_fs_attributes_if_different(
            &dest_path,
            &file_args,
            changed,
            ctx.check_mode,
            Some(&mut diff),
        )?;
        let mut r = Map::new();
        r.insert("changed".into(), json!(changed));
        r.insert("checksum".into(), json!(checksum_src));
        r.insert("dest".into(), json!(dest));
        r.insert("path".into(), json!(dest));
        r.insert("diff".into(), Value::Object(diff));
        return Ok(r);
    }
    if ctx.check_mode && matches!(source, Source::Content(_)) {
        return Ok(check_mode_change());
    }
    let mut backup_file = None;
    if !ctx.check_mode {
        if b(params, "backup") && dest_path.exists() {
            backup_file = Some(backup_local(&dest_path)?);
        }
        if is_link {
            let _ = fs::remove_file(&dest_path);
        }
        let data = match &source {
            Source::Content(d) => d.clone(),
            Source::File(p) => fs::read(p).map_err(|e| {
                ModuleFail::msg(format!("failed to copy: {} to {dest}: {e}", p.display()))
            })?,
        };
        if let Some(validate) = s(params, "validate") {
            run_validate(validate, &dest_path, &data, &file_args)?;
        }
        write_atomic(&dest_path, &mut &data[..], NewMode::KeepExisting).map_err(|e| {
            ModuleFail::msg(format!(
                "failed to copy: {} to {dest}: {e}",
                src_text.clone().unwrap_or_else(|| "content".into())
            ))
        })?;
    }
    changed = true;
    let changed =
        set_fs_attributes_if_different(&dest_path, &file_args, changed, ctx.check_mode, None)?;
    let mut r = Map::new();
    r.insert("dest".into(), json!(dest));
    if let Some(src) = src_text {
        r.insert("src".into(), json!(src));
    }
    r.insert("md5sum".into(), json!(md5_src));
    r.insert("checksum".into(), json!(checksum_src));
    r.insert("changed".into(), json!(changed));
    if let Some(bf) = backup_file {
        r.insert("backup_file".into(), json!(bf));
    }
    Ok(r)
}

/// Content sent from the controller (`content:`, `src:` on the controller,
/// `template`) that would change the file: Ansible's copy action answers
/// `{"changed": true}` in check mode without calling the module, so a
/// missing destination directory is not reported either.
fn check_mode_change() -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("changed".into(), json!(true));
    r
}

/// Write the new content to a temp file beside dest and run `validate` on it.
fn run_validate(
    validate: &str,
    dest: &Path,
    data: &[u8],
    file_args: &FileArgs,
) -> Result<(), ModuleFail> {
    use crate::util::validate::{run, ValidateError};
    run(validate, dest, data, |tmp| {
        let _ = set_fs_attributes_if_different(tmp, file_args, false, false, None);
    })
    .map_err(|e| match e {
        ValidateError::Setup(msg) => ModuleFail::msg(msg),
        ValidateError::Failed(out) => ModuleFail::msg("failed to validate")
            .with("exit_status", json!(out.status.code().unwrap_or(-1)))
            .with("stdout", json!(String::from_utf8_lossy(&out.stdout)))
            .with("stderr", json!(String::from_utf8_lossy(&out.stderr))),
        ValidateError::NotRun(e) => ModuleFail::msg("failed to validate")
            .with("exit_status", json!(2))
            .with("stdout", json!(""))
            .with("stderr", json!(e)),
    })
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn call(args: Value) -> Value {
        run_module("copy", args.as_object().unwrap(), &ModuleContext::default())
    }

    #[test]
    fn base64_content_is_written_as_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("latin1");
        // "caf\xe9\n", the template action's latin-1 bytes
        let args = json!({"_content_base64": "Y2Fm6Qo=", "dest": dest});
        let r = call(args.clone());
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"caf\xe9\n");
        assert_eq!(call(args)["changed"], json!(false));
        let r = call(json!({"_content_base64": "!", "dest": dest}));
        assert_eq!(r["failed"], json!(true), "{r}");
    }

    #[test]
    fn content_written_then_unchanged_then_backed_up() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("c");
        // Reference: copy content="hello\n" dest=/tmp/fa/c mode=0640
        let r = call(json!({"content": "hello\n", "dest": dest, "mode": "0640"}));
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(
            r["checksum"],
            json!("f572d396fae9206628714fb2ce00f72e94f2258f")
        );
        assert_eq!(r["md5sum"], json!("b1946ac92492d2347c6235b4d2611184"));
        assert_eq!(r["mode"], json!("0640"));
        assert_eq!(r["size"], json!(6));
        assert_eq!(r["state"], json!("file"));
        assert_eq!(
            r["invocation"]["module_args"]["content"],
            json!("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER")
        );
        assert_eq!(fs::read(&dest).unwrap(), b"hello\n");
        assert_eq!(fs::metadata(&dest).unwrap().mode() & 0o777, 0o640);

        let r = call(json!({"content": "hello\n", "dest": dest, "mode": "0640"}));
        assert_eq!(r["changed"], json!(false));
        assert_eq!(r["path"], json!(dest));

        let r = call(json!({"content": "bye\n", "dest": dest, "backup": true}));
        assert_eq!(r["changed"], json!(true));
        let backup = r["backup_file"].as_str().unwrap();
        assert_eq!(fs::read(backup).unwrap(), b"hello\n");
        assert!(backup.ends_with('~'));
        // The existing mode is kept when none is given.
        assert_eq!(r["mode"], json!("0640"));
    }

    #[test]
    fn force_no_and_dir_dest() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("c");
        fs::write(&dest, b"keep").unwrap();
        let r = call(json!({"content": "new", "dest": dest, "force": false}));
        assert_eq!(r["changed"], json!(false));
        assert_eq!(r["msg"], json!("file already exists"));
        assert_eq!(fs::read(&dest).unwrap(), b"keep");
        let r = call(json!({"content": "x", "dest": dir.path()}));
        assert_eq!(r["msg"], json!("can not use content with a dir as dest"));
        // A rendered template (content with its file's name) goes inside.
        let r = call(json!({"content": "t\n", "dest": dir.path(), "_original_basename": "a.j2"}));
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(fs::read(dir.path().join("a.j2")).unwrap(), b"t\n");
    }

    #[test]
    fn remote_src_file_copy_and_validate() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("s");
        fs::write(&src, b"data").unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let r = call(json!({"src": src, "dest": sub, "remote_src": true}));
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(fs::read(sub.join("s")).unwrap(), b"data");
        let r = call(json!({"content": "x", "dest": dir.path().join("v"), "validate": "false %s"}));
        assert_eq!(r["failed"], json!(true));
        assert_eq!(r["msg"], json!("failed to validate"));
        assert!(!dir.path().join("v").exists());
        let r = call(json!({"content": "x", "dest": dir.path().join("nodir/f")}));
        // Ansible's module names the source's sha1 in this failure too.
        assert_eq!(
            r["checksum"],
            json!("11f6ad8ec52a2984abaafd7c3b516503785c2072")
        );
        assert_eq!(
            r["msg"],
            json!(format!(
                "Destination directory {} does not exist",
                dir.path().join("nodir").display()
            ))
        );
    }

    #[test]
    fn check_mode_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("c");
        let ctx = ModuleContext {
            check_mode: true,
            ..Default::default()
        };
        let args = json!({"content": "x", "dest": dest});
        let r = run_module("copy", args.as_object().unwrap(), &ctx);
        assert_eq!(r["changed"], json!(true));
        assert!(!dest.exists());
        // As Ansible's action plugin: nothing else, even without the directory.
        let args = json!({"content": "x", "dest": dir.path().join("nodir/c")});
        let r = run_module("copy", args.as_object().unwrap(), &ctx);
        assert_eq!(r.get("changed"), Some(&json!(true)), "{r:?}");
        assert_eq!(r.get("msg"), None, "{r:?}");
        assert!(r.get("checksum").is_none(), "{r:?}");
    }
}
