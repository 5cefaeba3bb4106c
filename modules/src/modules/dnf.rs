//! `dnf` (and `yum`, which ansible-core 2.18 redirects here): install, upgrade
//! (state=latest) or remove packages through the dnf 4 command line, with the results,
//! messages, `changed` and check mode of Ansible's Python module (which drives dnf's
//! Python API instead). What dnf would do is read from the transaction table it prints
//! before confirming (`--assumeno`), so check mode and the real run report the same.
//!
//! Left to the Python module (the executor runs it instead, see `declines`): `list`,
//! groups/environments/modules (`@name`), rpm files and URLs, `update_only`,
//! `security`/`bugfix` and `skip_broken`.

use super::dnf_cli::{dnf4_binary, run_dnf, DnfOptions, DnfRun};
use super::dnf_plan::{Plan, PlanPackage, RowAction};
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::run::run as run_cmd;
use serde_json::{json, Map, Value};

pub const SPEC: &[Param] = &[
    Param::new("allow_downgrade", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("allowerasing", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("autoremove", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("best", Kind::Bool),
    Param::new("bugfix", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("cacheonly", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("conf_file", Kind::Str),
    Param::new("disable_excludes", Kind::Str),
    Param::new("disable_gpg_check", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("disable_plugin", Kind::List).default(ParamDefault::List(&[])),
    Param::new("disablerepo", Kind::List).default(ParamDefault::List(&[])),
    Param::new("download_only", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("download_dir", Kind::Str),
    Param::new("enable_plugin", Kind::List).default(ParamDefault::List(&[])),
    Param::new("enablerepo", Kind::List).default(ParamDefault::List(&[])),
    Param::new("exclude", Kind::List).default(ParamDefault::List(&[])),
    Param::new("installroot", Kind::Str).default(ParamDefault::Str("/")),
    Param::new("install_repoquery", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("install_weak_deps", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("list", Kind::Str),
    Param::new("name", Kind::List)
        .aliases(&["pkg"])
        .default(ParamDefault::List(&[])),
    Param::new("nobest", Kind::Bool),
    Param::new("releasever", Kind::Str),
    Param::new("security", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("skip_broken", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("state", Kind::Str).choices(&[
        "absent",
        "installed",
        "latest",
        "present",
        "removed",
    ]),
    Param::new("update_cache", Kind::Bool)
        .default(ParamDefault::Bool(false))
        .aliases(&["expire-cache"]),
    Param::new("update_only", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("validate_certs", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("sslverify", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("lock_timeout", Kind::Int).default(ParamDefault::Int(30)),
    Param::new("use_backend", Kind::Str)
        .default(ParamDefault::Str("auto"))
        .choices(&["auto", "dnf", "yum", "yum4", "dnf4", "dnf5"]),
];

/// The cases left to Ansible's Python module (the executor runs it instead): what they
/// are, or None when the native module handles the call. Reads the task's arguments
/// as given (aliases, "yes"/"no" strings).
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let get = |k: &str| args.get(k).filter(|v| !v.is_null());
    let on = |k: &str| get(k).is_some_and(super::args::loosely_true);
    let names = listify(get("name").or_else(|| get("pkg")));
    if get("list").is_some() {
        Some("list")
    } else if on("update_only") {
        Some("update_only")
    } else if on("security") || on("bugfix") {
        Some("security/bugfix")
    } else if on("skip_broken") {
        Some("skip_broken")
    } else if names
        .iter()
        .any(|n| n.contains("://") || n.ends_with(".rpm"))
    {
        Some("rpm files and URLs")
    } else if names
        .iter()
        .any(|n| n.starts_with('@') || (n.contains('/') && !n.starts_with('/')))
    {
        Some("groups, environments and modules")
    } else {
        None
    }
}

/// A list parameter as the module reads it: items stripped, comma-separated items
/// split (an old string form of the option), a lone empty string meaning none.
pub fn listify(v: Option<&Value>) -> Vec<String> {
    let items: Vec<String> = match v {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.to_string()],
    };
    let mut kept: Vec<String> = Vec::new();
    let mut split: Vec<String> = Vec::new();
    for item in items {
        let item = item.trim().to_string();
        if item.contains(',') {
            split.extend(item.split(',').map(|s| s.trim().to_string()));
        } else {
            kept.push(item);
        }
    }
    kept.extend(split);
    if kept == [""] {
        return Vec::new();
    }
    kept
}

fn fail(msg: &str) -> ModuleFail {
    ModuleFail::msg(msg).with("results", json!([]))
}

/// Ansible's failure when some specs could not be acted on: nothing is changed.
fn failures(failures: Vec<String>) -> ModuleFail {
    ModuleFail::msg("Failed to install some of the specified packages")
        .with("failures", json!(failures))
        .with("results", json!([]))
        .with("rc", json!(1))
}

/// A dnf error the module reports as a caught exception of its resolver.
fn dnf_error(run: &DnfRun) -> ModuleFail {
    let text = run.error();
    let msg = if text.contains("Problem") {
        format!("Depsolve Error occurred: {text}")
    } else if text.contains("Failed to download metadata") || text.contains("repodata") {
        text
    } else {
        format!("Unknown Error occurred: {text}")
    };
    ModuleFail::msg(msg)
        .with("failures", json!([]))
        .with("results", json!([]))
        .with("rc", json!(1))
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Present,
    Latest,
    Absent,
}

/// One dnf command of the task's transaction(s): its name and arguments.
struct Step {
    command: &'static str,
    args: Vec<String>,
}

pub fn run(p: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let on = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
    if p.get("best").is_some_and(|v| !v.is_null()) && p.get("nobest").is_some_and(|v| !v.is_null())
    {
        return Err(ModuleFail::msg(
            "parameters are mutually exclusive: best|nobest",
        ));
    }
    // `name` defaults to [], so the spec's required_one_of(name, list,
    // update_cache) is always met: no names simply means nothing to do.
    let names = listify(p.get("name"));
    if names
        .iter()
        .any(|n| n.contains(' ') && !n.contains(['@', '>', '<', '=']))
    {
        return Err(ModuleFail::msg(
            "It appears that a space separated string of packages was passed in as an argument. \
             To operate on several packages, pass a comma separated string of packages or a list of packages.",
        ));
    }
    let autoremove = on("autoremove");
    let state_param = p.get("state").and_then(Value::as_str);
    let state = match state_param {
        None if autoremove => State::Absent,
        None | Some("present") | Some("installed") => State::Present,
        Some("latest") => State::Latest,
        Some(_) => State::Absent,
    };
    if autoremove && state != State::Absent {
        return Err(fail("Autoremove should be used alone or with state=absent"));
    }
    let dnf = dnf4_binary(&ctx.env)?;
    let opts = DnfOptions::new(p, dnf);
    let conf_file = p.get("conf_file").and_then(Value::as_str);
    let readable_conf =
        || conf_file.is_none_or(|c| std::fs::File::open(c).is_ok_and(|f| f.metadata().is_ok()));
    if on("update_cache") && names.is_empty() {
        if !readable_conf() {
            return Err(unreadable_conf(conf_file));
        }
        let made = run_dnf(&opts, &["--refresh"], "makecache", &[], ctx)?;
        if made.output.rc != 0 {
            return Err(fail(&made.error()).with("rc", json!(1)));
        }
        return Ok(exit("Cache updated", false, Vec::new()));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    if !on("download_only") && unsafe { libc::geteuid() } != 0 {
        return Err(fail("This command has to be run under the root user."));
    }
    if !readable_conf() {
        return Err(unreadable_conf(conf_file));
    }
    let refresh: &[&str] = if on("update_cache") {
        &["--refresh"]
    } else {
        &[]
    };
    let allow_downgrade = on("allow_downgrade");
    let mut notes: Vec<String> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    let mut plan = Plan::default();
    match state {
        State::Latest if names == ["*"] => {
            let r = run_dnf(&opts, &plan_flags(refresh), "upgrade", &[], ctx)?;
            if !r.planned_ok() {
                let mut f = dnf_error(&r);
                f.0.insert(
                    "msg".into(),
                    json!("Depsolve Error occurred attempting to upgrade all packages"),
                );
                return Err(f);
            }
            add_step(&mut steps, &mut plan, "upgrade", Vec::new(), r);
        }
        State::Present | State::Latest if names.is_empty() => {}
        State::Present | State::Latest => {
            let (specs, install) =
                plan_install(&opts, refresh, names.clone(), allow_downgrade, ctx)?;
            add_step(&mut steps, &mut plan, "install", specs, install);
            if state == State::Latest {
                // `install` leaves installed packages as they are; `upgrade` takes
                // them to the newest version (and ignores those not installed).
                let r = run_dnf(&opts, &plan_flags(&[]), "upgrade", &names, ctx)?;
                if !r.planned_ok() {
                    return Err(dnf_error(&r));
                }
                add_step(&mut steps, &mut plan, "upgrade", names.clone(), r);
            }
        }
        State::Absent => {
            if !names.is_empty() {
                let r = run_dnf(&opts, &plan_flags(refresh), "remove", &names, ctx)?;
                if !r.planned_ok() {
                    return Err(dnf_error(&r));
                }
                for u in &r.unmatched {
                    notes.push(format!("No match for argument: {}", u.arg));
                }
                add_step(&mut steps, &mut plan, "remove", names.clone(), r);
            }
            if autoremove {
                let r = run_dnf(&opts, &plan_flags(refresh), "autoremove", &[], ctx)?;
                if !r.planned_ok() {
                    return Err(dnf_error(&r));
                }
                add_step(&mut steps, &mut plan, "autoremove", Vec::new(), r);
            }
        }
    }
    let finish = |mut result: Map<String, Value>| {
        if plan.no_releasever {
            releasever_warning(&mut result);
        }
        Ok(result)
    };
    if plan.is_empty() {
        return finish(exit("Nothing to do", false, notes));
    }
    let download_only = on("download_only");
    let mut results = notes;
    results.extend(describe(&plan, &opts, ctx, download_only)?);
    if ctx.check_mode {
        return finish(exit(
            "Check mode: No changes made, but would have if not in check mode",
            true,
            results,
        ));
    }
    for step in steps {
        let mut extra: Vec<String> = vec!["-y".into()];
        if download_only && step.command != "remove" && step.command != "autoremove" {
            extra.push("--downloadonly".into());
            if let Some(dir) = p.get("download_dir").and_then(Value::as_str) {
                extra.push(format!("--downloaddir={dir}"));
            }
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let r = run_dnf(&opts, &extra, step.command, &step.args, ctx)?;
        if r.output.rc != 0 {
            return Err(dnf_error(&r));
        }
    }
    finish(exit("", true, results))
}

fn unreadable_conf(conf_file: Option<&str>) -> ModuleFail {
    fail("cannot read configuration file").with("conf_file", json!(conf_file))
}

/// Flags of a planning run: answer "no" to the confirmation.
fn plan_flags<'a>(refresh: &[&'a str]) -> Vec<&'a str> {
    let mut flags = vec!["--assumeno"];
    flags.extend_from_slice(refresh);
    flags
}

fn add_step(
    steps: &mut Vec<Step>,
    plan: &mut Plan,
    command: &'static str,
    args: Vec<String>,
    r: DnfRun,
) {
    if r.output.err.contains(NO_RELEASEVER) {
        plan.no_releasever = true;
    }
    if r.nothing_to_do() {
        return;
    }
    if let Some(p) = r.plan {
        plan.extend(p);
    }
    steps.push(Step { command, args });
}

/// Plans `dnf install` for the specs: a spec dnf finds nothing for fails the task
/// before anything is changed (the module's "No package X available."), and a spec
/// that would downgrade an installed package is left alone unless allow_downgrade
/// (the module never downgrades by itself). Returns the specs kept and their plan.
fn plan_install(
    opts: &DnfOptions,
    refresh: &[&str],
    mut specs: Vec<String>,
    allow_downgrade: bool,
    ctx: &ModuleContext,
) -> Result<(Vec<String>, DnfRun), ModuleFail> {
    loop {
        let r = run_dnf(opts, &plan_flags(refresh), "install", &specs, ctx)?;
        if !r.unmatched.is_empty() {
            // The module's wording: its own for "no match", dnf's otherwise.
            let failed: Vec<String> = specs
                .iter()
                .filter_map(|s| r.unmatched.iter().find(|u| &u.arg == s))
                .map(|u| match u.no_match() {
                    true => format!("No package {} available.", u.arg),
                    false => format!("{} {}", u.arg, u.message),
                })
                .collect();
            return Err(failures(failed));
        }
        if !r.planned_ok() {
            return Err(dnf_error(&r));
        }
        let downgraded: Vec<PlanPackage> = match (&r.plan, allow_downgrade) {
            (Some(plan), false) => plan.with_action(RowAction::Downgrade).cloned().collect(),
            _ => Vec::new(),
        };
        if downgraded.is_empty() {
            return Ok((specs, r));
        }
        let before = specs.len();
        specs.retain(|s| !downgraded.iter().any(|d| spec_names(s, &d.name)));
        if specs.is_empty() || specs.len() == before {
            // Nothing left to do, or a downgrade no spec explains (a dependency):
            // report nothing rather than downgrade.
            return Ok((specs, DnfRun { plan: None, ..r }));
        }
    }
}

/// Whether a package spec (`name`, `name-1.0`, `name-1.0-1.noarch`, `name >= 1.0`)
/// names the package `name`.
fn spec_names(spec: &str, name: &str) -> bool {
    let spec = spec.trim();
    spec == name
        || spec.strip_prefix(name).is_some_and(|rest| {
            rest.starts_with('-') || rest.starts_with(' ') || rest.starts_with(['<', '>', '='])
        })
}

/// The module's results for a plan: `Installed: nevra` (or `Downloaded:`) for every
/// package the transaction brings, `Removed: nevra` for every one that leaves
/// (removed, obsoleted, or the installed version an upgrade replaces), each list
/// sorted (dnf's Python sets have no order of their own).
fn describe(
    plan: &Plan,
    opts: &DnfOptions,
    ctx: &ModuleContext,
    download_only: bool,
) -> Result<Vec<String>, ModuleFail> {
    let mut installed: Vec<String> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    let replaced: Vec<&PlanPackage> = plan
        .rows
        .iter()
        .filter(|(a, _)| matches!(a, RowAction::Replace | RowAction::Downgrade))
        .map(|(_, p)| p)
        .collect();
    let on_system = if replaced.is_empty() {
        Vec::new()
    } else {
        installed_packages(opts, ctx)?
    };
    for (action, pkg) in &plan.rows {
        match action {
            RowAction::Remove => removed.push(pkg.nevra()),
            _ => installed.push(pkg.nevra()),
        }
    }
    for pkg in replaced {
        let same_arch: Vec<&PlanPackage> = on_system
            .iter()
            .filter(|i| i.name == pkg.name && i.arch == pkg.arch)
            .collect();
        let olds = if same_arch.is_empty() {
            on_system.iter().filter(|i| i.name == pkg.name).collect()
        } else {
            same_arch
        };
        removed.extend(olds.into_iter().map(PlanPackage::nevra));
    }
    removed.extend(plan.obsoleted.iter().map(PlanPackage::nevra));
    for list in [&mut installed, &mut removed] {
        list.sort();
        list.dedup();
    }
    let verb = if download_only {
        "Downloaded"
    } else {
        "Installed"
    };
    let mut out: Vec<String> = installed
        .into_iter()
        .map(|n| format!("{verb}: {n}"))
        .collect();
    out.extend(removed.into_iter().map(|n| format!("Removed: {n}")));
    Ok(out)
}

/// The installed packages (rpm's database under the installroot).
fn installed_packages(
    opts: &DnfOptions,
    ctx: &ModuleContext,
) -> Result<Vec<PlanPackage>, ModuleFail> {
    let argv: Vec<String> = vec![
        "rpm".into(),
        "--root".into(),
        opts.installroot.clone(),
        "-qa".into(),
        "--qf".into(),
        "%{NAME} %{ARCH} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n".into(),
    ];
    let out = run_cmd(&argv, ctx, None)?;
    if out.rc != 0 {
        return Err(
            fail(&format!("rpm -qa failed: {}", out.err.trim_end())).with("rc", json!(out.rc))
        );
    }
    Ok(out
        .out
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            Some(PlanPackage {
                name: parts.next()?.to_string(),
                arch: parts.next()?.to_string(),
                evr: parts.next()?.to_string(),
            })
        })
        .collect())
}

/// What dnf 4 prints when it cannot tell the release version of the installroot.
const NO_RELEASEVER: &str = "Unable to detect release version";

/// The module's warning for the same condition.
fn releasever_warning(result: &mut Map<String, Value>) {
    result.insert(
        "warnings".into(),
        json!(["Unable to detect release version (use \"releasever\" option to specify release version)"]),
    );
}

fn exit(msg: &str, changed: bool, results: Vec<String>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("msg".into(), json!(msg));
    m.insert("changed".into(), json!(changed));
    m.insert("results".into(), json!(results));
    m.insert("rc".into(), json!(0));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listify_splits_commas_like_the_module() {
        assert_eq!(
            listify(Some(&json!(["a", "b, c", " d "]))),
            vec!["a", "d", "b", "c"]
        );
        assert_eq!(listify(Some(&json!([""]))), Vec::<String>::new());
    }

    #[test]
    fn specs_name_their_package() {
        assert!(spec_names("foo-1.0", "foo"));
        assert!(spec_names("foo >= 1.0", "foo"));
        assert!(!spec_names("foobar-1.0", "foo"));
    }

    #[test]
    fn declines_what_the_python_module_keeps() {
        let d = |v: Value| declines(v.as_object().expect("object"));
        assert_eq!(d(json!({"list": "installed"})), Some("list"));
        assert_eq!(
            d(json!({"name": "@core"})),
            Some("groups, environments and modules")
        );
        assert_eq!(
            d(json!({"name": ["/tmp/x.rpm"]})),
            Some("rpm files and URLs")
        );
        assert_eq!(
            d(json!({"name": "vim", "security": "yes"})),
            Some("security/bugfix")
        );
        assert_eq!(d(json!({"name": "/usr/bin/vi"})), None);
        assert_eq!(d(json!({"name": "vim", "state": "latest"})), None);
    }
}
