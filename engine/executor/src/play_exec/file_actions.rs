//! Actions that reach the target: module calls, `template` and `copy src=` (read or rendered here), connection settings.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use indexmap::IndexMap;
use rsible_playbook::Task;
use rsible_templar::Value;
use serde_json::{json, Map, Value as Json};

use super::copy_diff::NewContent;
use super::prefetch::Intercept;
use super::{obj, Executor, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::target::{PlannedCall, TargetSpec};
use crate::vars::VarLayers;

impl<'a, S: Sink> Executor<'a, S> {
    /// `template`: rendered here, written on the target by the agent's copy.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn template_action(
        &mut self,
        ctx: &PlayCtx,
        _task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        args: &Map<String, Json>,
        delegate: Option<&str>,
    ) -> Map<String, Json> {
        let options = match super::template_options::template_options(args) {
            Ok(o) => o,
            Err(msg) => return super::action_fail::action_fail(&msg),
        };
        let Some(src) = args.get("src").and_then(Json::as_str) else {
            return super::action_fail::action_fail("src and dest are required");
        };
        let Some(path) = find_file(ctx, frame, "templates", src) else {
            return super::action_fail::source_not_found(src);
        };
        let text = match read_source(&path) {
            Ok(t) => t,
            Err(e) => {
                return obj(
                    json!({"failed": true, "msg": format!("Could not read '{}': {e}", path.display())}),
                )
            }
        };
        let mut tscope = scope.clone();
        let mut extra: IndexMap<String, Value> = IndexMap::new();
        extra.insert(
            "template_path".into(),
            Value::from(path.display().to_string()),
        );
        extra.insert("template_host".into(), Value::from(host));
        extra.insert("ansible_managed".into(), self.templar.ansible_managed());
        tscope.push_map("template variables", extra);
        let rendered = match self.templar.render_file_with_newlines(
            &text,
            &tscope,
            options.jinja,
            options.newline_sequence,
        ) {
            Ok(r) => r,
            // The action re-raises what templating raised as AnsibleActionFail
            // with its type's name; an undefined name's traceback ends with it.
            Err(e) if e.kind == rsible_templar::ErrorKind::Undefined => {
                let mut r =
                    super::action_fail::action_fail(&format!("AnsibleUndefinedVariable: {e}"));
                r.insert(
                    "exception".into(),
                    Json::String(format!("ansible.errors.AnsibleUndefinedVariable: {e}\n")),
                );
                return r;
            }
            Err(e) => return obj(json!({"failed": true, "msg": format!("AnsibleError: {e}")})),
        };
        // The rendered file in `output_encoding`: an encoding error escapes the
        // action plugin (its message as the task executor words it).
        let encoded = match options
            .encoding
            .map(|e| super::template_options::encode(&rendered, e))
        {
            None => None,
            Some(Ok(bytes)) => Some(bytes),
            Some(Err(why)) => {
                let mut r = Map::new();
                r.insert("failed".into(), Json::Bool(true));
                r.insert(
                    "msg".into(),
                    Json::String(format!("Unexpected failure during module execution: {why}")),
                );
                r.insert("stdout".into(), Json::String(String::new()));
                // raised out of the action: the task executor adds no `changed`
                r.insert(super::results::RAISED_BY_ACTION.into(), Json::Bool(true));
                r.insert(
                    "exception".into(),
                    Json::String(format!("UnicodeEncodeError: {why}\n")),
                );
                return r;
            }
        };
        let mut copy_args = super::template_options::without_template_options(args);
        copy_args.remove("src");
        if copy_args.get("mode").and_then(Json::as_str) == Some("preserve") {
            if let Some(mode) = super::template_options::preserved_mode(&path) {
                copy_args.insert("mode".into(), Json::String(mode));
            }
        }
        match &encoded {
            // bytes that are not UTF-8 travel in base64
            Some(bytes) => copy_args.insert(
                "_content_base64".into(),
                Json::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
            ),
            None => copy_args.insert("content".into(), Json::String(rendered.clone())),
        };
        insert_original_basename(&mut copy_args, &path);
        let rendered_file = super::template_options::rendered_header(&path);
        let new = NewContent {
            text: &rendered,
            bytes: encoded.as_deref(),
            header: rendered_file.clone(),
            source: rendered_file,
        };
        let mut r = self.copy_with_diff(host, scope, delegate, copy_args, new);
        // The copy module names its source only when it got as far as copying.
        let failed = r.get("failed").and_then(Json::as_bool) == Some(true);
        if !r.contains_key("unreachable") && !failed {
            r.insert("src".into(), Json::String(path.display().to_string()));
        }
        r
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn copy_src_action(
        &mut self,
        ctx: &PlayCtx,
        _task: &Task,
        frame: &Frame,
        host: &str,
        scope: &VarLayers,
        args: &Map<String, Json>,
        delegate: Option<&str>,
    ) -> Map<String, Json> {
        let src = args.get("src").and_then(Json::as_str).unwrap_or("");
        let Some(path) = find_file(ctx, frame, "files", src) else {
            return super::action_fail::source_not_found(src);
        };
        if path.is_dir() {
            return obj(
                json!({"failed": true, "msg": "rsible does not support copying directories yet"}),
            );
        }
        let content = match read_source(&path) {
            Ok(t) => t,
            Err(e) => {
                return obj(
                    json!({"failed": true, "msg": format!("Could not read '{}': {e}", path.display())}),
                )
            }
        };
        let mut copy_args = args.clone();
        copy_args.remove("src");
        copy_args.insert("content".into(), Json::String(content.clone()));
        insert_original_basename(&mut copy_args, &path);
        let new = NewContent {
            text: &content,
            bytes: None,
            header: path.display().to_string(),
            source: path.display().to_string(),
        };
        self.copy_with_diff(host, scope, delegate, copy_args, new)
    }

    /// `copy content=`: the agent writes it; the diff names the destination.
    pub(super) fn copy_content_action(
        &mut self,
        host: &str,
        scope: &VarLayers,
        args: &Map<String, Json>,
        delegate: Option<&str>,
    ) -> Map<String, Json> {
        let content = args
            .get("content")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string();
        let header = args
            .get("dest")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string();
        let new = NewContent {
            text: &content,
            bytes: None,
            header,
            // Ansible writes content to a temporary file first.
            source: super::template_options::local_temp_file(),
        };
        self.copy_with_diff(host, scope, delegate, args.clone(), new)
    }

    /// A module call an action makes for its own housekeeping (a test, a
    /// temporary directory, its removal): run for real even in check mode,
    /// as Ansible's actions run theirs with `_ansible_check_mode` off.
    pub(super) fn housekeeping_call(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        module: &str,
        args: Json,
    ) -> Map<String, Json> {
        let check_mode = std::mem::replace(&mut self.ctl.call_settings.check_mode, false);
        let result = self.module_call(host, scope, delegate, module, args);
        self.ctl.call_settings.check_mode = check_mode;
        result
    }

    pub(super) fn module_call(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        module: &str,
        args: Json,
    ) -> Map<String, Json> {
        let spec = self.target_spec(host, scope, delegate);
        let settings = self.ctl.call_settings.clone();
        let planned = PlannedCall {
            target: spec,
            module: module.to_string(),
            args,
            settings,
            python: None,
        };
        let outcome = match self.prefetch.intercept(host, planned.clone()) {
            Intercept::Recorded(placeholder) => return placeholder,
            Intercept::Ready(outcome) => outcome,
            Intercept::Call => self.runner.run_module(
                &planned.target,
                &planned.module,
                &planned.args,
                &planned.settings,
            ),
        };
        match outcome {
            Ok(r) => r,
            Err(u) => obj(json!({"unreachable": true, "msg": u.0, "changed": false})),
        }
    }

    pub(super) fn target_spec(
        &self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
    ) -> TargetSpec {
        self.connection_target(host, scope, delegate)
    }
}

/// The name the copy action gives the module for a file it transfers, under
/// which it lands in a directory `dest`.
fn insert_original_basename(args: &mut Map<String, Json>, source: &Path) {
    if let Some(name) = source.file_name() {
        args.entry("_original_basename")
            .or_insert_with(|| Json::String(name.to_string_lossy().into_owned()));
    }
}

/// Finds a `src` as Ansible's action plugins do: absolute paths as they are;
/// else the role's `files/` or `templates/`, the role directory, then the
/// play's directory with and without the subdirectory.
pub(super) fn find_file(ctx: &PlayCtx, frame: &Frame, subdir: &str, src: &str) -> Option<PathBuf> {
    let p = Path::new(src);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    let mut candidates = Vec::new();
    if let Some(role) = &frame.role {
        candidates.push(role.path.join(subdir).join(src));
        candidates.push(role.path.join(src));
    }
    candidates.push(ctx.play.basedir.join(subdir).join(src));
    candidates.push(ctx.play.basedir.join(src));
    candidates.into_iter().find(|c| c.exists())
}

/// A template or copy source's text; a vault-encrypted source is decrypted
/// with the run's secrets (Ansible's `decrypt: true` default).
fn read_source(path: &Path) -> Result<String, String> {
    let bytes = rsible_vault::read_file(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "stream did not contain valid UTF-8".to_string())
}
