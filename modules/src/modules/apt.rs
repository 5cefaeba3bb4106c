//! `apt`: install, upgrade (state=latest) or remove packages and refresh the cache
//! through apt-get, as Ansible's module does; what it learns from python-apt
//! (installed version, candidate) is read from dpkg-query and apt-cache instead.
//! `clean`, `autoclean` and `autoremove` without packages are in apt_clean.rs.
//! `deb` files (local, or downloaded over http(s)) are in apt_deb.rs. A `deb`
//! URL of another scheme, `build-dep`, `fixed`,
//! wildcards and `policy_rc_d` fail as not
//! implemented natively (`declines`: the Python module runs them).

use super::apt_clean;
use super::apt_deb;
use super::apt_manual;
use super::apt_query::PackageQuery;
use super::{
    Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault, INVOCATION_UPDATES,
};
use crate::util::bin_path::get_bin_path;
use crate::util::run::{required_bin, run as run_cmd, Output};
use serde_json::{json, Map, Value};
use std::os::unix::fs::MetadataExt;

pub const SPEC: &[Param] = &[
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["absent", "build-dep", "fixed", "latest", "present"]),
    Param::new("update_cache", Kind::Bool).aliases(&["update-cache"]),
    Param::new("update_cache_retries", Kind::Int).default(ParamDefault::Int(5)),
    Param::new("update_cache_retry_max_delay", Kind::Int).default(ParamDefault::Int(12)),
    Param::new("cache_valid_time", Kind::Int).default(ParamDefault::Int(0)),
    Param::new("purge", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("package", Kind::List).aliases(&["pkg", "name"]),
    Param::new("deb", Kind::Path),
    Param::new("default_release", Kind::Str).aliases(&["default-release"]),
    Param::new("install_recommends", Kind::Bool).aliases(&["install-recommends"]),
    Param::new("force", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("upgrade", Kind::Str)
        .default(ParamDefault::Str("no"))
        .choices(&["dist", "full", "no", "safe", "yes"]),
    Param::new("dpkg_options", Kind::Str).default(ParamDefault::Str(DPKG_OPTIONS)),
    Param::new("autoremove", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("autoclean", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("fail_on_autoremove", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("policy_rc_d", Kind::Int),
    Param::new("only_upgrade", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("force_apt_get", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("clean", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("allow_unauthenticated", Kind::Bool)
        .default(ParamDefault::Bool(false))
        .aliases(&["allow-unauthenticated"]),
    Param::new("allow_downgrade", Kind::Bool)
        .default(ParamDefault::Bool(false))
        .aliases(&["allow-downgrade", "allow_downgrades", "allow-downgrades"]),
    Param::new("allow_change_held_packages", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("lock_timeout", Kind::Int).default(ParamDefault::Int(60)),
];

const DPKG_OPTIONS: &str = "force-confdef,force-confold";
const APT_LISTS_PATH: &str = "/var/lib/apt/lists";
const APT_UPDATE_SUCCESS_STAMP_PATH: &str = "/var/lib/apt/periodic/update-success-stamp";

/// The environment Ansible's apt module gives every command.
const APT_ENV: &[(&str, &str)] = &[
    ("DEBIAN_FRONTEND", "noninteractive"),
    ("DEBIAN_PRIORITY", "critical"),
    ("LANG", "C"),
    ("LC_ALL", "C"),
    ("LC_MESSAGES", "C"),
    ("LC_CTYPE", "C"),
    ("LANGUAGE", "C"),
];

/// The cases left to Ansible's Python module (the executor runs it instead): what they
/// are, or None when the native module handles the call. Reads the task's arguments
/// as given (aliases, "yes"/"no" strings) as well as validated parameters.
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| args.get(*k).filter(|v| !v.is_null()))
    };
    let text = |keys: &[&str]| get(keys).map(|v| v.as_str().map_or(v.to_string(), str::to_string));
    let state = text(&["state"]).unwrap_or_default();
    let packages: Vec<String> = match get(&["package", "pkg", "name"]) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
            .collect(),
        Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_string()).collect(),
        _ => Vec::new(),
    };
    // `name: '*'` with state=latest upgrades everything (native); other globs are not.
    let all_latest = |p: &String| p == "*" && state == "latest";
    let pattern =
        |p: &String| !all_latest(p) && package_split(p).0.contains(['*', '?', '[', ']', '!']);
    let url = |d: &str| d.contains("://") && !super::apt_key_download::natively_fetched(d);
    if get(&["deb"]).is_some_and(|d| d.as_str().is_some_and(url)) {
        Some("deb from a URL other than http(s)")
    } else if state == "build-dep" || state == "fixed" {
        Some("state=build-dep/fixed")
    } else if get(&["policy_rc_d"]).is_some() {
        Some("policy_rc_d")
    } else if packages.iter().any(pattern) {
        Some("package name patterns ('*' and globs)")
    } else {
        None
    }
}

fn not_native(what: &str) -> ModuleFail {
    ModuleFail::msg(format!(
        "rsible agent: apt with {what} is not implemented natively"
    ))
}

pub(super) struct Apt<'a> {
    pub(super) p: &'a Map<String, Value>,
    pub(super) ctx: ModuleContext,
    pub(super) apt_get: String,
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let given = |k: &str| params.get(k).is_some_and(|v| !v.is_null());
    let upgrade = params
        .get("upgrade")
        .and_then(Value::as_str)
        .unwrap_or("no");
    let exclusive: Vec<&str> = ["deb", "package"]
        .into_iter()
        .filter(|k| given(k))
        .chain((upgrade != "no" && given("upgrade")).then_some("upgrade"))
        .collect();
    if exclusive.len() > 1 {
        return Err(ModuleFail::msg(
            "parameters are mutually exclusive: deb|package|upgrade",
        ));
    }
    // Ansible's required_one_of (autoremove, deb, package, update_cache, upgrade) is
    // always met: autoremove and upgrade have defaults.
    if let Some(what) = declines(params) {
        return Err(not_native(what));
    }
    let state = params
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or("present");
    let mut ctx = ctx.clone();
    for (k, v) in APT_ENV {
        ctx.env.insert((*k).to_string(), (*v).to_string());
    }
    let apt_get = get_bin_path("apt-get", &ctx.env).ok_or_else(|| {
        ModuleFail::msg("rsible agent: apt needs apt-get, which is not installed")
    })?;
    let apt = Apt {
        p: params,
        ctx,
        apt_get,
    };
    // `clean` comes first, before `upgrade: no` is read as no upgrade: a task that
    // only cleans reports its parameters as given.
    if apt.flag("clean") {
        let no_packages = params
            .get("package")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        let alone = no_packages && upgrade == "no" && !given("deb");
        if let Some(r) = apt_clean::clean(&apt, alone)? {
            return Ok(r);
        }
    }
    // The module sets `upgrade` to None when it is "no" before it does anything,
    // and reports its parameters as they are at exit.
    let outcome = apt.main(state);
    if upgrade != "no" {
        return outcome;
    }
    let mark = |r: &mut Map<String, Value>| {
        let updates = r.entry(INVOCATION_UPDATES).or_insert_with(|| json!({}));
        if let Some(u) = updates.as_object_mut() {
            u.insert("upgrade".into(), Value::Null);
        }
    };
    match outcome {
        Ok(mut r) => {
            mark(&mut r);
            Ok(r)
        }
        Err(ModuleFail(mut r)) => {
            mark(&mut r);
            Err(ModuleFail(r))
        }
    }
}

/// When the apt cache was last updated (the update-success stamp, else the lists
/// directory): whole seconds, as the module reports it, and the exact time, which
/// it compares with the current time; 0 when there is none.
fn cache_time() -> (i64, f64) {
    [APT_UPDATE_SUCCESS_STAMP_PATH, APT_LISTS_PATH]
        .iter()
        .find_map(|p| std::fs::metadata(p).ok())
        .map_or((0, 0.0), |m| {
            (m.mtime(), m.mtime() as f64 + m.mtime_nsec() as f64 / 1e9)
        })
}

/// The current time with its fraction (a cache updated earlier in the same second
/// is older than now, as for the module's datetime comparison).
fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `name`, `name=version` or `name>=version`.
fn package_split(spec: &str) -> (String, Option<&'static str>, Option<String>) {
    if let Some(i) = spec.find('=') {
        let (cmp, start) = if i > 0 && spec.as_bytes()[i - 1] == b'>' {
            (">=", i - 1)
        } else {
            ("=", i)
        };
        return (
            spec[..start].to_string(),
            Some(cmp),
            Some(spec[i + 1..].to_string()),
        );
    }
    (spec.to_string(), None, None)
}

/// What the module learns of a package: installed, installed in the wanted version,
/// the version to install (Some("") for a virtual package), files left (for purge).
#[derive(Debug, Default)]
struct Status {
    installed: bool,
    version_installed: bool,
    installable: Option<String>,
    has_files: bool,
}

impl Apt<'_> {
    pub(super) fn flag(&self, k: &str) -> bool {
        self.p.get(k).and_then(Value::as_bool).unwrap_or(false)
    }

    pub(super) fn str(&self, k: &str) -> Option<&str> {
        self.p.get(k).and_then(Value::as_str)
    }

    pub(super) fn run(&self, argv: Vec<String>) -> Result<Output, ModuleFail> {
        run_cmd(&argv, &self.ctx, None)
    }

    pub(super) fn dpkg_options(&self) -> Vec<String> {
        self.str("dpkg_options")
            .unwrap_or(DPKG_OPTIONS)
            .split(',')
            .flat_map(|o| ["-o".to_string(), format!("Dpkg::Options::=--{o}")])
            .collect()
    }

    fn main(&self, state: &str) -> ModuleOutcome {
        let (mut updated_time, exact_time) = cache_time();
        let mut updated = false;
        let valid = self
            .p
            .get("cache_valid_time")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let packages: Vec<String> = self
            .p
            .get("package")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if self.flag("update_cache") || valid != 0 {
            if exact_time + (valid as f64) < now() {
                if !self.ctx.check_mode {
                    self.update_cache()?;
                }
                let (after, _) = cache_time();
                updated = self.ctx.check_mode || after != updated_time;
                updated_time = after;
            }
            if packages.is_empty() && !self.upgrading() && self.str("deb").is_none() {
                let mut r = Map::new();
                r.insert("changed".into(), json!(updated));
                r.insert("cache_updated".into(), json!(updated));
                r.insert("cache_update_time".into(), json!(updated_time));
                return Ok(r);
            }
        }
        if self.upgrading() {
            return self.upgrade(self.str("upgrade").unwrap_or("yes"));
        }
        if let Some(deb) = self.str("deb") {
            if state != "present" {
                return Err(ModuleFail::msg("deb only supports state=present"));
            }
            if deb.contains("://") {
                let fetched = apt_deb::Fetched::get(self, deb)?;
                // The module reports the downloaded file as its deb parameter.
                let shown = json!({"deb": fetched.path()});
                return match apt_deb::install(self, fetched.path()) {
                    Ok(mut r) => {
                        r.insert(INVOCATION_UPDATES.into(), shown);
                        Ok(r)
                    }
                    Err(ModuleFail(mut r)) => {
                        r.insert(INVOCATION_UPDATES.into(), shown);
                        Err(ModuleFail(r))
                    }
                };
            }
            return apt_deb::install(self, deb);
        }
        if state == "latest" && packages.iter().any(|p| p == "*") {
            if packages.iter().any(|p| p != "*") {
                return Err(ModuleFail::msg(
                    "unable to install additional packages when upgrading all installed packages",
                ));
            }
            return self.upgrade("yes");
        }
        let packages: Vec<String> = packages.iter().map(|p| p.trim().to_string()).collect();
        for p in &packages {
            if p.matches('=').count() > 1 {
                return Err(ModuleFail::msg(format!("invalid package spec: {p}")));
            }
        }
        if packages.is_empty() {
            // Only when no package is named; autoclean wins over autoremove.
            if self.flag("autoclean") {
                return apt_clean::cleanup(self, "autoclean");
            }
            if self.flag("autoremove") {
                return apt_clean::cleanup(self, "autoremove");
            }
        }
        if state == "absent" {
            return self.remove(&packages);
        }
        let (ok, mut r) = self.install(&packages, state == "latest")?;
        r.insert("cache_updated".into(), json!(updated));
        r.insert("cache_update_time".into(), json!(updated_time));
        if ok {
            Ok(r)
        } else {
            Err(ModuleFail(r))
        }
    }

    fn upgrading(&self) -> bool {
        self.str("upgrade").is_some_and(|u| u != "no")
    }

    /// `upgrade`: apt-get (or aptitude, when installed and force_apt_get is not set)
    /// upgrades everything, as the module's command lines do. Changed unless apt
    /// reports nothing to do.
    fn upgrade(&self, mode: &str) -> ModuleOutcome {
        let aptitude =
            get_bin_path("aptitude", &self.ctx.env).filter(|_| !self.flag("force_apt_get"));
        let autoremove = self.flag("autoremove");
        let (cmd_path, words): (String, Vec<&str>) = match (mode, &aptitude) {
            ("dist", _) | ("full", None) => {
                let mut w = vec!["dist-upgrade"];
                if autoremove {
                    w.push("--auto-remove");
                }
                (self.apt_get.clone(), w)
            }
            ("full", Some(a)) => (a.clone(), vec!["full-upgrade"]),
            (_, None) => {
                let mut w = vec!["upgrade", "--with-new-pkgs"];
                if autoremove {
                    w.push("--auto-remove");
                }
                (self.apt_get.clone(), w)
            }
            (_, Some(a)) => (a.clone(), vec!["safe-upgrade"]),
        };
        let apt_get = aptitude.is_none() || cmd_path == self.apt_get;
        // The message names the subcommand as the module's format string leaves it
        // (apt-get's with a slot for --auto-remove, so maybe a trailing space).
        let shown = if apt_get {
            let mut w = words.clone();
            w.retain(|x| *x != "--auto-remove");
            format!(
                "{} {}",
                w.join(" "),
                if autoremove { "--auto-remove" } else { "" }
            )
        } else {
            words.join(" ")
        };
        let mut cmd = vec![cmd_path.clone(), "-y".into()];
        cmd.extend(self.dpkg_options());
        if self.flag("force") {
            if apt_get {
                cmd.push("--force-yes".into());
            } else {
                cmd.extend(["--assume-yes".into(), "--allow-untrusted".into()]);
            }
        }
        let mut warnings = Vec::new();
        if self.flag("fail_on_autoremove") {
            if apt_get {
                cmd.push("--no-remove".into());
            } else {
                warnings.push(json!("APTITUDE does not support '--no-remove', ignoring the 'fail_on_autoremove' parameter."));
            }
        }
        if self.flag("allow_unauthenticated") {
            cmd.push("--allow-unauthenticated".into());
        }
        if self.flag("allow_downgrade") {
            if apt_get {
                cmd.push("--allow-downgrades".into());
            } else {
                warnings.push(json!("APTITUDE does not support '--allow-downgrades', ignoring the 'allow_downgrade' parameter."));
            }
        }
        if self.ctx.check_mode {
            cmd.push("--simulate".into());
        }
        cmd.extend(words.iter().map(|w| w.to_string()));
        if let Some(rel) = self.str("default_release") {
            cmd.extend(["-t".into(), rel.to_string()]);
        }
        let o = self.run(cmd)?;
        let mut r = Map::new();
        if !warnings.is_empty() {
            r.insert("warnings".into(), Value::Array(warnings));
        }
        if o.rc != 0 {
            r.insert(
                "msg".into(),
                json!(format!("'{cmd_path} {shown}' failed: {}", o.err)),
            );
            r.insert("stdout".into(), json!(o.out));
            r.insert("rc".into(), json!(o.rc));
            return Err(ModuleFail(r));
        }
        let zero = if apt_get {
            "\n0 upgraded, 0 newly installed, 0 to remove"
        } else {
            "\n0 packages upgraded, 0 newly installed, 0 to remove"
        };
        let changed = !o.out.contains(zero);
        r.insert("changed".into(), json!(changed));
        r.insert("msg".into(), json!(o.out));
        r.insert("stdout".into(), json!(o.out));
        r.insert("stderr".into(), json!(o.err));
        if changed {
            r.insert("diff".into(), self.diff(&o.out));
        }
        Ok(r)
    }

    /// `apt-get update`; while another process holds apt's lists lock, tried again
    /// until `lock_timeout` seconds have passed, as the module retries python-apt's
    /// LockFailedException (then fails with its message).
    fn update_cache(&self) -> Result<(), ModuleFail> {
        let timeout = self
            .p
            .get("lock_timeout")
            .and_then(Value::as_i64)
            .unwrap_or(60);
        let deadline = now() + timeout as f64;
        loop {
            match self.update_cache_once()? {
                None => return Ok(()),
                Some(_) if now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                Some(locked) => {
                    return Err(ModuleFail::msg(format!(
                        "Failed to lock apt for exclusive operation: {locked}"
                    )))
                }
            }
        }
    }

    /// `apt-get update`, retried as the module retries a failed fetch; Some(python-apt's
    /// LockFailedException text) when the lists directory is locked.
    fn update_cache_once(&self) -> Result<Option<String>, ModuleFail> {
        let retries = self
            .p
            .get("update_cache_retries")
            .and_then(Value::as_i64)
            .unwrap_or(5)
            .max(1);
        let mut last = String::new();
        for attempt in 0..retries {
            let o = self.run(vec![self.apt_get.clone(), "update".into()])?;
            if o.rc == 0 {
                return Ok(None);
            }
            if let Some(locked) = lock_failure(&o.err) {
                return Ok(Some(locked));
            }
            last = o.err.trim().to_string();
            if attempt + 1 < retries {
                let max = self
                    .p
                    .get("update_cache_retry_max_delay")
                    .and_then(Value::as_i64)
                    .unwrap_or(12);
                let delay = (1i64 << attempt.min(10)).min(max).max(0) as u64;
                std::thread::sleep(std::time::Duration::from_secs(delay));
            }
        }
        Err(ModuleFail::msg(format!(
            "Failed to update apt cache after {retries} retries: {}",
            if last.is_empty() {
                "unknown reason"
            } else {
                &last
            }
        )))
    }

    fn status(
        &self,
        query: &PackageQuery,
        name: &str,
        cmp: Option<&str>,
        version: Option<&str>,
        installing: bool,
    ) -> Result<Status, ModuleFail> {
        let record = query.dpkg(name);
        let db_status = record.map_or("", |r| r.status.as_str());
        let installed_version = record.map_or(String::new(), |r| r.version.clone());
        let installed = db_status == "installed";
        // "config-files" packages still have files on disk (removed, not purged).
        let has_files = record.is_some() && db_status != "not-installed" && !db_status.is_empty();
        let policy = query.policy(name).unwrap_or_default();
        let known = !policy.is_empty();
        if !known && !installed {
            if !installing {
                return Ok(Status::default());
            }
            if self.is_virtual(name)? {
                return Ok(Status {
                    installable: Some(String::new()),
                    ..Status::default()
                });
            }
            return Err(ModuleFail::msg(format!(
                "No package matching '{name}' is available"
            )));
        }
        let mut candidate = policy
            .lines()
            .find_map(|l| l.trim().strip_prefix("Candidate: "))
            .filter(|c| *c != "(none)")
            .map(str::to_string);
        if cmp == Some("=") {
            // Ansible pins the wanted version (a glob) above everything else.
            candidate = self.matching_version(name, version.unwrap_or_default())?;
        }
        if candidate.is_none() && !installed && installing && self.is_virtual(name)? {
            return Ok(Status {
                installable: Some(String::new()),
                ..Status::default()
            });
        }
        let mut s = Status {
            installed,
            has_files,
            ..Status::default()
        };
        if installed {
            let differs = |best: &String| *best != installed_version;
            match (cmp, version) {
                (Some("="), Some(v)) => {
                    s.version_installed = glob_match(v, &installed_version);
                    s.installable = candidate.filter(|b| differs(b) && glob_match(v, b));
                }
                (Some(">="), Some(v)) => {
                    s.version_installed = self.version_cmp(&installed_version, "ge", v)?;
                    if let Some(b) = candidate.filter(differs) {
                        if self.version_cmp(&b, "ge", v)? {
                            s.installable = Some(b);
                        }
                    }
                }
                _ => {
                    s.version_installed = true;
                    s.installable = candidate.filter(differs);
                }
            }
        } else {
            s.installable = candidate;
        }
        Ok(s)
    }

    /// dpkg's answers for every package the specs name, asked once, and apt's
    /// (candidate versions) when some spec needs them: only a package that is not
    /// installed, a version spec or an upgrade (`upgrade`: state=latest) makes the
    /// module's outcome depend on a candidate. Ansible's module reads both from
    /// python-apt; here apt-cache would first rebuild apt's binary cache when it
    /// is older than the package lists (seconds), so it is left out when dpkg
    /// alone answers.
    fn query(&self, specs: &[String], upgrade: bool) -> Result<PackageQuery, ModuleFail> {
        let names: Vec<String> = specs.iter().map(|s| package_split(s).0).collect();
        let mut query =
            PackageQuery::load_dpkg(&names, required_bin("dpkg-query", &self.ctx)?, |argv| {
                self.run(argv)
            })?;
        let needs_candidates = specs.iter().any(|spec| {
            let (name, cmp, _) = package_split(spec);
            upgrade || cmp.is_some() || !query.installed(&name)
        });
        if needs_candidates {
            query.load_policy(&names, required_bin("apt-cache", &self.ctx)?, |argv| {
                self.run(argv)
            })?;
        }
        Ok(query)
    }

    fn is_virtual(&self, name: &str) -> Result<bool, ModuleFail> {
        let o = self.run(vec![
            required_bin("apt-cache", &self.ctx)?,
            "showpkg".into(),
            name.into(),
        ])?;
        let mut in_provides = false;
        for line in o.out.lines() {
            if line.starts_with("Reverse Provides:") {
                in_provides = true;
            } else if in_provides && !line.trim().is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The highest available version matching a glob (apt-cache madison lists highest first).
    fn matching_version(&self, name: &str, pattern: &str) -> Result<Option<String>, ModuleFail> {
        let o = self.run(vec![
            required_bin("apt-cache", &self.ctx)?,
            "madison".into(),
            name.into(),
        ])?;
        Ok(o.out.lines().find_map(|l| {
            let mut f = l.split('|').map(str::trim);
            let (pkg, ver) = (f.next()?, f.next()?);
            (pkg == name && glob_match(pattern, ver)).then(|| ver.to_string())
        }))
    }

    pub(super) fn version_cmp(&self, a: &str, op: &str, b: &str) -> Result<bool, ModuleFail> {
        let o = self.run(vec![
            required_bin("dpkg", &self.ctx)?,
            "--compare-versions".into(),
            a.into(),
            op.into(),
            b.into(),
        ])?;
        Ok(o.rc == 0)
    }

    pub(super) fn install(
        &self,
        specs: &[String],
        upgrade: bool,
    ) -> Result<(bool, Map<String, Value>), ModuleFail> {
        let only_upgrade = self.flag("only_upgrade");
        let query = self.query(specs, upgrade)?;
        let mut pkg_list = Vec::new();
        let mut names = Vec::new();
        for spec in specs {
            let (name, cmp, version) = package_split(spec);
            names.push(name.clone());
            let s = self.status(&query, &name, cmp, version.as_deref(), true)?;
            if !s.installed && only_upgrade {
                continue;
            }
            if !s.version_installed && s.installable.is_none() {
                let mut r = Map::new();
                r.insert(
                    "msg".into(),
                    json!(format!("no available installation candidate for {spec}")),
                );
                return Ok((false, r));
            }
            match &s.installable {
                Some(v) if (!s.installed && !only_upgrade) || upgrade || !s.version_installed => {
                    if !v.is_empty() {
                        pkg_list.push(format!("{name}={v}"));
                    } else if let Some(version) = &version {
                        pkg_list.push(format!("{name}={version}"));
                    } else {
                        pkg_list.push(name.clone());
                    }
                }
                Some(_) if s.version_installed && cmp == Some("=") => {
                    pkg_list.push(format!("{name}={}", version.clone().unwrap_or_default()));
                }
                _ => {}
            }
        }
        let mut r = Map::new();
        if pkg_list.is_empty() {
            r.insert("changed".into(), json!(false));
        } else {
            let mut cmd = vec![self.apt_get.clone(), "-y".into()];
            cmd.extend(self.dpkg_options());
            for (on, arg) in [
                (only_upgrade, "--only-upgrade"),
                (self.flag("force"), "--force-yes"),
                (self.flag("autoremove"), "--auto-remove"),
                (self.flag("fail_on_autoremove"), "--no-remove"),
                (self.ctx.check_mode, "--simulate"),
            ] {
                if on {
                    cmd.push(arg.into());
                }
            }
            cmd.push("install".into());
            cmd.extend(pkg_list.iter().cloned());
            if let Some(rel) = self.str("default_release") {
                cmd.extend(["-t".into(), rel.to_string()]);
            }
            match self.p.get("install_recommends").and_then(Value::as_bool) {
                Some(false) => cmd.extend(["-o".into(), "APT::Install-Recommends=no".into()]),
                Some(true) => cmd.extend(["-o".into(), "APT::Install-Recommends=yes".into()]),
                None => {}
            }
            for (k, arg) in [
                ("allow_unauthenticated", "--allow-unauthenticated"),
                ("allow_downgrade", "--allow-downgrades"),
                ("allow_change_held_packages", "--allow-change-held-packages"),
            ] {
                if self.flag(k) {
                    cmd.push(arg.into());
                }
            }
            let o = self.run(cmd.clone())?;
            if o.rc != 0 {
                r.insert(
                    "msg".into(),
                    json!(format!(
                        "'{}' failed: {}",
                        self.install_display(&pkg_list),
                        o.err
                    )),
                );
                r.insert("stdout".into(), json!(o.out));
                r.insert("stderr".into(), json!(o.err));
                r.insert("rc".into(), json!(o.rc));
                return Ok((false, r));
            }
            r.insert("changed".into(), json!(true));
            r.insert("diff".into(), self.diff(&o.out));
            r.insert("stdout".into(), json!(o.out));
            r.insert("stderr".into(), json!(o.err));
        }
        // Nothing installed and every package already manual: apt-mark would
        // change nothing (see apt_manual.rs). Evaluated last, only when it matters.
        let nothing_to_mark = || {
            pkg_list.is_empty()
                && apt_manual::already_manual(
                    &names,
                    &query,
                    get_bin_path("apt-config", &self.ctx.env),
                    |argv| self.run(argv),
                )
        };
        if !self.ctx.check_mode && !names.is_empty() && !nothing_to_mark() {
            if let Some(mark) = get_bin_path("apt-mark", &self.ctx.env) {
                let mut cmd = vec![mark, "manual".into()];
                cmd.extend(names.iter().cloned());
                let o = self.run(cmd.clone())?;
                if o.rc != 0 {
                    return Err(
                        ModuleFail::msg(format!("'{}' failed: {}", cmd.join(" "), o.err))
                            .with("stdout", json!(o.out))
                            .with("stderr", json!(o.err))
                            .with("rc", json!(o.rc)),
                    );
                }
            }
        }
        Ok((true, r))
    }

    /// The install command as Ansible's failure message shows it: the one string
    /// the module runs, with a slot (empty or not) for each optional flag, the
    /// packages single-quoted and the dpkg options double-quoted.
    fn install_display(&self, pkg_list: &[String]) -> String {
        let dpkg: Vec<String> = self
            .str("dpkg_options")
            .unwrap_or(DPKG_OPTIONS)
            .split(',')
            .map(|o| format!("-o \"Dpkg::Options::=--{o}\""))
            .collect();
        let slot = |on: bool, arg: &'static str| if on { arg } else { "" };
        let packages: Vec<String> = pkg_list.iter().map(|p| format!("'{p}'")).collect();
        let mut cmd = format!(
            "{} -y {} {} {} {} {} {} {} install {}",
            self.apt_get,
            dpkg.join(" "),
            slot(self.flag("only_upgrade"), "--only-upgrade"),
            "",
            slot(self.flag("force"), "--force-yes"),
            slot(self.flag("autoremove"), "--auto-remove"),
            slot(self.flag("fail_on_autoremove"), "--no-remove"),
            slot(self.ctx.check_mode, "--simulate"),
            packages.join(" ")
        );
        if let Some(rel) = self.str("default_release") {
            cmd += &format!(" -t '{rel}'");
        }
        match self.p.get("install_recommends").and_then(Value::as_bool) {
            Some(false) => cmd += " -o APT::Install-Recommends=no",
            Some(true) => cmd += " -o APT::Install-Recommends=yes",
            None => {}
        }
        for (k, arg) in [
            ("allow_unauthenticated", " --allow-unauthenticated"),
            ("allow_downgrade", " --allow-downgrades"),
            (
                "allow_change_held_packages",
                " --allow-change-held-packages",
            ),
        ] {
            if self.flag(k) {
                cmd += arg;
            }
        }
        cmd
    }

    fn remove(&self, specs: &[String]) -> ModuleOutcome {
        let purge = self.flag("purge");
        let query = self.query(specs, false)?;
        let mut pkg_list = Vec::new();
        for spec in specs {
            let (name, cmp, version) = package_split(spec);
            let s = self.status(&query, &name, cmp, version.as_deref(), false)?;
            if s.version_installed || (s.has_files && purge) {
                pkg_list.push(spec.clone());
            }
        }
        let mut r = Map::new();
        if pkg_list.is_empty() {
            r.insert("changed".into(), json!(false));
            return Ok(r);
        }
        let mut cmd = vec![self.apt_get.clone(), "-q".into(), "-y".into()];
        cmd.extend(self.dpkg_options());
        for (on, arg) in [
            (purge, "--purge"),
            (self.flag("force"), "--force-yes"),
            (self.flag("autoremove"), "--auto-remove"),
            (self.ctx.check_mode, "--simulate"),
            (
                self.flag("allow_change_held_packages"),
                "--allow-change-held-packages",
            ),
        ] {
            if on {
                cmd.push(arg.into());
            }
        }
        cmd.push("remove".into());
        cmd.extend(pkg_list.iter().cloned());
        let o = self.run(cmd)?;
        let quoted: Vec<String> = pkg_list.iter().map(|p| format!("'{p}'")).collect();
        if o.rc != 0 {
            return Err(ModuleFail::msg(format!(
                "'apt-get remove {}' failed: {}",
                quoted.join(" "),
                o.err
            ))
            .with("stdout", json!(o.out))
            .with("stderr", json!(o.err))
            .with("rc", json!(o.rc)));
        }
        r.insert("changed".into(), json!(true));
        r.insert("stdout".into(), json!(o.out));
        r.insert("stderr".into(), json!(o.err));
        r.insert("diff".into(), self.diff(&o.out));
        Ok(r)
    }

    /// `parse_diff`: apt-get's plan, between "Reading state information..." and the
    /// "N upgraded" line; {} without --diff.
    pub(super) fn diff(&self, out: &str) -> Value {
        if !self.ctx.diff {
            return json!({});
        }
        parse_diff(out)
    }
}

/// apt-get's (or aptitude's) plan in its output, from the line after "Reading
/// state information..." (or "Resolving dependencies...") to the "N upgraded" line;
/// all of it without those markers.
pub(super) fn parse_diff(out: &str) -> Value {
    let lines: Vec<&str> = out.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "Resolving dependencies...")
        .or_else(|| {
            lines
                .iter()
                .position(|l| *l == "Reading state information...")
        })
        .map_or(0, |i| i + 1);
    let upgraded = |l: &str| {
        let digits = l.chars().take_while(char::is_ascii_digit).count();
        digits > 0 && {
            let rest = &l[digits..];
            rest.starts_with(" upgraded") || rest.starts_with(" packages upgraded")
        }
    };
    let end = lines
        .iter()
        .position(|l| upgraded(l))
        .map_or(lines.len(), |i| i + 1);
    let end = end.min(lines.len()).max(start.min(lines.len()));
    json!({"prepared": lines[start.min(lines.len())..end].join("\n")})
}

/// python-apt's LockFailedException text for apt-get's "could not lock" errors
/// ("E: Could not get lock DIR/lock. It is held by process N (name)" and "E: Unable
/// to lock directory DIR/"): "Failed to lock directory DIR/: E:Could not get lock ...".
fn lock_failure(stderr: &str) -> Option<String> {
    let reason = stderr
        .lines()
        .find_map(|l| l.strip_prefix("E: Could not get lock "))?;
    let dir = stderr
        .lines()
        .find_map(|l| l.strip_prefix("E: Unable to lock directory "))?;
    Some(format!(
        "Failed to lock directory {}: E:Could not get lock {reason}",
        dir.trim()
    ))
}

/// Python's `fnmatch.fnmatch` for `*`, `?` and literal characters.
fn glob_match(pattern: &str, text: &str) -> bool {
    glob::Pattern::new(pattern).map_or(pattern == text, |p| p.matches(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_specs_split_like_ansible() {
        assert_eq!(package_split("nginx"), ("nginx".into(), None, None));
        assert_eq!(
            package_split("nginx=1.2*"),
            ("nginx".into(), Some("="), Some("1.2*".into()))
        );
        assert_eq!(
            package_split("nginx>=1.2"),
            ("nginx".into(), Some(">="), Some("1.2".into()))
        );
    }

    #[test]
    fn rare_cases_are_left_to_the_python_module() {
        let args = |v: Value| v.as_object().cloned().unwrap_or_default();
        for declined in [
            json!({"deb": "ftp://example.invalid/x.deb"}),
            json!({"name": "*"}),
            json!({"pkg": ["nginx", "lib*"]}),
            json!({"name": "a,b?"}),
            json!({"name": "x", "state": "build-dep"}),
            json!({"name": "x", "policy_rc_d": 101}),
        ] {
            assert!(declines(&args(declined.clone())).is_some(), "{declined}");
        }
        for native in [
            json!({"name": ["nginx", "curl=7.*"], "update_cache": true}),
            json!({"name": "nginx", "autoremove": true, "state": "absent"}),
            json!({"name": "nginx", "upgrade": "no", "clean": "no"}),
            json!({"update_cache": "yes", "cache_valid_time": 3600}),
            json!({"upgrade": "dist", "update_cache": true}),
            json!({"upgrade": "yes"}),
            json!({"name": "*", "state": "latest"}),
            json!({"upgrade": true}),
            json!({"autoremove": "yes"}),
            json!({"update_cache": true, "autoclean": 1}),
            json!({"clean": true}),
            json!({"deb": "/tmp/x.deb"}),
            json!({"deb": "https://example.invalid/x.deb"}),
        ] {
            assert_eq!(declines(&args(native.clone())), None, "{native}");
        }
    }

    #[test]
    fn a_locked_lists_directory_reads_as_python_apt_says() {
        let err = "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 5 (python3)\nE: Unable to lock directory /var/lib/apt/lists/\n";
        assert_eq!(
            lock_failure(err).as_deref(),
            Some("Failed to lock directory /var/lib/apt/lists/: E:Could not get lock /var/lib/apt/lists/lock. It is held by process 5 (python3)")
        );
        assert_eq!(lock_failure("E: Failed to fetch file:/x\n"), None);
    }

    #[test]
    fn versions_match_globs() {
        assert!(glob_match("5.2*", "5.2.15-2+b8"));
        assert!(!glob_match("5.1*", "5.2.15-2+b8"));
    }
}
