//! The part of ansible-core's `uri` action plugin that runs before its module:
//! the plugin does not support check mode, so a uri task in check mode is
//! skipped with the plugin's message (naming the action as the task wrote it).
//! The rest of the plugin (sending a controller-side `src`) is left to the
//! Python fallback, which refuses it by name.

use serde_json::{json, Map, Value};

/// The skipped result for a check-mode run, or None when the module should run.
pub(super) fn check_mode_skip(task_action: &str, check_mode: bool) -> Option<Map<String, Value>> {
    if !check_mode {
        return None;
    }
    // Raised as AnsibleActionSkip: the result has no `failed` key.
    let result = json!({
        "changed": false,
        "skipped": true,
        "msg": format!("This action ({task_action}) does not support check mode."),
    });
    let mut result = result.as_object().cloned()?;
    result.insert(super::results::RAISED_BY_ACTION.into(), Value::Bool(true));
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_only_in_check_mode() {
        assert!(check_mode_skip("uri", false).is_none());
        let r = check_mode_skip("ansible.builtin.uri", true).unwrap_or_default();
        assert_eq!(
            r["msg"],
            json!("This action (ansible.builtin.uri) does not support check mode.")
        );
        assert_eq!(r["skipped"], json!(true));
    }
}
