//! `--start-at-task NAME`: tasks are passed over, without output, until the
//! first one whose name (or `role : name`) equals NAME or matches it as a
//! shell pattern, as Ansible's PlayIterator does; from there the run goes on
//! normally, later plays included.

use rsible_playbook::{Item, Play, Role, Task};

use super::Executor;
use crate::frame::Frame;
use crate::output::default_callback::Sink;

impl<S: Sink> Executor<'_, S> {
    /// Whether the task runs as far as `--start-at-task` is concerned.
    pub(super) fn start_at_allows(&mut self, task: &Task, frame: &Frame) -> bool {
        let Some(wanted) = self.options.start_at_task.as_deref() else {
            return true;
        };
        let role = frame.role.as_ref().map(|r| r.name.as_str());
        if task_matches(task, role, wanted) {
            self.options.start_at_task = None;
            return true;
        }
        false
    }

    /// Facts are gathered in a play only when the task to start at is in it
    /// (Ansible's iterator runs the setup block of the play it starts in).
    pub(super) fn start_at_gathers(&self, play: &Play) -> bool {
        let Some(wanted) = self.options.start_at_task.as_deref() else {
            return true;
        };
        let in_items = |items: &[Item], role: Option<&str>| items_match(items, role, wanted);
        in_items(&play.pre_tasks, None)
            || play.roles.iter().any(|r| role_matches(r, wanted))
            || in_items(&play.tasks, None)
            || in_items(&play.post_tasks, None)
    }

    /// After the run: Ansible's error when no task matched.
    pub fn start_at_task_unmatched(&self) -> Option<String> {
        self.options.start_at_task.as_ref().map(|name| {
            format!(
                "No matching task \"{name}\" found. Note: --start-at-task can only follow static includes."
            )
        })
    }
}

/// Ansible's test: the task's own name or its `role : name` equals the
/// wanted text or matches it as an fnmatch pattern.
fn task_matches(task: &Task, role: Option<&str>, wanted: &str) -> bool {
    let own = task.name.as_deref();
    let full = match (role, own) {
        (Some(role), Some(name)) => format!("{role} : {name}"),
        (Some(role), None) => format!("{role} : {}", task.action),
        (None, Some(name)) => name.to_string(),
        (None, None) => task.action.clone(),
    };
    own.is_some_and(|n| n == wanted || rsible_inventory::fnmatch(wanted, n))
        || full == wanted
        || rsible_inventory::fnmatch(wanted, &full)
}

fn items_match(items: &[Item], role: Option<&str>, wanted: &str) -> bool {
    items.iter().any(|item| match item {
        Item::Task(t) => task_matches(t, role, wanted),
        Item::Block(b) => {
            let role = b.role.as_ref().map(|r| r.name.as_str()).or(role);
            items_match(&b.block, role, wanted)
                || items_match(&b.rescue, role, wanted)
                || items_match(&b.always, role, wanted)
        }
    })
}

fn role_matches(role: &Role, wanted: &str) -> bool {
    role.dependencies.iter().any(|d| role_matches(d, wanted))
        || items_match(&role.tasks, Some(&role.name), wanted)
}
