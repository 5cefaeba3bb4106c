//! Handlers (notify, listen, flush) and `meta` tasks.

use std::rc::Rc;

use rsible_playbook::{Item, Role, Task};

use super::{Executor, FatalError, PlayCtx};
use crate::frame::Frame;
use crate::output::default_callback::Sink;

impl<'a, S: Sink> Executor<'a, S> {
    pub(super) fn run_meta(
        &mut self,
        ctx: &PlayCtx,
        task: &Rc<Task>,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        let what = task
            .args
            .get("_raw_params")
            .and_then(|n| n.as_str())
            .unwrap_or("")
            .to_string();
        match what.as_str() {
            "flush_handlers" => self.flush_handlers(ctx, hosts),
            "noop" => Ok(()),
            "clear_facts" => {
                let view = self.task_view(task, "TASK", None);
                self.callback.task_start(&view);
                let play_hosts: Vec<String> = ctx
                    .play_hosts
                    .try_iter()
                    .map(|it| it.filter_map(|h| h.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                self.clear_facts(&play_hosts);
                Ok(())
            }
            "end_play" => {
                for h in hosts {
                    self.state(h).ended = true;
                }
                Ok(())
            }
            "end_host" => {
                for h in hosts {
                    self.state(h).ended = true;
                }
                Ok(())
            }
            other => Err(FatalError {
                message: format!("rsible does not support 'meta: {other}' yet"),
                exit_code: 1,
            }),
        }
    }

    /// Runs the notified handlers, in the order they are defined, on the hosts that notified them.
    pub(super) fn flush_handlers(
        &mut self,
        ctx: &PlayCtx,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        let mut handlers: Vec<(Rc<Task>, Frame)> = Vec::new();
        let base = Frame {
            tags: ctx.play.tags.clone(),
            ..Frame::default()
        };
        for role in &ctx.play.roles {
            collect_role_handlers(role, &base, &mut handlers);
        }
        for role in crate::scope::imported_roles(ctx.play) {
            collect_role_handlers(&role, &base, &mut handlers);
        }
        collect_handlers(&ctx.play.handlers, &base, &mut handlers);
        handlers.extend(self.dynamic_handlers.iter().cloned());
        let mut ran_any = true;
        while ran_any {
            ran_any = false;
            for (handler, frame) in &handlers {
                let mut names: Vec<String> = vec![];
                if let Some(n) = &handler.name {
                    names.push(n.clone());
                    if let Some(role) = &frame.role {
                        names.push(format!("{} : {}", role.name, n));
                    }
                }
                names.extend(handler.listen.iter().cloned());
                let notified: Vec<String> = hosts
                    .iter()
                    .filter(|h| {
                        self.states.get(*h).is_some_and(|s| {
                            s.is_active() && names.iter().any(|n| s.notified.contains(n))
                        })
                    })
                    .cloned()
                    .collect();
                if notified.is_empty() {
                    continue;
                }
                for h in &notified {
                    let st = self.state(h);
                    for n in &names {
                        st.notified.shift_remove(n);
                    }
                }
                ran_any = true;
                self.run_handler(ctx, handler, frame, &notified)?;
            }
        }
        Ok(())
    }

    pub(super) fn run_handler(
        &mut self,
        ctx: &PlayCtx,
        handler: &Rc<Task>,
        frame: &Frame,
        hosts: &[String],
    ) -> Result<(), FatalError> {
        // Handlers are not filtered by tags once notified.
        let mut f = frame.clone();
        f.tags.clear();
        let saved = (
            std::mem::take(&mut self.options.tags),
            std::mem::take(&mut self.options.skip_tags),
        );
        let r = self.run_task_as(ctx, handler, &f, hosts, "RUNNING HANDLER");
        self.options.tags = saved.0;
        self.options.skip_tags = saved.1;
        r
    }
}

pub(super) fn collect_role_handlers(
    role: &Rc<Role>,
    parent: &Frame,
    out: &mut Vec<(Rc<Task>, Frame)>,
) {
    for dep in &role.dependencies {
        collect_role_handlers(dep, parent, out);
    }
    let mut frame = parent.clone();
    frame.role = Some(role.clone());
    collect_handlers(&role.handlers, &frame, out);
}

pub(super) fn collect_handlers(items: &[Item], frame: &Frame, out: &mut Vec<(Rc<Task>, Frame)>) {
    for item in items {
        match item {
            Item::Task(t) => {
                if !out.iter().any(|(o, _)| Rc::ptr_eq(o, t)) {
                    out.push((t.clone(), frame.clone()));
                }
            }
            Item::Block(b) => {
                collect_handlers(&b.block, frame, out);
                collect_handlers(&b.rescue, frame, out);
                collect_handlers(&b.always, frame, out);
            }
        }
    }
}

pub(super) fn notify_list(node: Option<&rsible_yaml::Node>) -> Vec<String> {
    match node {
        None => vec![],
        Some(n) => match &n.value {
            rsible_yaml::Value::Seq(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => n.as_str().map(|s| vec![s.to_string()]).unwrap_or_default(),
        },
    }
}
