//! The `script` action: a script found on the controller is sent to the
//! target and run there with its arguments, as Ansible's script action
//! plugin does. The agent does the target's part: `test -e` for
//! `creates`/`removes`, a private temporary directory, `copy` of the
//! script's bytes (mode 0700), the shell that runs it (as the become user,
//! with the task's environment), and the directory's removal.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use rsible_playbook::Task;
use rsible_templar::Value;
use serde_json::{json, Map, Value as Json};

use super::{obj, Executor, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::vars::VarLayers;

/// The options 2.18's script action accepts (its argument spec): anything
/// else, `decrypt` included, is refused as Ansible refuses it.
const SUPPORTED: &[&str] = &[
    "_raw_params",
    "chdir",
    "cmd",
    "creates",
    "executable",
    "removes",
];

/// Ansible's traceback placeholder for an action that failed on purpose.
const NO_TRACEBACK: &str = "NoneType: None\n";

/// The script's options, as the task gives them.
struct ScriptArgs {
    raw: String,
    creates: Option<String>,
    removes: Option<String>,
    chdir: Option<String>,
    executable: Option<String>,
}

impl<'a, S: Sink> Executor<'a, S> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn script_action(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        args: &IndexMap<String, Value>,
    ) -> Map<String, Json> {
        let opts = match parse_args(args) {
            Ok(o) => o,
            Err(msg) => return action_failure(&msg, false),
        };
        // Checked on the target before anything else, as Ansible does.
        if let Some(path) = &opts.creates {
            match self.remote_exists(host, scope, delegate, path) {
                Err(unreachable) => return unreachable,
                Ok(true) => return skipped(format!("{path} exists, matching creates option")),
                Ok(false) => {}
            }
        }
        if let Some(path) = &opts.removes {
            match self.remote_exists(host, scope, delegate, path) {
                Err(unreachable) => return unreachable,
                Ok(false) => {
                    return skipped(format!("{path} does not exist, matching removes option"))
                }
                Ok(true) => {}
            }
        }
        if let Some(dir) = &opts.chdir {
            if !dir.starts_with('/') {
                return action_failure(
                    &format!("chdir {dir} must be an absolute path for a Unix-aware remote node"),
                    false,
                );
            }
        }
        let words = match rsible_modules::util::shlex::split(opts.raw.trim()) {
            Ok(w) => w,
            Err(e) => {
                return action_failure(&format!("rsible: cannot split '{}': {e}", opts.raw), false)
            }
        };
        let Some(needle) = words.first().cloned() else {
            return action_failure("one of the following is required: _raw_params, cmd", false);
        };
        let source = match find_needle_files(ctx, task, frame, &needle) {
            Ok(p) => p,
            Err(msg) => return not_found_failure(msg),
        };
        let bytes = match read_script(&source) {
            Ok(b) => b,
            Err(r) => return r,
        };
        if self.ctl.call_settings.check_mode {
            // Past creates/removes the script would run: with either of them
            // Ansible reports the change it would make, else it cannot tell.
            if opts.creates.is_some() || opts.removes.is_some() {
                return obj(json!({"changed": true}));
            }
            let mut r = skipped("Check mode is not supported for this task.".into());
            r.insert("changed".into(), Json::Bool(false));
            return r;
        }
        let Ok(text) = String::from_utf8(bytes) else {
            return action_failure(
                &format!(
                    "rsible: the script {} is not UTF-8 text; rsible cannot transfer binary scripts yet",
                    source.display()
                ),
                false,
            );
        };
        let base = source
            .file_name()
            .map(|b| b.to_string_lossy().into_owned())
            .unwrap_or_else(|| "script".into());
        let tmpdir = match self.make_remote_tmpdir(host, scope, delegate) {
            Ok(dir) => dir,
            Err(r) => return r,
        };
        let remote_script = format!("{tmpdir}/{base}");
        let result =
            self.transfer_and_run(host, scope, delegate, &opts, &needle, &text, &remote_script);
        let cleaned = self.module_call(
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

    /// Copies the script to `remote_script` and runs the command line with
    /// the script's path in place of its controller name.
    #[allow(clippy::too_many_arguments)]
    fn transfer_and_run(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        opts: &ScriptArgs,
        needle: &str,
        text: &str,
        remote_script: &str,
    ) -> Map<String, Json> {
        let copied = self.module_call(
            host,
            scope,
            delegate,
            "copy",
            json!({"dest": remote_script, "content": text, "mode": "0700"}),
        );
        if copied.contains_key("unreachable") {
            return copied;
        }
        if copied.get("failed") == Some(&Json::Bool(true)) {
            let why = copied.get("msg").and_then(Json::as_str).unwrap_or("");
            return action_failure(
                &format!("rsible: could not transfer the script to {remote_script}: {why}"),
                false,
            );
        }
        let command = script_command(
            &opts.raw,
            needle,
            remote_script,
            opts.executable.as_deref(),
            opts.chdir.as_deref(),
        );
        let ran = self.module_call(
            host,
            scope,
            delegate,
            "command",
            json!({"_raw_params": command, "_uses_shell": true, "strip_empty_ends": false}),
        );
        if ran.contains_key("unreachable") {
            return ran;
        }
        let Some(rc) = ran.get("rc").and_then(Json::as_i64) else {
            // The shell did not start: the command module's own failure.
            let why = ran.get("msg").and_then(Json::as_str).unwrap_or("");
            return action_failure(&format!("rsible: the script did not run: {why}"), true);
        };
        let text_of = |k: &str| {
            ran.get(k)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (stdout, stderr) = (text_of("stdout"), text_of("stderr"));
        let mut result = obj(json!({
            "changed": true,
            "rc": rc,
            "stdout_lines": rsible_pytext::splitlines(&stdout),
            "stdout": stdout,
            "stderr_lines": rsible_pytext::splitlines(&stderr),
            "stderr": stderr,
        }));
        if rc != 0 {
            result.insert("failed".into(), Json::Bool(true));
            result.insert("msg".into(), json!("non-zero return code"));
            result.insert("exception".into(), json!(NO_TRACEBACK));
        }
        result
    }

    /// `test -e` on the target, with the path as written: Ansible quotes
    /// it, so neither `~` nor `$VAR` is expanded. It runs in check mode
    /// too (creates/removes decide what check mode reports). `Err` carries
    /// an unreachable result.
    pub(super) fn remote_exists(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        path: &str,
    ) -> Result<bool, Map<String, Json>> {
        let r = self.housekeeping_call(
            host,
            scope,
            delegate,
            "command",
            json!({"argv": ["test", "-e", path], "expand_argument_vars": false}),
        );
        if r.contains_key("unreachable") {
            return Err(r);
        }
        Ok(r.get("rc").and_then(Json::as_i64) == Some(0))
    }

    /// A private directory under the (become) user's `~/.ansible/tmp`, as
    /// Ansible's mkdtemp makes one for a transferred file (made in check
    /// mode too: unarchive transfers its archive then).
    pub(super) fn make_remote_tmpdir(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
    ) -> Result<String, Map<String, Json>> {
        let made = self.housekeeping_call(
            host,
            scope,
            delegate,
            "command",
            json!({
                "_raw_params": "umask 77 && mkdir -p ~/.ansible/tmp && mktemp -d ~/.ansible/tmp/ansible-tmp-XXXXXXXXXX",
                "_uses_shell": true,
            }),
        );
        if made.contains_key("unreachable") {
            return Err(made);
        }
        let path = made
            .get("stdout")
            .and_then(Json::as_str)
            .map(str::trim)
            .unwrap_or_default();
        if made.get("rc").and_then(Json::as_i64) != Some(0) || !path.starts_with('/') {
            let why = made
                .get("stderr")
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .or_else(|| made.get("msg").and_then(Json::as_str))
                .unwrap_or_default();
            return Err(action_failure(
                &format!(
                    "Failed to create temporary directory. In some cases, you may have been able to authenticate and did not have permissions on the target directory. {why}"
                ),
                false,
            ));
        }
        Ok(path.to_string())
    }
}

fn parse_args(args: &IndexMap<String, Value>) -> Result<ScriptArgs, String> {
    let unsupported: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !SUPPORTED.contains(k))
        .collect();
    if !unsupported.is_empty() {
        return Err(format!(
            "Unsupported parameters for (script) module: {}. Supported parameters include: {}.",
            unsupported.join(", "),
            SUPPORTED.join(", ")
        ));
    }
    let text = |k: &str| -> Option<String> {
        args.get(k)
            .filter(|v| !v.is_none() && !v.is_undefined())
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
    };
    let nonempty = |k: &str| text(k).filter(|s| !s.is_empty());
    // `cmd` is the old name of the free-form text (Task moves it over).
    let raw = match (text("_raw_params"), text("cmd")) {
        (Some(r), Some(_)) if !r.is_empty() => {
            return Err("The 'cmd' argument cannot be used when other raw parameters are specified. Please put everything in one or the other place.".into())
        }
        (_, Some(c)) => c,
        (Some(r), None) => r,
        (None, None) => return Err("one of the following is required: _raw_params, cmd".into()),
    };
    Ok(ScriptArgs {
        raw,
        creates: nonempty("creates"),
        removes: nonempty("removes"),
        chdir: nonempty("chdir"),
        executable: nonempty("executable"),
    })
}

/// The shell line that runs the script: every occurrence of the script's
/// controller name in the free-form text becomes the target path (Ansible
/// replaces the text, so the arguments keep their quoting), behind
/// `executable` when given and after `cd <chdir> &&` (unquoted, as
/// Ansible's low-level command writes it).
fn script_command(
    raw: &str,
    needle: &str,
    remote_script: &str,
    executable: Option<&str>,
    chdir: Option<&str>,
) -> String {
    let target = raw.trim().replace(needle, remote_script);
    let mut command = match executable {
        Some(exe) => format!("{exe} {target}"),
        None => target,
    };
    if let Some(dir) = chdir {
        command = format!("cd {dir} && {command}");
    }
    command
}

/// Where Ansible looks for a relative script or archive (`_find_needle('files', ...)`,
/// the script and unarchive actions):
/// for each directory of the task's search path (its role, then the task
/// file's directory), `<dir>/files/<name>` then `<dir>/<name>`, and the
/// playbook's directory last. `Err` is Ansible's not-found message.
pub(super) fn find_needle_files(
    ctx: &PlayCtx,
    task: &Task,
    frame: &Frame,
    needle: &str,
) -> Result<PathBuf, String> {
    let tail = "If you are using a module and expect the file to exist on the remote, see the remote_src option";
    if needle.starts_with('/') || needle.starts_with('~') {
        let path = PathBuf::from(expand_home(needle));
        return match path.is_file() {
            true => Ok(path),
            false => Err(format!(
                "Could not find or access '{needle}' on the Ansible Controller.\n{tail}"
            )),
        };
    }
    let mut stack: Vec<PathBuf> = Vec::new();
    if let Some(role) = &frame.role {
        stack.push(role.path.clone());
    }
    let task_dir = task
        .mark
        .source
        .as_deref()
        .and_then(|s| Path::new(s).parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ctx.play.basedir.clone());
    if !stack.contains(&task_dir) {
        stack.push(task_dir);
    }
    stack.push(ctx.play.basedir.clone());
    let names_files_dir = needle.split('/').next() == Some("files");
    let mut searched = Vec::new();
    for dir in stack {
        if !names_files_dir {
            searched.push(dir.join("files").join(needle));
        }
        searched.push(dir.join(needle));
    }
    if let Some(found) = searched.iter().find(|p| p.exists()) {
        return match found.is_file() {
            true => Ok(found.clone()),
            false => Err(format!(
                "Could not find or access '{}' on the Ansible Controller.\n{tail}",
                found.display()
            )),
        };
    }
    let list: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
    Err(format!(
        "Could not find or access '{needle}'\nSearched in:\n\t{} on the Ansible Controller.\n{tail}",
        list.join("\n\t")
    ))
}

/// The script's bytes, decrypted when vaulted (2.18's `decrypt` default);
/// a failure as the loader raises it.
pub(super) fn read_script(path: &Path) -> Result<Vec<u8>, Map<String, Json>> {
    use rsible_vault::{ReadError, VaultError};
    rsible_vault::read_file(path).map_err(|e| {
        let (class, msg) = match e {
            ReadError::Vault(VaultError::NoSecrets) => (
                "ansible.errors.AnsibleParserError",
                format!(
                    "A vault password or secret must be specified to decrypt {}",
                    path.display()
                ),
            ),
            ReadError::Vault(v) => ("ansible.parsing.vault.AnsibleVaultError", v.to_string()),
            ReadError::Io(io) => ("ansible.errors.AnsibleError", io.to_string()),
        };
        let exception = format!("{class}: {msg}\n");
        obj(json!({"failed": true, "changed": false, "msg": msg, "exception": exception}))
    })
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix('~'), std::env::var("HOME")) {
        (Some(rest), Ok(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => path.to_string(),
    }
}

fn skipped(msg: String) -> Map<String, Json> {
    obj(json!({"skipped": true, "changed": false, "msg": msg}))
}

/// An `AnsibleActionFail`: failed with the message; `changed` says whether
/// the script had already run.
fn action_failure(msg: &str, changed: bool) -> Map<String, Json> {
    obj(json!({"failed": true, "changed": changed, "msg": msg, "exception": NO_TRACEBACK}))
}

/// The file-not-found error: its traceback's last line is the message's.
pub(super) fn not_found_failure(msg: String) -> Map<String, Json> {
    let exception = format!("ansible.errors.AnsibleFileNotFound: {msg}\n");
    obj(json!({"failed": true, "changed": false, "msg": msg, "exception": exception}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_occurrence_of_the_script_name_is_replaced_and_quoting_kept() {
        assert_eq!(
            script_command("x.sh a 'b c' x.sh", "x.sh", "/t/x.sh", None, None),
            "/t/x.sh a 'b c' /t/x.sh"
        );
    }

    #[test]
    fn executable_goes_first_and_chdir_before_it() {
        assert_eq!(
            script_command(" p.py 1 ", "p.py", "/t/p.py", Some("python3"), Some("/srv")),
            "cd /srv && python3 /t/p.py 1"
        );
    }

    #[test]
    fn unknown_options_and_both_spellings_are_refused() {
        let mut args = IndexMap::new();
        args.insert("decrypt".to_string(), Value::from(false));
        let err = parse_args(&args).err().unwrap_or_default();
        assert!(err.starts_with("Unsupported parameters for (script) module: decrypt."));
        let mut args = IndexMap::new();
        args.insert("_raw_params".to_string(), Value::from("a.sh"));
        args.insert("cmd".to_string(), Value::from("b.sh"));
        assert!(parse_args(&args).is_err());
        let mut args = IndexMap::new();
        args.insert("cmd".to_string(), Value::from("b.sh 1"));
        assert_eq!(
            parse_args(&args).map(|a| a.raw).ok().as_deref(),
            Some("b.sh 1")
        );
    }
}
