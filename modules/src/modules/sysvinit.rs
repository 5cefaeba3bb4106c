//! `sysvinit`: SysV init scripts (/etc/init.d) started, stopped and enabled per
//! runlevel through update-rc.d or chkconfig, with the decisions, result shape
//! (`status.enabled`, `status.<state>`) and messages of ansible-core 2.18's module.
//! The `service` action runs it on hosts whose `service_mgr` is `sysvinit`.

use super::sysv_common::{
    find_tool, ps_matches, run_str, sysv_is_enabled, sysv_script, CmdOut, Launch,
};
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

pub const SPEC: &[Param] = &[
    Param::new("name", Kind::Str)
        .required()
        .aliases(&["service"]),
    Param::new("state", Kind::Str).choices(&["started", "stopped", "restarted", "reloaded"]),
    Param::new("enabled", Kind::Bool),
    Param::new("sleep", Kind::Int).default(ParamDefault::Int(1)),
    Param::new("pattern", Kind::Str),
    Param::new("arguments", Kind::Str).aliases(&["args"]),
    Param::new("runlevels", Kind::List),
    Param::new("daemonize", Kind::Bool).default(ParamDefault::Bool(false)),
];

/// `status` output words that mean stopped, then running (checked in this order).
const STOPPED_WORDS: &[&str] = &[
    "stop",
    "is dead ",
    "dead but ",
    "could not access pid file",
    "inactive",
];
const STARTED_WORDS: &[&str] = &["run", "start", "active"];

/// A step's record in `status`: changed, and the last command's rc/stdout/stderr.
fn record() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("changed".into(), json!(false));
    for k in ["rc", "stdout", "stderr"] {
        m.insert(k.into(), Value::Null);
    }
    m
}

fn put_output(rec: &mut Map<String, Value>, o: &CmdOut) {
    rec.insert("rc".into(), json!(o.rc));
    rec.insert("stdout".into(), json!(o.out));
    rec.insert("stderr".into(), json!(o.err));
}

pub fn run(p: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let text = |k: &str| p.get(k).and_then(Value::as_str);
    let name = text("name").unwrap_or_default().to_string();
    let state = text("state");
    let enabled = p.get("enabled").and_then(Value::as_bool);
    if state.is_none() && enabled.is_none() {
        return Err(ModuleFail::msg(
            "one of the following is required: state, enabled",
        ));
    }
    let runlevels: Option<Vec<String>> = p.get("runlevels").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    });
    // Python's truthiness: an empty list means no runlevels.
    let runlevels = runlevels.filter(|r| !r.is_empty());
    let pattern = text("pattern").filter(|s| !s.is_empty());
    let sleep_for = p.get("sleep").and_then(Value::as_i64).unwrap_or(0);
    let check_mode = ctx.check_mode;
    let no_env = BTreeMap::new();

    let script = sysv_script(&name);
    if !Path::new(&script).exists() {
        return Err(ModuleFail::msg(format!(
            "Could not find the requested service {name}: "
        )));
    }
    let update_rc_d = find_tool("update-rc.d", ctx);
    let chkconfig = find_tool("chkconfig", ctx);
    let service = find_tool("service", ctx);

    let was_enabled: BTreeMap<String, bool> = match &runlevels {
        Some(levels) => levels
            .iter()
            .map(|rl| (rl.clone(), sysv_is_enabled(&name, Some(rl))))
            .collect(),
        None => [(String::new(), sysv_is_enabled(&name, None))].into(),
    };

    let mut warnings: Vec<String> = Vec::new();
    // The last command's output, as the module's (rc, out, err) variables.
    let mut last = CmdOut {
        rc: 0,
        out: String::new(),
        err: String::new(),
    };
    let mut is_started = false;
    let mut worked = false;
    if let Some(pattern) = pattern {
        is_started = ps_matches(pattern, ctx)?;
        worked = is_started;
    } else {
        let cmd = match &service {
            Some(service) => format!("{service} {name} status"),
            None => format!("{script} status"),
        };
        last = run_str(&cmd, ctx, &no_env, Launch::Child)?;
        if last.rc != -1 {
            if name == "iptables" && last.out.contains("ACCEPT") {
                worked = true;
                is_started = true;
            }
            if !worked && last.out.matches('\n').count() <= 1 {
                let clean = last.out.to_lowercase().replace(&name.to_lowercase(), "");
                if STOPPED_WORDS.iter().any(|w| clean.contains(w)) {
                    worked = true;
                } else if STARTED_WORDS.iter().any(|w| clean.contains(w)) && !clean.contains("not ")
                {
                    is_started = true;
                    worked = true;
                }
            }
            if !worked && [1, 2, 3, 4, 69].contains(&last.rc) {
                worked = true;
            }
        }
        if !worked {
            if last.rc == 0 {
                is_started = true;
                worked = true;
            } else if ps_matches(&name, ctx)? {
                is_started = true;
                worked = true;
                warnings.push("Used ps output to match service name and determine it is up, this is very unreliable".into());
            }
        }
    }
    if !worked {
        warnings.push("Unable to determine if service is up, assuming it is down".into());
    }

    // Enable/disable.
    let mut changed = false;
    let mut enabled_rec = record();
    let enable_cmd = |verb_update: &str, verb_chk: &str, levels: Option<&[String]>| match (
        &update_rc_d,
        &chkconfig,
        levels,
    ) {
        (Some(u), _, Some(l)) => Some(format!("{u} {name} {verb_update} {}", l.join(" "))),
        (None, Some(c), Some(l)) => Some(format!("{c} --level {} {name} {verb_chk}", l.concat())),
        (Some(u), _, None) => Some(format!("{u} {name} {verb_update}")),
        (None, Some(c), None) => Some(format!("{c} {name} {verb_chk}")),
        _ => None,
    };
    let command = match &runlevels {
        Some(levels) => {
            enabled_rec.insert("runlevels".into(), json!(levels));
            // `enabled` unset differs from every runlevel's state, as in the module.
            if levels
                .iter()
                .any(|rl| enabled != was_enabled.get(rl).copied())
            {
                changed = true;
            }
            if enabled == Some(true) {
                enable_cmd("enable", "on", Some(levels))
            } else {
                enable_cmd("disable", "off", Some(levels))
            }
        }
        None => {
            if enabled.is_some_and(|e| Some(&e) != was_enabled.get("")) {
                changed = true;
            }
            if enabled == Some(true) {
                enable_cmd("defaults", "on", None)
            } else {
                enable_cmd("disable", "off", None)
            }
        }
    };
    enabled_rec.insert("changed".into(), json!(changed));
    if !check_mode && changed {
        if let Some(cmd) = command {
            last = run_str(&cmd, ctx, &no_env, Launch::Child)?;
        }
        put_output(&mut enabled_rec, &last);
    }
    let mut status = Map::new();
    let illegal = !check_mode && changed && last.err.contains("illegal runlevel specified");
    status.insert("enabled".into(), Value::Object(enabled_rec));
    let state_key = state.unwrap_or("null").to_string();
    status.insert(state_key.clone(), Value::Object(record()));
    if illegal {
        return Err(ModuleFail::msg(format!(
            "Illegal runlevel specified for enable operation on service {name}"
        ))
        .with("name", json!(name))
        .with("changed", json!(changed))
        .with("status", Value::Object(status)));
    }

    // State.
    if let Some(state) = state {
        let action = state
            .strip_suffix("ped")
            .or_else(|| state.strip_suffix("ed"))
            .unwrap_or(state);
        let runme = |doit: &str| -> Result<CmdOut, ModuleFail> {
            let cmd = format!("{script} {doit} {}", text("arguments").unwrap_or(""));
            let launch = if p.get("daemonize").and_then(Value::as_bool) == Some(true) {
                Launch::Detached
            } else {
                Launch::Child
            };
            let o = run_str(&cmd, ctx, &no_env, launch)?;
            if o.rc != 0 {
                return Err(
                    ModuleFail::msg(format!("Failed to {action} service: {name}"))
                        .with("rc", json!(o.rc))
                        .with("stdout", json!(o.out))
                        .with("stderr", json!(o.err)),
                );
            }
            Ok(o)
        };
        let state_changed = action == "restart"
            || is_started != (action == "start")
            || is_started == (action == "stop");
        if state_changed {
            changed = true;
            if !check_mode {
                if action == "restart" {
                    // The script's own restart is not relied upon.
                    for doit in ["stop", "start"] {
                        last = runme(doit)?;
                        if sleep_for > 0 {
                            std::thread::sleep(std::time::Duration::from_secs(sleep_for as u64));
                        }
                    }
                } else {
                    last = runme(action)?;
                }
            }
        }
        let mut rec = record();
        rec.insert("changed".into(), json!(state_changed));
        if !check_mode && state_changed {
            put_output(&mut rec, &last);
        }
        status.insert(state_key, Value::Object(rec));
    }

    let mut result = Map::new();
    result.insert("name".into(), json!(name));
    result.insert("changed".into(), json!(changed));
    result.insert("status".into(), Value::Object(status));
    if !warnings.is_empty() {
        result.insert("warnings".into(), json!(warnings));
    }
    Ok(result)
}
