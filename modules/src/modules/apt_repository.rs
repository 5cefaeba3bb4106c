//! `apt_repository`: add or remove a one-line APT source (`deb ...`/`deb-src ...`) in
//! /etc/apt/sources.list or a file of /etc/apt/sources.list.d, as ansible-core 2.18's
//! module does: every .list file is read and, when anything changes, every file is
//! written back in the module's normalised form; the cache is refreshed with
//! `apt-get update`. Unlike Ansible's module it needs no python3-apt on the target
//! (Ansible's installs it when missing; see modules/COMPATIBILITY.md). `ppa:` sources
//! need Launchpad's API and are left to the Python module (`declines`).

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::atomic::{write_atomic, NewMode};
use crate::util::bin_path::get_bin_path;
use crate::util::fs_attrs::{set_fs_attributes_if_different, FileArgs};
use crate::util::locale::best_parsable_locale;
use crate::util::run::{argv, run};
use regex::Regex;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const SPEC: &[Param] = &[
    Param::new("repo", Kind::Str).required(),
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["absent", "present"]),
    Param::new("mode", Kind::Raw),
    Param::new("update_cache", Kind::Bool)
        .default(ParamDefault::Bool(true))
        .aliases(&["update-cache"]),
    Param::new("update_cache_retries", Kind::Int).default(ParamDefault::Int(5)),
    Param::new("update_cache_retry_max_delay", Kind::Int).default(ParamDefault::Int(12)),
    Param::new("filename", Kind::Str),
    Param::new("install_python_apt", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("validate_certs", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("codename", Kind::Str),
];

const VALID_SOURCE_TYPES: [&str; 2] = ["deb", "deb-src"];

/// Why the native module leaves a call to ansible-core's: PPAs are looked up on
/// Launchpad (HTTP and key import), which the agent does not do.
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let repo = args.get("repo").and_then(Value::as_str)?;
    repo.starts_with("ppa:")
        .then_some("apt_repository: ppa: sources run the Python module")
}

/// Where APT keeps its source lists (apt_pkg's `Dir::Etc::sourcelist`/`sourceparts`).
struct Locations {
    sources_list: PathBuf,
    sources_parts: PathBuf,
}

impl Locations {
    fn system() -> Locations {
        Locations {
            sources_list: "/etc/apt/sources.list".into(),
            sources_parts: "/etc/apt/sources.list.d".into(),
        }
    }
}

/// One line of a sources file as the module parses it.
#[derive(Debug, Clone, PartialEq)]
struct SourceLine {
    /// The line's number when read (Python keeps it and uses it as a list index).
    n: usize,
    valid: bool,
    enabled: bool,
    source: String,
    comment: String,
}

impl SourceLine {
    fn render(&self) -> String {
        let mut s = String::new();
        if !self.enabled {
            s.push_str("# ");
        }
        s.push_str(&self.source);
        if !self.comment.is_empty() {
            s.push_str(" # ");
            s.push_str(&self.comment);
        }
        s.push('\n');
        s
    }
}

/// The sources files in the order the module reads them (dict insertion order).
#[derive(Debug, Clone)]
struct SourcesList {
    files: Vec<(PathBuf, Vec<SourceLine>)>,
    /// Files that are symlinks: written through to their target.
    links: Vec<(PathBuf, PathBuf)>,
    /// Files a source was appended to: `mode` applies to them.
    new_repos: BTreeSet<PathBuf>,
    parts_dir: PathBuf,
}

/// The module's `_parse`: (valid, enabled, source, comment), and the text an invalid
/// repository string is reported with.
fn parse_line(line: &str) -> (bool, bool, String, String, String) {
    let mut line = line.trim().to_string();
    let mut enabled = true;
    if let Some(rest) = line.strip_prefix('#') {
        enabled = false;
        line = rest.to_string();
    }
    let mut comment = String::new();
    if let Some(i) = line.find('#').filter(|&i| i > 0) {
        comment = line[i + 1..].trim().to_string();
        line.truncate(i);
    }
    let mut source = line.trim().to_string();
    let mut valid = false;
    let chunks: Vec<&str> = source.split_whitespace().collect();
    if chunks
        .first()
        .is_some_and(|c| VALID_SOURCE_TYPES.contains(c))
    {
        valid = true;
        source = chunks.join(" ");
    }
    (valid, enabled, source, comment, line)
}

/// A repository string as given by the user: its normalised source, or the module's
/// "Invalid repository string" failure.
fn parse_repo(repo: &str) -> Result<String, ModuleFail> {
    let (valid, enabled, source, _, raw) = parse_line(repo);
    if !valid || !enabled {
        return Err(ModuleFail::msg(format!("Invalid repository string: {raw}")));
    }
    Ok(source)
}

/// The file name the module derives from a source line (`_suggest_filename`).
fn suggest_filename(line: &str, filename: Option<&str>) -> Result<String, ModuleFail> {
    if let Some(f) = filename {
        return Ok(format!("{f}.list"));
    }
    let options = Regex::new(r"\[[^\]]+\]").map_err(|e| ModuleFail::msg(e.to_string()))?;
    let protocol = Regex::new(r"\w+://").map_err(|e| ModuleFail::msg(e.to_string()))?;
    let line = options.replace_all(line, "");
    let line = protocol.replace_all(&line, "");
    let first = line
        .split_whitespace()
        .find(|p| !VALID_SOURCE_TYPES.contains(p))
        // Ansible's module fails with an IndexError here.
        .ok_or_else(|| {
            ModuleFail::msg(format!(
                "rsible: cannot derive a file name from the repository string: {line}"
            ))
        })?;
    let host = first.split_once('@').map_or(first, |(_, rest)| rest);
    let cleaned: String = host
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    Ok(format!(
        "{}.list",
        cleaned.split_whitespace().collect::<Vec<_>>().join("_")
    ))
}

/// Python's `os.path.abspath` for an absolute or relative path (lexical).
fn abspath(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

impl SourcesList {
    fn load(loc: &Locations) -> Result<SourcesList, ModuleFail> {
        let mut list = SourcesList {
            files: Vec::new(),
            links: Vec::new(),
            new_repos: BTreeSet::new(),
            parts_dir: loc.sources_parts.clone(),
        };
        if loc.sources_list.is_file() {
            list.read(&loc.sources_list)?;
        }
        let mut parts: Vec<PathBuf> = fs::read_dir(&loc.sources_parts)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name().is_some_and(|n| {
                            let n = n.to_string_lossy();
                            n.ends_with(".list") && !n.starts_with('.')
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        parts.sort();
        for file in parts {
            if let Ok(target) = fs::read_link(&file) {
                list.links.push((file.clone(), target));
            }
            list.read(&file)?;
        }
        Ok(list)
    }

    fn read(&mut self, file: &Path) -> Result<(), ModuleFail> {
        let bytes = fs::read(file).map_err(|e| {
            ModuleFail::msg(format!(
                "[Errno {}] {}: '{}'",
                e.raw_os_error().unwrap_or(0),
                e,
                file.display()
            ))
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let lines = text
            .split_inclusive('\n')
            .enumerate()
            .map(|(n, line)| {
                let (valid, enabled, source, comment, _) = parse_line(line);
                SourceLine {
                    n,
                    valid,
                    enabled,
                    source,
                    comment,
                }
            })
            .collect();
        self.files.push((file.to_path_buf(), lines));
        Ok(())
    }

    /// Each file with sources and the text it would be written as (`dump`).
    fn dump(&self) -> Vec<(PathBuf, String)> {
        self.files
            .iter()
            .filter(|(_, lines)| !lines.is_empty())
            .map(|(f, lines)| (f.clone(), lines.iter().map(SourceLine::render).collect()))
            .collect()
    }

    fn expand_path(&self, filename: &str) -> PathBuf {
        if filename.contains('/') {
            PathBuf::from(filename)
        } else {
            abspath(&self.parts_dir.join(filename))
        }
    }

    fn add_source(&mut self, source: &str, file: &str) {
        let mut found = false;
        for (_, lines) in self.files.iter_mut() {
            for i in 0..lines.len() {
                let line = &lines[i];
                if line.valid && line.source == source {
                    // Python indexes by the line's stored number.
                    let n = line.n;
                    if let Some(target) = lines.get_mut(n) {
                        target.enabled = true;
                    }
                    found = true;
                }
            }
        }
        if found {
            return;
        }
        let file = self.expand_path(file);
        let lines = match self.files.iter_mut().position(|(f, _)| *f == file) {
            Some(i) => &mut self.files[i].1,
            None => {
                self.files.push((file.clone(), Vec::new()));
                &mut self.files.last_mut().expect("just pushed").1
            }
        };
        lines.push(SourceLine {
            n: lines.len(),
            valid: true,
            enabled: true,
            source: source.to_string(),
            comment: String::new(),
        });
        self.new_repos.insert(file);
    }

    /// `_remove_valid_source`: pops by the stored line number while iterating over
    /// the same list, exactly as the Python module does (which skips the line after
    /// each removed one and shifts the numbers).
    fn remove_source(&mut self, source: &str) -> Result<(), ModuleFail> {
        for (_, lines) in self.files.iter_mut() {
            let mut i = 0;
            while i < lines.len() {
                let line = &lines[i];
                if line.valid && line.enabled && line.source == source {
                    let n = line.n;
                    if n >= lines.len() {
                        return Err(ModuleFail::msg("pop index out of range"));
                    }
                    lines.remove(n);
                }
                i += 1;
            }
        }
        Ok(())
    }

    /// Write every file with sources (atomically, through symlinks), delete the files
    /// left without any, then apply `mode` to the files a source was added to.
    fn save(&mut self, mode: Option<&Value>, check_mode: bool) -> Result<(), ModuleFail> {
        let mut kept = Vec::new();
        for (file, lines) in std::mem::take(&mut self.files) {
            if lines.is_empty() {
                if file.exists() {
                    fs::remove_file(&file).map_err(|e| io_fail(&e, &file))?;
                }
                continue;
            }
            let dir = file.parent().unwrap_or(Path::new("/"));
            if !dir.is_dir() {
                fs::create_dir_all(dir).map_err(|e| {
                    ModuleFail::msg(format!(
                        "Failed to create directory {}: {}",
                        dir.display(),
                        py_err(&e)
                    ))
                })?;
            }
            let text: String = lines.iter().map(SourceLine::render).collect();
            let dest = self
                .links
                .iter()
                .find(|(l, _)| *l == file)
                .map_or(file.clone(), |(_, t)| t.clone());
            write_atomic(&dest, &mut text.as_bytes(), NewMode::KeepExisting)
                .map_err(|e| io_fail(&e, &dest))?;
            if self.new_repos.contains(&file) {
                if let Some(mode) = mode.filter(|m| !m.is_null()) {
                    let args = FileArgs {
                        mode: Some(mode.clone()),
                        ..Default::default()
                    };
                    set_fs_attributes_if_different(&file, &args, false, check_mode, None)?;
                }
            }
            kept.push((file, lines));
        }
        self.files = kept;
        Ok(())
    }
}

fn py_err(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text).to_string();
    format!("[Errno {}] {}", e.raw_os_error().unwrap_or(0), text)
}

fn io_fail(e: &std::io::Error, path: &Path) -> ModuleFail {
    ModuleFail::msg(format!("{}: '{}'", py_err(e), path.display()))
}

pub fn run_module(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    run_at(params, ctx, &Locations::system())
}

fn run_at(params: &Map<String, Value>, ctx: &ModuleContext, loc: &Locations) -> ModuleOutcome {
    let repo = params["repo"].as_str().unwrap_or_default().to_string();
    let state = params["state"].as_str().unwrap_or("present").to_string();
    if repo.is_empty() {
        return Err(ModuleFail::msg(
            "Please set argument 'repo' to a non-empty value",
        ));
    }
    if repo.starts_with("ppa:") {
        return Err(ModuleFail::msg(
            "rsible agent: apt_repository with a ppa: source is not implemented natively",
        ));
    }
    if get_bin_path("apt-key", &ctx.env).is_none() && get_bin_path("gpg", &ctx.env).is_none() {
        return Err(ModuleFail::msg(
            "Either apt-key or gpg binary is required, but neither could be found",
        ));
    }
    let mut list = SourcesList::load(loc)?;
    let before_list = list.clone();
    let before = list.dump();
    let source = parse_repo(&repo)?;
    if state == "present" {
        let file = suggest_filename(&source, params["filename"].as_str())?;
        list.add_source(&source, &file);
    } else {
        list.remove_source(&source)?;
    }
    let after = list.dump();
    let changed = before != after;

    let names = |d: &[(PathBuf, String)]| -> BTreeSet<PathBuf> {
        d.iter().map(|(f, _)| f.clone()).collect()
    };
    let (before_names, after_names) = (names(&before), names(&after));
    let added: Vec<PathBuf> = after_names.difference(&before_names).cloned().collect();
    let removed: Vec<PathBuf> = before_names.difference(&after_names).cloned().collect();
    let text_of =
        |d: &[(PathBuf, String)], f: &Path| d.iter().find(|(n, _)| n == f).map(|(_, t)| t.clone());
    let mut diff = Vec::new();
    if changed && ctx.diff {
        for f in added.iter().chain(removed.iter()) {
            let (b, a) = (text_of(&before, f), text_of(&after, f));
            let header = |present: bool| {
                if present {
                    f.display().to_string()
                } else {
                    "/dev/null".to_string()
                }
            };
            diff.push(json!({
                "before": b.clone().unwrap_or_default(),
                "after": a.clone().unwrap_or_default(),
                "before_header": header(b.is_some()),
                "after_header": header(a.is_some()),
            }));
        }
    }

    let mut warnings = Vec::new();
    if changed && !ctx.check_mode {
        let mode = params.get("mode");
        let saved = list.save(mode, ctx.check_mode).and_then(|()| {
            if params["update_cache"].as_bool().unwrap_or(true) {
                update_cache(params, ctx, &mut warnings)
            } else {
                Ok(())
            }
        });
        if let Err(fail) = saved {
            revert(&before_list, &added);
            let mut fail = fail;
            if !warnings.is_empty() {
                fail = fail.with("warnings", json!(warnings));
            }
            return Err(fail);
        }
    }

    let mut result = Map::new();
    result.insert("changed".into(), json!(changed));
    result.insert("repo".into(), json!(repo));
    result.insert("sources_added".into(), paths_json(&added));
    result.insert("sources_removed".into(), paths_json(&removed));
    result.insert("state".into(), json!(state));
    result.insert("diff".into(), json!(diff));
    if !warnings.is_empty() {
        result.insert("warnings".into(), json!(warnings));
    }
    Ok(result)
}

fn paths_json(paths: &[PathBuf]) -> Value {
    json!(paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>())
}

/// `revert_sources_list`: delete the files this run created and write back the
/// others as they were read.
fn revert(before: &SourcesList, added: &[PathBuf]) {
    for f in added {
        let _ = fs::remove_file(f);
    }
    let mut before = before.clone();
    before.new_repos.clear();
    let _ = before.save(None, false);
}

/// python-apt's `Cache.update()` through `apt-get update`, with the module's retries
/// and exponential backoff; the failure names the last error as apt reports it.
fn update_cache(
    params: &Map<String, Value>,
    ctx: &ModuleContext,
    warnings: &mut Vec<String>,
) -> Result<(), ModuleFail> {
    let retries = params["update_cache_retries"].as_i64().unwrap_or(5);
    let max_delay = params["update_cache_retry_max_delay"]
        .as_i64()
        .unwrap_or(12) as f64;
    let randomize = f64::from(std::process::id() % 1000) / 1000.0;
    let mut ctx = ctx.clone();
    let locale = best_parsable_locale(&ctx.env);
    for var in ["LANG", "LC_ALL", "LC_MESSAGES", "LC_CTYPE", "LANGUAGE"] {
        ctx.env.insert(var.into(), locale.clone());
    }
    // python-apt raises FetchFailedException: with apt's errors (`E:..., E:...`) when
    // the update fails, without a message when only some index files failed.
    let mut err: Option<String> = None;
    for retry in 0..retries.max(0) {
        let cmd = argv(["apt-get", "update", "-q"]);
        let o = run(&cmd, &ctx, None)?;
        let errors = apt_errors(&o.err);
        let partial = o.err.contains("Some index files failed to download");
        if o.rc == 0 && errors.is_empty() && !partial {
            return Ok(());
        }
        let text = if o.rc != 0 { errors } else { String::new() };
        warnings.push(format!(
            "Failed to update cache after {} due to {text} retry, retrying",
            retry + 1
        ));
        err = Some(text);
        let mut delay = 2f64.powi(retry as i32) + randomize;
        if delay > max_delay {
            delay = max_delay + randomize;
        }
        std::thread::sleep(Duration::from_secs_f64(delay.max(0.0)));
        warnings.push(format!(
            "Sleeping for {} seconds, before attempting to update the cache again",
            delay.round() as i64
        ));
    }
    Err(ModuleFail::msg(format!(
        "Failed to update apt cache after {retries} retries: {}",
        err.as_deref().unwrap_or("unknown reason")
    )))
}

/// apt's error lines (`E: ...`) in apt_pkg's `E:msg, E:msg` form.
fn apt_errors(stderr: &str) -> String {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("E: "))
        .map(|m| format!("E:{m}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_the_repo_line() {
        let s = |l: &str| suggest_filename(l, None).unwrap();
        assert_eq!(
            s("deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable"),
            "download_docker_com_linux_debian.list"
        );
        assert_eq!(
            s("deb http://user:pw@example.com/x y z"),
            "example_com_x.list"
        );
        assert_eq!(
            suggest_filename("deb x y", Some("docker")).unwrap(),
            "docker.list"
        );
    }

    #[test]
    fn lines_parse_and_render_as_the_module_writes_them() {
        let (valid, enabled, source, comment, _) = parse_line("#deb  http://a  b c # note\n");
        assert!(valid && !enabled);
        assert_eq!(
            (source.as_str(), comment.as_str()),
            ("deb http://a b c", "note")
        );
        let line = SourceLine {
            n: 0,
            valid,
            enabled,
            source,
            comment,
        };
        assert_eq!(line.render(), "# deb http://a b c # note\n");
        assert!(parse_repo("# deb http://a b").is_err());
        assert_eq!(
            parse_repo("foo bar").unwrap_err().0["msg"],
            json!("Invalid repository string: foo bar")
        );
    }

    #[test]
    fn removing_follows_pythons_index_shifts() {
        let dir = tempfile::tempdir().unwrap();
        let parts = dir.path().join("d");
        fs::create_dir(&parts).unwrap();
        fs::write(parts.join("a.list"), "deb x y\ndeb x y\ndeb z y\n").unwrap();
        let loc = Locations {
            sources_list: dir.path().join("sources.list"),
            sources_parts: parts.clone(),
        };
        let mut list = SourcesList::load(&loc).unwrap();
        list.remove_source("deb x y").unwrap();
        // The second match is skipped by the shifting iteration, as in Python.
        assert_eq!(list.dump()[0].1, "deb x y\ndeb z y\n");
    }
}
