//! Notifications and the handlers they reach, as ansible-core 2.18's
//! strategy finds them: a `notify` entry is templated with the notifying
//! host's variables (and the loop item); it matches the last handler whose
//! name (templated with play variables only, as Ansible does) or
//! `role : name` equals it, plus every handler listening to it. A
//! notification that reaches no handler is an error, raised before the
//! result is shown.

use std::rc::Rc;

use indexmap::IndexMap;
use rsible_playbook::Task;
use rsible_templar::{from_yaml, Value};
use serde_json::{Map, Value as Json};

use super::handlers::{collect_handlers, collect_role_handlers};
use super::{Executor, FatalError, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;
use crate::vars::{precedence as level, VarLayers};

/// One handler of the play with the names a notification can reach it by.
#[derive(Clone)]
pub(super) struct HandlerEntry {
    pub task: Rc<Task>,
    pub frame: Frame,
    /// Identity of the handler within the play (see `handler_key`).
    pub key: usize,
    /// Its templated name and `role : name`; empty when the name could not
    /// be templated.
    names: Vec<String>,
    /// Its listen topics, and `role : topic` for a role's handler.
    listen: Vec<String>,
    /// The name used to keep one listener per name.
    plain_name: Option<String>,
}

/// The play's handlers, rebuilt when the play or its run-time handlers change.
#[derive(Default)]
pub(super) struct NotifyState {
    pub built_for: Option<(*const rsible_playbook::Play, usize)>,
    pub handlers: Vec<HandlerEntry>,
    /// A notification that reached no handler: the run stops with it.
    pub pending_error: Option<String>,
}

/// A handler's identity: where it is written and its name, so that a
/// handler re-read by a later `include_role` (which replaces the earlier
/// one) keeps the notifications already made.
pub(super) fn handler_key(task: &Rc<Task>) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    task.display_name().hash(&mut h);
    task.mark.source.hash(&mut h);
    task.mark.line.hash(&mut h);
    task.mark.column.hash(&mut h);
    h.finish() as usize
}

impl<'a, S: Sink> Executor<'a, S> {
    /// Makes sure `self.notify.handlers` describes the play's handlers (roles'
    /// first, then the play's, then those of roles included at run time).
    pub(super) fn refresh_play_handlers(&mut self, ctx: &PlayCtx) {
        let id = (
            ctx.play as *const rsible_playbook::Play,
            self.dynamic_handlers.len(),
        );
        if self.notify.built_for == Some(id) {
            return;
        }
        let base = Frame {
            tags: ctx.play.tags.clone(),
            ..Frame::default()
        };
        let mut found: Vec<(Rc<Task>, Frame)> = Vec::new();
        for role in &ctx.play.roles {
            collect_role_handlers(role, &base, &mut found);
        }
        for role in crate::scope::imported_roles(ctx.play) {
            collect_role_handlers(&role, &base, &mut found);
        }
        collect_handlers(&ctx.play.handlers, &base, &mut found);
        for (t, f) in &self.dynamic_handlers {
            if !found.iter().any(|(o, _)| Rc::ptr_eq(o, t)) {
                found.push((t.clone(), f.clone()));
            }
        }
        let play_scope = play_only_scope(ctx);
        let mut entries = Vec::with_capacity(found.len());
        for (task, frame) in found {
            let role_name = frame.role.as_ref().map(|r| r.name.clone());
            let mut names = Vec::new();
            let mut plain_name = None;
            if let Some(raw) = &task.name {
                let templated = if raw.contains("{{") || raw.contains("{%") {
                    self.templar.template_str(raw, &play_scope).ok().map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                } else {
                    Some(raw.clone())
                };
                if let Some(name) = templated {
                    if let Some(role) = &role_name {
                        names.push(format!("{role} : {name}"));
                    }
                    names.push(name.clone());
                    plain_name = Some(name);
                }
            }
            let mut listen = task.listen.clone();
            if let Some(role) = &role_name {
                for topic in &task.listen {
                    listen.push(format!("{role} : {topic}"));
                }
            }
            entries.push(HandlerEntry {
                key: handler_key(&task),
                task,
                frame,
                names,
                listen,
                plain_name,
            });
        }
        self.notify.handlers = entries;
        self.notify.built_for = Some(id);
    }

    /// The handlers one notification reaches: the last one with that name,
    /// and every listener of that topic (one per name).
    pub(super) fn handlers_for(&self, notification: &str) -> Vec<usize> {
        let mut out = Vec::new();
        let handlers = &self.notify.handlers;
        if let Some(h) = handlers
            .iter()
            .rev()
            .find(|h| h.names.iter().any(|n| n == notification))
        {
            out.push(h.key);
        }
        let mut seen: Vec<&str> = Vec::new();
        for h in handlers.iter().rev() {
            if !h.listen.iter().any(|t| t == notification) {
                continue;
            }
            if let Some(name) = h.plain_name.as_deref() {
                if seen.contains(&name) {
                    continue;
                }
                seen.push(name);
            }
            if !out.contains(&h.key) {
                out.push(h.key);
            }
        }
        out
    }

    /// The notifications a result makes: its task's `notify`, templated per
    /// loop item, when the result (any item of it) changed and did not fail.
    pub(super) fn result_notifications(
        &self,
        task: &Task,
        frame: &Frame,
        scope: &VarLayers,
        result: &Map<String, Json>,
    ) -> Vec<String> {
        let Some(node) = frame.keyword(task, "notify") else {
            return Vec::new();
        };
        let changed = result.get("changed") == Some(&Json::Bool(true));
        let failed = result.get("failed") == Some(&Json::Bool(true));
        if !changed || failed || result.contains_key("unreachable") {
            return Vec::new();
        }
        let raw = from_yaml(node);
        let mut scopes: Vec<VarLayers> = Vec::new();
        match result.get("results") {
            Some(Json::Array(items)) => {
                for item in items {
                    let mut s = scope.clone();
                    if let Some(var) = item.get("ansible_loop_var").and_then(Json::as_str) {
                        if let Some(v) = item.get(var) {
                            let mut top: IndexMap<String, Value> = IndexMap::new();
                            top.insert(var.to_string(), crate::scope::json_to_value(v));
                            s.push_map("loop variables", top);
                        }
                    }
                    scopes.push(s);
                }
            }
            _ => scopes.push(scope.clone()),
        }
        let mut out: Vec<String> = Vec::new();
        for s in &scopes {
            let value = self
                .templar
                .template(&raw, s)
                .unwrap_or_else(|_| raw.clone());
            let list: Vec<Value> = if value.as_str().is_some() {
                vec![value]
            } else {
                value.try_iter().map(|it| it.collect()).unwrap_or_default()
            };
            for v in list {
                let text = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                if !out.contains(&text) {
                    out.push(text);
                }
            }
        }
        out
    }

    /// Checks that every notification reaches a handler; the first that
    /// does not becomes the run's error.
    pub(super) fn check_notifications(&mut self, notifications: &[String]) -> bool {
        for n in notifications {
            if self.handlers_for(n).is_empty() {
                self.notify.pending_error = Some(format!(
                    "The requested handler '{n}' was not found in either the main handlers list nor in the listening handlers list"
                ));
                return false;
            }
        }
        true
    }

    /// Marks the handlers the notifications reach as notified on `hosts`.
    pub(super) fn notify_hosts(&mut self, hosts: &[String], notifications: &[String]) {
        let mut keys: Vec<usize> = Vec::new();
        for n in notifications {
            for k in self.handlers_for(n) {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        if keys.is_empty() {
            return;
        }
        for h in hosts {
            let st = self.state(h);
            for k in &keys {
                st.notified_handlers.insert(*k);
            }
        }
    }

    /// The stopping error of a notification that reached no handler.
    pub(super) fn take_notify_error(&mut self) -> Result<(), FatalError> {
        match self.notify.pending_error.take() {
            Some(message) => Err(FatalError {
                message,
                exit_code: 1,
            }),
            None => Ok(()),
        }
    }
}

/// The variables a handler's name is templated with: the play's, without
/// any host's (Ansible: "host-specific variables are not supported in
/// handler names").
fn play_only_scope(ctx: &PlayCtx) -> VarLayers {
    let mut scope = VarLayers::new();
    scope.push(level::ROLE_DEFAULTS, ctx.layers.all_role_defaults.clone());
    scope.push(level::PLAY_VARS, ctx.layers.play_vars.clone());
    scope.push(level::ROLE_VARS, ctx.layers.all_role_vars.clone());
    scope.push(level::EXTRA_VARS, ctx.layers.extra_vars.clone());
    scope
}
