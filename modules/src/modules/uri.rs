//! `uri`, agent side: Ansible's module of that name over the native HTTP client
//! (`util/http`). Its action plugin's parts live in the executor (check mode is
//! skipped there, as the plugin does); controller-side `src` files and
//! `form-multipart` bodies are left to the Python module (`declines`).

use super::file::with_file_common_params;
use super::url_common::{b, declines_common, elapsed_secs, mask_secret, request, s, URL_COMMON};
use super::{
    Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault, INVOCATION_UPDATES,
};
use crate::util::atomic::{write_atomic, NewMode};
use crate::util::checksum::digest_file;
use crate::util::fs_attrs::{set_fs_attributes_if_different, FileArgs};
use crate::util::http::{fetch_url, parse_content_type, Fetched};
use serde_json::{json, Map, Value};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub const SPEC: &[Param] = &with_file_common_params![
    Param::new("url", Kind::Str),
    URL_COMMON[0],
    URL_COMMON[1],
    URL_COMMON[2],
    URL_COMMON[3],
    Param::new("url_username", Kind::Str).aliases(&["user"]),
    Param::new("url_password", Kind::Str)
        .aliases(&["password"])
        .no_log(),
    URL_COMMON[4],
    URL_COMMON[5],
    URL_COMMON[6],
    URL_COMMON[7],
    Param::new("dest", Kind::Path),
    Param::new("body", Kind::Raw),
    Param::new("body_format", Kind::Str)
        .default(ParamDefault::Str("raw"))
        .choices(&["form-urlencoded", "json", "raw", "form-multipart"]),
    Param::new("src", Kind::Path),
    Param::new("method", Kind::Str).default(ParamDefault::Str("GET")),
    Param::new("return_content", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("follow_redirects", Kind::Str)
        .default(ParamDefault::Str("safe"))
        .choices(&["all", "no", "none", "safe", "urllib2", "yes"]),
    Param::new("creates", Kind::Path),
    Param::new("removes", Kind::Path),
    Param::new("status_code", Kind::IntList).default(ParamDefault::IntList(&[200])),
    Param::new("timeout", Kind::Int).default(ParamDefault::Int(30)),
    Param::new("headers", Kind::Dict).default(ParamDefault::EmptyDict),
    Param::new("unix_socket", Kind::Path),
    Param::new("remote_src", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("ca_path", Kind::Path),
    Param::new("unredirected_headers", Kind::List).default(ParamDefault::List(&[])),
    Param::new("decompress", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("ciphers", Kind::List),
    Param::new("use_netrc", Kind::Bool).default(ParamDefault::Bool(true)),
];

/// Calls the native module does not take: they run ansible-core's module.
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let remote = args
        .get("remote_src")
        .is_some_and(|v| super::args::to_bool(v) == Some(true));
    if args.get("src").is_some_and(|v| !v.is_null()) && !remote {
        return Some("src on the controller");
    }
    if args.get("body_format").and_then(Value::as_str) == Some("form-multipart") {
        return Some("form-multipart");
    }
    declines_common(args)
}

/// Python's `json.dumps` with its default separators and `ensure_ascii`.
pub fn py_json_dumps(v: &Value) -> String {
    let mut out = String::new();
    write_py_json(v, &mut out);
    out
}

fn write_py_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_py_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py_str(k, out);
                out.push_str(": ");
                write_py_json(item, out);
            }
            out.push('}');
        }
    }
}

fn write_py_str(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(ch),
            other => {
                let mut buf = [0u16; 2];
                for unit in other.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Python's `urllib.parse.quote_plus`.
fn quote_plus(s: &str) -> String {
    let mut out = String::new();
    for byte in s.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn py_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => py_json_dumps(other),
    }
}

/// The module's `form_urlencoded`: a dict or a list of pairs; list values repeat the key.
fn form_urlencoded(body: &Value) -> Result<String, String> {
    let pairs: Vec<(String, Value)> = match body {
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Array(kv) if kv.len() == 2 => Ok((py_text(&kv[0]), kv[1].clone())),
                _ => Err("too many values to unpack (expected 2)".to_string()),
            })
            .collect::<Result<_, _>>()?,
        other => return Ok(py_text(other)),
    };
    let mut out = Vec::new();
    for (k, v) in pairs {
        let values = match v {
            Value::Array(items) => items,
            other => vec![other],
        };
        for value in values.iter().filter(|v| !v.is_null()) {
            out.push(format!(
                "{}={}",
                quote_plus(&k),
                quote_plus(&py_text(value))
            ));
        }
    }
    Ok(out.join("&"))
}

/// Ansible's `get_response_filename`: Content-Disposition's filename, else the
/// last part of the URL's path.
fn response_filename(fetched: &Fetched) -> Option<String> {
    if let Some(disposition) = fetched.header("content-disposition") {
        for part in disposition.split(';').skip(1) {
            if let Some((k, v)) = part.split_once('=') {
                if k.trim().eq_ignore_ascii_case("filename") {
                    return Some(v.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    let url = fetched.info.get("url").and_then(Value::as_str)?;
    let parsed = url::Url::parse(url).ok()?;
    let path = parsed.path().trim_end_matches('/');
    let name = path.rsplit('/').next().unwrap_or("");
    if name.is_empty() {
        return None;
    }
    Some(
        url::form_urlencoded::parse(format!("x={}", name.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| name.to_string()),
    )
}

/// Decode with the response's charset (Ansible's `to_text`).
fn decode(bytes: &[u8], charset: &str) -> String {
    match charset.to_lowercase().as_str() {
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" => {
            bytes.iter().map(|&b| b as char).collect()
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Python's `repr` of the status_code list: `[200, 201]`.
fn py_list(codes: &[i64]) -> String {
    let items: Vec<String> = codes.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// Content for dest: bytes in memory or the response stream.
enum Content {
    Bytes(Vec<u8>),
    Stream(Box<dyn Read + Send>),
}

/// The module's `write_file`: to a temporary file, then over `dest` only when
/// the content differs.
fn write_file(dest: &Path, content: Content, resp: &Map<String, Value>) -> Result<(), ModuleFail> {
    let fail = |msg: String| {
        let mut r = resp.clone();
        let prev = r.remove("msg").and_then(|m| m.as_str().map(str::to_string));
        let msg = match prev {
            Some(p) if !p.is_empty() => format!("{msg} {p}"),
            _ => msg,
        };
        r.insert("msg".into(), json!(msg));
        ModuleFail(r)
    };
    let tmp = crate::util::atomic::temp_path_for(&std::env::temp_dir().join("uri-content"));
    let written = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        match content {
            Content::Bytes(b) => std::io::Write::write_all(&mut f, &b)?,
            Content::Stream(mut r) => {
                std::io::copy(&mut r, &mut f)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(fail(format!(
            "Failed to create temporary content file: {e}"
        )));
    }
    let src_sum = digest_file(&tmp, "sha1").ok().flatten();
    let dest_sum = if dest.is_file() {
        digest_file(dest, "sha1").ok().flatten()
    } else {
        None
    };
    let result = if src_sum != dest_sum {
        fs::File::open(&tmp)
            .and_then(|mut f| write_atomic(dest, &mut f, NewMode::KeepExisting))
            .map(|_| ())
            .map_err(|e| {
                fail(format!(
                    "failed to copy {} to {}: {e}",
                    tmp.display(),
                    dest.display()
                ))
            })
    } else {
        Ok(())
    };
    let _ = fs::remove_file(&tmp);
    result
}

/// The action plugin's check before the module runs: it does not support check
/// mode. The executor answers this itself (naming the action as the task wrote
/// it); this covers direct calls.
pub fn action_plugin(ctx: &ModuleContext) -> Option<ModuleOutcome> {
    ctx.check_mode.then(|| {
        Ok(Map::from_iter([
            ("skipped".to_string(), json!(true)),
            (
                "msg".to_string(),
                json!("This action (uri) does not support check mode."),
            ),
        ]))
    })
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let url = s(params, "url").unwrap_or_default().to_string();
    let body_format = s(params, "body_format").unwrap_or("raw").to_lowercase();
    let method = s(params, "method").unwrap_or("GET").to_uppercase();
    let dest = s(params, "dest").map(PathBuf::from);
    let return_content = b(params, "return_content");
    let status_codes: Vec<i64> = params
        .get("status_code")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_else(|| vec![200]);
    let password = s(params, "url_password");
    if params.get("body").is_some_and(|v| !v.is_null()) && s(params, "src").is_some() {
        return Err(ModuleFail::msg(
            "parameters are mutually exclusive: body|src",
        ));
    }
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(ModuleFail::msg(
            "Parameter 'method' needs to be a single word in uppercase, like GET or POST.",
        ));
    }
    let mut headers = super::url_common::header_pairs(params);
    let has_content_type = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let body_value = params.get("body").cloned().unwrap_or(Value::Null);
    let body: Option<Vec<u8>> = match body_format.as_str() {
        "json" => {
            if !has_content_type {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Some(match &body_value {
                Value::String(text) => text.clone().into_bytes(),
                other => py_json_dumps(other).into_bytes(),
            })
        }
        "form-urlencoded" => {
            if !has_content_type {
                headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
            }
            match &body_value {
                Value::Null => None,
                other => Some(
                    form_urlencoded(other)
                        .map_err(|e| {
                            ModuleFail::msg(format!("failed to parse body as form_urlencoded: {e}"))
                                .with("elapsed", json!(0))
                        })?
                        .into_bytes(),
                ),
            }
        }
        _ => match &body_value {
            Value::Null => None,
            other => Some(py_text(other).into_bytes()),
        },
    };
    if let Some(creates) = s(params, "creates") {
        if Path::new(creates).exists() {
            return Ok(Map::from_iter([
                (
                    "stdout".to_string(),
                    json!(format!("skipped, since '{creates}' exists")),
                ),
                ("changed".to_string(), json!(false)),
            ]));
        }
    }
    if let Some(removes) = s(params, "removes") {
        if !Path::new(removes).exists() {
            return Ok(Map::from_iter([
                (
                    "stdout".to_string(),
                    json!(format!("skipped, since '{removes}' does not exist")),
                ),
                ("changed".to_string(), json!(false)),
            ]));
        }
    }
    let mut body = body;
    if let Some(src) = s(params, "src") {
        match fs::read(src) {
            Ok(data) => body = Some(data),
            Err(_) => {
                return Err(ModuleFail::msg(format!("Unable to open source file {src}"))
                    .with("elapsed", json!(0)))
            }
        }
    }
    let mut updates = Map::new();
    if let Some(Value::Object(given)) = params.get("headers") {
        let mut shown = given.clone();
        for (k, v) in &headers {
            if !shown.contains_key(k) {
                shown.insert(k.clone(), json!(v));
            }
        }
        updates.insert("headers".into(), Value::Object(shown));
    }
    let start = Instant::now();
    let mut req = request(params, &url, &method, &ctx.env);
    req.headers = headers;
    req.body = body;
    if let Some(d) = dest.as_deref().filter(|d| d.is_file()) {
        req.last_mod_time = fs::metadata(d).and_then(|m| m.modified()).ok();
    }
    let mut fetched = fetch_url(&req);
    let elapsed = elapsed_secs(start);
    let outcome = finish_response(
        &mut fetched,
        &url,
        dest,
        return_content,
        &status_codes,
        elapsed,
        params,
        ctx,
        password,
        &mut updates,
    );
    let add = |mut m: Map<String, Value>| {
        m.insert(INVOCATION_UPDATES.into(), Value::Object(updates.clone()));
        m
    };
    match outcome {
        Ok(m) => Ok(add(m)),
        Err(ModuleFail(m)) => Err(ModuleFail(add(m))),
    }
}

#[allow(clippy::too_many_arguments)]
fn finish_response(
    fetched: &mut Fetched,
    url: &str,
    mut dest: Option<PathBuf>,
    return_content: bool,
    status_codes: &[i64],
    elapsed: i64,
    params: &Map<String, Value>,
    ctx: &ModuleContext,
    password: Option<&str>,
    updates: &mut Map<String, Value>,
) -> ModuleOutcome {
    let has_response = fetched.has_response();
    if has_response {
        if let Some(d) = dest.as_ref().filter(|d| d.is_dir()) {
            let name = response_filename(fetched).unwrap_or_else(|| "index.html".into());
            dest = Some(d.join(name));
        }
    }
    let (_, _, sub_type, charset) = if has_response {
        parse_content_type(fetched.header("content-type"))
    } else {
        parse_content_type(Some("application/octet-stream"))
    };
    let json_candidate = |t: &str| matches!(t.to_lowercase().as_str(), "json" | "javascript");
    let maybe_json = match sub_type.split_once('+') {
        Some((_, suffix)) => json_candidate(suffix),
        None => !sub_type.is_empty() && json_candidate(&sub_type),
    };
    let status = fetched.status;
    let maybe_output = maybe_json || return_content || !status_codes.contains(&status);
    let mut info = fetched.info.clone();
    let content: Option<Content> = if maybe_output {
        if let Some(mut reader) = fetched.body.take() {
            let mut data = Vec::new();
            if let Err(e) = reader.read_to_end(&mut data) {
                return Err(ModuleFail::msg(format!("Connection failure: {e}"))
                    .with("url", json!(url))
                    .with("status", json!(-1)));
            }
            Some(Content::Bytes(data))
        } else {
            Some(Content::Bytes(
                fetched.error_body.take().unwrap_or_default(),
            ))
        }
    } else if let Some(reader) = fetched.body.take() {
        Some(Content::Stream(reader))
    } else {
        // An error response nobody reads: Ansible leaves it in the result as `body`.
        if let Some(data) = fetched.error_body.take() {
            info.insert(
                "body".into(),
                json!(String::from_utf8_lossy(&data).into_owned()),
            );
        }
        None
    };
    let mut resp = Map::new();
    let final_url = info.get("url").and_then(Value::as_str).unwrap_or(url);
    resp.insert("redirected".into(), json!(final_url != url));
    for (k, v) in info {
        resp.insert(k, v);
    }
    resp.insert("elapsed".into(), json!(elapsed));
    resp.insert("status".into(), json!(status));
    resp.insert("changed".into(), json!(false));
    let mut content = content;
    if let (true, Some(dest)) = (has_response, dest.as_ref()) {
        if status_codes.contains(&status) && status != 304 {
            let to_write = match content.take() {
                Some(Content::Bytes(b)) => {
                    content = Some(Content::Bytes(b.clone()));
                    Content::Bytes(b)
                }
                Some(Content::Stream(r)) => Content::Stream(r),
                None => Content::Bytes(Vec::new()),
            };
            write_file(dest, to_write, &resp)?;
            let file_args = FileArgs::from_params(params);
            let changed =
                set_fs_attributes_if_different(dest, &file_args, true, ctx.check_mode, None)?;
            resp.insert("changed".into(), json!(changed));
            updates.insert("path".into(), json!(dest.display().to_string()));
        }
        resp.insert("path".into(), json!(dest.display().to_string()));
    }
    let mut uresp = Map::new();
    for (k, v) in resp {
        uresp.insert(k.replace('-', "_").to_lowercase(), v);
    }
    if let Some(Value::String(location)) = uresp.get("location").cloned() {
        if let Ok(joined) = url::Url::parse(url).and_then(|base| base.join(&location)) {
            uresp.insert("location".into(), json!(joined.to_string()));
        }
    }
    let u_content = match &content {
        Some(Content::Bytes(data)) => {
            let text = decode(data, &charset);
            if maybe_json {
                if let Ok(js) = serde_json::from_str::<Value>(&text) {
                    uresp.insert("json".into(), js);
                }
            }
            Some(text)
        }
        _ => None,
    };
    let mut out = Value::Object(uresp);
    mask_secret(&mut out, password);
    let mut uresp = match out {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if !status_codes.contains(&status) {
        let prev = uresp
            .get("msg")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        uresp.insert(
            "msg".into(),
            json!(format!(
                "Status code was {status} and not {}: {prev}",
                py_list(status_codes)
            )),
        );
        if return_content {
            uresp.insert("content".into(), json!(u_content));
        }
        return Err(ModuleFail(uresp));
    }
    if return_content {
        uresp.insert("content".into(), json!(u_content));
    }
    Ok(uresp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_are_dumped_as_python() {
        let v = json!({"a": 1, "b": [true, null, "é\n"], "c": 1.5});
        assert_eq!(
            py_json_dumps(&v),
            r#"{"a": 1, "b": [true, null, "\u00e9\n"], "c": 1.5}"#
        );
    }

    #[test]
    fn form_bodies_are_urlencoded_as_python() {
        let v = json!({"name": "a b", "list": ["x&y", 2], "flag": true, "none": null});
        assert_eq!(
            form_urlencoded(&v).unwrap(),
            "name=a+b&list=x%26y&list=2&flag=True"
        );
    }

    #[test]
    fn declines_controller_src_and_multipart() {
        let args = |v: Value| v.as_object().cloned().unwrap();
        assert!(declines(&args(json!({"url": "x", "src": "f"}))).is_some());
        assert!(declines(&args(json!({"url": "x", "src": "f", "remote_src": true}))).is_none());
        assert!(declines(&args(json!({"url": "x", "body_format": "form-multipart"}))).is_some());
        assert!(declines(&args(json!({"url": "x"}))).is_none());
    }
}
