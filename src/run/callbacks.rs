//! The callbacks ansible.cfg's `callbacks_enabled` (`ANSIBLE_CALLBACKS_ENABLED`)
//! asks for, besides the stdout callback: `profile_tasks` is built in; any
//! other is named in a warning and left out (it only adds output).

use rsible_executor::output::default_callback::{DefaultCallback, Sink};
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
