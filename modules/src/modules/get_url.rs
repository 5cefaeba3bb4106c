//! `get_url`, agent side: Ansible's module over the native HTTP client
//! (`util/http`): download to a temporary file, verify `checksum`
//! (`<algo>:<hex>` or `<algo>:<url of a checksum file>`), replace `dest` only
//! when the content differs (atomically, with `backup`), then owner/group/mode.

use super::backup::backup_local;
use super::file::with_file_common_params;
use super::url_common::{declines_common, elapsed_secs, mask_secret, request, s, URL_COMMON};
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::atomic::{temp_path_for, write_atomic, NewMode};
use crate::util::checksum::digest_file;
use crate::util::fs_attrs::{set_fs_attributes_if_different, FileArgs};
use crate::util::http::fetch_url;
use serde_json::{json, Map, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

pub const SPEC: &[Param] = &with_file_common_params![
    Param::new("url", Kind::Str).required(),
    URL_COMMON[0],
    URL_COMMON[1],
    URL_COMMON[2],
    URL_COMMON[3],
    Param::new("url_username", Kind::Str).aliases(&["username"]),
    Param::new("url_password", Kind::Str)
        .aliases(&["password"])
        .no_log(),
    URL_COMMON[4],
    URL_COMMON[5],
    URL_COMMON[6],
    URL_COMMON[7],
    Param::new("dest", Kind::Path).required(),
    Param::new("backup", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("checksum", Kind::Str).default(ParamDefault::Str("")),
    Param::new("timeout", Kind::Int).default(ParamDefault::Int(10)),
    Param::new("headers", Kind::Dict),
    Param::new("tmp_dest", Kind::Path),
    Param::new("unredirected_headers", Kind::List).default(ParamDefault::List(&[])),
    Param::new("decompress", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("ciphers", Kind::List),
    Param::new("use_netrc", Kind::Bool).default(ParamDefault::Bool(true)),
];

/// Calls the native module does not take: they run ansible-core's module.
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let url = args.get("url").and_then(Value::as_str).unwrap_or("");
    if url.starts_with("ftp:") || url.starts_with("file:") {
        return Some("ftp and file URLs");
    }
    declines_common(args)
}

const ALGORITHMS: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

/// The last part of a URL's path, or index.html (the module's `url_filename`).
fn url_filename(url: &str) -> String {
    let path = url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    match path.rsplit('/').next() {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => "index.html".to_string(),
    }
}

/// The module's `extract_filename_from_headers`.
fn filename_from_disposition(value: &str) -> Option<String> {
    let rest = value.strip_prefix("attachment;")?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let rest = rest.strip_prefix("filename=")?;
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    let name: String = rest.chars().take_while(|c| *c != '"').collect();
    if name.is_empty() {
        return None;
    }
    Some(name.rsplit('/').next().unwrap_or(&name).to_string())
}

struct Download {
    tmp: PathBuf,
    info: Map<String, Value>,
}

/// The module's `url_get`: the body in a temporary file, or the module's exit.
fn url_get(
    params: &Map<String, Value>,
    ctx: &ModuleContext,
    url: &str,
    dest: &str,
    method: &str,
    last_mod_time: Option<SystemTime>,
    force: bool,
) -> Result<Download, ModuleOutcome> {
    let start = Instant::now();
    let mut req = request(params, url, method, &ctx.env);
    req.force = force;
    req.last_mod_time = last_mod_time;
    let mut fetched = fetch_url(&req);
    let elapsed = elapsed_secs(start);
    let status = fetched.status;
    let msg = fetched
        .info
        .get("msg")
        .cloned()
        .unwrap_or_else(|| json!(""));
    if status == 304 {
        return Err(Ok(Map::from_iter([
            ("url".to_string(), json!(url)),
            ("dest".to_string(), json!(dest)),
            ("changed".to_string(), json!(false)),
            ("msg".to_string(), msg),
            ("status_code".to_string(), json!(status)),
            ("elapsed".to_string(), json!(elapsed)),
        ])));
    }
    if status == -1 {
        return Err(Err(ModuleFail::msg(msg.as_str().unwrap_or_default())
            .with("url", json!(url))
            .with("dest", json!(dest))
            .with("elapsed", json!(elapsed))));
    }
    if status != 200 {
        return Err(Err(ModuleFail::msg("Request failed")
            .with("status_code", json!(status))
            .with("response", msg)
            .with("url", json!(url))
            .with("dest", json!(dest))
            .with("elapsed", json!(elapsed))));
    }
    let tmp_dir = match s(params, "tmp_dest") {
        Some(t) => {
            let p = Path::new(t);
            if !p.is_dir() {
                let why = if p.exists() {
                    format!("{t} is a file but should be a directory.")
                } else {
                    format!("{t} directory does not exist.")
                };
                return Err(Err(ModuleFail::msg(why).with("elapsed", json!(elapsed))));
            }
            p.to_path_buf()
        }
        None => std::env::temp_dir(),
    };
    let tmp = temp_path_for(&tmp_dir.join("get_url"));
    let mut body = fetched.body.take();
    let copied = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        if let Some(reader) = body.as_mut() {
            std::io::copy(reader, &mut f)?;
        }
        Ok(())
    })();
    if let Err(e) = copied {
        let _ = fs::remove_file(&tmp);
        return Err(Err(ModuleFail::msg(format!(
            "failed to create temporary content file: {e}"
        ))
        .with("elapsed", json!(elapsed))));
    }
    Ok(Download {
        tmp,
        info: fetched.info,
    })
}

fn digest(path: &Path, algorithm: &str) -> Option<String> {
    digest_file(path, algorithm).ok().flatten()
}

/// The expected checksum from a checksum file's lines (the module's parsing):
/// a lone checksum applies to any file.
fn checksum_from_file(text: &str, filename: &str) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let lines: Vec<&str> = if text.ends_with('\n') {
        lines[..lines.len() - 1].to_vec()
    } else {
        lines
    };
    if lines.len() == 1 && lines[0].split_whitespace().count() == 1 {
        return Some(lines[0].to_string());
    }
    for line in lines {
        if let Some((sum, name)) = line.split_once(' ') {
            let name = name.strip_prefix([' ', '*']).unwrap_or(name);
            let name = name.trim_start_matches(['.', '/']);
            if name == filename {
                return Some(sum.to_string());
            }
        }
    }
    None
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let password = s(params, "url_password");
    let mut outcome = run_inner(params, ctx);
    let mask = |m: &mut Map<String, Value>| {
        let mut v = Value::Object(std::mem::take(m));
        mask_secret(&mut v, password);
        if let Value::Object(o) = v {
            *m = o;
        }
    };
    match &mut outcome {
        Ok(m) => mask(m),
        Err(ModuleFail(m)) => mask(m),
    }
    outcome
}

fn run_inner(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let url = s(params, "url").unwrap_or_default().to_string();
    let mut dest = s(params, "dest").unwrap_or_default().to_string();
    let mut force = params
        .get("force")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let backup = params
        .get("backup")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut result = Map::new();
    result.insert("changed".into(), json!(false));
    result.insert("checksum_dest".into(), Value::Null);
    result.insert("checksum_src".into(), Value::Null);
    result.insert("dest".into(), json!(dest));
    result.insert("elapsed".into(), json!(0));
    result.insert("url".into(), json!(url));
    let fail = |msg: String, result: &Map<String, Value>| {
        let mut r = result.clone();
        r.insert("msg".into(), json!(msg));
        ModuleFail(r)
    };
    let dest_is_dir = Path::new(&dest).is_dir();
    let mut last_mod_time = None;
    let mut checksum = String::new();
    let mut algorithm = String::new();
    let given = s(params, "checksum").unwrap_or("");
    if !given.is_empty() {
        let Some((algo, value)) = given.split_once(':') else {
            return Err(fail(
                "The checksum parameter has to be in format <algorithm>:<checksum>".into(),
                &result,
            ));
        };
        algorithm = algo.to_string();
        let mut value = value.to_string();
        let scheme = value.split_once("://").map(|(s, _)| s).unwrap_or("");
        if matches!(scheme, "http" | "https" | "ftp" | "file") {
            let sums = match url_get(params, ctx, &value, &dest, "GET", None, force) {
                Ok(d) => d,
                Err(exit) => return exit,
            };
            let text = fs::read_to_string(&sums.tmp).unwrap_or_default();
            let _ = fs::remove_file(&sums.tmp);
            let filename = url_filename(&url);
            match checksum_from_file(&text, &filename) {
                Some(found) => value = found,
                None => {
                    return Err(ModuleFail::msg(format!(
                        "Unable to find a checksum for file '{filename}' in '{value}'"
                    )))
                }
            }
        }
        checksum = value
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_')
            .collect::<String>()
            .to_lowercase();
        if checksum.is_empty() || !checksum.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(fail("The checksum format is invalid".into(), &result));
        }
        if !ALGORITHMS.contains(&algorithm.as_str()) {
            return Err(ModuleFail::msg(format!(
                "rsible agent: get_url checksum algorithm '{algorithm}' is not implemented natively (available: {})",
                ALGORITHMS.join(", ")
            )));
        }
    }
    let file_args = FileArgs::from_params(params);
    if !dest_is_dir && Path::new(&dest).exists() {
        let mut mismatch = false;
        if !force
            && !checksum.is_empty()
            && digest(Path::new(&dest), &algorithm) != Some(checksum.clone())
        {
            mismatch = true;
        }
        if !force && !checksum.is_empty() && !mismatch {
            let changed = set_fs_attributes_if_different(
                Path::new(&dest),
                &file_args,
                false,
                ctx.check_mode,
                None,
            )?;
            result.insert("changed".into(), json!(changed));
            let msg = if changed {
                "file already exists but file attributes changed"
            } else {
                "file already exists"
            };
            result.insert("msg".into(), json!(msg));
            return Ok(result);
        }
        last_mod_time = fs::metadata(&dest).and_then(|m| m.modified()).ok();
        if mismatch {
            force = true;
        }
    }
    let start = Instant::now();
    let method = if ctx.check_mode { "HEAD" } else { "GET" };
    let download = match url_get(params, ctx, &url, &dest, method, last_mod_time, force) {
        Ok(d) => d,
        Err(exit) => return exit,
    };
    result.insert("elapsed".into(), json!(elapsed_secs(start)));
    let tmp = download.tmp.clone();
    result.insert("src".into(), json!(tmp.display().to_string()));
    if dest_is_dir {
        let filename = download
            .info
            .get("content-disposition")
            .and_then(Value::as_str)
            .and_then(filename_from_disposition)
            .unwrap_or_else(|| {
                url_filename(
                    download
                        .info
                        .get("url")
                        .and_then(Value::as_str)
                        .unwrap_or(&url),
                )
            });
        dest = Path::new(&dest).join(filename).display().to_string();
        result.insert("dest".into(), json!(dest));
    }
    let remove_tmp = || {
        let _ = fs::remove_file(&tmp);
    };
    result.insert("checksum_src".into(), json!(digest(&tmp, "sha1")));
    let dest_path = PathBuf::from(&dest);
    if dest_path.exists() {
        result.insert("checksum_dest".into(), json!(digest(&dest_path, "sha1")));
    } else {
        let parent = dest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if !parent.exists() {
            remove_tmp();
            return Err(fail(
                format!("Destination {} does not exist", parent.display()),
                &result,
            ));
        }
    }
    let msg = download
        .info
        .get("msg")
        .cloned()
        .unwrap_or_else(|| json!(""));
    if ctx.check_mode {
        remove_tmp();
        let changed = result.get("checksum_src") != result.get("checksum_dest");
        result.insert("changed".into(), json!(changed));
        result.insert("msg".into(), msg);
        return Ok(result);
    }
    if !checksum.is_empty() {
        let got = digest(&tmp, &algorithm).unwrap_or_default();
        if got != checksum {
            remove_tmp();
            return Err(fail(
                format!(
                    "The checksum for {} did not match {checksum}; it was {got}.",
                    tmp.display()
                ),
                &result,
            ));
        }
    }
    let mut backup_file = None;
    if result.get("checksum_src") != result.get("checksum_dest") {
        if backup && dest_path.exists() {
            match backup_local(&dest_path) {
                Ok(b) => backup_file = Some(b),
                Err(e) => {
                    remove_tmp();
                    return Err(e);
                }
            }
        }
        let moved = fs::File::open(&tmp)
            .and_then(|mut f| write_atomic(&dest_path, &mut f, NewMode::KeepExisting));
        remove_tmp();
        if let Err(e) = moved {
            return Err(fail(
                format!("failed to copy {} to {dest}: {e}", tmp.display()),
                &result,
            ));
        }
        result.insert("changed".into(), json!(true));
    } else {
        remove_tmp();
    }
    let changed = result
        .get("changed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let changed =
        set_fs_attributes_if_different(&dest_path, &file_args, changed, ctx.check_mode, None)?;
    result.insert("changed".into(), json!(changed));
    result.insert("md5sum".into(), json!(digest(&dest_path, "md5")));
    if let Some(b) = backup_file {
        result.insert("backup_file".into(), json!(b));
    }
    result.insert("msg".into(), msg);
    result.insert(
        "status_code".into(),
        download
            .info
            .get("status")
            .cloned()
            .unwrap_or_else(|| json!("")),
    );
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_files_are_read_as_the_module_reads_them() {
        let text = "abc  data.bin\ndef *./other.bin\n";
        assert_eq!(checksum_from_file(text, "data.bin").as_deref(), Some("abc"));
        assert_eq!(
            checksum_from_file(text, "other.bin").as_deref(),
            Some("def")
        );
        assert_eq!(checksum_from_file(text, "x"), None);
        assert_eq!(checksum_from_file("abc\n", "x").as_deref(), Some("abc"));
    }

    #[test]
    fn file_names_from_headers_and_urls() {
        assert_eq!(
            filename_from_disposition("attachment; filename=\"a/b.txt\"").as_deref(),
            Some("b.txt")
        );
        assert_eq!(filename_from_disposition("inline"), None);
        assert_eq!(url_filename("http://h/a/b.tgz"), "b.tgz");
        assert_eq!(url_filename("http://h/"), "index.html");
    }
}
