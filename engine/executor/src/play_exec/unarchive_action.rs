//! The `unarchive` action with a controller-side `src` (`remote_src: false`,
//! the default, or the old `copy: yes`), as Ansible's unarchive action plugin
//! runs it: `creates` checked on the target, the archive found on the
//! controller as the script action finds its script (`_find_needle('files',
//! ...)`) and decrypted when vaulted (`decrypt`), `dest` an existing directory
//! on the target, the archive sent to a private temporary directory there and
//! the native module run on it (`src` = that file), the directory removed
//! after. An archive already on the target (`remote_src: true`, `copy: no`)
//! goes to the module directly: the agent makes the same checks there.

use rsible_playbook::Task;
use serde_json::{json, Map, Value as Json};

use super::{loose_boolean, obj, Executor, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::vars::VarLayers;

/// Whether the task's archive is on the controller: `copy` (the old name,
/// inverted) when given alone, else `remote_src`. Both given is the
/// module's own error (the agent reports it).
pub(super) fn controller_side_src(args: &Map<String, Json>) -> bool {
    match (args.get("copy"), args.contains_key("remote_src")) {
        (Some(copy), false) => loose_boolean(Some(copy), false),
        (Some(_), true) => false,
        (None, _) => !loose_boolean(args.get("remote_src"), false),
    }
}

impl<S: Sink> Executor<'_, S> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn unarchive_action(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        args: &Map<String, Json>,
    ) -> Map<String, Json> {
        // Several dependent calls and a transfer: not made ahead in rounds.
        if self.prefetch.refuse_while_recording(host) {
            return obj(json!({"failed": true, "msg": "(prefetch placeholder)"}));
        }
        let mut args = args.clone();
        if let Some(copy) = args.remove("copy") {
            args.insert(
                "remote_src".into(),
                Json::Bool(!loose_boolean(Some(&copy), false)),
            );
        }
        let text = |k: &str| match args.get(k) {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        let (Some(src), Some(dest)) = (text("src"), text("dest")) else {
            return super::action_fail::action_fail("src (or content) and dest are required");
        };
        if let Some(creates) = text("creates").filter(|c| !c.is_empty()) {
            let creates = match self.remote_expand_user(host, scope, delegate, &creates) {
                Ok(path) => path,
                Err(unreachable) => return unreachable,
            };
            match self.remote_exists(host, scope, delegate, &creates) {
                Err(unreachable) => return unreachable,
                Ok(true) => {
                    let msg = format!("skipped, since {creates} exists");
                    return obj(json!({"skipped": true, "msg": msg}));
                }
                Ok(false) => {}
            }
        }
        let source = match super::script_action::find_needle_files(ctx, task, frame, &src) {
            Ok(p) => p,
            Err(msg) => return super::script_action::not_found_failure(msg),
        };
        let bytes = if loose_boolean(args.get("decrypt"), true) {
            match super::script_action::read_script(&source) {
                Ok(b) => b,
                Err(failed) => return failed,
            }
        } else {
            match std::fs::read(&source) {
                Ok(b) => b,
                Err(e) => {
                    let msg = format!("Could not read '{}': {e}", source.display());
                    return super::action_fail::action_fail(&msg);
                }
            }
        };
        let dest = match self.remote_expand_user(host, scope, delegate, &dest) {
            Ok(path) => path,
            Err(unreachable) => return unreachable,
        };
        if let Err(r) = self.require_remote_dir(host, scope, delegate, &dest) {
            return r;
        }
        let tmpdir = match self.make_remote_tmpdir(host, scope, delegate) {
            Ok(dir) => dir,
            Err(r) => return r,
        };
        let tmp_src = format!("{tmpdir}/source");
        let result = match self.put_remote_file(host, scope, delegate, &bytes, &tmp_src) {
            Err(r) => r,
            Ok(()) => {
                args.remove("decrypt");
                args.insert("src".into(), Json::String(tmp_src));
                self.unarchive_module(task, frame, host, scope, delegate, args)
            }
        };
        let cleaned = self.housekeeping_call(
            host,
            scope,
            delegate,
            "file",
            json!({"path": tmpdir, "state": "absent"}),
        );
        if cleaned.contains_key("unreachable") && !result.contains_key("unreachable") {
            return cleaned;
        }
        result
    }

    /// The module on the sent archive: the agent's, or (a library override,
    /// an archive the native module declines) the Python module, as
    /// Ansible's plugin runs `ansible.legacy.unarchive` once its own work is done.
    fn unarchive_module(
        &mut self,
        task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        args: Map<String, Json>,
    ) -> Map<String, Json> {
        let resolved = task.resolved_action.as_deref().unwrap_or(&task.action);
        if rsible_modules::modules::runs_natively(resolved, &args)
            && !super::python_fallback::is_library_override(resolved)
        {
            return self.module_call(host, scope, delegate, "unarchive", Json::Object(args));
        }
        let call = super::python_fallback::ModuleCallCtx {
            task,
            frame,
            host,
            scope,
            delegate,
        };
        let resolved = resolved.to_string();
        self.python_module_of_action(&call, &resolved, &task.action, args)
    }

    /// Ansible's `_remote_expand_user`: a leading `~` or `~user` becomes
    /// that home directory on the target (`echo ~` as the user the modules
    /// run as); anything else, or a failed expansion, is kept as written.
    /// `Err` carries an unreachable result.
    fn remote_expand_user(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        path: &str,
    ) -> Result<String, Map<String, Json>> {
        let (first, rest) = match path.split_once('/') {
            Some((first, rest)) => (first, Some(rest)),
            None => (path, None),
        };
        let user_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        let Some(user) = first.strip_prefix('~') else {
            return Ok(path.to_string());
        };
        if !user.chars().all(user_ok) {
            return Ok(path.to_string());
        }
        let r = self.housekeeping_call(
            host,
            scope,
            delegate,
            "command",
            json!({"_raw_params": format!("echo {first}"), "_uses_shell": true}),
        );
        if r.contains_key("unreachable") {
            return Err(r);
        }
        let home = r
            .get("stdout")
            .and_then(Json::as_str)
            .and_then(|out| out.trim().lines().last())
            .unwrap_or_default()
            .to_string();
        if r.get("rc").and_then(Json::as_i64) != Some(0) || !home.starts_with('/') {
            return Ok(path.to_string());
        }
        Ok(match rest {
            Some(rest) => format!("{}/{rest}", home.trim_end_matches('/')),
            None => home,
        })
    }

    /// `dest` must be a directory on the target (followed if a link), as
    /// the action's remote stat checks. `Err` is the task's result.
    fn require_remote_dir(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        dest: &str,
    ) -> Result<(), Map<String, Json>> {
        let st = self.module_call(
            host,
            scope,
            delegate,
            "stat",
            json!({"path": dest, "follow": true, "get_checksum": false}),
        );
        if st.contains_key("unreachable") {
            return Err(st);
        }
        if st.get("failed").and_then(Json::as_bool) == Some(true) {
            let why = st.get("msg").and_then(Json::as_str).unwrap_or_default();
            let msg = format!("Failed to get information on remote file ({dest}): {why}");
            return Err(super::action_fail::action_fail(&msg));
        }
        let stat = st.get("stat");
        let flag = |k: &str| stat.and_then(|s| s.get(k)).and_then(Json::as_bool) == Some(true);
        if !flag("exists") || !flag("isdir") {
            let msg = format!("dest '{dest}' must be an existing dir");
            return Err(super::action_fail::action_fail(&msg));
        }
        Ok(())
    }

    /// Sends `bytes` to `path` on the target (mode 0600), as the user the
    /// module runs as. `Err` is the task's result.
    fn put_remote_file(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        bytes: &[u8],
        path: &str,
    ) -> Result<(), Map<String, Json>> {
        let spec = self.target_spec(host, scope, delegate);
        match self.runner.put_file(&spec, bytes, path, Some(0o600)) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(why)) => Err(super::action_fail::action_fail(&format!(
                "failed to transfer file to {path}: {why}"
            ))),
            Err(u) => Err(obj(
                json!({"unreachable": true, "msg": u.0, "changed": false}),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn copy_is_the_inverse_of_remote_src() {
        assert!(controller_side_src(&args(json!({"src": "a.tgz"}))));
        assert!(controller_side_src(&args(json!({"remote_src": "no"}))));
        assert!(!controller_side_src(&args(json!({"remote_src": true}))));
        assert!(controller_side_src(&args(json!({"copy": "yes"}))));
        assert!(!controller_side_src(&args(json!({"copy": false}))));
        // Both: the module's mutually-exclusive error, on the target.
        assert!(!controller_side_src(&args(
            json!({"copy": true, "remote_src": false})
        )));
    }
}
