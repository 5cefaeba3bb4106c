//! Run-time includes, shared by `include_tasks` and `include_role`: the
//! include is decided per host (and per loop item); hosts that include the
//! same thing with the same item run it together, in lockstep, after the
//! `included: ... for h1, h2 => (item=...)` line. Also `include_role` itself:
//! the role loaded at run time, `apply`, `public`, its handlers joining the play's.

use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;
use rsible_playbook::{RoleEntryFiles, Task};
use rsible_templar::{from_yaml, to_json, Value};
use rsible_yaml::Node;
use serde_json::{json, Map, Value as Json};

use super::handlers::collect_role_handlers;
use super::include_results::include_result;
use super::{obj, Executor, FatalError, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::{python_str, ResultView, Sink, TaskView};
use crate::vars::VarLayers;

/// One included thing for a set of hosts.
pub(super) struct IncludeGroup<K> {
    pub target: K,
    /// `(loop_var, item, label)` when the include loops.
    pub item: Option<(String, Value, String)>,
    pub hosts: Vec<String>,
}

/// What `include_role` includes, after templating its arguments.
#[derive(Clone, PartialEq)]
pub(super) struct RoleTarget {
    name: String,
    tasks_from: Option<String>,
    vars_from: Option<String>,
    defaults_from: Option<String>,
    handlers_from: Option<String>,
    public: bool,
}

impl<'a, S: Sink> Executor<'a, S> {
    /// Decides the include per host and item; reports skipped and failed
    /// hosts; prints the `included:` lines and counts them as ok.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    pub(super) fn include_groups<K: PartialEq>(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        frame: &Frame,
        hosts: &[String],
        view: &TaskView,
        resolve: &dyn Fn(&Self, &VarLayers) -> Result<K, Map<String, Json>>,
        describe: &dyn Fn(&K) -> String,
    ) -> Vec<IncludeGroup<K>> {
        let mut groups: Vec<IncludeGroup<K>> = Vec::new();
        // Each including host's ok result, for the callbacks.
        let mut included: Vec<(String, Map<String, Json>)> = Vec::new();
        for host in hosts {
            let scope = self.scope_for(ctx, host, frame, Some(task));
            let only = std::slice::from_ref(host);
            let items = match self.include_loop_items(task, frame, &scope) {
                Ok(items) => items,
                Err(failed) => {
                    // As for tasks: a false `when` skips rather than fails.
                    let result = self.check_conditions(task, frame, &scope).unwrap_or(failed);
                    self.report(task, frame, host, view, result, &scope, only);
                    continue;
                }
            };
            let Some((loop_var, label_node, items)) = items else {
                match resolve(self, &scope) {
                    Ok(target) => {
                        let entry = self.include_entry(task, &scope);
                        included.push((host.clone(), include_result(Some(entry), Vec::new())));
                        add_to_group(&mut groups, target, None, host)
                    }
                    Err(mut result) => {
                        // Ansible's executor marks these results as any other.
                        let no_log = self.no_log_for(task, frame, &scope);
                        super::control::stamp_no_log(&mut result, no_log);
                        self.report(task, frame, host, view, result, &scope, only)
                    }
                }
                continue;
            };
            let mut skipped = false;
            let mut any = false;
            let mut item_results = Vec::new();
            let mut item_failed = false;
            // Skipped items' lines, printed unless every item skips (the
            // host's skipped result then shows them, from its `results`).
            let mut pending_skips: Vec<Map<String, Json>> = Vec::new();
            for item in items {
                let mut item_scope = scope.clone();
                let mut top = IndexMap::new();
                top.insert(loop_var.clone(), item.clone());
                item_scope.push_map("loop variables", top);
                let label = match &label_node {
                    Some(node) => self
                        .templar
                        .template(&from_yaml(node), &item_scope)
                        .map(|v| python_str(&to_json(&v)))
                        .unwrap_or_else(|_| python_str(&to_json(&item))),
                    None => python_str(&to_json(&item)),
                };
                match resolve(self, &item_scope) {
                    Ok(target) => {
                        any = true;
                        let mut entry = self.include_entry(task, &item_scope);
                        entry.insert("_ansible_item_label".into(), Json::String(label.clone()));
                        entry.insert("ansible_loop_var".into(), Json::String(loop_var.clone()));
                        entry.insert(loop_var.clone(), to_json(&item));
                        item_results.push(entry);
                        add_to_group(
                            &mut groups,
                            target,
                            Some((loop_var.clone(), item, label)),
                            host,
                        );
                    }
                    Err(mut result) if result.get("skipped") == Some(&Json::Bool(true)) => {
                        // Each skipped item has its line; the host's
                        // overall skip only counts.
                        result.remove("skipped");
                        result.insert(loop_var.clone(), to_json(&item));
                        result.insert("ansible_loop_var".into(), Json::String(loop_var.clone()));
                        result.insert("_ansible_item_label".into(), Json::String(label.clone()));
                        pending_skips.push(result.clone());
                        result.insert("skipped".into(), Json::Bool(true));
                        let no_log = self.no_log_for(task, frame, &item_scope);
                        super::control::stamp_no_log(&mut result, no_log);
                        item_results.push(result);
                        skipped = true;
                    }
                    Err(result) => {
                        self.print_item_skips(host, view, &mut pending_skips);
                        self.report(task, frame, host, view, result, &item_scope, only);
                        any = true;
                        item_failed = true;
                        break;
                    }
                }
            }
            if any {
                self.print_item_skips(host, view, &mut pending_skips);
                if !item_failed {
                    included.push((host.clone(), include_result(None, item_results)));
                }
            } else if skipped {
                let mut result =
                    obj(json!({"changed": false, "skipped": true, "msg": "All items skipped"}));
                result.insert(
                    "results".into(),
                    Json::Array(item_results.into_iter().map(Json::Object).collect()),
                );
                self.report(task, frame, host, view, result, &scope, only);
            } else {
                let result = obj(
                    json!({"changed": false, "skipped": true, "skipped_reason": "No items in the list", "results": []}),
                );
                self.report(task, frame, host, view, result, &scope, only);
            }
        }
        if !groups.is_empty() {
            // The include's own ok result brings its banner (when skipped
            // hosts are hidden, it was deferred); the `included:` lines follow.
            let include_view = TaskView {
                is_include: true,
                ..view.clone()
            };
            for (host, result) in &included {
                self.callback.runner_on_ok(&ResultView {
                    host,
                    task: &include_view,
                    result,
                });
            }
        }
        for group in &groups {
            let names: Vec<&str> = group.hosts.iter().map(String::as_str).collect();
            let label = group.item.as_ref().map(|(_, _, l)| l.as_str());
            self.callback
                .on_include(&describe(&group.target), &names, label);
            for h in &group.hosts {
                self.stats.host(h).ok += 1;
            }
        }
        groups
    }

    /// The lines of an include loop's skipped items.
    fn print_item_skips(
        &mut self,
        host: &str,
        view: &TaskView,
        skips: &mut Vec<Map<String, Json>>,
    ) {
        for result in skips.drain(..) {
            self.callback.runner_item_on_skipped(&ResultView {
                host,
                task: view,
                result: &result,
            });
        }
    }

    /// `(loop_var, label, items)` when the include has a loop.
    #[allow(clippy::type_complexity)]
    fn include_loop_items(
        &self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
    ) -> Result<Option<(String, Option<Node>, Vec<Value>)>, Map<String, Json>> {
        if task.loop_items.is_none() {
            return Ok(None);
        }
        let items = self.loop_items(task, scope)?;
        let control = frame.keyword(task, "loop_control").and_then(|n| n.as_map());
        let loop_var = control
            .and_then(|m| m.get("loop_var"))
            .and_then(|n| n.as_str())
            .unwrap_or("item")
            .to_string();
        let label = control.and_then(|m| m.get("label")).cloned();
        Ok(Some((loop_var, label, items)))
    }

    /// The frame the included tasks run in: the include's vars and loop
    /// item as block vars, then `apply:` (tags, when and other keywords) as
    /// an enclosing block.
    pub(super) fn include_frame(
        &self,
        task: &Task,
        frame: &Frame,
        item: Option<&(String, Value, String)>,
        with_task_vars: bool,
    ) -> Result<Frame, FatalError> {
        let mut inner = frame.clone();
        if with_task_vars {
            if let Some(Some(vars)) = task.keywords.get("vars").map(|n| n.as_map()) {
                let vars: IndexMap<String, Node> = vars
                    .iter()
                    .filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), v.clone())))
                    .collect();
                inner.block_vars.push(Arc::new(vars));
            }
        }
        if let Some((loop_var, value, _)) = item {
            let mut vars = IndexMap::new();
            vars.insert(
                loop_var.clone(),
                super::controller_actions::json_to_node(&to_json(value)),
            );
            inner.block_vars.push(Arc::new(vars));
        }
        if let Some(apply) = task.args.get("apply") {
            let Some(map) = apply.as_map() else {
                return Err(self.task_error(
                    task,
                    "Expected a dict for apply but got a different type".into(),
                ));
            };
            let mut keywords = IndexMap::new();
            for (k, v) in map.iter() {
                let Some(key) = k.as_str() else { continue };
                match key {
                    "tags" => inner.tags.extend(
                        rsible_playbook::tags::load(v)
                            .map_err(|e| self.task_error(task, e.to_string()))?,
                    ),
                    "when" => match &v.value {
                        rsible_yaml::Value::Seq(items) => inner.when.extend(items.iter().cloned()),
                        _ => inner.when.push(v.clone()),
                    },
                    "vars" => {
                        if let Some(vars) = v.as_map() {
                            let vars: IndexMap<String, Node> = vars
                                .iter()
                                .filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), v.clone())))
                                .collect();
                            inner.block_vars.push(Arc::new(vars));
                        }
                    }
                    "block" => {
                        return Err(self.task_error(
                            task,
                            "'block' is not a valid attribute for a Block".into(),
                        ))
                    }
                    other => {
                        keywords.insert(other.to_string(), v.clone());
                    }
                }
            }
            inner.keywords.push(Arc::new(keywords));
        }
        Ok(inner)
    }

    pub(super) fn run_include_role(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        frame: &Frame,
        hosts: &[String],
        prefix: &'static str,
    ) -> Result<(), FatalError> {
        let Some(loader) = self.loader else {
            return Err(FatalError {
                message: "include_role needs the playbook loader (Executor::with_loader)".into(),
                exit_code: 1,
            });
        };
        if task
            .args
            .get("name")
            .or_else(|| task.args.get("role"))
            .is_none()
        {
            return Err(
                self.task_error(task, "'name' is a required field for include_role.".into())
            );
        }
        let mut view = self.task_view(task, prefix, None);
        if let Some(first) = hosts.first() {
            let scope = self.scope_for(ctx, first, frame, Some(task));
            view.name = self.templated_task_name(task, &scope);
        }
        self.callback.task_start(&view);
        let resolve = |me: &Self, scope: &VarLayers| me.role_target(task, frame, scope);
        let groups = self.include_groups(
            ctx,
            task,
            frame,
            hosts,
            &view,
            &resolve,
            &|t: &RoleTarget| t.name.clone(),
        );
        let owner_dir = frame
            .role
            .as_ref()
            .and_then(|r| r.path.parent().map(|p| p.to_path_buf()));
        for group in groups {
            let t = &group.target;
            let params: IndexMap<String, Node> = task
                .keywords
                .get("vars")
                .and_then(|n| n.as_map())
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), v.clone())))
                        .collect()
                })
                .unwrap_or_default();
            let role = loader
                .load_role_at_runtime(
                    &t.name,
                    params,
                    &ctx.play.basedir,
                    owner_dir.as_deref(),
                    RoleEntryFiles {
                        tasks: t.tasks_from.as_deref(),
                        vars: t.vars_from.as_deref(),
                        defaults: t.defaults_from.as_deref(),
                        handlers: t.handlers_from.as_deref(),
                    },
                    &task.mark,
                )
                .map_err(|e| FatalError {
                    message: e
                        .render()
                        .trim_start_matches("ERROR! ")
                        .trim_end()
                        .to_string(),
                    exit_code: e.exit_code,
                })?;
            let inner = self.include_frame(task, frame, group.item.as_ref(), false)?;
            // The role's handlers join the play's; a later include of the
            // same handler replaces the earlier one (Ansible runs the last).
            let mut found = Vec::new();
            let mut handler_frame = inner.clone();
            handler_frame.role = None;
            collect_role_handlers(&role, &handler_frame, &mut found);
            for (handler, hframe) in found {
                let same = |(h, _): &(Rc<Task>, Frame)| {
                    h.display_name() == handler.display_name() && h.mark == handler.mark
                };
                self.dynamic_handlers.retain(|e| !same(e));
                self.dynamic_handlers.push((handler, hframe));
            }
            if t.public {
                let mut defaults = IndexMap::new();
                crate::scope::collect_role_defaults(&role, &mut defaults);
                let mut vars = IndexMap::new();
                crate::scope::collect_role_vars(&role, &mut vars);
                self.public_role_defaults.extend(defaults);
                self.public_role_vars.extend(vars);
            }
            if self.free_defers(task) {
                self.free_defer_role(role, inner);
                continue;
            }
            self.run_role(ctx, &role, &inner, &group.hosts)?;
        }
        Ok(())
    }

    fn role_target(
        &self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
    ) -> Result<RoleTarget, Map<String, Json>> {
        if let Some(result) = self.check_conditions(task, frame, scope) {
            return Err(result);
        }
        let fail = |msg: String| obj(json!({"failed": true, "msg": msg}));
        let text = |key: &str| -> Result<Option<String>, Map<String, Json>> {
            match task.args.get(key) {
                None => Ok(None),
                Some(node) => self.template_node_str(node, scope).map(Some).map_err(fail),
            }
        };
        let name = match text("name")? {
            Some(n) => n,
            None => text("role")?.unwrap_or_default(),
        };
        let public = match task.args.get("public") {
            None => false,
            Some(node) => {
                let v = self
                    .templar
                    .template(&from_yaml(node), scope)
                    .map_err(|e| fail(e.to_string()))?;
                v.is_true()
                    || v.as_str().is_some_and(|s| {
                        matches!(s.to_ascii_lowercase().as_str(), "yes" | "true" | "on" | "1")
                    })
            }
        };
        Ok(RoleTarget {
            name,
            tasks_from: text("tasks_from")?,
            vars_from: text("vars_from")?,
            defaults_from: text("defaults_from")?,
            handlers_from: text("handlers_from")?,
            public,
        })
    }
}

fn add_to_group<K: PartialEq>(
    groups: &mut Vec<IncludeGroup<K>>,
    target: K,
    item: Option<(String, Value, String)>,
    host: &str,
) {
    let same_item = |a: &Option<(String, Value, String)>| match (a, &item) {
        (None, None) => true,
        (Some((va, ia, _)), Some((vb, ib, _))) => va == vb && to_json(ia) == to_json(ib),
        _ => false,
    };
    match groups
        .iter_mut()
        .find(|g| g.target == target && same_item(&g.item))
    {
        Some(g) => g.hosts.push(host.to_string()),
        None => groups.push(IncludeGroup {
            target,
            item,
            hosts: vec![host.to_string()],
        }),
    }
}
