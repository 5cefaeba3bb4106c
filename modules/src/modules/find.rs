//! `find`: list files under paths by name pattern, type, age, size, content and mode,
//! walking directories in the order Python's `os.walk` does (directory order, files
//! before directories of the same level, top-down).

use super::replace::compile_bytes;
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::checksum::digest_file;
use crate::util::expand::expand_path;
use crate::util::mode::symbolic_to_octal;
use crate::util::pytime::epoch_float;
use crate::util::users::{group_name, user_name};
use rsible_pyre::PyBytesRegex;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::fs::{self, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

pub const SPEC: &[Param] = &[
    Param::new("paths", Kind::List)
        .required()
        .aliases(&["name", "path"]),
    Param::new("patterns", Kind::List).aliases(&["pattern"]),
    Param::new("excludes", Kind::List).aliases(&["exclude"]),
    Param::new("contains", Kind::Str),
    Param::new("read_whole_file", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("file_type", Kind::Str)
        .default(ParamDefault::Str("file"))
        .choices(&["any", "directory", "file", "link"]),
    Param::new("age", Kind::Str),
    Param::new("age_stamp", Kind::Str)
        .default(ParamDefault::Str("mtime"))
        .choices(&["atime", "ctime", "mtime"]),
    Param::new("size", Kind::Str),
    Param::new("recurse", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("hidden", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("follow", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("get_checksum", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("use_regex", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("depth", Kind::Int),
    Param::new("mode", Kind::Raw),
    Param::new("exact_mode", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("encoding", Kind::Str),
    Param::new("limit", Kind::Int),
];

/// Name patterns: shell globs (fnmatch) or Python regexes matched at the start.
enum Matcher {
    Glob(Vec<glob::Pattern>),
    Regex(Vec<PyBytesRegex>),
}

impl Matcher {
    fn new(patterns: &[String], use_regex: bool) -> Result<Matcher, ModuleFail> {
        Ok(if use_regex {
            Matcher::Regex(
                patterns
                    .iter()
                    .map(|p| compile_bytes(p))
                    .collect::<Result<_, _>>()?,
            )
        } else {
            Matcher::Glob(
                patterns
                    .iter()
                    // fnmatch reads an unclosed `[` literally; glob rejects it.
                    .map(|p| {
                        glob::Pattern::new(p).unwrap_or_else(|_| {
                            glob::Pattern::new(&glob::Pattern::escape(p)).unwrap_or_default()
                        })
                    })
                    .collect(),
            )
        })
    }

    fn any(&self, name: &str, run_error: &RunError) -> bool {
        match self {
            Matcher::Glob(ps) => ps.iter().any(|p| p.matches(name)),
            Matcher::Regex(rs) => rs
                .iter()
                .any(|r| match_at_start(r, name.as_bytes(), run_error)),
        }
    }
}

/// The first error running a pattern (the backtracking engine's limit): the walk
/// goes on without matching, and the module then fails with it rather than guess.
type RunError = RefCell<Option<String>>;

fn noted<T: Default>(found: Result<T, String>, run_error: &RunError) -> T {
    found.unwrap_or_else(|e| {
        run_error.borrow_mut().get_or_insert(e);
        T::default()
    })
}

/// Python's `re.match`: a match that starts at the beginning.
fn match_at_start(re: &PyBytesRegex, hay: &[u8], run_error: &RunError) -> bool {
    noted(re.find(hay), run_error).is_some_and(|(start, _)| start == 0)
}

struct Filters {
    patterns: Matcher,
    excludes: Option<Matcher>,
    age: Option<i64>,
    age_stamp: String,
    size: Option<i64>,
    contains: Option<PyBytesRegex>,
    run_error: RunError,
    read_whole_file: bool,
    mode: Option<String>,
    exact_mode: bool,
    now: f64,
}

impl Filters {
    /// The module's `pfilter`: a pattern matches and no exclude does.
    fn name(&self, name: &str) -> bool {
        self.patterns.any(name, &self.run_error)
            && !self
                .excludes
                .as_ref()
                .is_some_and(|e| e.any(name, &self.run_error))
    }

    fn age(&self, st: &Metadata) -> bool {
        let Some(age) = self.age else { return true };
        let stamp = match self.age_stamp.as_str() {
            "atime" => epoch_float(st.atime(), st.atime_nsec()),
            "ctime" => epoch_float(st.ctime(), st.ctime_nsec()),
            _ => epoch_float(st.mtime(), st.mtime_nsec()),
        };
        let elapsed = self.now - stamp;
        if age >= 0 {
            elapsed >= age.unsigned_abs() as f64
        } else {
            elapsed <= age.unsigned_abs() as f64
        }
    }

    fn size(&self, st: &Metadata) -> bool {
        let Some(size) = self.size else { return true };
        let len = st.size() as i128;
        if size >= 0 {
            len >= size as i128
        } else {
            len <= (size as i128).abs()
        }
    }

    fn content(&self, path: &Path) -> bool {
        let Some(re) = &self.contains else {
            return true;
        };
        // Unreadable files simply do not match, as in the module.
        let Ok(data) = fs::read(path) else {
            return false;
        };
        if self.read_whole_file {
            return noted(re.is_match(&data), &self.run_error);
        }
        data.split_inclusive(|&b| b == b'\n')
            .any(|line| match_at_start(re, line, &self.run_error))
    }

    fn mode(&self, st: &Metadata) -> bool {
        let Some(mode) = self.mode.as_deref().filter(|m| !m.is_empty()) else {
            return true;
        };
        let wanted = match u32::from_str_radix(mode, 8) {
            Ok(m) => m,
            Err(_) => symbolic_to_octal(mode, 0, false, 0).unwrap_or(0),
        } & 0o7777;
        let have = st.mode() & 0o7777;
        if self.exact_mode {
            have == wanted
        } else {
            have & wanted != 0
        }
    }
}

/// `NUMBER[unit]` with the module's units; None when it does not parse.
fn parse_scaled(text: &str, units: &[(char, i64)]) -> Option<i64> {
    let t = text.to_lowercase();
    let (digits, scale) = match t.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => {
            let scale = units.iter().find(|(u, _)| *u == c)?.1;
            (&t[..t.len() - 1], scale)
        }
        _ => (t.as_str(), 1),
    };
    let unsigned = digits.strip_prefix('-').unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok()?.checked_mul(scale)
}

fn statinfo(path: &str, st: &Metadata) -> Map<String, Value> {
    let m = st.mode();
    let ft = st.file_type();
    let mut r = Map::new();
    r.insert("path".into(), json!(path));
    for (k, v) in [
        ("mode", json!(format!("{:04o}", m & 0o7777))),
        ("isdir", json!(ft.is_dir())),
        ("ischr", json!(ft.is_char_device())),
        ("isblk", json!(ft.is_block_device())),
        ("isreg", json!(ft.is_file())),
        ("isfifo", json!(ft.is_fifo())),
        ("islnk", json!(ft.is_symlink())),
        ("issock", json!(ft.is_socket())),
        ("uid", json!(st.uid())),
        ("gid", json!(st.gid())),
        ("size", json!(st.size())),
        ("inode", json!(st.ino())),
        ("dev", json!(st.dev())),
        ("nlink", json!(st.nlink())),
        ("atime", json!(epoch_float(st.atime(), st.atime_nsec()))),
        ("mtime", json!(epoch_float(st.mtime(), st.mtime_nsec()))),
        ("ctime", json!(epoch_float(st.ctime(), st.ctime_nsec()))),
        ("gr_name", json!(group_name(st.gid()).unwrap_or_default())),
        ("pw_name", json!(user_name(st.uid()).unwrap_or_default())),
        ("wusr", json!(m & 0o200 != 0)),
        ("rusr", json!(m & 0o400 != 0)),
        ("xusr", json!(m & 0o100 != 0)),
        ("wgrp", json!(m & 0o020 != 0)),
        ("rgrp", json!(m & 0o040 != 0)),
        ("xgrp", json!(m & 0o010 != 0)),
        ("woth", json!(m & 0o002 != 0)),
        ("roth", json!(m & 0o004 != 0)),
        ("xoth", json!(m & 0o001 != 0)),
        ("isuid", json!(m & 0o4000 != 0)),
        ("isgid", json!(m & 0o2000 != 0)),
    ] {
        r.insert(k.into(), v);
    }
    r
}

/// Python's `os.path.normpath` for the joined paths the walk produces.
fn normpath(p: &str) -> String {
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

struct Walk {
    filters: Filters,
    file_type: String,
    recurse: bool,
    hidden: bool,
    follow: bool,
    get_checksum: bool,
    depth: Option<i64>,
    limit: Option<i64>,
    files: Vec<Value>,
    examined: u64,
    skipped: Map<String, Value>,
    warnings: Vec<String>,
}

impl Walk {
    fn limit_reached(&self) -> bool {
        self.limit.is_some_and(|l| self.files.len() as i64 == l)
    }

    /// One `os.walk` level: entries of `root` (files, then directories), then the
    /// walk continues into the directories. Returns false to stop the whole walk.
    fn walk(&mut self, top: &str, root: &str) -> bool {
        let entries = match fs::read_dir(root) {
            Ok(e) => e,
            Err(e) => {
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EPERM | libc::EACCES | libc::ENOENT)
                ) {
                    self.skipped.insert(
                        root.to_string(),
                        json!(crate::util::fs_attrs::py_os_error(&e, Path::new(root))),
                    );
                }
                return true;
            }
        };
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // scandir's is_dir() follows symlinks: a link to a directory is listed
            // with the directories (and walked only with follow).
            let is_dir = entry
                .file_type()
                .map(|t| t.is_dir() || (t.is_symlink() && entry.path().is_dir()))
                .unwrap_or(false);
            if is_dir {
                dirs.push(name);
            } else {
                files.push(name);
            }
        }
        self.examined += (files.len() + dirs.len()) as u64;
        let mut prune = false;
        let all: Vec<String> = files.iter().chain(dirs.iter()).cloned().collect();
        for name in &all {
            let fsname = normpath(&format!("{root}/{name}"));
            if let Some(depth) = self.depth.filter(|d| *d != 0) {
                let wpath = format!("{}/", top.trim_end_matches('/'));
                let level =
                    fsname.matches('/').count() as i64 - wpath.matches('/').count() as i64 + 1;
                if level > depth {
                    prune = true;
                    continue;
                }
            }
            if name.starts_with('.') && !self.hidden {
                continue;
            }
            let st = match fs::symlink_metadata(&fsname) {
                Ok(st) => st,
                Err(e) => {
                    let text = crate::util::fs_attrs::py_os_error(&e, Path::new(&fsname));
                    self.warnings.push(format!(
                        "Skipped entry '{fsname}' due to this access issue: {text}\n"
                    ));
                    self.skipped.insert(fsname.clone(), json!(text));
                    continue;
                }
            };
            self.consider(&fsname, name, &st);
            if self.limit_reached() {
                return false;
            }
        }
        if !self.recurse {
            return false;
        }
        if prune {
            return true;
        }
        for d in dirs {
            let sub = format!("{}/{d}", root.trim_end_matches('/'));
            if !self.follow && Path::new(&sub).is_symlink() {
                continue;
            }
            if !self.walk(top, &sub) {
                return false;
            }
        }
        true
    }

    fn consider(&mut self, fsname: &str, name: &str, st: &Metadata) {
        let f = &self.filters;
        let ft = st.file_type();
        let common = || f.name(name) && f.age(st) && f.mode(st);
        let checksum = |r: &mut Map<String, Value>| {
            if let Ok(Some(sum)) = digest_file(Path::new(fsname), "sha1") {
                r.insert("checksum".into(), json!(sum));
            }
        };
        let picked = match self.file_type.as_str() {
            "any" => {
                if common() && (!ft.is_file() || f.size(st)) {
                    let mut r = statinfo(fsname, st);
                    if ft.is_file() && self.get_checksum {
                        checksum(&mut r);
                    }
                    Some(r)
                } else {
                    None
                }
            }
            "directory" if ft.is_dir() => common().then(|| statinfo(fsname, st)),
            "file" if ft.is_file() => {
                let ok = f.name(name)
                    && f.age(st)
                    && f.size(st)
                    && f.content(Path::new(fsname))
                    && f.mode(st);
                ok.then(|| {
                    let mut r = statinfo(fsname, st);
                    if self.get_checksum {
                        checksum(&mut r);
                    }
                    r
                })
            }
            "link" if ft.is_symlink() => common().then(|| statinfo(fsname, st)),
            _ => None,
        };
        if let Some(r) = picked {
            self.files.push(Value::Object(r));
        }
    }
}

/// Whether this call needs Python's `re` (see `replace::declines`): `contains`, and
/// `patterns`/`excludes` when `use_regex` may be on. Arguments are unvalidated, so a
/// doubtful case declines: Python then runs it, which is always right, only slower.
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let refused = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.split(',').any(|p| compile_bytes(p.trim()).is_err()),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .any(|p| compile_bytes(p).is_err()),
        _ => false,
    };
    let use_regex = match args.get("use_regex") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !matches!(
            s.to_ascii_lowercase().as_str(),
            "no" | "false" | "off" | "n" | "f" | "0" | ""
        ),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        _ => false,
    };
    let contains = args.get("contains").and_then(Value::as_str);
    if contains.is_some_and(|c| compile_bytes(c).is_err()) {
        return Some("contains beyond the native regex engine");
    }
    let lists = ["patterns", "pattern", "excludes", "exclude"];
    if use_regex && lists.iter().any(|k| refused(args.get(*k))) {
        return Some("patterns beyond the native regex engine");
    }
    None
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let b = |k: &str| params.get(k).and_then(Value::as_bool).unwrap_or(false);
    let list = |k: &str| super::args::str_list(params, k);
    let mode = match params.get("mode") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) => Some(m.clone()),
        Some(other) => {
            let class = match other {
                Value::Bool(_) => "bool",
                Value::Number(n) if n.is_f64() => "float",
                Value::Number(_) => "int",
                Value::Array(_) => "list",
                _ => "dict",
            };
            // An int 0 is falsy in Python and skips the check.
            if other.as_i64() == Some(0) || *other == Value::Bool(false) {
                None
            } else {
                return Err(ModuleFail::msg(format!(
                    "argument 'mode' is not a string and conversion is not allowed, value is of type {class}"
                )));
            }
        }
    };
    let use_regex = b("use_regex");
    let mut patterns = list("patterns");
    if patterns.is_empty() {
        patterns = vec![if use_regex { ".*" } else { "*" }.to_string()];
    }
    let excludes = list("excludes");
    let age = match s("age") {
        None => None,
        Some(a) => Some(
            parse_scaled(
                &a,
                &[
                    ('s', 1),
                    ('m', 60),
                    ('h', 3600),
                    ('d', 86400),
                    ('w', 604800),
                ],
            )
            .ok_or_else(|| ModuleFail::msg("failed to process age").with("age", json!(a)))?,
        ),
    };
    let size = match s("size") {
        None => None,
        Some(z) => Some(
            parse_scaled(
                &z,
                &[
                    ('b', 1),
                    ('k', 1 << 10),
                    ('m', 1 << 20),
                    ('g', 1 << 30),
                    ('t', 1 << 40),
                ],
            )
            .ok_or_else(|| ModuleFail::msg("failed to process size").with("size", json!(z)))?,
        ),
    };
    let limit = params.get("limit").and_then(Value::as_i64);
    if let Some(l) = limit.filter(|l| *l <= 0) {
        return Err(ModuleFail::msg(format!(
            "limit cannot be {l} (use None for unlimited)"
        )));
    }
    if s("encoding").is_some() {
        return Err(ModuleFail::msg(
            "rsible agent: find's 'encoding' parameter is not implemented natively",
        ));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let filters = Filters {
        patterns: Matcher::new(&patterns, use_regex)?,
        excludes: if excludes.is_empty() {
            None
        } else {
            Some(Matcher::new(&excludes, use_regex)?)
        },
        age,
        age_stamp: s("age_stamp").unwrap_or_else(|| "mtime".into()),
        size,
        contains: s("contains").as_deref().map(compile_bytes).transpose()?,
        run_error: RefCell::new(None),
        read_whole_file: b("read_whole_file"),
        mode,
        exact_mode: b("exact_mode"),
        now,
    };
    let mut walk = Walk {
        filters,
        file_type: s("file_type").unwrap_or_else(|| "file".into()),
        recurse: b("recurse"),
        hidden: b("hidden"),
        follow: b("follow"),
        get_checksum: b("get_checksum"),
        depth: params.get("depth").and_then(Value::as_i64),
        limit,
        files: Vec::new(),
        examined: 0,
        skipped: Map::new(),
        warnings: Vec::new(),
    };
    let mut msg = "All paths examined";
    for raw in list("paths") {
        let path = expand_path(&raw, &ctx.env);
        if !Path::new(&path).is_dir() {
            let why = format!("'{path}' is not a directory");
            walk.warnings.push(format!(
                "Skipped '{path}' path due to this access issue: {why}\n"
            ));
            walk.skipped.insert(path, json!(why));
            continue;
        }
        walk.walk(&path, &path);
        if walk.limit_reached() {
            msg = "Limit of matches reached";
        }
    }
    if let Some(e) = walk.filters.run_error.take() {
        return Err(ModuleFail::msg(e));
    }
    if !walk.warnings.is_empty() {
        msg = "Not all paths examined, check warnings for details";
    }
    let mut r = Map::new();
    let matched = walk.files.len();
    r.insert("files".into(), Value::Array(walk.files));
    r.insert("changed".into(), json!(false));
    r.insert("msg".into(), json!(msg));
    r.insert("matched".into(), json!(matched));
    r.insert("examined".into(), json!(walk.examined));
    r.insert("skipped_paths".into(), Value::Object(walk.skipped));
    if !walk.warnings.is_empty() {
        r.insert("warnings".into(), json!(walk.warnings));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;

    fn call(args: Value) -> Value {
        run_module("find", args.as_object().unwrap(), &ModuleContext::default())
    }

    #[test]
    fn finds_by_pattern_recursively_with_depth() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("a/b")).unwrap();
        fs::write(d.join("x.conf"), "k=1\n").unwrap();
        fs::write(d.join("a/y.conf"), "").unwrap();
        fs::write(d.join("a/b/z.conf"), "").unwrap();
        fs::write(d.join(".hidden.conf"), "").unwrap();
        let r = call(json!({"paths": d, "patterns": "*.conf", "recurse": true}));
        assert_eq!(r["matched"], json!(3), "{r}");
        assert_eq!(r["examined"], json!(6));
        let r = call(json!({"paths": d, "patterns": "*.conf", "recurse": true, "depth": 2}));
        assert_eq!(r["matched"], json!(2));
        let r = call(json!({"paths": d, "patterns": ["^x"], "use_regex": true, "contains": "k="}));
        assert_eq!(r["matched"], json!(1));
        assert_eq!(r["files"][0]["path"], json!(d.join("x.conf")));
        let r = call(json!({"paths": [d.join("nope")]}));
        assert_eq!(
            r["msg"],
            json!("Not all paths examined, check warnings for details")
        );
        let r = call(json!({"paths": d, "age": "1x"}));
        assert_eq!(r["msg"], json!("failed to process age"));
    }

    #[test]
    fn normpath_like_python() {
        assert_eq!(normpath("/a//b/./c/"), "/a/b/c");
        assert_eq!(normpath("a/../b"), "b");
        assert_eq!(normpath("/../a"), "/a");
    }
}
