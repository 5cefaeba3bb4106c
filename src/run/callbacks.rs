//! The stdout callback (`stdout_callback`: `default` or `json`) and the
//! callbacks ansible.cfg's `callbacks_enabled` (`ANSIBLE_CALLBACKS_ENABLED`)
//! asks for besides it: `profile_tasks` is built in; any other is named in a
//! warning and left out (it only adds output).

use rsible_config::Config;
use rsible_executor::output::default_callback::{DefaultCallback, Sink};
use rsible_executor::output::json_callback::JsonOptions;
use rsible_executor::output::profile_tasks::ProfileOptions;

use crate::print_warning;

/// Enables the requested callbacks on `callback`; an invalid option of one
/// of them is an error (Ansible refuses it too).
pub fn enable<S: Sink>(
    callback: &mut DefaultCallback<S>,
    enabled: &[String],
) -> Result<(), String> {
    for name in enabled {
        match name.trim() {
            "" => {}
            "profile_tasks" | "ansible.posix.profile_tasks" => {
                callback.enable_profile_tasks(ProfileOptions::from_env()?);
            }
            other => print_warning(&format!(
                "rsible does not implement the callback plugin '{other}'; it is skipped"
            )),
        }
    }
    Ok(())
}

/// The stdout callbacks rsible implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdoutCallback {
    Default,
    Json,
}

/// The stdout callback a `stdout_callback` value names, with the names
/// ansible-core 2.18 resolves to it (`json` redirects to `ansible.posix.json`).
pub fn stdout_callback(name: &str) -> Option<StdoutCallback> {
    match name.trim() {
        "default" | "ansible.builtin.default" => Some(StdoutCallback::Default),
        "json" | "ansible.builtin.json" | "ansible.posix.json" => Some(StdoutCallback::Json),
        _ => None,
    }
}

/// Puts the configured stdout callback in place (the default one needs nothing).
pub fn select_stdout<S: Sink>(callback: &mut DefaultCallback<S>, config: &Config) {
    if stdout_callback(&config.stdout_callback) == Some(StdoutCallback::Json) {
        callback.enable_json_stdout(JsonOptions::new(
            config.json_indent,
            config.show_custom_stats,
        ));
    }
}
