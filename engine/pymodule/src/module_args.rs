//! The document a module reads its arguments from:
//! `{"ANSIBLE_MODULE_ARGS": {<task args>, "_ansible_*": ...}}`, with the
//! internal keys ansible-core 2.18 adds before running any module (its action
//! base's `_update_module_args`), set to the values Ansible's defaults give.

use serde_json::{json, Map, Value};

/// Task-level settings the module sees through internal keys.
#[derive(Debug, Clone, Default)]
pub struct ModuleRunSettings {
    pub check_mode: bool,
    pub diff: bool,
    pub no_log: bool,
    pub verbosity: u8,
    /// The name the task called the module by (`community.general.ini_file`).
    pub module_name: String,
    /// The ansible-core version reported to modules.
    pub ansible_version: String,
    /// `remote_tmp` (Ansible's default `~/.ansible/tmp`).
    pub remote_tmp: String,
}

/// The JSON text sent to the module on stdin.
pub fn document(args: &Map<String, Value>, settings: &ModuleRunSettings) -> String {
    let mut all = args.clone();
    let internal = json!({
        "_ansible_check_mode": settings.check_mode,
        "_ansible_no_log": settings.no_log,
        "_ansible_debug": false,
        "_ansible_diff": settings.diff,
        "_ansible_verbosity": settings.verbosity,
        "_ansible_version": settings.ansible_version,
        "_ansible_module_name": settings.module_name,
        "_ansible_syslog_facility": "LOG_USER",
        "_ansible_selinux_special_fs": ["fuse", "nfs", "vboxsf", "ramfs", "9p", "vfat"],
        "_ansible_string_conversion_action": "warn",
        "_ansible_socket": null,
        "_ansible_shell_executable": "/bin/sh",
        "_ansible_keep_remote_files": false,
        // The agent sets the scratch directory of each run (see bootstrap.py).
        "_ansible_tmpdir": null,
        "_ansible_remote_tmp": settings.remote_tmp,
        "_ansible_ignore_unknown_opts": false,
    });
    if let Value::Object(internal) = internal {
        all.extend(internal);
    }
    json!({ "ANSIBLE_MODULE_ARGS": all }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_keys_join_the_task_args() {
        let mut args = Map::new();
        args.insert("name".into(), json!("x"));
        let settings = ModuleRunSettings {
            check_mode: true,
            module_name: "kube".into(),
            ansible_version: "2.18.0".into(),
            remote_tmp: "~/.ansible/tmp".into(),
            ..Default::default()
        };
        let doc: Value = serde_json::from_str(&document(&args, &settings)).unwrap();
        let a = &doc["ANSIBLE_MODULE_ARGS"];
        assert_eq!(a["name"], "x");
        assert_eq!(a["_ansible_check_mode"], true);
        assert_eq!(a["_ansible_diff"], false);
        assert_eq!(a["_ansible_module_name"], "kube");
        assert_eq!(a["_ansible_remote_tmp"], "~/.ansible/tmp");
    }
}
