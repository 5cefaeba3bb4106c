//! `systemd_service` (also known as `systemd`): start, stop, restart, reload, enable,
//! mask units and reload the manager through `systemctl`, with the decisions and
//! messages of Ansible's module. The unit's state is what `systemctl show` prints,
//! returned as the `status` dict.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::run::{required_bin, run as run_cmd, Output};
use serde_json::{json, Map, Value};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub const SPEC: &[Param] = &[
    Param::new("name", Kind::Str).aliases(&["service", "unit"]),
    Param::new("state", Kind::Str).choices(&["reloaded", "restarted", "started", "stopped"]),
    Param::new("enabled", Kind::Bool),
    Param::new("force", Kind::Bool),
    Param::new("masked", Kind::Bool),
    Param::new("daemon_reload", Kind::Bool)
        .default(ParamDefault::Bool(false))
        .aliases(&["daemon-reload"]),
    Param::new("daemon_reexec", Kind::Bool)
        .default(ParamDefault::Bool(false))
        .aliases(&["daemon-reexec"]),
    Param::new("scope", Kind::Str)
        .default(ParamDefault::Str("system"))
        .choices(&["system", "user", "global"]),
    Param::new("no_block", Kind::Bool).default(ParamDefault::Bool(false)),
];

/// `systemctl is-enabled` answers that mean systemd knows the unit.
const KNOWN_ENABLED_STATES: &[&str] = &[
    "enabled",
    "enabled-runtime",
    "linked",
    "linked-runtime",
    "masked",
    "masked-runtime",
    "static",
    "indirect",
    "disabled",
    "generated",
    "transient",
];

/// Ansible's `parse_systemctl_show`: `Key=value` lines; `Exec*={ ... }` values may span
/// lines until the closing brace.
pub fn parse_systemctl_show(text: &str) -> Map<String, Value> {
    let mut parsed = Map::new();
    let mut multival: Vec<&str> = Vec::new();
    let mut key: Option<&str> = None;
    for line in text.split('\n') {
        match key {
            None => {
                let Some((k, v)) = line.split_once('=') else {
                    continue;
                };
                if k.starts_with("Exec")
                    && v.trim_start().starts_with('{')
                    && !v.trim_end().ends_with('}')
                {
                    multival.push(v);
                    key = Some(k);
                    continue;
                }
                parsed.insert(k.to_string(), json!(v.trim()));
            }
            Some(k) => {
                multival.push(line);
                if line.trim_end().ends_with('}') {
                    parsed.insert(k.to_string(), json!(multival.join("\n").trim()));
                    multival.clear();
                    key = None;
                }
            }
        }
    }
    parsed
}

/// systemctl refused to act (`Running in chroot, ignoring request.`).
fn request_was_ignored(out: &str) -> bool {
    !out.contains('=') && (out.contains("ignoring request") || out.contains("ignoring command"))
}

/// `is_chroot` of Ansible's facts: `debian_chroot` set, or / is not PID 1's root.
fn is_chroot(ctx: &ModuleContext) -> bool {
    let env_set = ctx
        .env
        .get("debian_chroot")
        .cloned()
        .or_else(|| std::env::var("debian_chroot").ok())
        .is_some_and(|v| !v.is_empty());
    if env_set {
        return true;
    }
    match (std::fs::metadata("/"), std::fs::metadata("/proc/1/root/.")) {
        (Ok(mine), Ok(init)) => mine.ino() != init.ino() || mine.dev() != init.dev(),
        // Without /proc (or without the right to read PID 1's root) Ansible compares
        // the root's inode with the usual first one.
        (Ok(mine), Err(_)) => mine.ino() != 2,
        _ => false,
    }
}

fn systemd_offline(ctx: &ModuleContext) -> bool {
    ctx.env
        .get("SYSTEMD_OFFLINE")
        .cloned()
        .or_else(|| std::env::var("SYSTEMD_OFFLINE").ok())
        .as_deref()
        == Some("1")
}

/// `sysv_exists`: an init script for the name.
fn sysv_exists(unit: &str) -> bool {
    if unit.starts_with('/') {
        Path::new(unit).exists()
    } else {
        Path::new("/etc/init.d").join(unit).exists()
    }
}

/// `sysv_is_enabled` without a runlevel: a start link in any runlevel directory.
fn sysv_is_enabled(unit: &str) -> bool {
    let pattern = if Path::new("/etc/rc0.d/").is_dir() {
        format!("/etc/rc?.d/S??{}", glob::Pattern::escape(unit))
    } else {
        format!("/etc/init.d/rc?.d/S??{}", glob::Pattern::escape(unit))
    };
    glob::glob(&pattern).is_ok_and(|mut found| found.next().is_some())
}

fn not_found(unit: &str) -> ModuleFail {
    ModuleFail::msg(format!("Could not find the requested service {unit}: host"))
}

struct Systemctl {
    /// The program and the scope/no_block/force flags every command starts with.
    base: Vec<String>,
    ctx: ModuleContext,
}

impl Systemctl {
    fn run(&self, args: &[&str]) -> Result<Output, ModuleFail> {
        let mut argv = self.base.clone();
        argv.extend(args.iter().map(|a| a.to_string()));
        run_cmd(&argv, &self.ctx, None)
    }

    /// The command as Ansible's failure shows it (shell-quoted words).
    fn display(&self) -> String {
        self.base
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Python's `shlex.quote`.
fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\"'\"'"))
    }
}

pub fn run(p: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let text = |k: &str| p.get(k).and_then(Value::as_str);
    let opt_bool = |k: &str| p.get(k).and_then(Value::as_bool);
    let flag = |k: &str| opt_bool(k).unwrap_or(false);
    let unit = text("name");
    // required_by: state, enabled and masked need a name.
    for key in ["state", "enabled", "masked"] {
        if p.get(key).is_some_and(|v| !v.is_null()) && unit.is_none() {
            return Err(ModuleFail::msg(format!(
                "missing parameter(s) required by '{key}': name"
            )));
        }
    }
    if let Some(unit) = unit {
        for glob in ["*", "?", "["] {
            if unit.contains(glob) {
                return Err(ModuleFail::msg(format!(
                    "This module does not currently support using glob patterns, found '{glob}' in service name: {unit}"
                )));
            }
        }
    }
    let mut base = vec![required_bin("systemctl", ctx)?];
    match text("scope").unwrap_or("system") {
        "system" => {}
        scope => base.push(format!("--{scope}")),
    }
    if flag("no_block") {
        base.push("--no-block".into());
    }
    if flag("force") {
        base.push("--force".into());
    }
    let mut ctx = ctx.clone();
    if !ctx.env.contains_key("XDG_RUNTIME_DIR") && std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // SAFETY of meaning: geteuid cannot fail.
        let euid = unsafe { libc::geteuid() };
        ctx.env
            .insert("XDG_RUNTIME_DIR".into(), format!("/run/user/{euid}"));
    }
    let sc = Systemctl { base, ctx };
    let check_mode = sc.ctx.check_mode;
    let mut warnings: Vec<String> = Vec::new();
    let mut result = Map::new();
    result.insert("name".into(), json!(unit));
    result.insert("changed".into(), json!(false));
    let mut status = Map::new();

    for (param, command) in [
        ("daemon_reload", "daemon-reload"),
        ("daemon_reexec", "daemon-reexec"),
    ] {
        if flag(param) && !check_mode {
            let o = sc.run(&[command])?;
            if o.rc != 0 {
                if is_chroot(&sc.ctx) || systemd_offline(&sc.ctx) {
                    warnings.push(format!(
                        "{command} failed, but target is a chroot or systemd is offline. Continuing. Error was: {} / {}",
                        o.rc, o.err
                    ));
                } else {
                    return Err(ModuleFail::msg(format!(
                        "failure {} during {command}: {}",
                        o.rc, o.err
                    )));
                }
            }
        }
    }

    if let Some(unit) = unit.filter(|u| !u.is_empty()) {
        let is_initd = sysv_exists(unit);
        let mut is_systemd = false;
        let show = sc.run(&["show", unit])?;
        if show.rc == 0 && !request_was_ignored(&show.out) && !request_was_ignored(&show.err) {
            if !show.out.is_empty() {
                status = parse_systemctl_show(&show.out);
                let load = status.get("LoadState").and_then(Value::as_str);
                is_systemd = load.is_some_and(|s| s != "not-found");
                let is_masked = load == Some("masked");
                if is_systemd && !is_masked {
                    if let Some(err) = status.get("LoadError").and_then(Value::as_str) {
                        return Err(ModuleFail::msg(format!(
                            "Error loading unit file '{unit}': {err}"
                        )));
                    }
                }
            }
        } else if !show.err.is_empty()
            && show.rc == 1
            && show.err.contains("Failed to parse bus message")
        {
            status = parse_systemctl_show(&show.out);
            let (unit_base, suffix) = match unit.split_once('@') {
                Some((b, _)) => (b, "@"),
                None => (unit, ""),
            };
            let search = format!("{unit_base}{suffix}");
            let files = sc.run(&["list-unit-files", &format!("{search}*")])?;
            is_systemd = files.out.contains(&search);
            let active = sc.run(&["is-active", unit])?;
            status.insert(
                "ActiveState".into(),
                json!(active.out.trim_end_matches('\n')),
            );
        } else {
            let enabled = sc.run(&["is-enabled", unit])?;
            // Known to systemd when is-enabled answers a state, else when
            // list-unit-files lists it (the second command runs only if needed).
            is_systemd = KNOWN_ENABLED_STATES.contains(&enabled.out.trim())
                || sc.run(&["list-unit-files", unit])?.rc == 0;
            if !is_systemd {
                let bare = sc.run(&[])?;
                if bare.rc != 0 {
                    return Err(ModuleFail::msg(bare.err.trim_end())
                        .with("cmd", json!(sc.display()))
                        .with("rc", json!(bare.rc))
                        .with("stdout", json!(bare.out))
                        .with("stderr", json!(bare.err)));
                }
            }
        }
        let found = is_systemd || is_initd;
        if is_initd && !is_systemd {
            warnings.push(format!(
                "The service ({unit}) is actually an init script but the system is managed by systemd"
            ));
        }

        if let Some(want_masked) = opt_bool("masked") {
            let o = sc.run(&["is-enabled", unit])?;
            let masked = o.out.trim() == "masked";
            if masked != want_masked {
                result.insert("changed".into(), json!(true));
                let action = if want_masked { "mask" } else { "unmask" };
                if !check_mode {
                    let o = sc.run(&[action, unit])?;
                    if o.rc != 0 {
                        if !found {
                            return Err(not_found(unit));
                        }
                        return Err(ModuleFail::msg(format!(
                            "Failed to {action} the service ({unit}): {}",
                            o.err.trim()
                        )));
                    }
                }
            }
        }

        if let Some(want_enabled) = opt_bool("enabled") {
            let action = if want_enabled { "enable" } else { "disable" };
            if !found {
                return Err(not_found(unit));
            }
            let o = sc.run(&["is-enabled", unit, "-l"])?;
            let mut enabled = false;
            if o.rc == 0 {
                // Transient, indirect and alias answers: let systemctl enable it for real.
                enabled = !matches!(o.out.trim_end(), "enabled-runtime" | "indirect" | "alias");
            } else if o.rc == 1
                && text("scope").unwrap_or("system") == "system"
                && is_initd
                && !o.out.trim().ends_with("disabled")
                && sysv_is_enabled(unit)
            {
                enabled = true;
            }
            result.insert("enabled".into(), json!(enabled));
            if enabled != want_enabled {
                result.insert("changed".into(), json!(true));
                if !check_mode {
                    let o = sc.run(&[action, unit])?;
                    if o.rc != 0 {
                        return Err(ModuleFail::msg(format!(
                            "Unable to {action} service {unit}: {}{}",
                            o.out, o.err
                        )));
                    }
                }
                result.insert("enabled".into(), json!(!enabled));
            }
        }

        if let Some(state) = text("state") {
            if !found {
                return Err(not_found(unit));
            }
            result.insert("state".into(), json!(state));
            if let Some(active) = status.get("ActiveState").and_then(Value::as_str) {
                let running = matches!(active, "active" | "activating");
                let action = match state {
                    "started" => (!running).then_some("start"),
                    "stopped" => (running || active == "deactivating").then_some("stop"),
                    _ => {
                        result.insert("state".into(), json!("started"));
                        Some(if !running {
                            "start"
                        } else if state == "restarted" {
                            "restart"
                        } else {
                            "reload"
                        })
                    }
                };
                if let Some(action) = action {
                    result.insert("changed".into(), json!(true));
                    if !check_mode {
                        let o = sc.run(&[action, unit])?;
                        if o.rc != 0 {
                            return Err(ModuleFail::msg(format!(
                                "Unable to {action} service {unit}: {}",
                                o.err
                            )));
                        }
                    }
                }
            } else if is_chroot(&sc.ctx) || systemd_offline(&sc.ctx) {
                warnings.push("Target is a chroot or systemd is offline. This can lead to false positives or prevent the init system tools from working.".into());
            } else {
                return Err(ModuleFail::msg("Service is in unknown state")
                    .with("status", Value::Object(status)));
            }
        }
    }
    result.insert("status".into(), Value::Object(status));
    if !warnings.is_empty() {
        result.insert("warnings".into(), json!(warnings));
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded from `systemctl show containerd` (shortened), including a multi-line
    /// Exec value as systemd prints it for a unit with several ExecStartPre lines.
    const SHOW: &str = "Type=notify\n\
Restart=always\n\
MainPID=713\n\
ExecStartPre={ path=/sbin/modprobe ; argv[]=/sbin/modprobe overlay ; ignore_errors=yes ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }\n\
ExecStart={ path=/usr/local/bin/containerd ; argv[]=/usr/local/bin/containerd ;\n\
\u{20}ignore_errors=no ; start_time=[Sun 2026-11-22 04:00:01 UTC] ; pid=713 ; code=(null) ; status=0/0 }\n\
Id=containerd.service\n\
LoadState=loaded\n\
ActiveState=active\n\
SubState=running\n\
UnitFileState=enabled\n\
Description=containerd container runtime \n\
Environment=A=1 B=2\n";

    #[test]
    fn systemctl_show_parses_like_ansible() {
        let s = parse_systemctl_show(SHOW);
        assert_eq!(s["ActiveState"], "active");
        assert_eq!(s["MainPID"], "713");
        assert_eq!(s["Description"], "containerd container runtime");
        assert_eq!(s["Environment"], "A=1 B=2");
        assert_eq!(
            s["ExecStart"],
            "{ path=/usr/local/bin/containerd ; argv[]=/usr/local/bin/containerd ;\n ignore_errors=no ; start_time=[Sun 2026-11-22 04:00:01 UTC] ; pid=713 ; code=(null) ; status=0/0 }"
        );
        assert!(s["ExecStartPre"]
            .as_str()
            .is_some_and(|v| v.starts_with("{ path=/sbin/modprobe") && v.ends_with('}')));
        assert_eq!(s.len(), 12);
    }

    #[test]
    fn ignored_requests_are_recognised() {
        assert!(request_was_ignored("Running in chroot, ignoring request."));
        assert!(!request_was_ignored("Id=x\nignoring request"));
        assert!(!request_was_ignored(
            "System has not been booted with systemd"
        ));
    }

    #[test]
    fn commands_are_quoted_like_python() {
        assert_eq!(shell_quote("/usr/bin/systemctl"), "/usr/bin/systemctl");
        assert_eq!(shell_quote("--user"), "--user");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\"'\"'s'");
    }
}
