//! `apt: deb=FILE[,FILE...]`: install local .deb files as Ansible's module does
//! with python-apt's DebPackage, from what dpkg and apt tell instead: the package's
//! control fields (`dpkg-deb -f`), the installed packages (`dpkg-query`) and apt's
//! candidates (`apt-cache policy`).
//!
//! Per file: unreadable or not an archive fails ("Unable to install package: ...");
//! the same version already installed skips it; otherwise the checks python-apt's
//! `check()` makes (architecture, an older version than the installed one, its
//! Conflicts against installed packages, Depends/Pre-Depends satisfiable from apt)
//! fail with python-apt's message unless `force` (or `allow_downgrade` for the
//! older version). Missing dependencies (and, with install_recommends=true, the
//! Recommends) are installed first through apt-get as the package list does, then
//! `dpkg --force-confdef --force-confold -i FILES` (+ --simulate in check mode,
//! --force-all with force). Not checked here: whether installing would break an
//! installed package (python-apt's check_breaks_existing_packages); dpkg refuses
//! such an install itself, with its own message.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

use super::apt::Apt;
use super::{ModuleFail, ModuleOutcome};
use crate::util::http::{fetch_url, FetchRequest};
use crate::util::run::required_bin;
use serde_json::{json, Map, Value};

/// One alternative of a dependency: name, and the version relation if any.
#[derive(Debug, PartialEq)]
struct Relation {
    name: String,
    op: Option<String>,
    version: Option<String>,
}

/// `a (>= 1), b | c` to or-groups, as apt_pkg.parse_depends reads it (architecture
/// restrictions in brackets dropped).
fn parse_relations(field: &str) -> Vec<Vec<Relation>> {
    field
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(|group| {
            group
                .split('|')
                .map(|alt| {
                    let alt = alt.split('[').next().unwrap_or_default().trim();
                    let (name, rest) = match alt.find('(') {
                        Some(i) => (alt[..i].trim(), Some(&alt[i + 1..])),
                        None => (alt, None),
                    };
                    let (op, version) = match rest.map(|r| r.trim_end_matches(')').trim()) {
                        Some(r) => {
                            let op_len = r
                                .find(|c: char| !matches!(c, '<' | '>' | '='))
                                .unwrap_or(r.len());
                            let op = match &r[..op_len] {
                                // Deprecated one-character forms mean <= and >=.
                                "<" => "<=",
                                ">" => ">=",
                                o => o,
                            };
                            (Some(op.to_string()), Some(r[op_len..].trim().to_string()))
                        }
                        None => (None, None),
                    };
                    Relation {
                        name: name.split(':').next().unwrap_or(name).to_string(),
                        op,
                        version,
                    }
                })
                .collect()
        })
        .collect()
}

/// Control fields (`dpkg-deb -f FILE`): "Key: value" with indented continuations.
fn parse_control(text: &str) -> HashMap<String, String> {
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(v) = last.as_ref().and_then(|k| fields.get_mut(k)) {
                v.push('\n');
                v.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            fields.insert(k.trim().to_string(), v.trim().to_string());
            last = Some(k.trim().to_string());
        }
    }
    fields
}

/// C's strerror for an errno, as apt's messages print it.
fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated static or
    // thread-local string, read immediately.
    unsafe { std::ffi::CStr::from_ptr(libc::strerror(errno)) }
        .to_string_lossy()
        .into_owned()
}

/// Opens the file as apt_inst.DebFile does first: python-apt's error text (after
/// the module's "Unable to install package: ") when it cannot be read or is no
/// ar archive.
fn archive_error(path: &str) -> Option<String> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let errno = e.raw_os_error().unwrap_or(0);
            return Some(format!(
                "E:Could not open file {path} - open ({errno}: {})",
                strerror(errno)
            ));
        }
    };
    let mut magic = [0u8; 8];
    let mut got = 0;
    while got < magic.len() {
        match f.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(0);
                return Some(format!(
                    "E:Read error - read ({errno}: {})",
                    strerror(errno)
                ));
            }
        }
    }
    (&magic[..got] != b"!<arch>\n").then(|| "E:Invalid archive signature".to_string())
}

/// An installed (or otherwise known to dpkg) package instance.
struct Installed {
    status: String,
    version: String,
    provides: Vec<String>,
}

/// What dpkg knows of every package, one dpkg-query call.
fn dpkg_packages(apt: &Apt) -> Result<HashMap<String, Installed>, ModuleFail> {
    let o = apt.run(vec![
        required_bin("dpkg-query", &apt.ctx)?,
        "-W".into(),
        "-f".into(),
        "${Package}\t${Architecture}\t${db:Status-Status}\t${Version}\t${Provides}\n".into(),
    ])?;
    let mut map = HashMap::new();
    for line in o.out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 {
            continue;
        }
        let provides = parse_relations(f[4])
            .into_iter()
            .flatten()
            .map(|r| r.name)
            .collect::<Vec<_>>();
        let record = || Installed {
            status: f[2].to_string(),
            version: f[3].to_string(),
            provides: provides.clone(),
        };
        map.insert(format!("{}:{}", f[0], f[1]), record());
        map.entry(f[0].to_string()).or_insert_with(record);
    }
    Ok(map)
}

/// A .deb file's checks and what it needs.
struct Checked {
    /// python-apt's `_failure_string` when `check()` fails.
    failure: Option<String>,
    missing_deps: Vec<String>,
}

struct DebInstall<'a, 'b> {
    apt: &'a Apt<'b>,
    installed: HashMap<String, Installed>,
    native_arch: String,
    foreign_archs: Vec<String>,
}

impl DebInstall<'_, '_> {
    fn installed_version(&self, name: &str) -> Option<&str> {
        self.installed
            .get(name)
            .filter(|i| i.status == "installed")
            .map(|i| i.version.as_str())
    }

    fn satisfies(&self, have: &str, r: &Relation) -> Result<bool, ModuleFail> {
        match (&r.op, &r.version) {
            (Some(op), Some(v)) => self.apt.version_cmp(have, op, v),
            _ => Ok(true),
        }
    }

    /// apt's candidate version of `name`, None when apt has none.
    fn candidate(&self, name: &str) -> Result<Option<String>, ModuleFail> {
        let o = self.apt.run(vec![
            required_bin("apt-cache", &self.apt.ctx)?,
            "policy".into(),
            name.into(),
        ])?;
        Ok(o.out
            .lines()
            .find_map(|l| l.trim().strip_prefix("Candidate: "))
            .filter(|c| *c != "(none)")
            .map(str::to_string))
    }

    /// The packages apt lists as providing `name` (`apt-cache showpkg`).
    fn providers(&self, name: &str) -> Result<Vec<String>, ModuleFail> {
        let o = self.apt.run(vec![
            required_bin("apt-cache", &self.apt.ctx)?,
            "showpkg".into(),
            name.into(),
        ])?;
        let mut names: Vec<String> = Vec::new();
        let mut in_provides = false;
        for line in o.out.lines() {
            if line.starts_with("Reverse Provides:") {
                in_provides = true;
            } else if in_provides {
                if let Some(p) = line.split_whitespace().next() {
                    if !names.iter().any(|n| n == p) {
                        names.push(p.to_string());
                    }
                }
            }
        }
        Ok(names)
    }

    fn group_satisfied(&self, group: &[Relation]) -> Result<bool, ModuleFail> {
        for r in group {
            if let Some(v) = self.installed_version(&r.name) {
                if self.satisfies(v, r)? {
                    return Ok(true);
                }
            }
            // An installed package providing it (unversioned relations only).
            if r.op.is_none()
                && self
                    .installed
                    .values()
                    .any(|i| i.status == "installed" && i.provides.contains(&r.name))
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The package to install for an unsatisfied group, or python-apt's failure text.
    fn satisfy_group(&self, group: &[Relation]) -> Result<Result<String, String>, ModuleFail> {
        for r in group {
            let mut name = r.name.clone();
            let mut candidate = self.candidate(&name)?;
            if candidate.is_none() {
                // A virtual package with a single provider stands for that one.
                let providers = self.providers(&name)?;
                if let [only] = &providers[..] {
                    name = only.clone();
                    candidate = self.candidate(&name)?;
                }
            }
            let Some(candidate) = candidate else { continue };
            if self.satisfies(&candidate, r)? {
                return Ok(Ok(name));
            }
        }
        // python-apt shows each alternative's relation when the last one has one.
        let last_versioned = group.last().is_some_and(|r| r.op.is_some());
        let shown: Vec<String> = group
            .iter()
            .map(|r| match (&r.op, &r.version) {
                (Some(op), Some(v)) if last_versioned => format!("{} ({op} {v})", r.name),
                _ if last_versioned => format!("{} ( )", r.name),
                _ => r.name.clone(),
            })
            .collect();
        Ok(Err(format!(
            "Dependency is not satisfiable: {}\n",
            shown.join("|")
        )))
    }

    /// python-apt's DebPackage.check() (see the file's comment for what is left out).
    fn check(&self, fields: &HashMap<String, String>) -> Result<Checked, ModuleFail> {
        let fail = |msg: String, missing_deps: Vec<String>| {
            Ok(Checked {
                failure: Some(msg),
                missing_deps,
            })
        };
        let name = fields.get("Package").cloned().unwrap_or_default();
        let Some(arch) = fields.get("Architecture") else {
            return fail("No Architecture field in the package".into(), Vec::new());
        };
        if arch != "all" && *arch != self.native_arch && !self.foreign_archs.contains(arch) {
            return fail(
                format!(
                    "Wrong architecture '{arch}' -- Run dpkg --add-architecture to add it and update afterwards"
                ),
                Vec::new(),
            );
        }
        let version = fields.get("Version").cloned().unwrap_or_default();
        let key = if arch == "all" {
            name.clone()
        } else {
            format!("{name}:{arch}")
        };
        if let Some(have) = self.installed_version(&key) {
            if self.apt.version_cmp(have, ">>", &version)? {
                return fail("A later version is already installed".into(), Vec::new());
            }
        }
        let replaces = parse_relations(fields.get("Replaces").map_or("", String::as_str));
        let mut conflicts = String::new();
        for group in parse_relations(fields.get("Conflicts").map_or("", String::as_str)) {
            for r in &group {
                let Some(have) = self.installed_version(&r.name) else {
                    continue;
                };
                let replaced = replaces
                    .iter()
                    .flatten()
                    .any(|rep| rep.name == r.name && self.satisfies(have, rep).unwrap_or(false));
                if self.satisfies(have, r)? && !replaced {
                    conflicts += &format!("Conflicts with the installed package '{}'", r.name);
                }
            }
        }
        if !conflicts.is_empty() {
            return fail(conflicts, Vec::new());
        }
        let mut need = Vec::new();
        for key in ["Depends", "Pre-Depends"] {
            for group in parse_relations(fields.get(key).map_or("", String::as_str)) {
                if self.group_satisfied(&group)? {
                    continue;
                }
                match self.satisfy_group(&group)? {
                    Ok(pkg) => need.push(pkg),
                    Err(msg) => return fail(msg, need),
                }
            }
        }
        Ok(Checked {
            failure: None,
            missing_deps: need,
        })
    }
}

/// Installs the `deb` parameter's files (state=present only).
pub(super) fn install(apt: &Apt, debs: &str) -> ModuleOutcome {
    let dpkg_deb = required_bin("dpkg-deb", &apt.ctx)?;
    let dpkg = required_bin("dpkg", &apt.ctx)?;
    let arch_out = apt.run(vec![dpkg.clone(), "--print-architecture".into()])?;
    let foreign_out = apt.run(vec![dpkg.clone(), "--print-foreign-architectures".into()])?;
    let d = DebInstall {
        apt,
        installed: dpkg_packages(apt)?,
        native_arch: arch_out.out.trim().to_string(),
        foreign_archs: foreign_out
            .out
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    };
    let force = apt.flag("force");
    let mut deps: Vec<String> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    for file in debs.split(',') {
        if let Some(e) = archive_error(file) {
            return Err(ModuleFail::msg(format!("Unable to install package: {e}")));
        }
        let o = apt.run(vec![dpkg_deb.clone(), "-f".into(), file.into()])?;
        if o.rc != 0 {
            return Err(ModuleFail::msg(format!(
                "Unable to install package: {}",
                o.err.trim()
            )));
        }
        let fields = parse_control(&o.out);
        let name = fields.get("Package").cloned().unwrap_or_default();
        let version = fields.get("Version").cloned().unwrap_or_default();
        // On a multiarch system python-apt's cache is asked for name:arch.
        let key = match fields.get("Architecture") {
            Some(arch) if !d.foreign_archs.is_empty() => format!("{name}:{arch}"),
            _ => name.clone(),
        };
        if let Some(have) = d.installed_version(&key) {
            if have == version || apt.version_cmp(have, "eq", &version)? {
                continue;
            }
        }
        let checked = d.check(&fields)?;
        if let Some(failure) = &checked.failure {
            let downgrade = failure.contains("later version") && apt.flag("allow_downgrade");
            if !force && !downgrade {
                return Err(ModuleFail::msg(failure.clone()));
            }
        }
        deps.extend(checked.missing_deps);
        if apt.p.get("install_recommends").and_then(Value::as_bool) == Some(true) {
            if let Some(rec) = fields.get("Recommends") {
                deps.extend(rec.split_whitespace().map(str::to_string));
            }
        }
        files.push(file.to_string());
    }
    let mut retvals = Map::new();
    let mut changed = false;
    if !deps.is_empty() {
        // The dependencies go through the package install, with only the
        // options the module passes on to it.
        let mut p = apt.p.clone();
        for k in ["only_upgrade", "force", "autoremove"] {
            p.insert(k.into(), json!(false));
        }
        p.insert("default_release".into(), Value::Null);
        let dep_apt = Apt {
            p: &p,
            ctx: apt.ctx.clone(),
            apt_get: apt.apt_get.clone(),
        };
        let (ok, r) = dep_apt.install(&deps, false)?;
        if !ok {
            return Err(ModuleFail(r));
        }
        changed = r.get("changed").and_then(Value::as_bool).unwrap_or(false);
        retvals = r;
    }
    let text = |r: &Map<String, Value>, k: &str| {
        r.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut r = Map::new();
    if files.is_empty() {
        r.insert("changed".into(), json!(changed));
        r.insert("stdout".into(), json!(text(&retvals, "stdout")));
        r.insert("stderr".into(), json!(text(&retvals, "stderr")));
        r.insert(
            "diff".into(),
            retvals.get("diff").cloned().unwrap_or(json!("")),
        );
        return Ok(r);
    }
    let mut options: Vec<String> = apt
        .str("dpkg_options")
        .unwrap_or("force-confdef,force-confold")
        .split(',')
        .map(|o| format!("--{o}"))
        .collect();
    if apt.ctx.check_mode {
        options.push("--simulate".into());
    }
    if force {
        options.push("--force-all".into());
    }
    let mut cmd = vec![dpkg];
    cmd.extend(options.iter().cloned());
    cmd.push("-i".into());
    cmd.extend(files.iter().cloned());
    let o = apt.run(cmd)?;
    let stdout = text(&retvals, "stdout") + &o.out;
    let stderr = text(&retvals, "stderr") + &o.err;
    // The module parses dpkg's output as a diff whether or not --diff is on.
    let diff = match retvals.get("diff") {
        Some(Value::Object(d)) => {
            let mut d = d.clone();
            if let Some(Value::String(prepared)) = d.get_mut("prepared") {
                prepared.push_str("\n\n");
                prepared.push_str(&o.out);
            }
            Value::Object(d)
        }
        Some(other) => other.clone(),
        None => super::apt::parse_diff(&o.out),
    };
    if o.rc != 0 {
        return Err(ModuleFail::msg(format!(
            "dpkg {} -i {} failed",
            options.join(" "),
            files.join(" ")
        ))
        .with("stdout", json!(stdout))
        .with("stderr", json!(stderr)));
    }
    r.insert("changed".into(), json!(true));
    r.insert("stdout".into(), json!(stdout));
    r.insert("stderr".into(), json!(stderr));
    r.insert("diff".into(), diff);
    Ok(r)
}

/// A `deb` URL's file, downloaded as the module's fetch_file does: into a
/// private temporary directory (the module's tmpdir), named after the URL's file
/// name with random characters before its extension; removed when dropped.
pub(super) struct Fetched {
    dir: PathBuf,
    path: String,
}

impl Fetched {
    pub(super) fn get(apt: &Apt, url: &str) -> Result<Fetched, ModuleFail> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "ansible-moduletmp-{}-rsible{}-{n}",
            stamp.as_secs(),
            std::process::id()
        ));
        let failed = |e: String| ModuleFail::msg(format!("Failure downloading {url}, {e}"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| failed(e.to_string()))?;
        let base = url
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let (prefix, ext) = split_multiext(base);
        let path = dir.join(format!(
            "{prefix}{}{ext}",
            random_name(stamp.subsec_nanos())
        ));
        let fetched = Fetched {
            dir,
            path: path.to_string_lossy().into_owned(),
        };
        let req = FetchRequest::fetch_url_defaults(url, &apt.ctx.env);
        let answer = fetch_url(&req);
        let Some(mut body) = answer.body.filter(|_| answer.status < 400) else {
            let msg = answer
                .info
                .get("msg")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            return Err(failed(msg));
        };
        let mut file = std::fs::File::create(&path).map_err(|e| failed(e.to_string()))?;
        std::io::copy(&mut body, &mut file).map_err(|e| failed(e.to_string()))?;
        Ok(fetched)
    }

    pub(super) fn path(&self) -> &str {
        &self.path
    }
}

impl Drop for Fetched {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Eight characters as Python's tempfile names carry ([a-z0-9_]).
fn random_name(seed: u32) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    let mut x = u64::from(seed) ^ (u64::from(std::process::id()) << 32) | 1;
    (0..8)
        .map(|_| {
            // xorshift
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            CHARS[(x % CHARS.len() as u64) as usize] as char
        })
        .collect()
}

/// fetch_file's `_split_multiext(name, count=2)`: up to two final extensions of 3
/// or 4 characters (dot included), taken off with Python's `rstrip` (which strips
/// any of the extension's characters).
fn split_multiext(name: &str) -> (String, String) {
    if name.ends_with('.') {
        return (name.to_string(), String::new());
    }
    let suffixes: Vec<String> = name
        .trim_start_matches('.')
        .split('.')
        .skip(1)
        .map(|s| format!(".{s}"))
        .collect();
    let mut stem = name.to_string();
    let mut ext = String::new();
    for sfx in suffixes.iter().rev().take(2) {
        if !(3..=4).contains(&sfx.chars().count()) {
            break;
        }
        ext = format!("{sfx}{ext}");
        stem = stem.trim_end_matches(|c| sfx.contains(c)).to_string();
    }
    (stem, ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_parse_as_apt_pkg_does() {
        let groups = parse_relations("libc6 (>= 2.34), a | b (<< 2:1.0) [amd64], c:any");
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0][0].name, "libc6");
        assert_eq!(groups[0][0].op.as_deref(), Some(">="));
        assert_eq!(groups[0][0].version.as_deref(), Some("2.34"));
        assert_eq!(groups[1][1].name, "b");
        assert_eq!(groups[1][1].op.as_deref(), Some("<<"));
        assert_eq!(groups[1][1].version.as_deref(), Some("2:1.0"));
        assert_eq!(groups[2][0].name, "c");
        assert!(parse_relations("").is_empty());
    }

    #[test]
    fn fetched_files_keep_their_extension_as_fetch_file_names_them() {
        let split = |n: &str| split_multiext(n);
        assert_eq!(
            split("rsible-t-d_2.0_all.deb"),
            ("rsible-t-d_2.0_all".into(), ".deb".into())
        );
        assert_eq!(split("x.tar.gz"), ("x".into(), ".tar.gz".into()));
        // rstrip takes any of the extension's characters.
        assert_eq!(split("bed.deb"), ("".into(), ".deb".into()));
        assert_eq!(split("noext"), ("noext".into(), "".into()));
        assert_eq!(random_name(7).len(), 8);
    }

    #[test]
    fn control_fields_with_continuations() {
        let f = parse_control("Package: x\nVersion: 1.0\nDescription: short\n long text\n");
        assert_eq!(f["Package"], "x");
        assert_eq!(f["Description"], "short\n long text");
    }

    #[test]
    fn unreadable_and_non_archive_files_fail_as_python_apt() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nosuch.deb");
        let missing = missing.to_str().unwrap();
        assert_eq!(
            archive_error(missing).unwrap(),
            format!("E:Could not open file {missing} - open (2: No such file or directory)")
        );
        let text = dir.path().join("text.deb");
        std::fs::write(&text, "not a deb\n").unwrap();
        assert_eq!(
            archive_error(text.to_str().unwrap()).unwrap(),
            "E:Invalid archive signature"
        );
        let ar = dir.path().join("ar.deb");
        std::fs::write(&ar, "!<arch>\nrest").unwrap();
        assert_eq!(archive_error(ar.to_str().unwrap()), None);
    }
}
