//! `yum_repository`: one `[repoid]` section of a `.repo` file in /etc/yum.repos.d,
//! written as ansible-core 2.18's module writes it through Python's configparser
//! (options sorted, booleans as 1/0, lists joined, `key = value` lines, a blank line
//! after each section), with its diff, check mode and file attributes.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::fs_attrs::{set_fs_attributes_if_different, FileArgs};
use serde_json::{json, Map, Value};
use std::fs;
use std::path::Path;

pub const SPEC: &[Param] = &[
    Param::new("async", Kind::Bool),
    Param::new("bandwidth", Kind::Str),
    Param::new("baseurl", Kind::List),
    Param::new("cost", Kind::Str),
    Param::new("countme", Kind::Bool),
    Param::new("deltarpm_metadata_percentage", Kind::Str),
    Param::new("deltarpm_percentage", Kind::Str),
    Param::new("description", Kind::Str),
    Param::new("enabled", Kind::Bool),
    Param::new("enablegroups", Kind::Bool),
    Param::new("exclude", Kind::List).aliases(&["excludepkgs"]),
    Param::new("failovermethod", Kind::Str).choices(&["roundrobin", "priority"]),
    Param::new("file", Kind::Str),
    Param::new("gpgcakey", Kind::Str),
    Param::new("gpgcheck", Kind::Bool),
    Param::new("gpgkey", Kind::List),
    Param::new("module_hotfixes", Kind::Bool),
    Param::new("http_caching", Kind::Str).choices(&["all", "packages", "none"]),
    Param::new("include", Kind::Str),
    Param::new("includepkgs", Kind::List),
    Param::new("ip_resolve", Kind::Str).choices(&["4", "6", "IPv4", "IPv6", "whatever"]),
    Param::new("keepalive", Kind::Bool),
    Param::new("keepcache", Kind::Str).choices(&["0", "1"]),
    Param::new("metadata_expire", Kind::Str),
    Param::new("metadata_expire_filter", Kind::Str).choices(&[
        "never",
        "read-only:past",
        "read-only:present",
        "read-only:future",
    ]),
    Param::new("metalink", Kind::Str),
    Param::new("mirrorlist", Kind::Str),
    Param::new("mirrorlist_expire", Kind::Str),
    Param::new("name", Kind::Str).required(),
    Param::new("password", Kind::Str).no_log(),
    Param::new("priority", Kind::Str),
    Param::new("protect", Kind::Bool),
    Param::new("proxy", Kind::Str),
    Param::new("proxy_password", Kind::Str).no_log(),
    Param::new("proxy_username", Kind::Str),
    Param::new("repo_gpgcheck", Kind::Bool),
    Param::new("reposdir", Kind::Path).default(ParamDefault::Str("/etc/yum.repos.d")),
    Param::new("retries", Kind::Str),
    Param::new("s3_enabled", Kind::Bool),
    Param::new("skip_if_unavailable", Kind::Bool),
    Param::new("sslcacert", Kind::Str).aliases(&["ca_cert"]),
    Param::new("ssl_check_cert_permissions", Kind::Bool),
    Param::new("sslclientcert", Kind::Str).aliases(&["client_cert"]),
    Param::new("sslclientkey", Kind::Str).aliases(&["client_key"]),
    Param::new("sslverify", Kind::Bool).aliases(&["validate_certs"]),
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["present", "absent"]),
    Param::new("throttle", Kind::Str),
    Param::new("timeout", Kind::Str),
    Param::new("ui_repoid_vars", Kind::Str),
    Param::new("username", Kind::Str),
    // The file common arguments.
    Param::new("mode", Kind::Raw),
    Param::new("owner", Kind::Str),
    Param::new("group", Kind::Str),
    Param::new("seuser", Kind::Str),
    Param::new("serole", Kind::Str),
    Param::new("selevel", Kind::Str),
    Param::new("setype", Kind::Str),
    Param::new("attributes", Kind::Str).aliases(&["attr"]),
    Param::new("unsafe_writes", Kind::Bool).default(ParamDefault::Bool(false)),
];

/// Parameters that are not repository options.
const NOT_OPTIONS: &[&str] = &[
    "state",
    "reposdir",
    "file",
    "description",
    "mode",
    "owner",
    "group",
    "seuser",
    "unsafe_writes",
    "serole",
    "selevel",
    "setype",
    "attributes",
];

/// A `.repo` file as configparser holds it: sections in file order, each with its
/// options in order (keys lowercased, multi-line values joined with `\n`).
#[derive(Debug, Clone, Default, PartialEq)]
struct RepoFile {
    defaults: Vec<(String, String)>,
    sections: Vec<(String, Vec<(String, String)>)>,
}

/// configparser's `read` for the subset of its syntax repo files use: `[section]`
/// headers, `key = value`/`key: value`, indented continuation lines, `#`/`;` comments.
fn parse(text: &str, path: &Path) -> Result<RepoFile, ModuleFail> {
    let mut file = RepoFile::default();
    // (section index or None for DEFAULT, option index) of the value being continued.
    let mut current: Option<Option<usize>> = None;
    let mut option: Option<usize> = None;
    let mut values: Vec<Vec<String>> = Vec::new();
    let mut owners: Vec<(Option<usize>, usize)> = Vec::new();
    let mut indent_level = usize::MAX;
    for (lineno, line) in text.split_inclusive('\n').enumerate() {
        let stripped = line.trim();
        let is_comment = stripped.starts_with('#') || stripped.starts_with(';');
        let value = if is_comment { "" } else { stripped };
        if value.is_empty() {
            if !is_comment {
                if let Some(i) = option {
                    values[i].push(String::new());
                }
            } else {
                indent_level = usize::MAX;
            }
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if current.is_some() && option.is_some() && indent > indent_level {
            if let Some(i) = option {
                values[i].push(value.to_string());
            }
            continue;
        }
        indent_level = indent;
        if let Some(name) = value
            .strip_prefix('[')
            .and_then(|v| v.rfind(']').map(|e| &v[..e]))
        {
            if name.is_empty() {
                return Err(parse_error(path, lineno, line));
            }
            option = None;
            if name == "DEFAULT" {
                current = Some(None);
            } else if file.sections.iter().any(|(n, _)| n == name) {
                return Err(ModuleFail::msg(format!(
                    "While reading from '{}' [line {:2}]: section '{name}' already exists",
                    path.display(),
                    lineno + 1
                )));
            } else {
                file.sections.push((name.to_string(), Vec::new()));
                current = Some(Some(file.sections.len() - 1));
            }
            continue;
        }
        let Some(section) = current else {
            return Err(ModuleFail::msg(format!(
                "File contains no section headers.\nfile: '{}', line: {}\n{:?}",
                path.display(),
                lineno + 1,
                line
            )));
        };
        let Some(pos) = value.find(['=', ':']) else {
            return Err(parse_error(path, lineno, line));
        };
        let key = value[..pos].trim_end().to_lowercase();
        let val = value[pos + 1..].trim().to_string();
        let opts = match section {
            None => &mut file.defaults,
            Some(i) => &mut file.sections[i].1,
        };
        let idx = match opts.iter().position(|(k, _)| *k == key) {
            Some(existing) => {
                opts[existing].1.clear();
                let slot = owners
                    .iter()
                    .position(|o| *o == (section, existing))
                    .unwrap_or(0);
                values[slot] = vec![val];
                slot
            }
            None => {
                opts.push((key, String::new()));
                owners.push((section, opts.len() - 1));
                values.push(vec![val]);
                values.len() - 1
            }
        };
        option = Some(idx);
    }
    for (slot, (section, opt)) in owners.iter().enumerate() {
        let joined = values[slot].join("\n").trim_end().to_string();
        let opts = match section {
            None => &mut file.defaults,
            Some(i) => &mut file.sections[*i].1,
        };
        opts[*opt].1 = joined;
    }
    Ok(file)
}

fn parse_error(path: &Path, lineno: usize, line: &str) -> ModuleFail {
    ModuleFail::msg(format!(
        "Source contains parsing errors: '{}'\n\t[line {:2}]: {:?}",
        path.display(),
        lineno + 1,
        line
    ))
}

impl RepoFile {
    /// The module's `dump`: sections and their options (defaults included) sorted.
    fn dump(&self) -> String {
        let mut sections: Vec<&(String, Vec<(String, String)>)> = self.sections.iter().collect();
        sections.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = String::new();
        for (name, opts) in sections {
            out += &format!("[{name}]\n");
            let mut items: Vec<(String, String)> = self.defaults.clone();
            for (k, v) in opts {
                match items.iter_mut().find(|(dk, _)| dk == k) {
                    Some(slot) => slot.1 = v.clone(),
                    None => items.push((k.clone(), v.clone())),
                }
            }
            items.sort();
            for (k, v) in items {
                out += &format!("{k} = {v}\n");
            }
            out.push('\n');
        }
        out
    }

    /// configparser's `write`.
    fn write(&self) -> String {
        let mut out = String::new();
        let mut emit = |name: &str, opts: &[(String, String)]| {
            out += &format!("[{name}]\n");
            for (k, v) in opts {
                out += &format!("{k} = {}\n", v.replace('\n', "\n\t"));
            }
            out.push('\n');
        };
        if !self.defaults.is_empty() {
            emit("DEFAULT", &self.defaults);
        }
        for (name, opts) in &self.sections {
            emit(name, opts);
        }
        out
    }

    fn remove(&mut self, section: &str) {
        self.sections.retain(|(n, _)| n != section);
    }
}

/// Python's `str(value)` of a parameter as written to the file.
fn option_value(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

pub fn run_module(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let s = |k: &str| params.get(k).and_then(Value::as_str);
    let given = |k: &str| params.get(k).is_some_and(|v| !v.is_null());
    let state = s("state").unwrap_or("present");
    if state == "present" {
        if !["baseurl", "mirrorlist", "metalink"]
            .iter()
            .any(|k| given(k))
        {
            return Err(ModuleFail::msg(
                "state is present but any of the following are missing: baseurl, mirrorlist, metalink",
            ));
        }
        if !given("description") {
            return Err(ModuleFail::msg(
                "state is present but all of the following are missing: description",
            ));
        }
    }
    let name = s("name").unwrap_or_default().to_string();
    let repos_dir = s("reposdir").unwrap_or("/etc/yum.repos.d");
    if !Path::new(repos_dir).is_dir() {
        return Err(ModuleFail::msg(format!(
            "Repo directory '{repos_dir}' does not exist."
        )));
    }
    let file = s("file").unwrap_or(&name);
    let dest = Path::new(repos_dir).join(format!("{file}.repo"));
    let dest_text = dest.display().to_string();

    // The options: every repository parameter (aliases and non-options dropped),
    // `name` becoming the description, lists joined as the module joins them.
    let alias_names: Vec<&str> = SPEC
        .iter()
        .flat_map(|p| p.aliases.iter().copied())
        .collect();
    let mut options: Vec<(String, String)> = Vec::new();
    for p in SPEC {
        if NOT_OPTIONS.contains(&p.name) || alias_names.contains(&p.name) {
            continue;
        }
        let value = if p.name == "name" {
            params.get("description").cloned().unwrap_or(Value::Null)
        } else {
            params.get(p.name).cloned().unwrap_or(Value::Null)
        };
        let value = match (&value, p.name) {
            (Value::Array(items), "baseurl" | "gpgkey") => json!(join(items, "\n")),
            (Value::Array(items), _) => json!(join(items, " ")),
            _ => value,
        };
        if let Some(v) = option_value(&value) {
            options.push((p.name.to_string(), v));
        }
    }
    options.sort();

    let mut repo = if dest.is_file() {
        let text = fs::read(&dest).map_err(|e| {
            ModuleFail::msg(format!("Problems handling file {dest_text}."))
                .with("details", json!(e.to_string()))
        })?;
        parse(&String::from_utf8_lossy(&text), &dest)?
    } else {
        RepoFile::default()
    };
    let before = repo.dump();
    repo.remove(&name);
    if state == "present" {
        repo.sections.push((name.clone(), options));
    }
    let after = repo.dump();
    let mut changed = before != after;
    if changed && !ctx.check_mode {
        if repo.sections.is_empty() {
            fs::remove_file(&dest).map_err(|e| {
                ModuleFail::msg(format!("Cannot remove empty repo file {dest_text}.")).with(
                    "details",
                    json!(format!(
                        "[Errno {}] {}: '{dest_text}'",
                        e.raw_os_error().unwrap_or(0),
                        e.to_string().split(" (os error").next().unwrap_or_default()
                    )),
                )
            })?;
        } else {
            fs::write(&dest, repo.write()).map_err(|e| {
                ModuleFail::msg(format!("Problems handling file {dest_text}."))
                    .with("details", json!(e.to_string()))
            })?;
        }
    }
    if dest.is_file() {
        let args = FileArgs::from_params(params);
        changed = set_fs_attributes_if_different(&dest, &args, changed, ctx.check_mode, None)?;
    }
    let mut result = Map::new();
    result.insert("changed".into(), json!(changed));
    result.insert("repo".into(), json!(name));
    result.insert("state".into(), json!(state));
    result.insert(
        "diff".into(),
        json!({"before_header": dest_text, "before": before, "after_header": dest_text, "after": after}),
    );
    Ok(result)
}

fn join(items: &[Value], sep: &str) -> String {
    items
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .collect::<Vec<_>>()
        .join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_files_round_trip_as_configparser_writes_them() {
        let text = "# comment\n[a]\nName=A\nbaseurl = http://x\n  http://y\n\n[b]\nenabled: 1\n";
        let f = parse(text, Path::new("t.repo")).unwrap();
        assert_eq!(
            f.write(),
            "[a]\nname = A\nbaseurl = http://x\n\thttp://y\n\n[b]\nenabled = 1\n\n"
        );
        assert_eq!(
            f.dump(),
            "[a]\nbaseurl = http://x\nhttp://y\nname = A\n\n[b]\nenabled = 1\n\n"
        );
        assert!(parse("key = v\n", Path::new("t.repo")).is_err());
    }
}
