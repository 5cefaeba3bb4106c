//! Native modules: argument validation, dispatch and the result conventions Ansible's
//! `AnsibleModule.exit_json`/`fail_json` apply.

mod apt;
mod apt_clean;
mod apt_deb;
mod apt_key;
mod apt_key_download;
mod apt_manual;
mod apt_query;
mod apt_repository;
mod args;
mod async_status;
mod backup;
mod blockinfile;
mod command;
mod copy;
mod dnf;
mod dnf_cli;
mod dnf_plan;
mod dpkg_selections;
mod file;
mod find;
mod get_url;
mod group;
mod hostname;
mod ini_file;
mod iptables;
mod lineinfile;
mod modprobe;
mod mount;
mod package_facts;
mod ping;
mod replace;
mod selinux;
mod service;
mod service_facts;
mod setup;
mod slurp;
mod stat;
mod sysctl;
mod systemd;
mod sysv_common;
mod sysvinit;
mod tempfile;
mod timezone;
mod unarchive;
mod unarchive_zip;
mod uri;
mod url_common;
mod user;
mod wait_for;
mod yum_repository;

pub use args::{validate, Kind, Param, ParamDefault};
pub use service::DECLINED as SERVICE_DECLINED;

use crate::util::fs_attrs::add_path_info;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// How a module is run: the task-level options that are not module arguments.
#[derive(Debug, Clone, Default)]
pub struct ModuleContext {
    pub check_mode: bool,
    pub diff: bool,
    /// The task's `environment:`, applied to processes started by the module.
    pub env: BTreeMap<String, String>,
}

/// A module failure: the result keys (at least `msg`) of Ansible's `fail_json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleFail(pub Map<String, Value>);

impl ModuleFail {
    pub fn msg(msg: impl Into<String>) -> ModuleFail {
        let mut m = Map::new();
        m.insert("msg".into(), Value::String(msg.into()));
        ModuleFail(m)
    }

    /// Add a result key.
    pub fn with(mut self, key: &str, value: Value) -> ModuleFail {
        self.0.insert(key.to_string(), value);
        self
    }
}

/// A result key (removed before the result leaves the agent) whose entries replace
/// parameters in `invocation.module_args`.
pub(crate) const INVOCATION_UPDATES: &str = "_rsible_invocation_updates";

/// What a module returns: exit_json keys, or fail_json keys.
pub type ModuleOutcome = Result<Map<String, Value>, ModuleFail>;

type ModuleFn = fn(&Map<String, Value>, &ModuleContext) -> ModuleOutcome;

/// A native module: its argument spec and its body.
struct NativeModule {
    name: &'static str,
    spec: &'static [Param],
    run: ModuleFn,
}

const NATIVE: &[NativeModule] = &[
    NativeModule {
        name: "async_status",
        spec: async_status::SPEC,
        run: async_status::run,
    },
    NativeModule {
        name: "ping",
        spec: ping::SPEC,
        run: ping::run,
    },
    NativeModule {
        name: "command",
        spec: command::SPEC,
        run: command::run,
    },
    NativeModule {
        name: "shell",
        spec: command::SPEC,
        run: command::run_shell,
    },
    NativeModule {
        name: "slurp",
        spec: slurp::SPEC,
        run: slurp::run,
    },
    NativeModule {
        name: "stat",
        spec: stat::SPEC,
        run: stat::run,
    },
    NativeModule {
        name: "file",
        spec: file::SPEC,
        run: file::run,
    },
    NativeModule {
        name: "copy",
        spec: copy::SPEC,
        run: copy::run,
    },
    NativeModule {
        name: "blockinfile",
        spec: blockinfile::SPEC,
        run: blockinfile::run,
    },
    NativeModule {
        name: "lineinfile",
        spec: lineinfile::SPEC,
        run: lineinfile::run,
    },
    NativeModule {
        name: "replace",
        spec: replace::SPEC,
        run: replace::run,
    },
    NativeModule {
        name: "find",
        spec: find::SPEC,
        run: find::run,
    },
    NativeModule {
        name: "tempfile",
        spec: tempfile::SPEC,
        run: tempfile::run,
    },
    NativeModule {
        name: "unarchive",
        spec: unarchive::SPEC,
        run: unarchive::run,
    },
    NativeModule {
        name: "community.general.ini_file",
        spec: ini_file::SPEC,
        run: ini_file::run,
    },
    NativeModule {
        name: "community.general.modprobe",
        spec: modprobe::SPEC,
        run: modprobe::run,
    },
    NativeModule {
        name: "ansible.posix.sysctl",
        spec: sysctl::SPEC,
        run: sysctl::run,
    },
    NativeModule {
        name: "ansible.posix.selinux",
        spec: selinux::SPEC,
        run: selinux::run_module,
    },
    NativeModule {
        name: "community.general.timezone",
        spec: timezone::SPEC,
        run: timezone::run_module,
    },
    NativeModule {
        name: "hostname",
        spec: hostname::SPEC,
        run: hostname::run,
    },
    NativeModule {
        name: "group",
        spec: group::SPEC,
        run: group::run,
    },
    NativeModule {
        name: "user",
        spec: user::SPEC,
        run: user::run,
    },
    NativeModule {
        name: "ansible.posix.mount",
        spec: mount::SPEC,
        run: mount::run,
    },
    NativeModule {
        name: "wait_for",
        spec: wait_for::SPEC,
        run: wait_for::run,
    },
    NativeModule {
        name: "systemd_service",
        spec: systemd::SPEC,
        run: systemd::run,
    },
    // ansible-core routes `systemd` to `systemd_service`.
    NativeModule {
        name: "systemd",
        spec: systemd::SPEC,
        run: systemd::run,
    },
    // The generic `service` module's OpenRC and SysV paths (its systemd and upstart
    // paths decline to the Python module, see service.rs).
    NativeModule {
        name: "service",
        spec: service::SPEC,
        run: service::run,
    },
    NativeModule {
        name: "sysvinit",
        spec: sysvinit::SPEC,
        run: sysvinit::run,
    },
    NativeModule {
        name: "service_facts",
        spec: service_facts::SPEC,
        run: service_facts::run,
    },
    NativeModule {
        name: "package_facts",
        spec: package_facts::SPEC,
        run: package_facts::run_module,
    },
    NativeModule {
        name: "apt",
        spec: apt::SPEC,
        run: apt::run,
    },
    NativeModule {
        name: "dnf",
        spec: dnf::SPEC,
        run: dnf::run,
    },
    NativeModule {
        name: "apt_repository",
        spec: apt_repository::SPEC,
        run: apt_repository::run_module,
    },
    NativeModule {
        name: "apt_key",
        spec: apt_key::SPEC,
        run: apt_key::run_module,
    },
    NativeModule {
        name: "iptables",
        spec: iptables::SPEC,
        run: iptables::run_module,
    },
    NativeModule {
        name: "yum_repository",
        spec: yum_repository::SPEC,
        run: yum_repository::run_module,
    },
    NativeModule {
        name: "dpkg_selections",
        spec: dpkg_selections::SPEC,
        run: dpkg_selections::run_module,
    },
    NativeModule {
        name: "get_url",
        spec: get_url::SPEC,
        run: get_url::run,
    },
    NativeModule {
        name: "uri",
        spec: uri::SPEC,
        run: uri::run,
    },
    NativeModule {
        name: "setup",
        spec: setup::SPEC,
        run: setup::run,
    },
];

/// The native module for a name: exact, or a collection module by its short name
/// (`ini_file` is redirected to `community.general.ini_file` by Ansible's routing).
fn lookup(short: &str) -> Option<&'static NativeModule> {
    NATIVE.iter().find(|m| m.name == short).or_else(|| {
        if short.contains('.') {
            return None;
        }
        NATIVE
            .iter()
            .find(|m| m.name.rsplit('.').next() == Some(short) && m.name.contains('.'))
    })
}

/// Strip the collection prefixes under which the builtin modules are also known.
pub fn short_name(module: &str) -> &str {
    module
        .strip_prefix("ansible.builtin.")
        .or_else(|| module.strip_prefix("ansible.legacy."))
        .unwrap_or(module)
}

/// Whether the agent implements `module` natively.
pub fn is_native(module: &str) -> bool {
    lookup(short_name(module)).is_some()
}

/// Whether the agent runs this call of `module` natively: some native modules leave
/// rarely used cases to the module's Python twin (the executor's fallback) rather
/// than approximating them. `args` are the task's arguments, before validation.
pub fn runs_natively(module: &str, args: &Map<String, Value>) -> bool {
    let Some(native) = lookup(short_name(module)) else {
        return false;
    };
    let declined = match native.name {
        "apt" => apt::declines(args),
        "apt_repository" => apt_repository::declines(args),
        "apt_key" => apt_key::declines(args),
        "dnf" => dnf::declines(args),
        "package_facts" => package_facts::declines(args),
        "replace" => replace::declines(args),
        "lineinfile" => lineinfile::declines(args),
        "blockinfile" => blockinfile::declines(args),
        "find" => find::declines(args),
        "wait_for" => wait_for::declines(args),
        "uri" => uri::declines(args),
        "get_url" => get_url::declines(args),
        _ => None,
    };
    declined.is_none()
}

/// Run a module by name and return its result JSON as Ansible's module would.
///
/// Never panics on user input and never fakes success: an unknown module is a failure.
pub fn run_module(module: &str, args: &Map<String, Value>, ctx: &ModuleContext) -> Value {
    let short = short_name(module);
    let Some(native) = lookup(short) else {
        return json!({
            "failed": true,
            "changed": false,
            "msg": format!("rsible agent: module {module} is not implemented natively"),
        });
    };
    // The shell module is the command module with `_uses_shell` set, as in Ansible.
    let mut args = args.clone();
    // The name the task called the module by, which its messages use.
    let called_as = match args.remove("_ansible_module_name") {
        Some(Value::String(name)) => name,
        _ => short.to_string(),
    };
    if short == "shell" {
        args.insert("_uses_shell".into(), Value::Bool(true));
    }
    // `cmd:` is how the free-form argument is written in dict form; Ansible's task
    // parser turns it into `_raw_params` before the module sees it.
    if matches!(short, "command" | "shell") && !args.contains_key("_raw_params") {
        if let Some(cmd) = args.remove("cmd") {
            args.insert("_raw_params".into(), cmd);
        }
    }
    // The copy action keeps `decrypt` for itself (the module has no such parameter).
    if native.name == "copy" {
        args.remove("decrypt");
    }
    // Checks Ansible's action plugins make on the controller before the module runs.
    if native.name == "unarchive" {
        if let Some(outcome) = unarchive::action_plugin(&mut args) {
            return finish(outcome, None);
        }
    }
    if native.name == "uri" {
        if let Some(outcome) = uri::action_plugin(ctx) {
            return finish(outcome, None);
        }
    }
    // Modules Ansible runs from their action plugin are named ansible.legacy.X in messages.
    let shown = match native.name {
        "command" | "shell" => "ansible.legacy.command",
        "copy" => "ansible.legacy.copy",
        "unarchive" => "ansible.legacy.unarchive",
        "uri" => "ansible.legacy.uri",
        _ => called_as.as_str(),
    };
    let (params, invocation) = match validate(shown, native.spec, &args, &ctx.env) {
        Ok(v) => v,
        Err(fail) => return finish(Err(fail), None),
    };
    let outcome = (native.run)(&params, ctx);
    finish(outcome, Some(invocation))
}

/// Apply exit_json/fail_json conventions: invocation, path info, `_lines` keys.
fn finish(outcome: ModuleOutcome, invocation: Option<Map<String, Value>>) -> Value {
    let (mut result, failed) = match outcome {
        Ok(r) => (r, false),
        Err(ModuleFail(r)) => (r, true),
    };
    if failed {
        result.insert("failed".into(), Value::Bool(true));
    }
    if !result.contains_key("changed") {
        result.insert("changed".into(), Value::Bool(false));
    }
    add_path_info(&mut result);
    // The controller side of Ansible adds these for any module returning stdout/stderr.
    for (key, lines_key) in [("stdout", "stdout_lines"), ("stderr", "stderr_lines")] {
        if let Some(Value::String(text)) = result.get(key) {
            if !result.contains_key(lines_key) {
                let lines: Vec<Value> = rsible_pytext::splitlines(text)
                    .into_iter()
                    .map(|l| Value::String(l.to_string()))
                    .collect();
                result.insert(lines_key.into(), Value::Array(lines));
            }
        }
    }
    // Parameters the module changed while running (Ansible reports module.params
    // as they are at exit, e.g. the Content-Type header uri adds).
    let updates = result.remove(INVOCATION_UPDATES);
    if let Some(mut inv) = invocation {
        if let Some(Value::Object(updates)) = updates {
            inv.extend(updates);
        }
        result.insert("invocation".into(), json!({ "module_args": inv }));
    }
    Value::Object(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_module_fails_honestly() {
        let r = run_module(
            "community.general.foo",
            &Map::new(),
            &ModuleContext::default(),
        );
        assert_eq!(r["failed"], json!(true));
        assert_eq!(
            r["msg"],
            json!("rsible agent: module community.general.foo is not implemented natively")
        );
    }

    #[test]
    fn fqcn_and_short_names_both_work() {
        let r = run_module(
            "ansible.builtin.ping",
            &Map::new(),
            &ModuleContext::default(),
        );
        assert_eq!(r["ping"], json!("pong"));
        assert!(is_native("ansible.legacy.stat"));
        assert!(!is_native("kube"));
    }
}
