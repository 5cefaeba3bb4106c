//! `include_tasks`: the file is chosen per host at run time; hosts that
//! include the same file run its tasks together, in lockstep, as Ansible's
//! linear strategy does.

use rsible_playbook::Task;
use serde_json::{json, Map, Value as Json};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::{obj, Executor, FatalError, PlayCtx};
use crate::frame::Frame;
use crate::lexical_path::normalize;
use crate::output::default_callback::Sink;

impl<'a, S: Sink> Executor<'a, S> {
    pub(super) fn run_include_tasks(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        frame: &Frame,
        hosts: &[String],
        prefix: &'static str,
    ) -> Result<(), FatalError> {
        let Some(loader) = self.loader else {
            return Err(FatalError {
                message: "include_tasks needs the playbook loader (Executor::with_loader)".into(),
                exit_code: 1,
            });
        };
        let mut view = self.task_view(task, prefix, None);
        if let Some(first) = hosts.first() {
            let scope = self.scope_for(ctx, first, frame, Some(task));
            view.name = self.templated_task_name(task, &scope);
        }
        self.callback.task_start(&view);
        let resolve =
            |me: &Self, scope: &crate::vars::VarLayers| me.include_target(ctx, task, frame, scope);
        let groups =
            self.include_groups(ctx, task, frame, hosts, &view, &resolve, &|f: &PathBuf| {
                f.display().to_string()
            });
        let role = frame.role.clone();
        for group in groups {
            let role_ref = role.as_ref().map(|r| (r.name.as_str(), r.path.as_path()));
            let items = loader
                .load_tasks_file(&group.target, &ctx.play.basedir, role_ref)
                .map_err(|e| FatalError {
                    message: e
                        .render()
                        .trim_start_matches("ERROR! ")
                        .trim_end()
                        .to_string(),
                    exit_code: e.exit_code,
                })?;
            // The include's own vars and loop item reach the included tasks;
            // its tags and conditions do not (that needs `apply:`).
            let inner = self.include_frame(task, frame, group.item.as_ref(), true)?;
            if self.free_defers(task) {
                let label = group.item.as_ref().map(|(_, _, label)| label.as_str());
                let key = format!("{}\n{}", group.target.display(), label.unwrap_or(""));
                self.free_defer_tasks(task, key, items, inner);
                continue;
            }
            self.run_items(ctx, &items, &inner, &group.hosts)?;
        }
        Ok(())
    }
}

impl<'a, S: Sink> Executor<'a, S> {
    /// The file a host includes, or the result to report instead: skipped
    /// when a condition is false, failed when the name cannot be templated
    /// or the file cannot be found.
    fn include_target(
        &self,
        ctx: &PlayCtx,
        task: &Task,
        frame: &Frame,
        scope: &crate::vars::VarLayers,
    ) -> Result<PathBuf, Map<String, Json>> {
        if let Some(result) = self.check_conditions(task, frame, scope) {
            return Err(result);
        }
        let fail = |msg: String| obj(json!({"failed": true, "msg": msg}));
        let raw = task
            .args
            .get("_raw_params")
            .or_else(|| task.args.get("file"))
            .ok_or_else(|| fail("No file specified for include_tasks".into()))?;
        let name = self.template_node_str(raw, scope).map_err(fail)?;
        find_task_file(ctx, frame, task, &name).ok_or_else(|| {
            fail(format!(
                "Could not find or access '{name}' on the Ansible Controller."
            ))
        })
    }
}

/// Where Ansible looks for an included file: absolute paths as they are;
/// else beside the file that holds the include, in the role's `tasks/`, then
/// in the play's directory.
fn find_task_file(ctx: &PlayCtx, frame: &Frame, task: &Task, name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_path_buf());
    }
    let mut candidates = Vec::new();
    if let Some(source) = task.mark.source.as_deref() {
        if let Some(dir) = Path::new(source).parent() {
            candidates.push(dir.join(name));
        }
    }
    if let Some(role) = &frame.role {
        candidates.push(role.path.join("tasks").join(name));
    }
    candidates.push(ctx.play.basedir.join(name));
    candidates
        .into_iter()
        .find(|c| c.is_file())
        .map(|c| normalize(&c))
}
