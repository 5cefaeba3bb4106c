//! `service_facts`: the services of the host as Ansible's module lists them — SysV
//! scripts through `service --status-all` (or `chkconfig` on Red Hat style hosts), then
//! systemd units through `systemctl list-units`/`list-unit-files` when systemd manages
//! the host. Upstart (`initctl`) and OpenRC (`rc-status`) hosts fail as not implemented
//! natively.

use super::{ModuleContext, ModuleFail, ModuleOutcome, Param};
use crate::util::bin_path::get_bin_path;
use crate::util::run::{run as run_cmd, Output};
use serde_json::{json, Map, Value};
use std::path::Path;

pub const SPEC: &[Param] = &[];

/// Unit states that win over the unit file's state.
const BAD_STATES: &[&str] = &["not-found", "masked", "failed"];

struct Scan {
    ctx: ModuleContext,
    warnings: Vec<String>,
}

impl Scan {
    fn run(&self, argv: &[&str]) -> Result<Output, ModuleFail> {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        run_cmd(&argv, &self.ctx, None)
    }

    /// `service --status-all`: `[ + ]  name` running, `[ - ]  name` stopped.
    fn sysvinit(
        &mut self,
        service: &str,
        services: &mut Map<String, Value>,
    ) -> Result<(), ModuleFail> {
        let o = self.run(&[service, "--status-all"])?;
        if o.rc == 4 && !Path::new("/etc/init.d").exists() {
            return Ok(());
        }
        if o.rc != 0 {
            self.warnings.push(format!(
                "Unable to query 'service' tool ({}): {}",
                o.rc, o.err
            ));
        }
        for line in o.out.split('\n') {
            let rest = line.trim_start();
            let (state, name) = if let Some(n) = rest.strip_prefix("[ + ]") {
                ("running", n)
            } else if let Some(n) = rest.strip_prefix("[ - ]") {
                ("stopped", n)
            } else {
                continue;
            };
            // `\s+(?P<name>.+)$`: at least one blank, then the rest of the line.
            if !name.starts_with(char::is_whitespace) {
                continue;
            }
            let name = name.trim_start();
            if name.is_empty() {
                continue;
            }
            services.insert(
                name.to_string(),
                json!({"name": name, "state": state, "source": "sysv"}),
            );
        }
        Ok(())
    }

    /// `chkconfig` listings: enabled when runlevel 3 is on; state from `service X status`.
    fn redhat(
        &mut self,
        service: Option<&str>,
        chkconfig: &str,
        services: &mut Map<String, Value>,
    ) -> Result<(), ModuleFail> {
        let full = regex::Regex::new(
            r"^(?P<service>.*?)\s+[0-9]:(?P<rl0>on|off)\s+[0-9]:(?P<rl1>on|off)\s+[0-9]:(?P<rl2>on|off)\s+[0-9]:(?P<rl3>on|off)\s+[0-9]:(?P<rl4>on|off)\s+[0-9]:(?P<rl5>on|off)\s+[0-9]:(?P<rl6>on|off)",
        )
        .map_err(|e| ModuleFail::msg(e.to_string()))?;
        let simple = regex::Regex::new(r"^(?P<service>.*?)\s+(?P<rl0>on|off)")
            .map_err(|e| ModuleFail::msg(e.to_string()))?;
        let mut o = self.run(&["sh", "-c", chkconfig])?;
        if !o.out.split('\n').any(|l| full.is_match(l)) {
            if o.out.split('\n').any(|l| simple.is_match(l)) {
                o = self.run(&["sh", "-c", &format!("{chkconfig} -l --allservices")])?;
            } else if o.err.contains("--list") {
                o = self.run(&["sh", "-c", &format!("{chkconfig} --list")])?;
            }
        }
        for line in o.out.split('\n') {
            let Some(m) = full.captures(line) else {
                continue;
            };
            let name = m.name("service").map_or("", |x| x.as_str());
            let status = if m.name("rl3").map(|x| x.as_str()) == Some("on") {
                "enabled"
            } else {
                "disabled"
            };
            let svc = service.unwrap_or("None");
            let st = self.run(&["sh", "-c", &format!("{svc} {name} status")])?;
            let state: Value = if st.rc == 0 {
                json!("running")
            } else {
                let err = st.err.to_lowercase();
                if ["root", "permission", "not in sudoers"]
                    .iter()
                    .any(|x| err.contains(x))
                {
                    self.warnings.push(format!(
                        "Insufficient permissions to query sysV service \"{name}\" and their states"
                    ));
                    json!(st.rc)
                } else {
                    json!("stopped")
                }
            };
            services.insert(
                name.to_string(),
                json!({"name": name, "state": state, "status": status, "source": "sysv"}),
            );
        }
        Ok(())
    }

    fn systemd(
        &mut self,
        systemctl: &str,
        services: &mut Map<String, Value>,
    ) -> Result<(), ModuleFail> {
        let units = self.run(&[
            "sh",
            "-c",
            &format!("{systemctl} list-units --no-pager --type service --all --plain"),
        ])?;
        if units.rc != 0 {
            self.warnings
                .push(format!("Could not list units from systemd: {}", units.err));
        } else {
            for line in units.out.split('\n').filter(|l| l.contains(".service")) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if fields.len() < 4 {
                    return Err(ModuleFail::msg(format!(
                        "rsible agent: unexpected systemctl list-units line: {line}"
                    )));
                }
                let head = &fields[..fields.len() - 1];
                let status = BAD_STATES
                    .iter()
                    .find(|bad| head.contains(bad))
                    .copied()
                    .unwrap_or(fields[2]);
                let state = if fields[3] == "running" {
                    "running"
                } else {
                    "stopped"
                };
                services.insert(
                    fields[0].to_string(),
                    json!({"name": fields[0], "state": state, "status": status, "source": "systemd"}),
                );
            }
        }
        let files = self.run(&[
            "sh",
            "-c",
            &format!("{systemctl} list-unit-files --no-pager --type service --all"),
        ])?;
        if files.rc != 0 {
            self.warnings.push(format!(
                "Could not get unit files data from systemd: {}",
                files.err
            ));
            return Ok(());
        }
        for line in files.out.split('\n').filter(|l| l.contains(".service")) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [name, status, ..] = fields[..] else {
                return Err(ModuleFail::msg(format!(
                    "Malformed output discovered from systemd list-unit-files: {line}"
                )));
            };
            match services.get_mut(name) {
                None => {
                    let o = self.run(&[
                        "sh",
                        "-c",
                        &format!("{systemctl} show {name} --property=ActiveState"),
                    ])?;
                    let state = if o.rc == 0 && !o.out.is_empty() {
                        o.out.replace("ActiveState=", "").trim_end().to_string()
                    } else {
                        "unknown".to_string()
                    };
                    services.insert(
                        name.to_string(),
                        json!({"name": name, "state": state, "status": status, "source": "systemd"}),
                    );
                }
                Some(Value::Object(entry)) => {
                    let bad = entry
                        .get("status")
                        .and_then(Value::as_str)
                        .is_some_and(|s| BAD_STATES.contains(&s));
                    if !bad {
                        entry.insert("status".into(), json!(status));
                    }
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// `is_systemd_managed`: systemctl present and a systemd canary or PID 1 named systemd.
fn systemd_managed(ctx: &ModuleContext) -> bool {
    use crate::util::systemd_canary::{canary_exists, pid1_is_systemd};
    get_bin_path("systemctl", &ctx.env).is_some() && (canary_exists() || pid1_is_systemd())
}

pub fn run(_params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let mut ctx = ctx.clone();
    let locale = crate::util::locale::best_parsable_locale(&ctx.env);
    ctx.env.insert("LANG".into(), locale.clone());
    ctx.env.insert("LC_ALL".into(), locale);
    let mut scan = Scan {
        ctx: ctx.clone(),
        warnings: Vec::new(),
    };
    let mut services = Map::new();
    let service = get_bin_path("service", &ctx.env);
    let chkconfig = get_bin_path("chkconfig", &ctx.env);
    let initctl = get_bin_path("initctl", &ctx.env);
    let rc_status = get_bin_path("rc-status", &ctx.env);
    let rc_update = get_bin_path("rc-update", &ctx.env);
    if let (Some(service), None, None) = (&service, &chkconfig, &rc_status) {
        scan.sysvinit(service, &mut services)?;
    }
    if initctl.is_some() && chkconfig.is_none() {
        return Err(ModuleFail::msg(
            "rsible agent: service_facts on an upstart host (initctl) is not implemented natively",
        ));
    } else if let Some(chkconfig) = &chkconfig {
        scan.redhat(service.as_deref(), chkconfig, &mut services)?;
    } else if rc_status.is_some() && rc_update.is_some() {
        return Err(ModuleFail::msg(
            "rsible agent: service_facts on an OpenRC host is not implemented natively",
        ));
    }
    if systemd_managed(&ctx) {
        if let Some(systemctl) = get_bin_path("systemctl", &ctx.env) {
            scan.systemd(&systemctl, &mut services)?;
        }
    }
    let mut r = Map::new();
    if services.is_empty() {
        r.insert("skipped".into(), json!(true));
        r.insert(
            "msg".into(),
            json!("Failed to find any services. This can be due to privileges or some other configuration issue."),
        );
    } else {
        r.insert(
            "ansible_facts".into(),
            json!({ "services": Value::Object(services) }),
        );
    }
    if !scan.warnings.is_empty() {
        r.insert("warnings".into(), json!(scan.warnings));
    }
    Ok(r)
}
