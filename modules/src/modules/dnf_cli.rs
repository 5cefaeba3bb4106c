//! The `dnf` command line the native dnf module runs: the module's options turned
//! into dnf 4 CLI options (what the Python module sets on dnf's Base object), and
//! one run of it in the locale Ansible's module uses for dnf.

use super::dnf_plan::{error_text, parse_plan, unmatched_arguments, Plan, Unmatched};
use super::{ModuleContext, ModuleFail};
use crate::util::bin_path::get_bin_path;
use crate::util::run::{run, Output};
use serde_json::{json, Map, Value};

/// The module's parameters that shape every dnf command of one task.
pub struct DnfOptions {
    pub base: Vec<String>,
    pub installroot: String,
}

impl DnfOptions {
    /// Global options from the validated parameters, `dnf` binary first.
    pub fn new(p: &Map<String, Value>, dnf: String) -> DnfOptions {
        let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
        let on = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
        let list = |k: &str| super::dnf::listify(p.get(k));
        let mut base = vec![dnf];
        if let Some(conf) = text("conf_file") {
            base.push(format!("--config={conf}"));
        }
        let installroot = text("installroot").unwrap_or_else(|| "/".into());
        if installroot != "/" {
            base.push(format!("--installroot={installroot}"));
        }
        if let Some(rel) = p.get("releasever").filter(|v| !v.is_null()) {
            let rel = rel.as_str().map_or_else(|| rel.to_string(), str::to_string);
            base.push(format!("--releasever={rel}"));
        }
        if on("disable_gpg_check") {
            base.push("--nogpgcheck".into());
        }
        // As the module: repositories are disabled first, then enabled.
        for repo in list("disablerepo").iter().filter(|r| !r.is_empty()) {
            base.push(format!("--disablerepo={repo}"));
        }
        for repo in list("enablerepo").iter().filter(|r| !r.is_empty()) {
            base.push(format!("--enablerepo={repo}"));
        }
        for pattern in list("exclude").iter().filter(|r| !r.is_empty()) {
            base.push(format!("--exclude={pattern}"));
        }
        if let Some(which) = text("disable_excludes") {
            base.push(format!("--disableexcludes={which}"));
        }
        for plugin in list("disable_plugin") {
            base.push(format!("--disableplugin={plugin}"));
        }
        for plugin in list("enable_plugin") {
            base.push(format!("--enableplugin={plugin}"));
        }
        // The module always sets these two on dnf's configuration; dnf's own defaults
        // (clean_requirements_on_remove=True) differ.
        base.push(format!(
            "--setopt=install_weak_deps={}",
            py_bool(
                p.get("install_weak_deps")
                    .and_then(Value::as_bool)
                    .unwrap_or(true)
            )
        ));
        base.push(format!(
            "--setopt=clean_requirements_on_remove={}",
            py_bool(on("autoremove"))
        ));
        if let Some(nobest) = p.get("nobest").and_then(Value::as_bool) {
            base.push(format!("--setopt=best={}", py_bool(!nobest)));
        } else if let Some(best) = p.get("best").and_then(Value::as_bool) {
            base.push(format!("--setopt=best={}", py_bool(best)));
        }
        if on("cacheonly") {
            base.push("--cacheonly".into());
        }
        if p.get("sslverify").and_then(Value::as_bool) == Some(false) {
            base.push("--setopt=sslverify=False".into());
        }
        DnfOptions { base, installroot }
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// The dnf 4 CLI: `dnf-3` where it exists (a host whose `dnf` is dnf5 still has it
/// when dnf 4 is installed), else `dnf` unless that is dnf5, whose output differs.
///
/// Looked up in the task's PATH (`env`), as the programs it runs get that environment.
pub fn dnf4_binary(env: &std::collections::BTreeMap<String, String>) -> Result<String, ModuleFail> {
    if let Some(path) = get_bin_path("dnf-3", env) {
        return Ok(path);
    }
    let Some(path) = get_bin_path("dnf", env) else {
        return Err(ModuleFail::msg(
            "rsible agent: the dnf module needs the dnf command (dnf 4) on the target, and none was found",
        )
        .with("results", json!([])));
    };
    let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone().into());
    if real
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("dnf5"))
    {
        return Err(ModuleFail::msg(
            "rsible agent: dnf through a dnf5 command is not implemented natively (use_backend: dnf5 runs the dnf5 module)",
        )
        .with("results", json!([])));
    }
    Ok(path)
}

/// What one dnf command reported.
pub struct DnfRun {
    pub output: Output,
    pub plan: Option<Plan>,
    pub unmatched: Vec<Unmatched>,
}

impl DnfRun {
    /// Whether the run ended with nothing resolved to do.
    pub fn nothing_to_do(&self) -> bool {
        self.plan.as_ref().is_none_or(Plan::is_empty)
    }

    /// dnf's `Error:` text, or the whole stderr when it printed none.
    pub fn error(&self) -> String {
        error_text(&self.output.err).unwrap_or_else(|| self.output.err.trim_end().to_string())
    }

    /// A planning run (`--assumeno`) succeeds with rc 1 and "Operation aborted."
    /// when there was something to do; any other non-zero exit is a failure.
    pub fn planned_ok(&self) -> bool {
        self.output.rc == 0
            || (self.plan.is_some() && self.output.err.contains("Operation aborted."))
    }
}

/// Runs `dnf <options> <extra> <command> <args>` in the C locale (the module scrapes
/// dnf's messages in the locale it picks for parsing, too).
pub fn run_dnf(
    opts: &DnfOptions,
    extra: &[&str],
    command: &str,
    args: &[String],
    ctx: &ModuleContext,
) -> Result<DnfRun, ModuleFail> {
    let mut argv = opts.base.clone();
    argv.extend(extra.iter().map(|s| s.to_string()));
    argv.push(command.to_string());
    if !args.is_empty() {
        // Arguments starting with '-' are package specs, not options.
        argv.push("--".into());
        argv.extend(args.iter().cloned());
    }
    let mut ctx = ctx.clone();
    for key in ["LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"] {
        ctx.env.insert(key.into(), "C".into());
    }
    let output = run(&argv, &ctx, None)?;
    let plan = parse_plan(&output.out);
    let mut unmatched = unmatched_arguments(&output.out);
    for found in unmatched_arguments(&output.err) {
        if !unmatched.iter().any(|u| u.arg == found.arg) {
            unmatched.push(found);
        }
    }
    Ok(DnfRun {
        output,
        plan,
        unmatched,
    })
}
