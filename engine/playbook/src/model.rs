//! The playbook model, after loading: what the listing modes and the
//! executor walk. Static imports are already expanded; dynamic includes stay
//! as tasks. Every object keeps the position it was read from.

use std::path::PathBuf;
use std::rc::Rc;

use indexmap::IndexMap;
use rsible_yaml::{Mark, Node};

/// A loaded playbook file: its plays, with `import_playbook` entries expanded
/// in place (their plays carry the import's vars and tags).
#[derive(Debug)]
pub struct Playbook {
    pub path: PathBuf,
    pub plays: Vec<Play>,
}

#[derive(Debug)]
pub struct Play {
    /// The play's name after templating, or empty when none was given.
    pub name: String,
    /// The host pattern(s), after templating.
    pub hosts: Vec<String>,
    pub tags: Vec<String>,
    pub vars: IndexMap<String, Node>,
    pub roles: Vec<Rc<Role>>,
    pub pre_tasks: Vec<Item>,
    pub tasks: Vec<Item>,
    pub post_tasks: Vec<Item>,
    pub handlers: Vec<Item>,
    /// Every other keyword as written (gather_facts, serial, strategy, environment, ...).
    pub keywords: IndexMap<String, Node>,
    /// Conditions of the `import_playbook` that brought this play in.
    pub included_conditional: Vec<Node>,
    /// The directory of the playbook file that defined this play.
    pub basedir: PathBuf,
    pub mark: Mark,
}

impl Play {
    /// The play's blocks in execution order, roles compiled in place, as
    /// Ansible's `Play.compile()` returns them (without its implicit
    /// flush_handlers blocks, which no listing shows).
    pub fn compile(&self) -> Vec<Item> {
        let mut out: Vec<Item> = self.pre_tasks.clone();
        for role in &self.roles {
            out.extend(role.compile(&[]));
        }
        out.extend(self.tasks.iter().cloned());
        out.extend(self.post_tasks.iter().cloned());
        out
    }
}

/// A role as loaded for one use (one entry in `roles:`, one meta dependency,
/// one `import_role`).
#[derive(Clone, Debug)]
pub struct Role {
    /// The name as written (`kubernetes/preinstall`), or the directory name
    /// when the role was given by path.
    pub name: String,
    pub path: PathBuf,
    pub tags: Vec<String>,
    pub when: Vec<Node>,
    pub params: IndexMap<String, Node>,
    /// Keywords of the role entry other than role/name/tags/when/vars.
    pub keywords: IndexMap<String, Node>,
    pub vars: IndexMap<String, Node>,
    /// Shared between every use of the role (Kubespray pulls kubespray_defaults in dozens of times).
    pub defaults: Rc<IndexMap<String, Node>>,
    pub role_vars: Rc<IndexMap<String, Node>>,
    pub allow_duplicates: bool,
    pub dependencies: Vec<Rc<Role>>,
    pub tasks: Vec<Item>,
    pub handlers: Vec<Item>,
    pub mark: Mark,
}

impl Role {
    /// The role's blocks with its dependencies' blocks first, each wrapped so
    /// that it inherits the tags of this role and of the roles that pulled it
    /// in (`dep_chain_tags`).
    pub fn compile(&self, dep_chain_tags: &[String]) -> Vec<Item> {
        let mut chain: Vec<String> = dep_chain_tags.to_vec();
        chain.extend(self.tags.iter().cloned());
        let mut out = Vec::new();
        for dep in &self.dependencies {
            out.extend(dep.compile(&chain));
        }
        if !self.tasks.is_empty() {
            out.push(Item::Block(Block::wrapper(
                chain,
                self.tasks.clone(),
                self.mark.clone(),
            )));
        }
        out
    }
}

#[derive(Clone, Debug)]
pub enum Item {
    Task(Rc<Task>),
    Block(Rc<Block>),
}

#[derive(Clone, Debug)]
pub struct Block {
    pub name: Option<String>,
    pub block: Vec<Item>,
    pub rescue: Vec<Item>,
    pub always: Vec<Item>,
    pub tags: Vec<String>,
    pub when: Vec<Node>,
    pub keywords: IndexMap<String, Node>,
    /// True for blocks rsible made up (a task file's implicit block, an
    /// import's tag carrier, a role's compiled content).
    pub implicit: bool,
    /// The role whose tasks this block holds, when an `import_role` put them
    /// here (its vars, defaults and files apply to them).
    pub role: Option<Rc<Role>>,
    pub mark: Mark,
}

impl Block {
    pub fn wrapper(tags: Vec<String>, block: Vec<Item>, mark: Mark) -> Rc<Block> {
        Rc::new(Block {
            name: None,
            block,
            rescue: Vec::new(),
            always: Vec::new(),
            tags,
            when: Vec::new(),
            keywords: IndexMap::new(),
            implicit: true,
            role: None,
            mark,
        })
    }
}

/// What kind of task this is, for the ones the engine treats specially.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    Module,
    IncludeTasks,
    IncludeRole,
    Meta,
}

#[derive(Clone, Debug)]
pub struct Task {
    pub name: Option<String>,
    /// The action as written (`command`, `ansible.builtin.command`, `kube`).
    pub action: String,
    /// The fully qualified name it resolves to, when known.
    pub resolved_action: Option<String>,
    pub args: IndexMap<String, Node>,
    pub delegate_to: Option<Node>,
    pub kind: TaskKind,
    pub tags: Vec<String>,
    pub when: Vec<Node>,
    /// `with_<lookup>` name when the loop was written that way.
    pub loop_with: Option<String>,
    pub loop_items: Option<Node>,
    /// Every other keyword as written (register, notify, become, ...).
    pub keywords: IndexMap<String, Node>,
    /// The display name of the role this task belongs to.
    pub role: Option<Rc<str>>,
    pub is_handler: bool,
    pub listen: Vec<String>,
    pub mark: Mark,
}

impl Task {
    /// Ansible's `Task.get_name()`: `role : name`, or the action when unnamed.
    pub fn display_name(&self) -> String {
        let base = match &self.name {
            Some(n) if !n.is_empty() => n.as_str(),
            _ => self.action.as_str(),
        };
        match &self.role {
            Some(role) => format!("{role} : {base}"),
            None => base.to_string(),
        }
    }
}
