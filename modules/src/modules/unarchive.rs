//! `unarchive` for archives on the host: the handlers in Ansible's order, zip first
//! (`unarchive_zip`), then tar archives (plain, gzip, bzip2, xz, zstd) through GNU tar
//! with the commands Ansible's module runs, so `--diff` decides idempotence exactly as
//! there. A controller-side source (`remote_src: false`) reaches here already sent to
//! the host by the executor's unarchive action
//! (engine/executor/src/play_exec/unarchive_action.rs), `src` naming the sent file.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::bin_path::get_bin_path;
use crate::util::fs_attrs::{set_fs_attributes_if_different, FileArgs};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::process::{Command, Stdio};

pub const SPEC: &[Param] = &super::file::with_file_common_params![
    Param::new("src", Kind::Path).required(),
    Param::new("dest", Kind::Path).required(),
    Param::new("remote_src", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("creates", Kind::Path),
    Param::new("list_files", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("keep_newer", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("exclude", Kind::List),
    Param::new("include", Kind::List),
    Param::new("extra_opts", Kind::List),
    Param::new("validate_certs", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("io_buffer_size", Kind::Int),
    Param::new("copy", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("decrypt", Kind::Bool).default(ParamDefault::Bool(true)),
];

/// The tar handlers in the order Ansible tries them, with their compression flag.
const TAR_HANDLERS: &[(&str, &str)] = &[
    ("TgzArchive", "-z"),
    ("TarArchive", ""),
    ("TarBzipArchive", "-j"),
    ("TarXzArchive", "-J"),
    ("TarZstdArchive", "--use-compress-program=zstd"),
];

/// Lines of `tar --diff` that mean the tree differs from the archive.
const DIFFERS: &[&str] = &[
    ": Mod time differs",
    ": Warning: Cannot stat: No such file or directory",
    ": Symlink differs",
    ": Contents differ",
    ": Size differs",
];

struct Tar {
    cmd: String,
    zipflag: &'static str,
    dest: String,
    src: String,
    opts: Vec<String>,
    excludes: Vec<String>,
    includes: Vec<String>,
    owner: Option<String>,
    group: Option<String>,
    keep_newer: bool,
    locale: String,
    env: std::collections::BTreeMap<String, String>,
}

struct Run {
    cmd: Vec<String>,
    rc: i32,
    out: String,
    err: String,
}

impl Tar {
    /// `tar ACTION -C dest [flag] [opts] [owner/group] [--exclude..] -f src [includes]`.
    fn command(&self, action: &str, with_owner: bool) -> Vec<String> {
        let mut c = vec![
            self.cmd.clone(),
            action.into(),
            "-C".into(),
            self.dest.clone(),
        ];
        if !self.zipflag.is_empty() {
            c.push(self.zipflag.into());
        }
        if !self.opts.is_empty() {
            c.push("--show-transformed-names".into());
            c.extend(self.opts.iter().cloned());
        }
        if with_owner {
            if let Some(o) = &self.owner {
                c.push(format!("--owner={o}"));
            }
            if let Some(g) = &self.group {
                c.push(format!("--group={g}"));
            }
            if self.keep_newer {
                c.push("--keep-newer-files".into());
            }
        }
        c.extend(self.excludes.iter().map(|e| format!("--exclude={e}")));
        c.extend(["-f".to_string(), self.src.clone()]);
        c.extend(self.includes.iter().cloned());
        c
    }

    fn run(&self, cmd: Vec<String>) -> Result<Run, ModuleFail> {
        let out = Command::new(&cmd[0])
            .args(&cmd[1..])
            .current_dir(&self.dest)
            .envs(&self.env)
            .envs(["LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"].map(|k| (k, self.locale.as_str())))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| ModuleFail::msg(format!("{}: {e}", cmd[0])))?;
        Ok(Run {
            rc: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
            cmd,
        })
    }

    /// Member names (leading `/` dropped, excludes filtered), or the listing's stderr.
    fn files_in_archive(&self) -> Result<Vec<String>, String> {
        let r = self
            .run(self.command("--list", false))
            .map_err(|f| f.0["msg"].as_str().unwrap_or_default().to_string())?;
        if r.rc != 0 {
            return Err(format!("Unable to list files in the archive: {}", r.err));
        }
        let patterns: Vec<glob::Pattern> = self
            .excludes
            .iter()
            .filter_map(|e| glob::Pattern::new(e).ok())
            .collect();
        Ok(r.out
            .lines()
            .map(unescape_tar_name)
            .map(|n| n.strip_prefix('/').map(str::to_string).unwrap_or(n))
            .filter(|n| !patterns.iter().any(|p| p.matches(n)))
            .collect())
    }

    fn is_unarchived(&self, file_args: &FileArgs) -> Result<bool, ModuleFail> {
        let r = self.run(self.command("--diff", true))?;
        let root = unsafe { libc::getuid() } == 0;
        let mut differs = false;
        for line in r.out.lines().chain(r.err.lines()) {
            if line.ends_with(": : Warning: Cannot stat: No such file or directory") {
                continue;
            }
            if (root && file_args.owner.is_none() && line.ends_with(": Uid differs"))
                || (root && file_args.group.is_none() && line.ends_with(": Gid differs"))
                || (file_args.mode.is_none() && line.ends_with(": Mode differs"))
                || DIFFERS.iter().any(|d| line.ends_with(d))
                || line.contains(": Invalid owner")
                || line.contains(": Invalid group")
            {
                differs = true;
            }
        }
        Ok(!differs)
    }
}

/// Python's `codecs.escape_decode` for the backslash escapes tar prints in names.
fn unescape_tar_name(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            let c = bytes[i + 1];
            let simple = match c {
                b'\\' => Some(b'\\'),
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'r' => Some(b'\r'),
                b'a' => Some(7),
                b'b' => Some(8),
                b'f' => Some(12),
                b'v' => Some(11),
                b'\'' => Some(b'\''),
                b'"' => Some(b'"'),
                _ => None,
            };
            if let Some(s) = simple {
                out.push(s);
                i += 2;
                continue;
            }
            let octal: Vec<u8> = bytes[i + 1..]
                .iter()
                .take(3)
                .take_while(|b| (b'0'..=b'7').contains(b))
                .copied()
                .collect();
            if !octal.is_empty() {
                let v = octal.iter().fold(0u32, |a, d| a * 8 + u32::from(d - b'0'));
                out.push((v & 0xff) as u8);
                i += 1 + octal.len();
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What Ansible's unarchive action plugin checks on the controller before the module
/// runs: `copy` (the old name of `remote_src`, inverted), src and dest given, `creates`,
/// dest an existing directory. Some(outcome) ends the task there.
pub fn action_plugin(args: &mut Map<String, Value>) -> Option<ModuleOutcome> {
    // AnsibleActionFail: the result carries its (empty) traceback.
    let fail = |msg: &str| {
        Some(Err(
            ModuleFail::msg(msg).with("exception", Value::String("NoneType: None\n".into()))
        ))
    };
    if let Some(copy) = args.remove("copy") {
        if args.contains_key("remote_src") {
            return fail("parameters are mutually exclusive: ('copy', 'remote_src')");
        }
        let copy = super::args::to_bool(&copy).unwrap_or(false);
        args.insert("remote_src".into(), json!(!copy));
    }
    let text = |k: &str| match args.get(k) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let (Some(_), Some(dest)) = (text("src"), text("dest")) else {
        return fail("src (or content) and dest are required");
    };
    if let Some(creates) = text("creates").filter(|c| !c.is_empty()) {
        if Path::new(&creates).exists() {
            let mut r = Map::new();
            r.insert("skipped".into(), json!(true));
            r.insert(
                "msg".into(),
                json!(format!("skipped, since {creates} exists")),
            );
            return Some(Ok(r));
        }
    }
    if !Path::new(&dest).is_dir() {
        return fail(&format!("dest '{dest}' must be an existing dir"));
    }
    None
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    super::lineinfile::check_mutually_exclusive(params, &[&["include", "exclude"]])?;
    let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let b = |k: &str| params.get(k).and_then(Value::as_bool).unwrap_or(false);
    let src = s("src").unwrap_or_default();
    let dest = s("dest").unwrap_or_default();
    // `creates` is handled by Ansible's action plugin before the module runs.
    if let Some(creates) = s("creates") {
        if Path::new(&creates).exists() {
            let mut r = Map::new();
            r.insert("skipped".into(), json!(true));
            r.insert(
                "msg".into(),
                json!(format!("skipped, since {creates} exists")),
            );
            return Ok(r);
        }
    }
    let abs_dest = std::path::absolute(&dest)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| dest.clone());
    let mut warnings = Vec::new();
    if !dest.starts_with('/') {
        warnings.push(format!(
            "Relative destination path '{dest}' was resolved to absolute path '{abs_dest}'."
        ));
    }
    let src_path = Path::new(&src);
    if !src_path.exists() {
        if src.contains("://") {
            return Err(ModuleFail::msg(
                "rsible agent: unarchive of a URL src is not implemented natively",
            ));
        }
        return Err(ModuleFail::msg(format!("Source '{src}' does not exist")));
    }
    let readable = std::ffi::CString::new(src.as_bytes())
        .map(|c| unsafe { libc::access(c.as_ptr(), libc::R_OK) } == 0)
        .unwrap_or(false);
    if !readable {
        return Err(ModuleFail::msg(format!("Source '{src}' not readable")));
    }
    let abs_src = std::path::absolute(src_path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| src.clone());
    match std::fs::metadata(&abs_src) {
        Ok(m) if m.len() == 0 => {
            return Err(ModuleFail::msg(format!(
                "Invalid archive '{abs_src}', the file is 0 bytes"
            )))
        }
        Ok(_) => {}
        Err(e) => {
            return Err(ModuleFail::msg(format!(
                "Source '{abs_src}' not readable, {}",
                crate::util::fs_attrs::py_os_error(&e, Path::new(&abs_src))
            )))
        }
    }
    if !Path::new(&abs_dest).is_dir() {
        return Err(ModuleFail::msg(format!(
            "Destination '{dest}' is not a directory"
        )));
    }
    let file_args = FileArgs::from_params(params);
    // Ansible's handlers in its order: the zip ones, then tar's.
    let mut reasons = Vec::new();
    if let Some(zip) = super::unarchive_zip::pick(&abs_src, ctx, &mut reasons)? {
        let done = zip.unarchive(params, ctx, &abs_src, &dest, &abs_dest, &file_args)?;
        let mut r = done.result;
        let changed = if ctx.check_mode {
            done.changed
        } else {
            set_member_attributes(&done.files, &dest, &abs_dest, &file_args, done.changed)?
        };
        r.insert("changed".into(), json!(changed));
        if b("list_files") {
            r.insert("files".into(), json!(done.files));
        }
        if !warnings.is_empty() {
            r.insert("warnings".into(), json!(warnings));
        }
        return Ok(r);
    }
    if ctx.check_mode {
        // Ansible's tar handlers refuse check mode when they are constructed, before
        // any of them looks at the archive.
        let mut r = Map::new();
        r.insert("skipped".into(), json!(true));
        r.insert(
            "msg".into(),
            json!("remote module (ansible.legacy.unarchive) does not support check mode when using gtar"),
        );
        return Ok(r);
    }
    let (handler, tar, files) =
        pick_handler(params, ctx, &abs_src, &abs_dest, &file_args, reasons)?;
    let mut r = Map::new();
    r.insert("handler".into(), json!(handler));
    r.insert("dest".into(), json!(dest));
    r.insert("src".into(), json!(abs_src));
    let mut changed = false;
    if !tar.is_unarchived(&file_args)? {
        let ex = tar.run(tar.command("--extract", true))?;
        let results = json!({"cmd": ex.cmd, "rc": ex.rc, "out": ex.out, "err": ex.err});
        r.insert("extract_results".into(), results);
        if ex.rc != 0 {
            let mut f = ModuleFail::msg(format!("failed to unpack {abs_src} to {dest}"));
            for (k, v) in r {
                f = f.with(&k, v);
            }
            return Err(f);
        }
        changed = true;
    }
    let changed = set_member_attributes(&files, &dest, &abs_dest, &file_args, changed)?;
    r.insert("changed".into(), json!(changed));
    if b("list_files") {
        r.insert("files".into(), json!(files));
    }
    if !warnings.is_empty() {
        r.insert("warnings".into(), json!(warnings));
    }
    Ok(r)
}

/// owner, group and mode on every member and on each top folder (Ansible's fix for
/// its issue 35426), after the extraction.
fn set_member_attributes(
    files: &[String],
    dest: &str,
    abs_dest: &str,
    file_args: &FileArgs,
    mut changed: bool,
) -> Result<bool, ModuleFail> {
    // With nothing to apply no path is looked at (set_fs_attributes_if_different):
    // a member extracted elsewhere (unzip -j, tar --transform) is no error.
    let mut top_folders: Vec<&str> = Vec::new();
    for name in files {
        let p = Path::new(abs_dest).join(name);
        changed = set_fs_attributes_if_different(&p, file_args, changed, false, None)?;
        if let Some((top, _)) = name.split_once('/') {
            if !top_folders.contains(&top) {
                top_folders.push(top);
            }
        }
    }
    for top in top_folders {
        let p = format!("{dest}/{top}");
        changed = set_fs_attributes_if_different(Path::new(&p), file_args, changed, false, None)?;
    }
    Ok(changed)
}

/// The first tar handler that lists the archive, with the members it listed;
/// `reasons` holds why the zip handlers did not take it.
fn pick_handler(
    params: &Map<String, Value>,
    ctx: &ModuleContext,
    src: &str,
    dest: &str,
    file_args: &FileArgs,
    mut reasons: Vec<String>,
) -> Result<(&'static str, Tar, Vec<String>), ModuleFail> {
    // Ansible gathers the reasons in a set: each once, in no fixed order.
    let no_handler = |mut reasons: Vec<String>| {
        let mut seen = std::collections::HashSet::new();
        reasons.retain(|r| seen.insert(r.clone()));
        ModuleFail::msg(format!(
            "Failed to find handler for \"{src}\". Make sure the required command to extract the file is installed.\n{}",
            reasons.join("\n")
        ))
    };
    let cmd = get_bin_path("gtar", &ctx.env).or_else(|| get_bin_path("tar", &ctx.env));
    let Some(cmd) = cmd else {
        reasons.push("Unable to find required 'gtar' or 'tar' binary in the path".into());
        return Err(no_handler(reasons));
    };
    let version = Command::new(&cmd)
        .arg("--version")
        .envs(&ctx.env)
        .stdin(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !(version.starts_with("tar") && version.contains("GNU")) {
        let kind = if version.starts_with("bsdtar") {
            "bsd"
        } else {
            "None"
        };
        reasons.push(format!(
            "Command \"{cmd}\" detected as tar type {kind}. GNU tar required."
        ));
        return Err(no_handler(reasons));
    }
    let locale = crate::util::locale::best_parsable_locale(&ctx.env);
    for (name, flag) in TAR_HANDLERS {
        let tar = Tar {
            cmd: cmd.clone(),
            zipflag: flag,
            dest: dest.to_string(),
            src: src.to_string(),
            opts: super::args::str_list(params, "extra_opts"),
            excludes: super::args::str_list(params, "exclude")
                .into_iter()
                .map(|e| e.trim_end_matches('/').to_string())
                .collect(),
            includes: super::args::str_list(params, "include"),
            owner: file_args.owner.clone(),
            group: file_args.group.clone(),
            keep_newer: params
                .get("keep_newer")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            locale: locale.clone(),
            env: ctx.env.clone(),
        };
        match tar.files_in_archive() {
            Ok(files) if !files.is_empty() => return Ok((name, tar, files)),
            Ok(_) => reasons.push(format!(
                "Command \"{cmd}\" found no files in archive. Empty archive files are not supported."
            )),
            Err(e) => reasons.push(format!("Command \"{cmd}\" could not handle archive: {e}")),
        }
    }
    Err(no_handler(reasons))
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;
    use std::fs;

    fn call(args: Value) -> Value {
        run_module(
            "unarchive",
            args.as_object().unwrap(),
            &ModuleContext::default(),
        )
    }

    #[test]
    fn extracts_tgz_once_and_lists_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("src/top")).unwrap();
        fs::write(d.join("src/top/a"), "a").unwrap();
        let st = Command::new("tar")
            .args(["-czf", "a.tgz", "-C", "src", "top"])
            .current_dir(d)
            .status()
            .unwrap();
        assert!(st.success());
        fs::create_dir(d.join("out")).unwrap();
        let args = json!({"src": d.join("a.tgz"), "dest": d.join("out"), "remote_src": true, "list_files": true, "mode": "0700"});
        let r = call(args.clone());
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(r["handler"], json!("TgzArchive"));
        assert_eq!(r["files"], json!(["top/", "top/a"]));
        assert_eq!(fs::read_to_string(d.join("out/top/a")).unwrap(), "a");
        let r = call(args);
        assert_eq!(r["changed"], json!(false), "{r}");
        assert!(r.get("extract_results").is_none());
    }

    #[test]
    fn unescapes_names_like_python() {
        assert_eq!(unescape_tar_name("a\\\\b\\040c"), "a\\b c");
    }
}
