//! `package_facts` on Debian-family hosts: the installed packages as Ansible's `apt`
//! manager reports them from python-apt, read here from `dpkg-query` (name, version,
//! architecture, section) and `apt-cache policy` (where the installed version comes
//! from; its archive's `Origin` is read from the Release file apt keeps in its lists).
//! Other managers are left to the Python module (`declines`).

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::bin_path::get_bin_path;
use crate::util::run::{run as run_cmd, Output};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub const SPEC: &[Param] = &[
    Param::new("manager", Kind::List).default(ParamDefault::List(&["auto"])),
    Param::new("strategy", Kind::Str)
        .default(ParamDefault::Str("first"))
        .choices(&["first", "all"]),
];

const APT_LISTS: &str = "/var/lib/apt/lists";

/// Calls the native module does not answer: a manager other than auto/apt, or all
/// managers' packages at once.
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let managers: Vec<String> = match args.get("manager") {
        None | Some(Value::Null) => vec!["auto".into()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().unwrap_or("?").to_lowercase())
            .collect(),
        Some(Value::String(s)) => s.split(',').map(|m| m.trim().to_lowercase()).collect(),
        Some(_) => vec!["?".into()],
    };
    let strategy = args
        .get("strategy")
        .and_then(Value::as_str)
        .unwrap_or("first");
    if managers.len() != 1 || !matches!(managers[0].as_str(), "auto" | "apt") {
        Some("managers other than apt")
    } else if strategy != "first" {
        Some("strategy=all")
    } else {
        None
    }
}

fn run(argv: Vec<String>, ctx: &ModuleContext) -> Result<Output, ModuleFail> {
    let o = run_cmd(&argv, ctx, None)?;
    if o.rc != 0 {
        return Err(ModuleFail::msg(format!(
            "rsible agent: package_facts: '{}' failed ({}): {}",
            argv.join(" "),
            o.rc,
            o.err.trim()
        )));
    }
    Ok(o)
}

/// One installed package as `dpkg-query` shows it.
struct Installed {
    key: String,
    version: String,
    arch: String,
    section: String,
}

/// The first source of the installed version in `apt-cache policy` output, per package
/// key: `None` for dpkg's status file (a package no archive offers), else the archive
/// line (`http://deb.debian.org/debian bookworm/main amd64 Packages`).
fn installed_sources(policy: &str) -> HashMap<String, Option<String>> {
    let mut out = HashMap::new();
    let mut key: Option<String> = None;
    let mut in_installed = false;
    for line in policy.lines() {
        if !line.starts_with(' ') {
            key = line.strip_suffix(':').map(str::to_string);
            in_installed = false;
            continue;
        }
        if line.starts_with(" *** ") {
            in_installed = true;
            continue;
        }
        // Version lines are indented five columns, their sources eight.
        if line.starts_with("     ") && !line.starts_with("        ") {
            in_installed = false;
            continue;
        }
        if !in_installed || !line.starts_with("        ") {
            continue;
        }
        let Some(k) = &key else { continue };
        if out.contains_key(k) {
            continue;
        }
        let source = line.trim_start();
        // "<priority> <source>"
        let source = source.split_once(' ').map_or("", |(_, s)| s);
        let value = (source != "/var/lib/dpkg/status").then(|| source.to_string());
        out.insert(k.clone(), value);
    }
    out
}

/// The Section apt's cache holds for each installed (key, version): `apt-cache show`
/// of every `key=version` prints the record apt keeps first for it.
fn archive_sections(
    apt_cache: &str,
    installed: &[Installed],
    ctx: &ModuleContext,
) -> Result<HashMap<(String, String), String>, ModuleFail> {
    let mut argv = vec![apt_cache.to_string(), "show".into()];
    argv.extend(installed.iter().map(|p| format!("{}={}", p.key, p.version)));
    // Versions no list knows are reported on stderr; the others are still shown.
    let o = run_cmd(&argv, ctx, None)?;
    let native: HashMap<(String, String), &Installed> = installed
        .iter()
        .map(|p| ((p.key.clone(), p.version.clone()), p))
        .collect();
    let mut out = HashMap::new();
    for record in o.out.split("\n\n") {
        let field = |name: &str| {
            record
                .lines()
                .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
                .map(|v| v.trim().to_string())
        };
        let (Some(pkg), Some(version), Some(arch), Some(section)) = (
            field("Package"),
            field("Version"),
            field("Architecture"),
            field("Section"),
        ) else {
            continue;
        };
        let key_native = (pkg.clone(), version.clone());
        let key = if native.get(&key_native).is_some_and(|p| p.arch == arch) {
            key_native
        } else {
            (format!("{pkg}:{arch}"), version)
        };
        out.entry(key).or_insert(section);
    }
    Ok(out)
}

/// apt's file name for a URI (`URItoFileName`): scheme (`http://`, `file:`) and
/// user info dropped, `/` turned into `_`.
fn uri_to_file_name(uri: &str) -> String {
    let scheme = uri.split_once(':').filter(|(s, _)| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    let rest = scheme.map_or(uri, |(_, r)| r);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.trim_end_matches('/').replace('/', "_")
}

/// The `Origin:` of the archive a policy source line names, from its Release file.
fn origin_of(source: &str, cache: &mut HashMap<String, String>) -> Result<String, ModuleFail> {
    let mut words = source.split_whitespace();
    let (Some(uri), Some(dist)) = (words.next(), words.next()) else {
        return Err(ModuleFail::msg(format!(
            "rsible agent: package_facts cannot read apt's source line '{source}'"
        )));
    };
    // A flat repository (`deb URI ./`) names a directory, its lists are named after
    // URI/DIR; an archive with suites names `suite/component`, its lists are under
    // URI/dists/suite.
    let flat = dist.ends_with('/');
    let base = if flat {
        uri_to_file_name(&format!("{}/{dist}", uri.trim_end_matches('/')))
    } else {
        let Some((suite, _component)) = dist.rsplit_once('/') else {
            return Err(ModuleFail::msg(format!(
                "rsible agent: package_facts cannot read apt's source line '{source}'"
            )));
        };
        format!(
            "{}_dists_{}",
            uri_to_file_name(uri),
            suite.replace('/', "_")
        )
    };
    if let Some(o) = cache.get(&base) {
        return Ok(o.clone());
    }
    let release = ["InRelease", "Release"]
        .iter()
        .find_map(|f| std::fs::read(format!("{APT_LISTS}/{base}_{f}")).ok());
    let text = match release {
        Some(text) => text,
        // A flat repository may come without a Release file (`[trusted=yes]`):
        // python-apt then knows no origin, an empty one.
        None if flat => Vec::new(),
        None => {
            return Err(ModuleFail::msg(format!(
                "rsible agent: package_facts found no Release file for {uri} {dist} in {APT_LISTS}"
            )))
        }
    };
    let text = String::from_utf8_lossy(&text);
    let origin = text
        .lines()
        .skip_while(|l| l.starts_with("-----BEGIN") || l.starts_with("Hash:") || l.is_empty())
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("Origin:"))
        .map(|o| o.trim().to_string())
        .unwrap_or_default();
    cache.insert(base, origin.clone());
    Ok(origin)
}

pub fn run_module(_p: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let (Some(dpkg_query), Some(dpkg), Some(apt_cache)) = (
        get_bin_path("dpkg-query", &ctx.env),
        get_bin_path("dpkg", &ctx.env),
        get_bin_path("apt-cache", &ctx.env),
    ) else {
        return Err(ModuleFail::msg(
            "rsible agent: package_facts on a host without dpkg and apt is not implemented natively",
        ));
    };
    let mut ctx = ctx.clone();
    ctx.env.insert("LC_ALL".into(), "C".into());
    let native_arch = run(vec![dpkg, "--print-architecture".into()], &ctx)?
        .out
        .trim()
        .to_string();
    let listing = run(
        vec![
            dpkg_query,
            "-W".into(),
            "-f".into(),
            "${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${Section}\n".into(),
        ],
        &ctx,
    )?;
    let mut installed = Vec::new();
    for line in listing.out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [status, name, version, arch, section] = f[..] else {
            continue;
        };
        // python-apt's is_installed: a current version, i.e. anything beyond
        // "not installed" and "only configuration files left".
        if matches!(status, "not-installed" | "config-files" | "") {
            continue;
        }
        let key = if arch == native_arch || arch == "all" {
            name.to_string()
        } else {
            format!("{name}:{arch}")
        };
        installed.push(Installed {
            key,
            version: version.to_string(),
            arch: arch.to_string(),
            section: section.to_string(),
        });
    }
    let sections = archive_sections(&apt_cache, &installed, &ctx)?;
    let mut argv = vec![apt_cache, "policy".into()];
    argv.extend(installed.iter().map(|p| p.key.clone()));
    let policy = run(argv, &ctx)?;
    let sources = installed_sources(&policy.out);
    let mut origins = HashMap::new();
    let mut packages = Map::new();
    for p in installed {
        let origin = match sources.get(&p.key) {
            Some(Some(source)) => origin_of(source, &mut origins)?,
            Some(None) => String::new(),
            None => {
                return Err(ModuleFail::msg(format!(
                    "rsible agent: package_facts: apt-cache policy does not show {}",
                    p.key
                )))
            }
        };
        // apt keeps the section of the version's first record: the archive's (which
        // may override the package's own) when an archive offers it.
        let section = sections
            .get(&(p.key.clone(), p.version.clone()))
            .unwrap_or(&p.section);
        packages.insert(
            p.key.clone(),
            json!([{
                "name": p.key, "version": p.version, "arch": p.arch,
                "category": section, "origin": origin, "source": "apt",
            }]),
        );
    }
    Ok(json!({"ansible_facts": {"packages": packages}})
        .as_object()
        .cloned()
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_sources_of_the_installed_version() {
        let policy = "coreutils:\n  Installed: 9.1-1\n  Candidate: 9.1-1\n  Version table:\n *** 9.1-1 500\n        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n        100 /var/lib/dpkg/status\nqemu-utils:\n  Installed: 1:10.0\n  Candidate: 1:10.0\n  Version table:\n *** 1:10.0 100\n        100 /var/lib/dpkg/status\n     1:7.2 500\n        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n";
        let s = installed_sources(policy);
        assert_eq!(
            s["coreutils"].as_deref(),
            Some("http://deb.debian.org/debian bookworm/main amd64 Packages")
        );
        assert_eq!(s["qemu-utils"], None);
    }

    #[test]
    fn apt_list_file_names() {
        assert_eq!(
            uri_to_file_name("http://deb.debian.org/debian-security"),
            "deb.debian.org_debian-security"
        );
        assert_eq!(
            uri_to_file_name("https://user:pw@example.com/repo/"),
            "example.com_repo"
        );
        assert_eq!(
            uri_to_file_name(&format!("{}/{}", "file:/srv/repo", "./")),
            "_srv_repo_."
        );
    }

    #[test]
    fn only_apt_is_native() {
        let args = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(declines(&args(json!({}))), None);
        assert_eq!(declines(&args(json!({"manager": ["apt"]}))), None);
        assert!(declines(&args(json!({"manager": "rpm"}))).is_some());
        assert!(declines(&args(json!({"manager": ["apt", "rpm"]}))).is_some());
        assert!(declines(&args(json!({"strategy": "all"}))).is_some());
    }
}
