//! Failures Ansible's action plugins raise (AnsibleActionFail, AnsibleFileNotFound):
//! their results carry an `exception` text, whose last line the default callback
//! prints as "An exception occurred during task execution...".

use serde_json::{json, Map, Value as Json};

/// `traceback.format_exc()` when AnsibleActionFail is raised outside an except block.
const NO_TRACEBACK: &str = "NoneType: None\n";

const REMOTE_SRC_HINT: &str =
    "If you are using a module and expect the file to exist on the remote, see the remote_src option";

/// `raise AnsibleActionFail(msg)`.
pub(super) fn action_fail(msg: &str) -> Map<String, Json> {
    let mut r = Map::new();
    r.insert("failed".into(), Json::Bool(true));
    r.insert("msg".into(), Json::String(msg.to_string()));
    r.insert("exception".into(), Json::String(NO_TRACEBACK.into()));
    r
}

/// A `src` the action cannot find on the controller (`_find_needle`). An absolute
/// path gets Ansible's full message; a relative one is searched in paths rsible
/// does not list, so it keeps the short form.
pub(super) fn source_not_found(src: &str) -> Map<String, Json> {
    if !src.starts_with('/') {
        let r = json!({"failed": true, "msg": format!("Could not find or access '{src}'")});
        return r.as_object().cloned().unwrap_or_default();
    }
    let msg =
        format!("Could not find or access '{src}' on the Ansible Controller.\n{REMOTE_SRC_HINT}");
    let mut r = Map::new();
    r.insert("failed".into(), Json::Bool(true));
    r.insert("msg".into(), Json::String(msg.clone()));
    r.insert("exception".into(), Json::String(format!("{msg}\n")));
    r
}

/// The copy action's own argument checks, before anything runs (plain failed
/// results, not raised): src or content, then dest, then not both src and content.
pub(super) fn copy_args_error(args: &Map<String, Json>) -> Option<Map<String, Json>> {
    let given = |k: &str| args.get(k).filter(|v| !v.is_null());
    let truthy = |v: &Json| match v {
        Json::String(s) => !s.is_empty(),
        Json::Bool(b) => *b,
        Json::Null => false,
        _ => true,
    };
    let msg = if !given("src").is_some_and(truthy) && given("content").is_none() {
        "src (or content) is required"
    } else if !given("dest").is_some_and(truthy) {
        "dest is required"
    } else if given("src").is_some_and(truthy) && given("content").is_some() {
        "src and content are mutually exclusive"
    } else {
        return None;
    };
    let r = json!({"failed": true, "msg": msg});
    r.as_object().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_sources_get_ansibles_message_and_exception() {
        let r = source_not_found("/nowhere/a.txt");
        assert_eq!(
            r["msg"],
            json!("Could not find or access '/nowhere/a.txt' on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option")
        );
        assert!(r["exception"]
            .as_str()
            .is_some_and(|e| e.trim_end().ends_with("see the remote_src option")));
        assert_eq!(action_fail("x")["exception"], json!("NoneType: None\n"));
    }
}
