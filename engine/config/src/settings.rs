//! The settings rsible reads, one line each: field, Ansible's setting name,
//! type, default, ini `(section, key)` entries and environment variables, as
//! ansible-core 2.18 declares them (config/base.yml and the option blocks of
//! the ssh connection, default callback and sh shell plugins).
//!
//! Plugin options are named `<plugin>.<option>` (`ssh.ssh_args`), base
//! settings keep Ansible's upper-case names, so `ansible-config dump` output
//! can be compared name for name.
//!
//! When several ini entries or env variables are set, the LAST one listed
//! wins, as in Ansible (`[inventory] ignore_patterns` beats
//! `[defaults] inventory_ignore_patterns`).

use std::path::PathBuf;

use crate::value::{Default as D, Kind};

/// One row of the table.
#[derive(Debug)]
pub struct SettingDef {
    /// Ansible's name (`DEFAULT_FORKS`, `ssh.ssh_args`).
    pub name: &'static str,
    /// The field of [`crate::Config`] holding the value.
    pub field: &'static str,
    pub kind: Kind,
    pub default: D,
    pub ini: &'static [(&'static str, &'static str)],
    pub env: &'static [&'static str],
    /// Allowed values; empty when any value goes.
    pub choices: &'static [&'static str],
}

/// Declares the table and the typed fields of `Config` from one list, so the
/// two cannot drift apart.
macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])*
        $field:ident : $ty:ty = $name:literal, $kind:ident, $default:expr,
            ini [$(($sec:literal, $key:literal)),*], env [$($env:literal),*]
            $(, choices [$($choice:literal),*])? ;
    )*) => {
        pub static SETTINGS: &[SettingDef] = &[$(
            SettingDef {
                name: $name,
                field: stringify!($field),
                kind: Kind::$kind,
                default: $default,
                ini: &[$(($sec, $key)),*],
                env: &[$($env),*],
                choices: &[$($($choice),*)?],
            },
        )*];

        /// Every setting, typed. Built by [`crate::Config::load`].
        #[derive(Debug, Clone, PartialEq)]
        pub struct Settings {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl Settings {
            pub(crate) fn from_values(
                get: &dyn Fn(&'static str) -> Option<crate::Value>,
            ) -> Result<Self, crate::ConfigError> {
                Ok(Settings {
                    $( $field: crate::typed::FromValue::from_value(get($name), $name)?, )*
                })
            }
        }
    };
}

settings! {
    /// `ANSIBLE_HOME`: base of the default plugin/role/collection paths. Must stay first.
    home: PathBuf = "ANSIBLE_HOME", Path, D::Str("~/.ansible"), ini[("defaults", "home")], env["ANSIBLE_HOME"];
    forks: u32 = "DEFAULT_FORKS", Int, D::Int(5), ini[("defaults", "forks")], env["ANSIBLE_FORKS"];
    remote_user: Option<String> = "DEFAULT_REMOTE_USER", Str, D::None, ini[("defaults", "remote_user")], env["ANSIBLE_REMOTE_USER"];
    remote_port: Option<i64> = "DEFAULT_REMOTE_PORT", Int, D::None, ini[("defaults", "remote_port")], env["ANSIBLE_REMOTE_PORT"];
    private_key_file: Option<PathBuf> = "DEFAULT_PRIVATE_KEY_FILE", Path, D::None, ini[("defaults", "private_key_file")], env["ANSIBLE_PRIVATE_KEY_FILE"];
    transport: String = "DEFAULT_TRANSPORT", Str, D::Str("ssh"), ini[("defaults", "transport")], env["ANSIBLE_TRANSPORT"];
    become_: bool = "DEFAULT_BECOME", Bool, D::Bool(false), ini[("privilege_escalation", "become")], env["ANSIBLE_BECOME"];
    become_method: String = "DEFAULT_BECOME_METHOD", Str, D::Str("sudo"), ini[("privilege_escalation", "become_method")], env["ANSIBLE_BECOME_METHOD"];
    become_user: String = "DEFAULT_BECOME_USER", Str, D::Str("root"), ini[("privilege_escalation", "become_user")], env["ANSIBLE_BECOME_USER"];
    become_ask_pass: bool = "DEFAULT_BECOME_ASK_PASS", Bool, D::Bool(false), ini[("privilege_escalation", "become_ask_pass")], env["ANSIBLE_BECOME_ASK_PASS"];
    become_exe: Option<String> = "DEFAULT_BECOME_EXE", Str, D::None, ini[("privilege_escalation", "become_exe")], env["ANSIBLE_BECOME_EXE"];
    become_flags: String = "DEFAULT_BECOME_FLAGS", Str, D::Str(""), ini[("privilege_escalation", "become_flags")], env["ANSIBLE_BECOME_FLAGS"];
    ask_pass: bool = "DEFAULT_ASK_PASS", Bool, D::Bool(false), ini[("defaults", "ask_pass")], env["ANSIBLE_ASK_PASS"];
    ask_vault_pass: bool = "DEFAULT_ASK_VAULT_PASS", Bool, D::Bool(false), ini[("defaults", "ask_vault_pass")], env["ANSIBLE_ASK_VAULT_PASS"];
    /// rsible writes retry files by default (Ansible: off). Deliberate difference.
    retry_files_enabled: bool = "RETRY_FILES_ENABLED", Bool, D::Bool(true), ini[("defaults", "retry_files_enabled")], env["ANSIBLE_RETRY_FILES_ENABLED"];
    retry_files_save_path: Option<PathBuf> = "RETRY_FILES_SAVE_PATH", Path, D::None, ini[("defaults", "retry_files_save_path")], env["ANSIBLE_RETRY_FILES_SAVE_PATH"];
    stdout_callback: String = "DEFAULT_STDOUT_CALLBACK", Str, D::Str("default"), ini[("defaults", "stdout_callback")], env["ANSIBLE_STDOUT_CALLBACK"];
    /// Ansible 2.18 no longer reads the old `callback_whitelist` name; neither does rsible.
    callbacks_enabled: Vec<String> = "CALLBACKS_ENABLED", List, D::List(&[]), ini[("defaults", "callbacks_enabled")], env["ANSIBLE_CALLBACKS_ENABLED"];
    load_callback_plugins: bool = "DEFAULT_LOAD_CALLBACK_PLUGINS", Bool, D::Bool(false), ini[("defaults", "bin_ansible_callbacks")], env["ANSIBLE_LOAD_CALLBACK_PLUGINS"];
    inventory: Vec<PathBuf> = "DEFAULT_HOST_LIST", PathList, D::Str("/etc/ansible/hosts"), ini[("defaults", "inventory")], env["ANSIBLE_INVENTORY"];
    roles_path: Vec<PathBuf> = "DEFAULT_ROLES_PATH", PathSpec, D::Str("{ANSIBLE_HOME}/roles:/usr/share/ansible/roles:/etc/ansible/roles"), ini[("defaults", "roles_path")], env["ANSIBLE_ROLES_PATH"];
    library: Vec<PathBuf> = "DEFAULT_MODULE_PATH", PathSpec, D::Str("{ANSIBLE_HOME}/plugins/modules:/usr/share/ansible/plugins/modules"), ini[("defaults", "library")], env["ANSIBLE_LIBRARY"];
    module_utils: Vec<PathBuf> = "DEFAULT_MODULE_UTILS_PATH", PathSpec, D::Str("{ANSIBLE_HOME}/plugins/module_utils:/usr/share/ansible/plugins/module_utils"), ini[("defaults", "module_utils")], env["ANSIBLE_MODULE_UTILS"];
    collections_path: Vec<PathBuf> = "COLLECTIONS_PATHS", PathSpec, D::Str("{ANSIBLE_HOME}/collections:/usr/share/ansible/collections"), ini[("defaults", "collections_paths"), ("defaults", "collections_path")], env["ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_COLLECTIONS_PATH"];
    fact_caching: String = "CACHE_PLUGIN", Str, D::Str("memory"), ini[("defaults", "fact_caching")], env["ANSIBLE_CACHE_PLUGIN"];
    fact_caching_connection: Option<String> = "CACHE_PLUGIN_CONNECTION", Str, D::None, ini[("defaults", "fact_caching_connection")], env["ANSIBLE_CACHE_PLUGIN_CONNECTION"];
    fact_caching_prefix: String = "CACHE_PLUGIN_PREFIX", Str, D::Str("ansible_facts"), ini[("defaults", "fact_caching_prefix")], env["ANSIBLE_CACHE_PLUGIN_PREFIX"];
    fact_caching_timeout: i64 = "CACHE_PLUGIN_TIMEOUT", Int, D::Int(86400), ini[("defaults", "fact_caching_timeout")], env["ANSIBLE_CACHE_PLUGIN_TIMEOUT"];
    gathering: String = "DEFAULT_GATHERING", Str, D::Str("implicit"), ini[("defaults", "gathering")], env["ANSIBLE_GATHERING"], choices["implicit", "explicit", "smart"];
    inject_facts_as_vars: bool = "INJECT_FACTS_AS_VARS", Bool, D::Bool(true), ini[("defaults", "inject_facts_as_vars")], env["ANSIBLE_INJECT_FACT_VARS"];
    host_key_checking: bool = "HOST_KEY_CHECKING", Bool, D::Bool(true), ini[("defaults", "host_key_checking")], env["ANSIBLE_HOST_KEY_CHECKING"];
    timeout: i64 = "DEFAULT_TIMEOUT", Int, D::Int(10), ini[("defaults", "timeout")], env["ANSIBLE_TIMEOUT"];
    task_timeout: i64 = "TASK_TIMEOUT", Int, D::Int(0), ini[("defaults", "task_timeout")], env["ANSIBLE_TASK_TIMEOUT"];
    poll_interval: i64 = "DEFAULT_POLL_INTERVAL", Int, D::Int(15), ini[("defaults", "poll_interval")], env["ANSIBLE_POLL_INTERVAL"];
    display_skipped_hosts: bool = "DISPLAY_SKIPPED_HOSTS", Bool, D::Bool(true), ini[("defaults", "display_skipped_hosts")], env["ANSIBLE_DISPLAY_SKIPPED_HOSTS"];
    display_ok_hosts: bool = "default.display_ok_hosts", Bool, D::Bool(true), ini[("defaults", "display_ok_hosts")], env["ANSIBLE_DISPLAY_OK_HOSTS"];
    display_failed_stderr: bool = "default.display_failed_stderr", Bool, D::Bool(false), ini[("defaults", "display_failed_stderr")], env["ANSIBLE_DISPLAY_FAILED_STDERR"];
    /// The json stdout callback's indent (ansible.posix.json `json_indent`).
    json_indent: i64 = "json.json_indent", Int, D::Int(4), ini[("defaults", "json_indent")], env["ANSIBLE_JSON_INDENT"];
    show_custom_stats: bool = "SHOW_CUSTOM_STATS", Bool, D::Bool(false), ini[("defaults", "show_custom_stats")], env["ANSIBLE_SHOW_CUSTOM_STATS"];
    display_args_to_stdout: bool = "DISPLAY_ARGS_TO_STDOUT", Bool, D::Bool(false), ini[("defaults", "display_args_to_stdout")], env["ANSIBLE_DISPLAY_ARGS_TO_STDOUT"];
    hash_behaviour: String = "DEFAULT_HASH_BEHAVIOUR", Str, D::Str("replace"), ini[("defaults", "hash_behaviour")], env["ANSIBLE_HASH_BEHAVIOUR"], choices["replace", "merge"];
    force_valid_group_names: String = "TRANSFORM_INVALID_GROUP_CHARS", Str, D::Str("never"), ini[("defaults", "force_valid_group_names")], env["ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS"], choices["always", "never", "ignore", "silently"];
    inventory_ignore_extensions: Vec<String> = "INVENTORY_IGNORE_EXTS", List, D::List(&[".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".ini", ".cfg", ".retry"]), ini[("defaults", "inventory_ignore_extensions"), ("inventory", "ignore_extensions")], env["ANSIBLE_INVENTORY_IGNORE"];
    inventory_ignore_patterns: Vec<String> = "INVENTORY_IGNORE_PATTERNS", List, D::List(&[]), ini[("defaults", "inventory_ignore_patterns"), ("inventory", "ignore_patterns")], env["ANSIBLE_INVENTORY_IGNORE_REGEX"];
    inventory_enabled: Vec<String> = "INVENTORY_ENABLED", List, D::List(&["host_list", "script", "auto", "yaml", "ini", "toml"]), ini[("inventory", "enable_plugins")], env["ANSIBLE_INVENTORY_ENABLED"];
    inventory_any_unparsed_is_failed: bool = "INVENTORY_ANY_UNPARSED_IS_FAILED", Bool, D::Bool(false), ini[("inventory", "any_unparsed_is_failed")], env["ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED"];
    inventory_unparsed_is_failed: bool = "INVENTORY_UNPARSED_IS_FAILED", Bool, D::Bool(false), ini[("inventory", "unparsed_is_failed")], env["ANSIBLE_INVENTORY_UNPARSED_FAILED"];
    inventory_unparsed_warning: bool = "INVENTORY_UNPARSED_WARNING", Bool, D::Bool(true), ini[("inventory", "inventory_unparsed_warning")], env["ANSIBLE_INVENTORY_UNPARSED_WARNING"];
    host_pattern_mismatch: String = "HOST_PATTERN_MISMATCH", Str, D::Str("warning"), ini[("inventory", "host_pattern_mismatch")], env["ANSIBLE_HOST_PATTERN_MISMATCH"], choices["warning", "error", "ignore"];
    localhost_warning: bool = "LOCALHOST_WARNING", Bool, D::Bool(true), ini[("defaults", "localhost_warning")], env["ANSIBLE_LOCALHOST_WARNING"];
    deprecation_warnings: bool = "DEPRECATION_WARNINGS", Bool, D::Bool(true), ini[("defaults", "deprecation_warnings")], env["ANSIBLE_DEPRECATION_WARNINGS"];
    action_warnings: bool = "ACTION_WARNINGS", Bool, D::Bool(true), ini[("defaults", "action_warnings")], env["ANSIBLE_ACTION_WARNINGS"];
    system_warnings: bool = "SYSTEM_WARNINGS", Bool, D::Bool(true), ini[("defaults", "system_warnings")], env["ANSIBLE_SYSTEM_WARNINGS"];
    /// Global pipelining; the ssh plugin has its own (`ssh_pipelining`).
    pipelining: bool = "ANSIBLE_PIPELINING", Bool, D::Bool(false), ini[("defaults", "pipelining"), ("connection", "pipelining")], env["ANSIBLE_PIPELINING"];
    vault_password_file: Option<PathBuf> = "DEFAULT_VAULT_PASSWORD_FILE", Path, D::None, ini[("defaults", "vault_password_file")], env["ANSIBLE_VAULT_PASSWORD_FILE"];
    vault_identity_list: Vec<String> = "DEFAULT_VAULT_IDENTITY_LIST", List, D::List(&[]), ini[("defaults", "vault_identity_list")], env["ANSIBLE_VAULT_IDENTITY_LIST"];
    nocolor: bool = "ANSIBLE_NOCOLOR", Bool, D::Bool(false), ini[("defaults", "nocolor")], env["ANSIBLE_NOCOLOR", "NO_COLOR"];
    force_color: bool = "ANSIBLE_FORCE_COLOR", Bool, D::Bool(false), ini[("defaults", "force_color")], env["ANSIBLE_FORCE_COLOR"];
    nocows: bool = "ANSIBLE_NOCOWS", Bool, D::Bool(false), ini[("defaults", "nocows")], env["ANSIBLE_NOCOWS"];
    interpreter_python: String = "INTERPRETER_PYTHON", Str, D::Str("auto"), ini[("defaults", "interpreter_python")], env["ANSIBLE_PYTHON_INTERPRETER"];
    interpreter_python_fallback: Vec<String> = "INTERPRETER_PYTHON_FALLBACK", List, D::List(&["python3.13", "python3.12", "python3.11", "python3.10", "python3.9", "python3.8", "/usr/bin/python3", "python3"]), ini[], env[];
    any_errors_fatal: bool = "ANY_ERRORS_FATAL", Bool, D::Bool(false), ini[("defaults", "any_errors_fatal")], env["ANSIBLE_ANY_ERRORS_FATAL"];
    force_handlers: bool = "DEFAULT_FORCE_HANDLERS", Bool, D::Bool(false), ini[("defaults", "force_handlers")], env["ANSIBLE_FORCE_HANDLERS"];
    error_on_missing_handler: bool = "ERROR_ON_MISSING_HANDLER", Bool, D::Bool(true), ini[("defaults", "error_on_missing_handler")], env["ANSIBLE_ERROR_ON_MISSING_HANDLER"];
    diff_always: bool = "DIFF_ALWAYS", Bool, D::Bool(false), ini[("diff", "always")], env["ANSIBLE_DIFF_ALWAYS"];
    diff_context: i64 = "DIFF_CONTEXT", Int, D::Int(3), ini[("diff", "context")], env["ANSIBLE_DIFF_CONTEXT"];
    strategy: String = "DEFAULT_STRATEGY", Str, D::Str("linear"), ini[("defaults", "strategy")], env["ANSIBLE_STRATEGY"];
    /// Read only to refuse `True` loudly: rsible templates the non-native way.
    jinja2_native: bool = "DEFAULT_JINJA2_NATIVE", Bool, D::Bool(false), ini[("defaults", "jinja2_native")], env["ANSIBLE_JINJA2_NATIVE"];
    allow_broken_conditionals: bool = "ALLOW_BROKEN_CONDITIONALS", Bool, D::Bool(true), ini[("defaults", "allow_broken_conditionals")], env["ANSIBLE_ALLOW_BROKEN_CONDITIONALS"];
    error_on_undefined_vars: bool = "DEFAULT_UNDEFINED_VAR_BEHAVIOR", Bool, D::Bool(true), ini[("defaults", "error_on_undefined_vars")], env["ANSIBLE_ERROR_ON_UNDEFINED_VARS"];
    duplicate_yaml_dict_key: String = "DUPLICATE_YAML_DICT_KEY", Str, D::Str("warn"), ini[("defaults", "duplicate_dict_key")], env["ANSIBLE_DUPLICATE_YAML_DICT_KEY"], choices["warn", "error", "ignore"];
    log_path: Option<PathBuf> = "DEFAULT_LOG_PATH", Path, D::None, ini[("defaults", "log_path")], env["ANSIBLE_LOG_PATH"];
    /// The base directory; Ansible makes an `ansible-local-<pid>*` dir inside it per run.
    local_tmp: PathBuf = "DEFAULT_LOCAL_TMP", TmpPath, D::Str("{ANSIBLE_HOME}/tmp"), ini[("defaults", "local_tmp")], env["ANSIBLE_LOCAL_TEMP"];
    keep_remote_files: bool = "DEFAULT_KEEP_REMOTE_FILES", Bool, D::Bool(false), ini[("defaults", "keep_remote_files")], env["ANSIBLE_KEEP_REMOTE_FILES"];
    no_log: bool = "DEFAULT_NO_LOG", Bool, D::Bool(false), ini[("defaults", "no_log")], env["ANSIBLE_NO_LOG"];
    executable: String = "DEFAULT_EXECUTABLE", Str, D::Str("/bin/sh"), ini[("defaults", "executable")], env["ANSIBLE_EXECUTABLE"];
    module_name: String = "DEFAULT_MODULE_NAME", Str, D::Str("command"), ini[("defaults", "module_name")], env[];
    private_role_vars: bool = "DEFAULT_PRIVATE_ROLE_VARS", Bool, D::Bool(false), ini[("defaults", "private_role_vars")], env["ANSIBLE_PRIVATE_ROLE_VARS"];
    invalid_task_attribute_failed: bool = "INVALID_TASK_ATTRIBUTE_FAILED", Bool, D::Bool(true), ini[("defaults", "invalid_task_attribute_failed")], env["ANSIBLE_INVALID_TASK_ATTRIBUTE_FAILED"];
    verbosity: i64 = "DEFAULT_VERBOSITY", Int, D::Int(0), ini[("defaults", "verbosity")], env["ANSIBLE_VERBOSITY"];
    playbook_dir: Option<PathBuf> = "PLAYBOOK_DIR", Path, D::None, ini[("defaults", "playbook_dir")], env["ANSIBLE_PLAYBOOK_DIR"];
    playbook_vars_root: String = "PLAYBOOK_VARS_ROOT", Str, D::Str("top"), ini[("defaults", "playbook_vars_root")], env["ANSIBLE_PLAYBOOK_VARS_ROOT"], choices["top", "bottom", "all"];
    ansible_managed: String = "DEFAULT_MANAGED_STR", Str, D::Str("Ansible managed"), ini[("defaults", "ansible_managed")], env[];

    // Options of the sh shell plugin (shell_common doc fragment).
    remote_tmp: String = "sh.remote_tmp", Str, D::Str("~/.ansible/tmp"), ini[("defaults", "remote_tmp")], env["ANSIBLE_REMOTE_TEMP", "ANSIBLE_REMOTE_TMP"];
    allow_world_readable_tmpfiles: bool = "sh.world_readable_temp", Bool, D::Bool(false), ini[("defaults", "allow_world_readable_tmpfiles")], env["ANSIBLE_SHELL_ALLOW_WORLD_READABLE_TEMP"];
    system_tmpdirs: Vec<String> = "sh.system_tmpdirs", List, D::List(&["/var/tmp", "/tmp"]), ini[("defaults", "system_tmpdirs")], env["ANSIBLE_SYSTEM_TMPDIRS"];
    async_dir: String = "sh.async_dir", Str, D::Str("~/.ansible_async"), ini[("defaults", "async_dir")], env["ANSIBLE_ASYNC_DIR"];
    admin_users: Vec<String> = "sh.admin_users", List, D::List(&["root", "toor"]), ini[("defaults", "admin_users")], env["ANSIBLE_ADMIN_USERS"];

    // Options of the ssh connection plugin (its DOCUMENTATION block).
    ssh_args: String = "ssh.ssh_args", Str, D::Str("-C -o ControlMaster=auto -o ControlPersist=60s"), ini[("ssh_connection", "ssh_args")], env["ANSIBLE_SSH_ARGS"];
    ssh_common_args: String = "ssh.ssh_common_args", Str, D::Str(""), ini[("ssh_connection", "ssh_common_args")], env["ANSIBLE_SSH_COMMON_ARGS"];
    ssh_extra_args: String = "ssh.ssh_extra_args", Str, D::Str(""), ini[("ssh_connection", "ssh_extra_args")], env["ANSIBLE_SSH_EXTRA_ARGS"];
    scp_extra_args: String = "ssh.scp_extra_args", Str, D::Str(""), ini[("ssh_connection", "scp_extra_args")], env["ANSIBLE_SCP_EXTRA_ARGS"];
    sftp_extra_args: String = "ssh.sftp_extra_args", Str, D::Str(""), ini[("ssh_connection", "sftp_extra_args")], env["ANSIBLE_SFTP_EXTRA_ARGS"];
    ssh_executable: String = "ssh.ssh_executable", Str, D::Str("ssh"), ini[("ssh_connection", "ssh_executable")], env["ANSIBLE_SSH_EXECUTABLE"];
    sftp_executable: String = "ssh.sftp_executable", Str, D::Str("sftp"), ini[("ssh_connection", "sftp_executable")], env["ANSIBLE_SFTP_EXECUTABLE"];
    scp_executable: String = "ssh.scp_executable", Str, D::Str("scp"), ini[("ssh_connection", "scp_executable")], env["ANSIBLE_SCP_EXECUTABLE"];
    /// Raw, `%%` and all: the ssh plugin %-formats it (`%(directory)s`, `%%` -> `%`).
    control_path: Option<String> = "ssh.control_path", Str, D::None, ini[("ssh_connection", "control_path")], env["ANSIBLE_SSH_CONTROL_PATH"];
    control_path_dir: String = "ssh.control_path_dir", Str, D::Str("~/.ansible/cp"), ini[("ssh_connection", "control_path_dir")], env["ANSIBLE_SSH_CONTROL_PATH_DIR"];
    ssh_retries: i64 = "ssh.reconnection_retries", Int, D::Int(0), ini[("connection", "retries"), ("ssh_connection", "retries")], env["ANSIBLE_SSH_RETRIES"];
    ssh_pipelining: bool = "ssh.pipelining", Bool, D::Bool(false), ini[("defaults", "pipelining"), ("connection", "pipelining"), ("ssh_connection", "pipelining")], env["ANSIBLE_PIPELINING", "ANSIBLE_SSH_PIPELINING"];
    ssh_host_key_checking: bool = "ssh.host_key_checking", Bool, D::Bool(true), ini[("defaults", "host_key_checking"), ("ssh_connection", "host_key_checking")], env["ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_SSH_HOST_KEY_CHECKING"];
    ssh_timeout: i64 = "ssh.timeout", Int, D::Int(10), ini[("defaults", "timeout"), ("ssh_connection", "timeout")], env["ANSIBLE_TIMEOUT", "ANSIBLE_SSH_TIMEOUT"];
    ssh_transfer_method: String = "ssh.ssh_transfer_method", Str, D::Str("smart"), ini[("ssh_connection", "transfer_method")], env["ANSIBLE_SSH_TRANSFER_METHOD"], choices["sftp", "scp", "piped", "smart"];
    sftp_batch_mode: bool = "ssh.sftp_batch_mode", Bool, D::Bool(true), ini[("ssh_connection", "sftp_batch_mode")], env["ANSIBLE_SFTP_BATCH_MODE"];
    ssh_use_tty: bool = "ssh.use_tty", Bool, D::Bool(true), ini[("ssh_connection", "usetty")], env["ANSIBLE_SSH_USETTY"];
    sshpass_prompt: String = "ssh.sshpass_prompt", Str, D::Str(""), ini[("ssh_connection", "sshpass_prompt")], env["ANSIBLE_SSHPASS_PROMPT"];
    pkcs11_provider: String = "ssh.pkcs11_provider", Str, D::Str(""), ini[("ssh_connection", "pkcs11_provider")], env["ANSIBLE_PKCS11_PROVIDER"];
}

/// The definition of a setting by Ansible name or by field name.
pub fn find(name: &str) -> Option<&'static SettingDef> {
    SETTINGS.iter().find(|d| d.name == name || d.field == name)
}
