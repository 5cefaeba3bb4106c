//! The keywords each playbook object accepts (ansible-core 2.18's field
//! attributes), used to reject unknown keys as Ansible does.

pub const PLAY: &[&str] = &[
    "any_errors_fatal",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "diff",
    "environment",
    "fact_path",
    "force_handlers",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "handlers",
    "hosts",
    "ignore_errors",
    "ignore_unreachable",
    "max_fail_percentage",
    "module_defaults",
    "name",
    "no_log",
    "order",
    "port",
    "post_tasks",
    "pre_tasks",
    "remote_user",
    "roles",
    "run_once",
    "serial",
    "strategy",
    "tags",
    "tasks",
    "throttle",
    "timeout",
    "vars",
    "vars_files",
    "vars_prompt",
];

pub const BLOCK: &[&str] = &[
    "always",
    "any_errors_fatal",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "block",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "ignore_errors",
    "ignore_unreachable",
    "module_defaults",
    "name",
    "no_log",
    "notify",
    "port",
    "remote_user",
    "rescue",
    "run_once",
    "tags",
    "throttle",
    "timeout",
    "vars",
    "when",
];

pub const TASK: &[&str] = &[
    "action",
    "any_errors_fatal",
    "args",
    "async",
    "async_val",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "changed_when",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "delay",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "failed_when",
    "ignore_errors",
    "ignore_unreachable",
    "loop",
    "loop_control",
    "loop_with",
    "module_defaults",
    "name",
    "no_log",
    "notify",
    "poll",
    "port",
    "register",
    "remote_user",
    "retries",
    "run_once",
    "tags",
    "throttle",
    "timeout",
    "until",
    "vars",
    "when",
];

/// Handlers accept every task keyword plus `listen`.
pub const HANDLER_EXTRA: &[&str] = &["listen"];

/// Keys of a role entry (`roles:` item, meta dependency) that are keywords;
/// every other key is a role parameter.
pub const ROLE_ENTRY: &[&str] = &[
    "any_errors_fatal",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "ignore_errors",
    "ignore_unreachable",
    "module_defaults",
    "name",
    "no_log",
    "port",
    "remote_user",
    "role",
    "run_once",
    "tags",
    "throttle",
    "timeout",
    "vars",
    "when",
];

pub const PLAYBOOK_INCLUDE: &[&str] = &[
    "any_errors_fatal",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "check_mode",
    "connection",
    "debugger",
    "diff",
    "environment",
    "ignore_errors",
    "ignore_unreachable",
    "import_playbook",
    "module_defaults",
    "name",
    "no_log",
    "port",
    "remote_user",
    "run_once",
    "tags",
    "throttle",
    "timeout",
    "vars",
    "vars_val",
    "when",
];

/// Arguments `include_tasks`/`import_tasks` accept.
pub const TASK_INCLUDE_ARGS: &[&str] = &["_raw_params", "apply", "file"];
/// Arguments `include_role`/`import_role` accept.
pub const ROLE_INCLUDE_ARGS: &[&str] = &[
    "allow_duplicates",
    "apply",
    "defaults_from",
    "handlers_from",
    "name",
    "public",
    "role",
    "rolespec_validate",
    "tasks_from",
    "vars_from",
];

/// Keys the action parser never takes for a module name: task and handler
/// keywords plus `local_action` and the removed `static`.
pub fn is_task_attribute(key: &str) -> bool {
    TASK.contains(&key) || HANDLER_EXTRA.contains(&key) || key == "local_action" || key == "static"
}

/// Names of actions, in their three spellings (short, ansible.builtin., ansible.legacy.).
fn is_builtin_spelling(action: &str, short: &str) -> bool {
    action == short
        || action.strip_prefix("ansible.builtin.") == Some(short)
        || action.strip_prefix("ansible.legacy.") == Some(short)
}

pub fn is_meta(action: &str) -> bool {
    is_builtin_spelling(action, "meta")
}
pub fn is_import_tasks(action: &str) -> bool {
    is_builtin_spelling(action, "import_tasks")
}
pub fn is_include_tasks(action: &str) -> bool {
    is_builtin_spelling(action, "include_tasks")
}
pub fn is_import_role(action: &str) -> bool {
    is_builtin_spelling(action, "import_role")
}
pub fn is_include_role(action: &str) -> bool {
    is_builtin_spelling(action, "include_role")
}
pub fn is_import_playbook(action: &str) -> bool {
    is_builtin_spelling(action, "import_playbook")
}

/// Actions that are always recognised, whatever modules are installed.
pub fn is_builtin_task(action: &str) -> bool {
    is_meta(action)
        || is_import_tasks(action)
        || is_include_tasks(action)
        || is_import_role(action)
        || is_include_role(action)
}

/// Modules whose string argument is free-form text (`_raw_params`).
pub fn is_freeform(action: &str) -> bool {
    [
        "command",
        "raw",
        "script",
        "shell",
        "win_command",
        "win_shell",
    ]
    .iter()
    .any(|m| is_builtin_spelling(action, m))
        || action == "ansible.windows.win_command"
        || action == "ansible.windows.win_shell"
}

/// The short names of modules allowed to keep `_raw_params`, in the order
/// Ansible prints them in its "extra params" error (a Python set's order,
/// recorded from ansible-core 2.18).
pub const RAW_PARAM_MODULES_SIMPLE: &[&str] = &[
    "include_vars",
    "raw",
    "set_fact",
    "import_tasks",
    "group_by",
    "meta",
    "include_tasks",
    "win_shell",
    "command",
    "add_host",
    "include_role",
    "shell",
    "win_command",
    "import_role",
    "script",
];

pub fn allows_raw_params(action: &str) -> bool {
    RAW_PARAM_MODULES_SIMPLE
        .iter()
        .any(|m| is_builtin_spelling(action, m))
        || action == "ansible.windows.win_command"
        || action == "ansible.windows.win_shell"
}
