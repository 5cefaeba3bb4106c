//! Where a task sits in its play: the chain of blocks and roles around it,
//! with what they pass down (conditions, vars, tags, keywords).

use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;
use rsible_playbook::{Block, Role, Task};
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

    /// The frame inside `block`: its tags, condition, vars and keywords
    /// added, and its role when it belongs to one.
    pub fn for_block(&self, block: &Rc<Block>) -> Frame {
        let mut frame = self.clone();
        frame.tags.extend(block.tags.iter().cloned());
        frame.when.extend(block.when.iter().cloned());
        if let Some(Some(vars)) = block.keywords.get("vars").map(|n| n.as_map()) {
            let vars: IndexMap<String, Node> = vars
                .iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), v.clone())))
                .collect();
            frame.block_vars.push(Arc::new(vars));
        }
        frame.keywords.push(Arc::new(block.keywords.clone()));
        if let Some(role) = &block.role {
            frame.role = Some(role.clone());
        }
        frame
    }

    /// The frame a role entry gives its dependencies: its tags, condition
    /// and keywords added (the role's own tasks also get `role` set).
    pub fn entering_role(&self, role: &Role) -> Frame {
        let mut frame = self.clone();
        frame.tags.extend(role.tags.iter().cloned());
        frame.when.extend(role.when.iter().cloned());
        frame.keywords.push(Arc::new(role.keywords.clone()));
        frame
    }
}
