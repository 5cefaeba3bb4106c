//! `ansible.posix.selinux`: the SELinux mode and policy in the configuration file
//! (`configfile`, /etc/selinux/config by default), the running mode through selinuxfs
//! (`setenforce`) and, with `update_kernel_param`, `selinux=0` on the kernel command
//! lines through grubby — as the collection's module does, its messages, warnings,
//! `reboot_required` and check mode included. The running system is read as
//! libselinux reads it (`util/libselinux.rs`); no Python binding is needed.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::atomic::{write_atomic, NewMode};
use crate::util::bin_path::get_bin_path;
use crate::util::libselinux::Runtime;
use crate::util::run::{argv, run};
use serde_json::{json, Map, Value};
use std::fs;
use std::path::Path;

pub const SPEC: &[Param] = &[
    Param::new("policy", Kind::Str),
    Param::new("state", Kind::Str)
        .required()
        .choices(&["enforcing", "permissive", "disabled"]),
    Param::new("configfile", Kind::Str)
        .default(ParamDefault::Str("/etc/selinux/config"))
        .aliases(&["conf", "file"]),
    Param::new("update_kernel_param", Kind::Bool).default(ParamDefault::Bool(false)),
];

pub fn run_module(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    run_with(params, ctx, &Runtime::detect())
}

/// Python's `'%s' % value` of an optional string.
fn shown(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "None".into())
}

/// `get_file_lines(path, strip=False)`: the file's lines (Python's splitlines), none
/// for a missing, unreadable, empty or undecodable file.
fn file_lines(path: &str) -> Vec<String> {
    let Ok(text) = fs::read(path).map(String::from_utf8) else {
        return Vec::new();
    };
    let text = text.unwrap_or_default();
    rsible_pytext::splitlines(&text)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// The value of the first `KEY=` line: what lies between the first and the second
/// `=`, stripped.
fn config_value(lines: &[String], key: &str) -> Option<String> {
    let prefix = format!("{key}=");
    lines
        .iter()
        .find(|l| l.starts_with(&prefix))
        .map(|l| l.split('=').nth(1).unwrap_or_default().trim().to_string())
}

/// Rewrite every `KEY=` line as `KEY=value` (appending one when there is none);
/// every line is written back with a newline.
fn set_config_value(path: &str, key: &str, value: &str) -> Result<(), ModuleFail> {
    let prefix = format!("{key}=");
    let mut text = String::new();
    let mut found = false;
    for line in file_lines(path) {
        if line.starts_with(&prefix) {
            found = true;
            text += &format!("{prefix}{value}\n");
        } else {
            text += &line;
            text.push('\n');
        }
    }
    if !found {
        text += &format!("{prefix}{value}\n");
    }
    write_atomic(Path::new(path), &mut text.as_bytes(), NewMode::KeepExisting)
        .map(|_| ())
        .map_err(|e| {
            ModuleFail::msg(format!(
                "Unable to make {path} into to {path}, failed final rename from {path}: {e}"
            ))
        })
}

/// `get_kernel_enabled`: whether every kernel's command line lacks `selinux=0`
/// (Some(true)), every one has it (Some(false)), or they disagree (None).
fn kernel_enabled(grubby: &str, ctx: &ModuleContext) -> Result<Option<bool>, ModuleFail> {
    let o = run(&argv([grubby, "--info=ALL"]), ctx, None)?;
    if o.rc != 0 {
        return Err(ModuleFail::msg("unable to run grubby"));
    }
    let (mut all_enabled, mut all_disabled) = (true, true);
    for line in o.out.split('\n') {
        let Some(args) = line
            .strip_prefix("args=\"")
            .and_then(|rest| rest.strip_suffix('"'))
        else {
            continue;
        };
        if args.split(' ').any(|a| a == "selinux=0") {
            all_enabled = false;
        } else {
            all_disabled = false;
        }
    }
    Ok((all_enabled != all_disabled).then_some(all_enabled))
}

fn set_kernel_enabled(grubby: &str, enable: bool, ctx: &ModuleContext) -> Result<(), ModuleFail> {
    let action = if enable { "--remove-args" } else { "--args" };
    let o = run(
        &argv([grubby, "--update-kernel=ALL", action, "selinux=0"]),
        ctx,
        None,
    )?;
    if o.rc == 0 {
        return Ok(());
    }
    Err(ModuleFail::msg(if enable {
        "unable to remove selinux=0 from kernel config"
    } else {
        "unable to add selinux=0 to kernel config"
    }))
}

fn set_runtime(rt: &Runtime, enforcing: bool) -> Result<(), ModuleFail> {
    rt.set_enforcing(enforcing).map_err(|e| {
        ModuleFail::msg(format!(
            "rsible agent: setting the SELinux mode through selinuxfs failed: {e}"
        ))
    })
}

/// The module against a given view of the running system (tests pass their own).
pub fn run_with(params: &Map<String, Value>, ctx: &ModuleContext, rt: &Runtime) -> ModuleOutcome {
    let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let configfile = s("configfile").unwrap_or_else(|| "/etc/selinux/config".into());
    let state = s("state").unwrap_or_default();
    let mut policy = s("policy");
    let update_kernel_param = params
        .get("update_kernel_param")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    let runtime_enabled = rt.enabled();
    let runtime_policy = rt.policy_type();
    let runtime_state = match (runtime_enabled, rt.enforcing()) {
        (false, _) => "disabled",
        (true, Some(true)) => "enforcing",
        (true, _) => "permissive",
    };

    if !Path::new(&configfile).is_file() {
        return Err(
            ModuleFail::msg(format!("Unable to find file {configfile}")).with(
                "details",
                json!("Please install SELinux-policy package, if this package is not installed previously."),
            ),
        );
    }
    let lines = file_lines(&configfile);
    let config_policy = config_value(&lines, "SELINUXTYPE");
    let config_state = config_value(&lines, "SELINUX");

    let mut grubby = None;
    let mut kernel_state = None;
    if update_kernel_param {
        let Some(bin) = get_bin_path("grubby", &ctx.env) else {
            return Err(ModuleFail::msg("'grubby' command not found on host").with(
                "details",
                json!("In order to update the kernel command lineenabled/disabled setting, the grubby packageneeds to be present on the system."),
            ));
        };
        kernel_state = kernel_enabled(&bin, ctx)?;
        grubby = Some(bin);
    }

    let policy_empty = policy.as_deref().is_none_or(str::is_empty);
    if state != "disabled" {
        if policy_empty {
            return Err(ModuleFail::msg(
                "Policy is required if state is not 'disabled'",
            ));
        }
    } else if policy_empty {
        policy = config_policy.clone();
    }

    // In check mode the module stops at the first policy difference.
    let check_mode_exit = || {
        let mut r = Map::new();
        r.insert("changed".into(), json!(true));
        r
    };
    let mut changed = false;
    let mut msgs: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut reboot_required = false;

    if policy.as_deref() != Some(runtime_policy.as_str()) {
        if ctx.check_mode {
            return Ok(check_mode_exit());
        }
        msgs.push(format!(
            "Running SELinux policy changed from '{runtime_policy}' to '{}'",
            shown(&policy)
        ));
        changed = true;
    }

    if policy != config_policy {
        if ctx.check_mode {
            return Ok(check_mode_exit());
        }
        let name = shown(&policy);
        if !Path::new(&format!("/etc/selinux/{name}/policy")).exists() {
            return Err(ModuleFail::msg(format!(
                "Policy {name} does not exist in /etc/selinux/"
            )));
        }
        set_config_value(&configfile, "SELINUXTYPE", &name)?;
        msgs.push(format!(
            "SELinux policy configuration in '{configfile}' changed from '{}' to '{name}'",
            shown(&config_policy)
        ));
        changed = true;
    }

    if state != runtime_state {
        if runtime_enabled {
            if state == "disabled" {
                if runtime_state != "permissive" {
                    if !ctx.check_mode {
                        set_runtime(rt, false)?;
                    }
                    warnings.push(format!("SELinux state temporarily changed from '{runtime_state}' to 'permissive'. State change will take effect next reboot."));
                    changed = true;
                } else {
                    warnings.push("SELinux state change will take effect next reboot".into());
                }
                reboot_required = true;
            } else {
                if !ctx.check_mode {
                    set_runtime(rt, state == "enforcing")?;
                }
                msgs.push(format!(
                    "SELinux state changed from '{runtime_state}' to '{state}'"
                ));
                changed = true;
            }
        } else {
            warnings.push(format!(
                "Reboot is required to set SELinux state to '{state}'"
            ));
            reboot_required = true;
        }
    }

    if Some(state.as_str()) != config_state.as_deref() {
        if !ctx.check_mode {
            set_config_value(&configfile, "SELINUX", &state)?;
        }
        msgs.push(format!(
            "Config SELinux state changed from '{}' to '{state}'",
            shown(&config_state)
        ));
        changed = true;
    }

    let requested_enabled = matches!(state.as_str(), "enforcing" | "permissive");
    if let Some(bin) = grubby.filter(|_| kernel_state != Some(requested_enabled)) {
        if !ctx.check_mode {
            set_kernel_enabled(&bin, requested_enabled, ctx)?;
        }
        let (from, to) = if requested_enabled {
            ("disabled", "enabled")
        } else {
            ("enabled", "disabled")
        };
        let from = if kernel_state.is_none() {
            "<inconsistent>"
        } else {
            from
        };
        msgs.push(format!(
            "Kernel SELinux state changed from '{from}' to '{to}'"
        ));
        changed = true;
    }

    let mut r = Map::new();
    r.insert("changed".into(), json!(changed));
    r.insert("msg".into(), json!(msgs.join(", ")));
    r.insert("configfile".into(), json!(configfile));
    r.insert("policy".into(), json!(policy));
    r.insert("state".into(), json!(state));
    r.insert("reboot_required".into(), json!(reboot_required));
    if !warnings.is_empty() {
        r.insert("warnings".into(), json!(warnings));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A fake running SELinux (selinuxfs directory with `enforce`, its own
    /// libselinux config) and the module's config file, in a temporary directory.
    struct Fake {
        dir: tempfile::TempDir,
        rt: Runtime,
    }

    fn fake(enforce: Option<&str>, runtime_config: &str, configfile: &str) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let fs_dir = dir.path().join("selinuxfs");
        fs::create_dir(&fs_dir).unwrap();
        let rt_config = dir.path().join("libselinux-config");
        fs::write(&rt_config, runtime_config).unwrap();
        fs::write(dir.path().join("config"), configfile).unwrap();
        let mount = enforce.map(|e| {
            fs::write(fs_dir.join("enforce"), e).unwrap();
            fs_dir.clone()
        });
        Fake {
            rt: Runtime {
                mount,
                config: rt_config,
            },
            dir,
        }
    }

    impl Fake {
        fn run(&self, args: Value, check_mode: bool) -> ModuleOutcome {
            let mut params = args.as_object().cloned().unwrap_or_default();
            params.insert(
                "configfile".into(),
                json!(self.config().display().to_string()),
            );
            params.entry("update_kernel_param").or_insert(json!(false));
            let ctx = ModuleContext {
                check_mode,
                ..Default::default()
            };
            run_with(&params, &ctx, &self.rt)
        }
        fn config(&self) -> PathBuf {
            self.dir.path().join("config")
        }
        fn enforce(&self) -> String {
            fs::read_to_string(self.dir.path().join("selinuxfs/enforce")).unwrap()
        }
    }

    const TARGETED: &str = "SELINUXTYPE=targeted\n";

    #[test]
    fn enforcing_to_permissive_sets_the_running_mode_and_the_file() {
        let f = fake(
            Some("1"),
            TARGETED,
            "# c\nSELINUX=enforcing\nSELINUXTYPE=targeted\n",
        );
        let r = f
            .run(json!({"state": "permissive", "policy": "targeted"}), false)
            .unwrap();
        assert_eq!(r["changed"], json!(true));
        assert_eq!(
            r["msg"],
            json!("SELinux state changed from 'enforcing' to 'permissive', Config SELinux state changed from 'enforcing' to 'permissive'")
        );
        assert_eq!(r["reboot_required"], json!(false));
        assert_eq!(f.enforce(), "0");
        assert_eq!(
            fs::read_to_string(f.config()).unwrap(),
            "# c\nSELINUX=permissive\nSELINUXTYPE=targeted\n"
        );
        let again = f
            .run(json!({"state": "permissive", "policy": "targeted"}), false)
            .unwrap();
        assert_eq!(again["changed"], json!(false));
        assert_eq!(again["msg"], json!(""));
    }

    #[test]
    fn disabling_an_enforcing_system_goes_permissive_until_reboot() {
        let f = fake(
            Some("1"),
            TARGETED,
            "SELINUX=enforcing\nSELINUXTYPE=targeted\n",
        );
        let r = f.run(json!({"state": "disabled"}), true).unwrap();
        assert_eq!(f.enforce(), "1", "check mode changes nothing");
        assert_eq!(r["changed"], json!(true));
        let r = f.run(json!({"state": "disabled"}), false).unwrap();
        assert_eq!(f.enforce(), "0");
        assert_eq!(r["policy"], json!("targeted"));
        assert_eq!(r["reboot_required"], json!(true));
        assert_eq!(
            r["warnings"],
            json!(["SELinux state temporarily changed from 'enforcing' to 'permissive'. State change will take effect next reboot."])
        );
        let r = f.run(json!({"state": "disabled"}), false).unwrap();
        assert_eq!(r["changed"], json!(false));
        assert_eq!(
            r["warnings"],
            json!(["SELinux state change will take effect next reboot"])
        );
    }

    #[test]
    fn a_policy_other_than_the_running_one_stops_check_mode() {
        let f = fake(
            Some("0"),
            TARGETED,
            "SELINUX=permissive\nSELINUXTYPE=targeted\n",
        );
        let r = f
            .run(json!({"state": "permissive", "policy": "mls"}), true)
            .unwrap();
        assert_eq!(r, Map::from_iter([("changed".to_string(), json!(true))]));
    }

    #[test]
    fn bad_input_fails_with_the_modules_messages() {
        let f = fake(None, TARGETED, "SELINUX=disabled\n");
        let e = f.run(json!({"state": "enforcing"}), false).unwrap_err();
        assert_eq!(
            e.0["msg"],
            json!("Policy is required if state is not 'disabled'")
        );
        let mut params = Map::new();
        params.insert("state".into(), json!("disabled"));
        params.insert("configfile".into(), json!("/nonexistent/rsible/config"));
        let e = run_with(&params, &ModuleContext::default(), &f.rt).unwrap_err();
        assert_eq!(
            e.0["msg"],
            json!("Unable to find file /nonexistent/rsible/config")
        );
    }
}
