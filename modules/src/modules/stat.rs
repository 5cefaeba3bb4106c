//! `stat`: file facts with Ansible's keys.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::bin_path::get_bin_path;
use crate::util::checksum::digest_file;
use crate::util::pytime::epoch_float;
use crate::util::users::{group_name, user_name};
use serde_json::{json, Map, Value};
use std::ffi::CString;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::{Command, Stdio};

pub const SPEC: &[Param] = &[
    Param::new("path", Kind::Path)
        .required()
        .aliases(&["dest", "name"]),
    Param::new("follow", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("get_checksum", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("get_mime", Kind::Bool)
        .default(ParamDefault::Bool(true))
        .aliases(&["mime", "mime_type", "mime-type"]),
    Param::new("get_attributes", Kind::Bool)
        .default(ParamDefault::Bool(true))
        .aliases(&["attr", "attributes"]),
    Param::new("checksum_algorithm", Kind::Str)
        .default(ParamDefault::Str("sha1"))
        .choices(&["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
        .aliases(&["checksum", "checksum_algo"]),
];

fn flag(params: &Map<String, Value>, k: &str) -> bool {
    params.get(k).and_then(Value::as_bool).unwrap_or(false)
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let path = params
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let p = Path::new(path);
    let meta = if flag(params, "follow") {
        fs::metadata(p)
    } else {
        fs::symlink_metadata(p)
    };
    let meta = match meta {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut r = Map::new();
            r.insert("changed".into(), json!(false));
            r.insert("stat".into(), json!({"exists": false}));
            return Ok(r);
        }
        Err(e) => {
            let text = e.to_string();
            return Err(ModuleFail::msg(
                text.split(" (os error").next().unwrap_or(&text).to_string(),
            ));
        }
    };
    let mut out = format_output(path, &meta);
    for (key, amode) in [
        ("readable", libc::R_OK),
        ("writeable", libc::W_OK),
        ("executable", libc::X_OK),
    ] {
        out.insert(key.into(), json!(access(path, amode)));
    }
    if meta.file_type().is_symlink() {
        let real = fs::canonicalize(p)
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| path.to_string());
        out.insert("lnk_source".into(), json!(real));
        let target = fs::read_link(p)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        out.insert("lnk_target".into(), json!(target));
    }
    if let Some(n) = user_name(meta.uid()) {
        out.insert("pw_name".into(), json!(n));
    }
    if let Some(n) = group_name(meta.gid()) {
        out.insert("gr_name".into(), json!(n));
    }
    if meta.is_file() && out["readable"] == json!(true) && flag(params, "get_checksum") {
        let algo = params
            .get("checksum_algorithm")
            .and_then(Value::as_str)
            .unwrap_or("sha1");
        if let Ok(Some(sum)) = digest_file(p, algo) {
            out.insert("checksum".into(), json!(sum));
        }
    }
    if flag(params, "get_mime") {
        let (mimetype, charset) = mime_of(path, ctx);
        out.insert("mimetype".into(), json!(mimetype));
        out.insert("charset".into(), json!(charset));
    }
    if flag(params, "get_attributes") {
        let (version, attributes, flags) = attributes_of(path, ctx);
        out.insert("version".into(), version);
        out.insert("attributes".into(), json!(attributes));
        out.insert("attr_flags".into(), json!(flags));
    }
    let mut r = Map::new();
    r.insert("changed".into(), json!(false));
    r.insert("stat".into(), Value::Object(out));
    Ok(r)
}

fn format_output(path: &str, m: &fs::Metadata) -> Map<String, Value> {
    let mode = m.mode();
    let ft = m.file_type();
    let bit = |b: u32| json!(mode & b != 0);
    let mut o = Map::new();
    o.insert("exists".into(), json!(true));
    o.insert("path".into(), json!(path));
    o.insert("mode".into(), json!(format!("{:04o}", mode & 0o7777)));
    o.insert("isdir".into(), json!(ft.is_dir()));
    o.insert("ischr".into(), json!(ft.is_char_device()));
    o.insert("isblk".into(), json!(ft.is_block_device()));
    o.insert("isreg".into(), json!(ft.is_file()));
    o.insert("isfifo".into(), json!(ft.is_fifo()));
    o.insert("islnk".into(), json!(ft.is_symlink()));
    o.insert("issock".into(), json!(ft.is_socket()));
    o.insert("uid".into(), json!(m.uid()));
    o.insert("gid".into(), json!(m.gid()));
    o.insert("size".into(), json!(m.size()));
    o.insert("inode".into(), json!(m.ino()));
    o.insert("dev".into(), json!(m.dev()));
    o.insert("nlink".into(), json!(m.nlink()));
    o.insert(
        "atime".into(),
        json!(epoch_float(m.atime(), m.atime_nsec())),
    );
    o.insert(
        "mtime".into(),
        json!(epoch_float(m.mtime(), m.mtime_nsec())),
    );
    o.insert(
        "ctime".into(),
        json!(epoch_float(m.ctime(), m.ctime_nsec())),
    );
    o.insert("wusr".into(), bit(0o200));
    o.insert("rusr".into(), bit(0o400));
    o.insert("xusr".into(), bit(0o100));
    o.insert("wgrp".into(), bit(0o020));
    o.insert("rgrp".into(), bit(0o040));
    o.insert("xgrp".into(), bit(0o010));
    o.insert("woth".into(), bit(0o002));
    o.insert("roth".into(), bit(0o004));
    o.insert("xoth".into(), bit(0o001));
    o.insert("isuid".into(), bit(0o4000));
    o.insert("isgid".into(), bit(0o2000));
    o.insert("blocks".into(), json!(m.blocks()));
    o.insert("block_size".into(), json!(m.blksize()));
    o.insert("device_type".into(), json!(m.rdev()));
    o
}

fn access(path: &str, mode: libc::c_int) -> bool {
    let Ok(c) = CString::new(path) else {
        return false;
    };
    // SAFETY: c is a valid NUL-terminated string for the duration of the call.
    unsafe { libc::access(c.as_ptr(), mode) == 0 }
}

/// `file --mime-type --mime-encoding`, as Ansible's stat does (`file` looked up and run
/// with the task's environment); "unknown" otherwise.
fn mime_of(path: &str, ctx: &ModuleContext) -> (String, String) {
    let unknown = ("unknown".to_string(), "unknown".to_string());
    let Some(file) = get_bin_path("file", &ctx.env) else {
        return unknown;
    };
    let Ok(out) = Command::new(file)
        .args(["--mime-type", "--mime-encoding", path])
        .envs(&ctx.env)
        .stdin(Stdio::null())
        .output()
    else {
        return unknown;
    };
    if !out.status.success() {
        return unknown;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let Some((_, tail)) = text.rsplit_once(':') else {
        return unknown;
    };
    let Some((mime, charset)) = tail.split_once(';') else {
        return unknown;
    };
    let charset = charset.split('=').nth(1).unwrap_or("").trim().to_string();
    (mime.trim().to_string(), charset)
}

/// `lsattr -vd`, as Ansible's get_file_attributes does (looked up and run with the
/// task's environment).
fn attributes_of(path: &str, ctx: &ModuleContext) -> (Value, Vec<String>, String) {
    let empty = (Value::Null, Vec::new(), String::new());
    let Some(lsattr) = get_bin_path("lsattr", &ctx.env) else {
        return empty;
    };
    let Ok(out) = Command::new(lsattr)
        .args(["-vd", path])
        .envs(&ctx.env)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return empty;
    };
    if !out.status.success() {
        return empty;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() < 2 {
        return empty;
    }
    let flags = fields[1].replace('-', "");
    let attributes = flags
        .chars()
        .filter_map(attr_name)
        .map(str::to_string)
        .collect();
    (json!(fields[0]), attributes, flags)
}

fn attr_name(c: char) -> Option<&'static str> {
    Some(match c {
        'A' => "noatime",
        'a' => "append",
        'c' => "compressed",
        'C' => "nocow",
        'd' => "nodump",
        'D' => "dirsync",
        'e' => "extents",
        'E' => "encrypted",
        'h' => "blocksize",
        'i' => "immutable",
        'I' => "indexed",
        'j' => "journalled",
        'N' => "inline",
        's' => "zero",
        'S' => "synchronous",
        't' => "notail",
        'T' => "blockroot",
        'u' => "undelete",
        'X' => "compressedraw",
        'Z' => "compresseddirty",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;

    #[test]
    fn stat_of_a_file_and_a_missing_path() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        fs::write(&f, b"hello\n").unwrap();
        let args = json!({"path": f, "get_mime": false, "get_attributes": false});
        let r = run_module("stat", args.as_object().unwrap(), &ModuleContext::default());
        let st = &r["stat"];
        assert_eq!(st["exists"], json!(true));
        assert_eq!(st["isreg"], json!(true));
        assert_eq!(st["size"], json!(6));
        assert_eq!(
            st["checksum"],
            json!("f572d396fae9206628714fb2ce00f72e94f2258f")
        );
        assert_eq!(r["changed"], json!(false));
        let args = json!({"path": dir.path().join("nope")});
        let r = run_module("stat", args.as_object().unwrap(), &ModuleContext::default());
        assert_eq!(r["stat"], json!({"exists": false}));
    }

    #[test]
    fn stat_links_with_and_without_follow() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        fs::write(&f, b"x").unwrap();
        let l = dir.path().join("l");
        std::os::unix::fs::symlink(&f, &l).unwrap();
        let args = json!({"path": l, "checksum_algorithm": "sha256"});
        let r = run_module("stat", args.as_object().unwrap(), &ModuleContext::default());
        assert_eq!(r["stat"]["islnk"], json!(true));
        assert_eq!(r["stat"]["lnk_target"], json!(f));
        assert!(r["stat"].get("checksum").is_none());
        let args = json!({"path": l, "follow": true, "checksum_algorithm": "sha256"});
        let r = run_module("stat", args.as_object().unwrap(), &ModuleContext::default());
        assert_eq!(r["stat"]["islnk"], json!(false));
        assert_eq!(r["stat"]["checksum"].as_str().map(str::len), Some(64));
    }
}
