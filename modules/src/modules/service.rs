//! `service` (ansible-core's generic module, `LinuxService`) on hosts without
//! systemd: OpenRC (rc-service / rc-update) and SysV init scripts (the `service`
//! command or the script itself, enabled through update-rc.d, insserv or
//! chkconfig), with the module's status heuristics, commands, check-mode exits
//! and messages. The `service` action runs it where `service_mgr` names no module
//! of its own (openrc, a container's process, ...).
//!
//! The module's systemd and upstart paths are not native: when the host is
//! managed by systemd, or has initctl, the module returns `DECLINED` before
//! running anything and the executor runs Ansible's Python module instead.

use super::sysv_common::{find_tool, glob_matches, lang_env, run_str, CmdOut, Launch};
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

pub const SPEC: &[Param] = &[
    Param::new("name", Kind::Str).required(),
    Param::new("state", Kind::Str).choices(&["started", "stopped", "reloaded", "restarted"]),
    Param::new("sleep", Kind::Int),
    Param::new("pattern", Kind::Str),
    Param::new("enabled", Kind::Bool),
    Param::new("runlevel", Kind::Str).default(ParamDefault::Str("default")),
    Param::new("arguments", Kind::Str)
        .default(ParamDefault::Str(""))
        .aliases(&["args"]),
];

/// The result key by which the module tells the executor to run Ansible's Python
/// module instead (its value says why); nothing was run on the host.
pub const DECLINED: &str = "_rsible_python_fallback";

/// An early `exit_json` of the module: only these keys are returned.
struct EarlyExit(Map<String, Value>);

enum Stop {
    Fail(ModuleFail),
    Exit(EarlyExit),
}

impl From<ModuleFail> for Stop {
    fn from(f: ModuleFail) -> Stop {
        Stop::Fail(f)
    }
}

fn exit(changed: bool, msg: Option<&str>) -> Stop {
    let mut m = Map::new();
    m.insert("changed".into(), json!(changed));
    if let Some(msg) = msg {
        m.insert("msg".into(), json!(msg));
    }
    Stop::Exit(EarlyExit(m))
}

/// The tools found for the service (`get_service_tools`).
struct Tools {
    /// `rc-service` or `service`, when found.
    svc_cmd: Option<String>,
    svc_initscript: Option<String>,
    enable_cmd: Option<String>,
}

struct Svc<'a> {
    name: String,
    state: Option<String>,
    enable: Option<bool>,
    runlevel: String,
    arguments: String,
    sleep: i64,
    pattern: Option<String>,
    tools: Tools,
    ctx: &'a ModuleContext,
    lang: BTreeMap<String, String>,
    running: Option<bool>,
    crashed: Option<bool>,
    changed: bool,
    svc_change: bool,
}

/// Whether systemd manages the host (`is_systemd_managed`).
fn systemd_managed(ctx: &ModuleContext) -> bool {
    use crate::util::systemd_canary::{canary_exists, pid1_is_systemd};
    find_tool("systemctl", ctx).is_some() && (canary_exists() || pid1_is_systemd())
}

/// Why the Python module must run instead, if it must: its systemd and upstart paths.
fn python_path(name: &str, ctx: &ModuleContext) -> Option<String> {
    if systemd_managed(ctx) {
        return Some(format!(
            "the host is managed by systemd: the service module's systemd path for {name} is not native"
        ));
    }
    if find_tool("initctl", ctx).is_some() {
        return Some(
            "initctl (upstart) is present: the service module's upstart path is not native".into(),
        );
    }
    None
}

pub fn run(p: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
    let state = text("state");
    let enable = p.get("enabled").and_then(Value::as_bool);
    if state.is_none() && enable.is_none() {
        return Err(ModuleFail::msg(
            "one of the following is required: state, enabled",
        ));
    }
    let name = text("name").unwrap_or_default();
    if let Some(reason) = python_path(&name, ctx) {
        let mut m = Map::new();
        m.insert(DECLINED.into(), json!(reason));
        return Ok(m);
    }
    let mut svc = Svc {
        tools: get_service_tools(&name, ctx)?,
        name,
        state,
        enable,
        runlevel: text("runlevel").unwrap_or_else(|| "default".into()),
        arguments: text("arguments").unwrap_or_default(),
        sleep: p.get("sleep").and_then(Value::as_i64).unwrap_or(0),
        pattern: text("pattern").filter(|s| !s.is_empty()),
        ctx,
        lang: lang_env(ctx),
        running: None,
        crashed: None,
        changed: false,
        svc_change: false,
    };
    match svc.main() {
        Ok(r) => Ok(r),
        Err(Stop::Fail(f)) => Err(f),
        Err(Stop::Exit(EarlyExit(m))) => Ok(m),
    }
}

fn get_service_tools(name: &str, ctx: &ModuleContext) -> Result<Tools, ModuleFail> {
    let script = format!("/etc/init.d/{name}");
    let svc_initscript = Path::new(&script).is_file().then_some(script);
    let mut tools = Tools {
        svc_cmd: None,
        svc_initscript,
        enable_cmd: None,
    };
    if let Some(rc_service) = find_tool("rc-service", ctx) {
        tools.svc_cmd = Some(rc_service);
        tools.enable_cmd = find_tool("rc-update", ctx);
        return Ok(tools);
    }
    if tools.svc_initscript.is_some() {
        tools.enable_cmd = ["update-rc.d", "insserv", "chkconfig"]
            .iter()
            .find_map(|t| find_tool(t, ctx));
    }
    if tools.enable_cmd.is_none() {
        return Err(ModuleFail::msg(format!(
            "Could not find the requested service {name}: host"
        )));
    }
    tools.svc_cmd = find_tool("service", ctx);
    if tools.svc_cmd.is_none() && tools.svc_initscript.is_none() {
        return Err(ModuleFail::msg("cannot find 'service' binary or init script for service,  possible typo in service name?, aborting"));
    }
    Ok(tools)
}

impl Svc<'_> {
    fn is_openrc(&self) -> bool {
        self.tools
            .svc_cmd
            .as_deref()
            .is_some_and(|c| c.ends_with("rc-service"))
    }

    /// `execute_command(cmd)`: the module's environment plus the locale variables.
    fn exec(&self, cmd: &str) -> Result<CmdOut, ModuleFail> {
        run_str(cmd, self.ctx, &self.lang, Launch::Child)
    }

    /// `execute_command(cmd, daemonize=True)`: detached, with only the locale variables.
    fn exec_detached(&self, cmd: &str) -> Result<CmdOut, ModuleFail> {
        run_str(cmd, self.ctx, &self.lang, Launch::DetachedCleanEnv)
    }

    fn main(&mut self) -> Result<Map<String, Value>, Stop> {
        let mut result = Map::new();
        result.insert("name".into(), json!(self.name));
        if let Some(enable) = self.enable {
            self.service_enable(enable)?;
            result.insert("enabled".into(), json!(enable));
        }
        let Some(state) = self.state.clone() else {
            result.insert("changed".into(), json!(self.changed));
            return Ok(result);
        };
        result.insert("state".into(), json!(state));
        match self.pattern.clone() {
            Some(pattern) => self.check_ps(&pattern)?,
            None => self.get_service_status()?,
        }
        self.check_service_changed(&state)?;
        let o = self.modify_service_state(&state)?;
        // upstart's "Job is already running" is not an error to the module.
        if o.rc != 0 && !o.err.contains("Job is already running") {
            let msg = if o.err.is_empty() { o.out } else { o.err };
            return Err(ModuleFail::msg(msg).into());
        }
        result.insert("changed".into(), json!(self.changed | self.svc_change));
        if let Some(enable) = self.enable {
            result.insert("enabled".into(), json!(enable));
        }
        let shown = if state == "stopped" {
            "stopped"
        } else {
            "started"
        };
        result.insert("state".into(), json!(shown));
        Ok(result)
    }

    fn check_ps(&mut self, pattern: &str) -> Result<(), ModuleFail> {
        let ps = crate::util::run::required_bin("ps", self.ctx)?;
        let o = self.exec(&format!("{ps} auxww"))?;
        if o.rc == 0 {
            self.running = Some(
                o.out
                    .split('\n')
                    .any(|l| l.contains(pattern) && !l.contains("pattern=")),
            );
        }
        Ok(())
    }

    fn get_service_status(&mut self) -> Result<(), ModuleFail> {
        let o = self.service_control("status")?;
        if self.is_openrc() && self.running.is_none() {
            let svc_cmd = self.tools.svc_cmd.clone().unwrap_or_default();
            let s = self.exec(&format!("{svc_cmd} {} status", self.name))?;
            self.running = Some(s.out.contains("started"));
            self.crashed = Some(s.err.contains("crashed"));
        }
        if self.running.is_none() && [1, 2, 3, 4, 69].contains(&o.rc) {
            self.running = Some(false);
        }
        if self.running.is_none() && o.out.matches('\n').count() <= 1 {
            let clean = o.out.to_lowercase().replace(&self.name.to_lowercase(), "");
            if clean.contains("stop") {
                self.running = Some(false);
            } else if clean.contains("run") {
                self.running = Some(!clean.contains("not "));
            } else if clean.contains("start") && !clean.contains("not ") {
                self.running = Some(true);
            } else if [
                "could not access pid file",
                "is dead and pid file exists",
                "dead but subsys locked",
                "dead but pid file exists",
            ]
            .iter()
            .any(|w| clean.contains(w))
            {
                self.running = Some(false);
            }
        }
        if self.running.is_none() && o.rc == 0 {
            self.running = Some(true);
        }
        if self.running.is_none() && self.name == "iptables" && o.out.contains("ACCEPT") {
            self.running = Some(true);
        }
        Ok(())
    }

    fn check_service_changed(&mut self, state: &str) -> Result<(), Stop> {
        let Some(running) = self.running else {
            return Err(ModuleFail::msg(
                "failed determining service state, possible typo of service name?",
            )
            .into());
        };
        self.svc_change = match state {
            "reloaded" | "started" if !running => true,
            "reloaded" | "stopped" if running => true,
            "restarted" => true,
            _ => false,
        };
        if self.ctx.check_mode && self.svc_change {
            return Err(exit(true, Some("service state changed")));
        }
        Ok(())
    }

    fn modify_service_state(&mut self, state: &str) -> Result<CmdOut, ModuleFail> {
        if !self.svc_change {
            return Ok(CmdOut {
                rc: 0,
                out: String::new(),
                err: String::new(),
            });
        }
        let running = self.running.unwrap_or(false);
        let action = match state {
            "started" => "start",
            "reloaded" if !running => "start",
            "stopped" => "stop",
            "reloaded" => "reload",
            _ => "restart",
        };
        self.service_control(action)
    }

    fn service_control(&self, action: &str) -> Result<CmdOut, ModuleFail> {
        let svc_cmd = match (&self.tools.svc_cmd, &self.tools.svc_initscript) {
            (Some(cmd), _) => format!("{cmd} {}", self.name),
            (None, Some(script)) => script.clone(),
            (None, None) => String::new(),
        };
        let args = &self.arguments;
        let name = &self.name;
        if self.is_openrc() && action == "start" && self.crashed == Some(true) {
            self.exec_detached(&format!("{svc_cmd} zap"))?;
        }
        let one = |verb: &str| {
            if svc_cmd.is_empty() {
                self.exec_detached(&format!("{verb} {name} {args}"))
            } else {
                self.exec_detached(&format!("{svc_cmd} {verb} {args}"))
            }
        };
        if action != "restart" || self.is_openrc() {
            return one(action);
        }
        let stop = one("stop")?;
        if self.sleep > 0 {
            std::thread::sleep(std::time::Duration::from_secs(self.sleep as u64));
        }
        let start = one("start")?;
        if stop.rc != 0 && start.rc == 0 {
            return Ok(start);
        }
        Ok(CmdOut {
            rc: stop.rc + start.rc,
            out: stop.out + &start.out,
            err: stop.err + &start.err,
        })
    }

    fn service_enable(&mut self, enable: bool) -> Result<(), Stop> {
        let Some(enable_cmd) = self.tools.enable_cmd.clone() else {
            return Err(ModuleFail::msg(format!(
                "cannot detect command to enable service {}, typo or init system potentially unknown",
                self.name
            ))
            .into());
        };
        let name = self.name.clone();
        let check_mode = self.ctx.check_mode;
        self.changed = true;
        let action;
        if enable_cmd.ends_with("chkconfig") {
            action = if enable { "on" } else { "off" };
            let mut o = self.exec(&format!("{enable_cmd} --list {name}"))?;
            if o.err.contains(&format!("chkconfig --add {name}")) {
                self.exec(&format!("{enable_cmd} --add {name}"))?;
                o = self.exec(&format!("{enable_cmd} --list {name}"))?;
            }
            if !o.out.contains(&name) {
                return Err(
                    ModuleFail::msg(format!("service {name} does not support chkconfig")).into(),
                );
            }
            if o.out.contains(&format!("3:{action}")) && o.out.contains(&format!("5:{action}")) {
                self.changed = false;
                return Ok(());
            }
        } else if enable_cmd.ends_with("rc-update") {
            action = if enable { "add" } else { "delete" };
            let o = self.exec(&format!("{enable_cmd} show"))?;
            let mut listed = false;
            for line in o.out.lines() {
                let Some((svc_name, levels)) =
                    line.split_once('|').filter(|(_, l)| !l.contains('|'))
                else {
                    return Err(ModuleFail::msg(format!(
                        "rsible: cannot parse this line of '{enable_cmd} show' as the service module does (service | runlevels): {line}"
                    ))
                    .into());
                };
                if svc_name.trim() != name {
                    continue;
                }
                listed = true;
                let in_level = python_ws_split(levels).any(|l| l == self.runlevel);
                if enable == in_level {
                    self.changed = false;
                }
                break;
            }
            if !listed && !enable {
                self.changed = false;
            }
            if !self.changed {
                return Ok(());
            }
        } else if enable_cmd.ends_with("update-rc.d") {
            let enabled = glob_matches(&format!("/etc/rc?.d/S??{name}"));
            if enable == enabled {
                self.changed = false;
                return Ok(());
            }
            self.changed = true;
            let action = if enable { "enable" } else { "disable" };
            let fail = |o: &CmdOut| {
                let msg = if o.err.is_empty() { &o.out } else { &o.err };
                ModuleFail::msg(msg.clone())
            };
            if enable && !glob_matches(&format!("/etc/rc?.d/K??{name}")) && !check_mode {
                let o = self.exec(&format!("{enable_cmd} {name} defaults"))?;
                if o.rc != 0 {
                    return Err(fail(&o).into());
                }
            }
            if !check_mode {
                let o = self.exec(&format!("{enable_cmd} {name} {action}"))?;
                if o.rc != 0 {
                    return Err(fail(&o).into());
                }
            }
            return Ok(());
        } else if enable_cmd.ends_with("insserv") {
            let probe = if enable {
                format!("{enable_cmd} -n -v {name}")
            } else {
                format!("{enable_cmd} -n -r -v {name}")
            };
            let o = self.exec(&probe)?;
            let wanted = if enable {
                "enable service"
            } else {
                "remove service"
            };
            self.changed = o.err.lines().any(|l| l.contains(wanted));
            if check_mode {
                return Err(exit(self.changed, None));
            }
            if !self.changed {
                return Ok(());
            }
            let (cmd, what) = if enable {
                (format!("{enable_cmd} {name}"), "install")
            } else {
                (format!("{enable_cmd} -r {name}"), "remove")
            };
            let o = self.exec(&cmd)?;
            if o.rc != 0 || !o.err.is_empty() {
                return Err(ModuleFail::msg(format!(
                    "Failed to {what} service. rc: {}, out: {}, err: {}",
                    o.rc, o.out, o.err
                ))
                .into());
            }
            return Ok(());
        } else {
            return Err(ModuleFail::msg(format!(
                "rsible: enabling services with {enable_cmd} is not implemented natively"
            ))
            .into());
        }
        self.changed = true;
        let cmd = if enable_cmd.ends_with("rc-update") {
            format!("{enable_cmd} {action} {name} {}", self.runlevel)
        } else {
            format!("{enable_cmd} {name} {action}")
        };
        if check_mode {
            return Err(exit(self.changed, None));
        }
        let o = self.exec(&cmd)?;
        if o.rc != 0 {
            let msg = if o.err.is_empty() {
                format!("Failure for {action} {name}: rc={} {}", o.rc, o.out)
            } else {
                format!(
                    "Error when trying to {action} {name}: rc={} {}",
                    o.rc, o.err
                )
            };
            return Err(ModuleFail::msg(msg).into());
        }
        Ok(())
    }
}

/// `re.split(r'\s+', s)`: like Python, empty pieces at the ends are kept.
fn python_ws_split(s: &str) -> impl Iterator<Item = &str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_ws = false;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if !in_ws {
                pieces.push(&s[start..i]);
                in_ws = true;
            }
        } else if in_ws {
            start = i;
            in_ws = false;
        }
    }
    pieces.push(if in_ws { "" } else { &s[start..] });
    pieces.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runlevels_split_like_python_re() {
        let v: Vec<&str> = python_ws_split(" boot default ").collect();
        assert_eq!(v, vec!["", "boot", "default", ""]);
        let v: Vec<&str> = python_ws_split("default").collect();
        assert_eq!(v, vec!["default"]);
    }
}
