//! Where a task sits in its play: the chain of blocks and roles around it,
//! with what they pass down (conditions, vars, tags, keywords).

use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;
use rsible_playbook::{Role, Task};
use rsible_yaml::Node;

/// The context inherited by a task from its enclosing blocks and role.
#[derive(Clone, Default)]
pub struct Frame {
    /// Conditions of the enclosing blocks and role entries, outermost first.
    pub when: Vec<Node>,
    /// `vars:` of the enclosing blocks, outermost first.
    pub block_vars: Vec<Arc<IndexMap<String, Node>>>,
    /// Keywords of the enclosing blocks/roles (ignore_errors, become, ...),
    /// outermost first; a task's own keyword wins.
    pub keywords: Vec<Arc<IndexMap<String, Node>>>,
    /// Tags of the enclosing play, roles and blocks.
    pub tags: Vec<String>,
    /// The role the task belongs to.
    pub role: Option<Rc<Role>>,
}

impl Frame {
    /// The value of an inheritable keyword for `task`: the task's own, else the
    /// innermost enclosing block's or role's.
    pub fn keyword<'a>(&'a self, task: &'a Task, name: &str) -> Option<&'a Node> {
        task.keywords
            .get(name)
            .or_else(|| self.keywords.iter().rev().find_map(|k| k.get(name)))
    }
}
