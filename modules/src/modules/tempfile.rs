//! `tempfile`: create a uniquely named file (mode 0600) or directory (0700) the way
//! Python's `mkstemp`/`mkdtemp` do: prefix, 8 random characters, suffix.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::fs_attrs::py_os_error;
use serde_json::{json, Map, Value};
use std::fs::{DirBuilder, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub const SPEC: &[Param] = &[
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("file"))
        .choices(&["file", "directory"]),
    Param::new("path", Kind::Path),
    Param::new("prefix", Kind::Str).default(ParamDefault::Str("ansible.")),
    Param::new("suffix", Kind::Str).default(ParamDefault::Str("")),
];

/// The characters Python's tempfile draws names from.
const NAME_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";

fn random_name() -> Result<String, std::io::Error> {
    let mut bytes = [0u8; 8];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| NAME_CHARS[usize::from(*b) % NAME_CHARS.len()] as char)
        .collect())
}

/// `tempfile.gettempdir()`: $TMPDIR, $TEMP, $TMP, then /tmp.
fn default_dir(ctx: &ModuleContext) -> PathBuf {
    ["TMPDIR", "TEMP", "TMP"]
        .iter()
        .find_map(|k| {
            ctx.env
                .get(*k)
                .cloned()
                .or_else(|| std::env::var(k).ok())
                .filter(|d| Path::new(d).is_dir())
        })
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let s = |k: &str| params.get(k).and_then(Value::as_str).unwrap_or_default();
    if ctx.check_mode {
        // The module does not support check mode; AnsibleModule skips it.
        let mut r = Map::new();
        r.insert("skipped".into(), json!(true));
        r.insert(
            "msg".into(),
            json!("remote module (tempfile) does not support check mode"),
        );
        return Ok(r);
    }
    let dir = match params.get("path").and_then(Value::as_str) {
        Some(p) => PathBuf::from(p),
        None => default_dir(ctx),
    };
    let directory = s("state") == "directory";
    let fail = |e: std::io::Error, p: &Path| ModuleFail::msg(py_os_error(&e, p));
    // As Python: a fresh name until one is free (it gives up after many tries).
    for _ in 0..10_000 {
        let name = random_name().map_err(|e| fail(e, Path::new("/dev/urandom")))?;
        let path = dir.join(format!("{}{name}{}", s("prefix"), s("suffix")));
        let made = if directory {
            DirBuilder::new().mode(0o700).create(&path).map(|_| ())
        } else {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map(|_| ())
        };
        match made {
            Ok(()) => {
                let mut r = Map::new();
                r.insert("changed".into(), json!(true));
                r.insert("path".into(), json!(path.display().to_string()));
                return Ok(r);
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(fail(e, &path)),
        }
    }
    Err(ModuleFail::msg(
        "[Errno 17] No usable temporary file name found",
    ))
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_files_and_directories_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ModuleContext::default();
        let args = json!({"path": dir.path(), "prefix": "k8s.", "suffix": ".conf"});
        let r = run_module("tempfile", args.as_object().unwrap(), &ctx);
        let p = r["path"].as_str().unwrap().to_string();
        let name = Path::new(&p)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("k8s.") && name.ends_with(".conf") && name.len() == 17);
        assert_eq!(r["mode"], json!("0600"));
        assert_eq!(r["state"], json!("file"));
        assert_eq!(r["changed"], json!(true));
        let args = json!({"path": dir.path(), "state": "directory"});
        let r = run_module("tempfile", args.as_object().unwrap(), &ctx);
        let meta = std::fs::metadata(r["path"].as_str().unwrap()).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        let args = json!({"path": dir.path().join("missing")});
        let r = run_module("tempfile", args.as_object().unwrap(), &ctx);
        assert_eq!(r["failed"], json!(true));
        assert!(r["msg"]
            .as_str()
            .unwrap()
            .starts_with("[Errno 2] No such file or directory: "));
    }
}
