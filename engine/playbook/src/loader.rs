//! Turning YAML into the model: plays, blocks, tasks, roles, with static
//! imports expanded as Ansible does at load time.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use indexmap::IndexMap;
use rsible_yaml::{Mapping, Mark, Node, Value};

use crate::action::{self, key_text};
use crate::error::{PlaybookError, Result};
use crate::files::{find_yaml_with_ext, normalize, FileCache};
use crate::keywords;
use crate::model::{Block, Item, Play, Playbook, Role, Task, TaskKind};
use crate::modules::ModuleRegistry;
use crate::simple_template::{self, Vars};
use crate::tags;

/// Everything that stays the same while loading one run's playbooks.
pub struct Loader<'a> {
    pub files: FileCache,
    pub modules: &'a ModuleRegistry,
    /// ansible.cfg `roles_path`, already absolute.
    pub roles_path: Vec<PathBuf>,
    pub extra_vars: Vars,
    /// Warnings Ansible would print (empty imported files, ...).
    pub warnings: std::cell::RefCell<Vec<String>>,
    /// Role defaults/vars already read, by directory.
    role_vars_cache: std::cell::RefCell<std::collections::HashMap<PathBuf, Rc<Vars>>>,
}

/// Where the task being loaded sits.
#[derive(Clone)]
struct Scope<'s> {
    /// The playbook directory (Ansible's loader basedir).
    basedir: &'s Path,
    role: Option<Rc<RoleScope>>,
    /// The directory of the file being read, for nested relative imports.
    file_dir: PathBuf,
    handlers: bool,
    vars: &'s Vars,
}

/// The files a role is read from: `main` unless an import or include names
/// another (`tasks_from`, `vars_from`, `defaults_from`, `handlers_from`).
#[derive(Clone, Copy, Default)]
pub struct RoleEntryFiles<'f> {
    pub tasks: Option<&'f str>,
    pub vars: Option<&'f str>,
    pub defaults: Option<&'f str>,
    pub handlers: Option<&'f str>,
}

struct RoleScope {
    name: Rc<str>,
    path: PathBuf,
}

fn as_list<'n>(node: Option<&'n Node>, what: &str, owner: &Node) -> Result<&'n [Node]> {
    match node {
        None => Ok(&[]),
        Some(n) => match &n.value {
            Value::Seq(items) => Ok(items),
            Value::Null => Ok(&[]),
            _ => Err(PlaybookError::at(
                format!("A malformed {what} was encountered while loading a {what}"),
                &owner.mark,
            )),
        },
    }
}

fn str_of(node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) | Value::Unsafe(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        _ => None,
    }
}

/// The block an import puts its content in: it carries the import's tags,
/// `when` and other keywords (vars, become, environment, ...), which Ansible
/// applies to every imported task as their parent's.
fn import_carrier(tags: Vec<String>, items: Vec<Item>, node: &Node) -> Rc<Block> {
    let mut carrier = Block::wrapper(tags, items, node.mark.clone());
    let Value::Map(map) = &node.value else {
        return carrier;
    };
    if let Some(block) = Rc::get_mut(&mut carrier) {
        block.when = when_list(map.get("when"));
        for (k, v) in map.iter() {
            let key = key_text(k).unwrap_or_default();
            let passed_down = keywords::BLOCK.contains(&key.as_str())
                && !["block", "rescue", "always", "tags", "when", "name"].contains(&key.as_str());
            if passed_down {
                block.keywords.insert(key, v.clone());
            }
        }
    }
    carrier
}

fn when_list(node: Option<&Node>) -> Vec<Node> {
    match node {
        None => Vec::new(),
        Some(n) => match &n.value {
            Value::Seq(items) => items.clone(),
            Value::Null => Vec::new(),
            _ => vec![n.clone()],
        },
    }
}

fn vars_of(node: Option<&Node>, owner: &Node) -> Result<Vars> {
    let mut out = Vars::new();
    match node.map(|n| &n.value) {
        None | Some(Value::Null) => {}
        Some(Value::Map(m)) => {
            for (k, v) in m.iter() {
                if let Some(key) = key_text(k) {
                    out.insert(key, v.clone());
                }
            }
        }
        Some(Value::Seq(items)) => {
            // a list of dicts is accepted and merged
            for item in items {
                out.extend(vars_of(Some(item), owner)?);
            }
        }
        Some(_) => {
            let mark = node.map(|n| &n.mark).unwrap_or(&owner.mark);
            return Err(PlaybookError::at(
                "Vars in a Play must be specified as a dictionary, or a list of dictionaries",
                mark,
            ));
        }
    }
    Ok(out)
}

/// Python's keywords, which Ansible refuses as variable names.
const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Ansible's `isidentifier`: an ASCII Python identifier that is no keyword.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !PYTHON_KEYWORDS.contains(&name)
}

/// The names under a `vars:` keyword of a `class` (Play, Block, Task,
/// Handler) must be identifiers, as Ansible's `_load_vars` checks them
/// before anything runs; the error points at the `vars` value.
fn check_var_names(map: &Mapping, class: &str) -> Result<()> {
    let Some(node) = map.get("vars") else {
        return Ok(());
    };
    let Value::Map(m) = &node.value else {
        return Ok(());
    };
    for (k, _) in m.iter() {
        let key = key_text(k).unwrap_or_default();
        let valid = matches!(k.value, Value::Str(_) | Value::Unsafe(_)) && is_identifier(&key);
        if !valid {
            let why = format!("'{key}' is not a valid variable name");
            return Err(PlaybookError::at(
                format!("Invalid variable name in vars specified for {class}: {why}. {why}"),
                &node.mark,
            ));
        }
    }
    Ok(())
}

fn check_keys(
    map: &Mapping,
    allowed: &dyn Fn(&str) -> bool,
    class: &str,
    node: &Node,
) -> Result<()> {
    for (k, _) in map.iter() {
        let key = key_text(k).unwrap_or_default();
        if !allowed(&key) {
            return Err(PlaybookError::at(
                format!("'{key}' is not a valid attribute for a {class}"),
                &node.mark,
            ));
        }
    }
    Ok(())
}

impl<'a> Loader<'a> {
    pub fn new(modules: &'a ModuleRegistry, roles_path: Vec<PathBuf>, extra_vars: Vars) -> Self {
        Loader {
            files: FileCache::default(),
            modules,
            roles_path,
            extra_vars,
            warnings: Default::default(),
            role_vars_cache: Default::default(),
        }
    }

    fn render(&self, text: &str, vars: &Vars) -> String {
        simple_template::render(text, &[vars, &self.extra_vars])
    }

    /// Load a playbook file and every playbook it imports.
    pub fn load_playbook(&self, path: &Path) -> Result<Playbook> {
        if !path.exists() {
            return Err(PlaybookError::generic(format!(
                "the playbook: {} could not be found",
                path.display()
            )));
        }
        if !path.is_file() {
            return Err(PlaybookError::generic(format!(
                "the playbook: {} does not appear to be a file",
                path.display()
            )));
        }
        let plays = self.load_playbook_plays(path, &Vars::new())?;
        Ok(Playbook {
            path: path.to_path_buf(),
            plays,
        })
    }

    /// Load one play given as a YAML node rather than a file: the play the
    /// ad hoc command builds in memory (Ansible's `AdHocCLI._play_ds`).
    pub fn load_play_node(&self, node: &Node, basedir: &Path) -> Result<Play> {
        let Some(map) = node.as_map() else {
            return Err(PlaybookError::at(
                "playbook entries must be either valid plays or 'import_playbook' statements",
                &node.mark,
            ));
        };
        self.load_play(node, map, &normalize(basedir), &Vars::new())
    }

    fn load_playbook_plays(&self, path: &Path, inherited_vars: &Vars) -> Result<Vec<Play>> {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|d| d.join(path))
                .unwrap_or_else(|_| path.to_path_buf())
        };
        let basedir = normalize(abs.parent().unwrap_or(Path::new(".")));
        let data = self.files.load(path)?;
        let Some(doc) = data.as_ref() else {
            return Err(PlaybookError::parse(format!(
                "Empty playbook, nothing to do: {}",
                path.display()
            )));
        };
        let Value::Seq(entries) = &doc.value else {
            return Err(PlaybookError::at(
                format!(
                    "A playbook must be a list of plays, got a {} instead",
                    doc_type_name(doc)
                ),
                &doc.mark,
            ));
        };
        let mut plays = Vec::new();
        for entry in entries {
            let Some(map) = entry.as_map() else {
                return Err(PlaybookError::at(
                    "playbook entries must be either valid plays or 'import_playbook' statements",
                    &entry.mark,
                ));
            };
            let import_key = map
                .iter()
                .filter_map(|(k, _)| k.as_str())
                .find(|k| keywords::is_import_playbook(k))
                .map(str::to_string);
            match import_key {
                Some(key) => plays.extend(self.load_import_playbook(
                    entry,
                    map,
                    &key,
                    &basedir,
                    inherited_vars,
                )?),
                None => plays.push(self.load_play(entry, map, &basedir, inherited_vars)?),
            }
        }
        Ok(plays)
    }

    fn load_import_playbook(
        &self,
        entry: &Node,
        map: &Mapping,
        key: &str,
        basedir: &Path,
        inherited_vars: &Vars,
    ) -> Result<Vec<Play>> {
        let allowed =
            |k: &str| keywords::PLAYBOOK_INCLUDE.contains(&k) || keywords::is_import_playbook(k);
        check_keys(map, &allowed, "PlaybookInclude", entry)?;
        let target = map.get(key).ok_or_else(|| {
            PlaybookError::at("playbook import parameter is missing", &entry.mark)
        })?;
        let text = match &target.value {
            Value::Null => return Err(PlaybookError::at("playbook import parameter is missing", &entry.mark)),
            Value::Str(s) => s.clone(),
            _ => {
                return Err(PlaybookError::at(
                    format!(
                        "playbook import parameter must be a string indicating a file path, got <class '{}'> instead",
                        target.type_name()
                    ),
                    &entry.mark,
                ))
            }
        };
        let words = rsible_parsing::split_args(&text)
            .map_err(|e| PlaybookError::at(e.to_string(), &entry.mark))?;
        let Some(file) = words.first() else {
            return Err(PlaybookError::at(
                "import_playbook statements must specify the file name to import",
                &entry.mark,
            ));
        };
        if let Some(v) = map.get("vars") {
            if !matches!(v.value, Value::Map(_)) {
                return Err(PlaybookError::at(
                    "vars for import_playbook statements must be specified as a dictionary",
                    &entry.mark,
                ));
            }
        }
        let import_vars = vars_of(map.get("vars"), entry)?;
        let mut all_vars = inherited_vars.clone();
        all_vars.extend(import_vars.clone());
        let file = self.render(file.trim(), &all_vars);
        let path = if Path::new(&file).is_absolute() {
            PathBuf::from(&file)
        } else {
            basedir.join(&file)
        };
        if !path.is_file() {
            return Err(PlaybookError::at(
                format!("Unable to retrieve file contents\nCould not find or access '{}' on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option", path.display()),
                &entry.mark,
            ));
        }
        let import_tags = match map.get("tags") {
            Some(t) => tags::load(t)?,
            None => Vec::new(),
        };
        let when = when_list(map.get("when"));
        let mut plays = self.load_playbook_plays(&path, &all_vars)?;
        for play in &mut plays {
            let mut vars = play.vars.clone();
            vars.extend(import_vars.clone());
            if let Some(param_tags) = vars.shift_remove("tags") {
                if let Some(s) = param_tags.as_str() {
                    play.tags.extend(s.split(',').map(str::to_string));
                }
            }
            play.vars = vars;
            for t in &import_tags {
                if !play.tags.contains(t) {
                    play.tags.push(t.clone());
                }
            }
            if !when.is_empty() {
                let mut cond = when.clone();
                cond.extend(std::mem::take(&mut play.included_conditional));
                play.included_conditional = cond;
            }
        }
        Ok(plays)
    }

    fn load_play(
        &self,
        node: &Node,
        map: &Mapping,
        basedir: &Path,
        inherited_vars: &Vars,
    ) -> Result<Play> {
        // `user` is the removed spelling of remote_user.
        if map.contains_key("user") && map.contains_key("remote_user") {
            return Err(PlaybookError::at(
                "both 'user' and 'remote_user' are set for this play. The use of 'user' is deprecated, and should be removed",
                &node.mark,
            ));
        }
        let allowed = |k: &str| keywords::PLAY.contains(&k) || k == "user";
        check_keys(map, &allowed, "Play", node)?;
        check_var_names(map, "Play")?;

        let mut vars = inherited_vars.clone();
        vars.extend(vars_of(map.get("vars"), node)?);

        let hosts_node = map
            .get("hosts")
            .filter(|n| !n.is_null())
            .ok_or_else(|| PlaybookError::parse("the field 'hosts' is required but was not set"))?;
        let hosts: Vec<String> = match &hosts_node.value {
            Value::Seq(items) => items
                .iter()
                .filter_map(str_of)
                .map(|h| self.render(&h, &vars))
                .collect(),
            _ => match str_of(hosts_node) {
                Some(h) => vec![self.render(&h, &vars)],
                None => {
                    return Err(PlaybookError::at(
                        "Hosts list must be a sequence or string. Please check your playbook.",
                        &node.mark,
                    ))
                }
            },
        };
        let name = match map.get("name").and_then(str_of) {
            Some(n) => self.render(&n, &vars),
            // Ansible names an unnamed play after its hosts.
            None => hosts.join(","),
        };
        let tags = match map.get("tags") {
            Some(t) => tags::load(t)?,
            None => Vec::new(),
        };
        let scope = Scope {
            basedir,
            role: None,
            file_dir: basedir.to_path_buf(),
            handlers: false,
            vars: &vars,
        };

        let mut roles = Vec::new();
        for entry in as_list(map.get("roles"), "role", node)? {
            roles.push(self.load_role(entry, &scope, None, RoleEntryFiles::default())?);
        }
        let pre_tasks = self.load_items(as_list(map.get("pre_tasks"), "block", node)?, &scope)?;
        let tasks = self.load_items(as_list(map.get("tasks"), "block", node)?, &scope)?;
        let post_tasks = self.load_items(as_list(map.get("post_tasks"), "block", node)?, &scope)?;
        let handler_scope = Scope {
            handlers: true,
            ..scope.clone()
        };
        let handlers =
            self.load_items(as_list(map.get("handlers"), "block", node)?, &handler_scope)?;

        let mut keywords = IndexMap::new();
        for (k, v) in map.iter() {
            let key = key_text(k).unwrap_or_default();
            if ![
                "name",
                "hosts",
                "tags",
                "vars",
                "roles",
                "pre_tasks",
                "tasks",
                "post_tasks",
                "handlers",
            ]
            .contains(&key.as_str())
            {
                keywords.insert(key, v.clone());
            }
        }
        Ok(Play {
            name,
            hosts,
            tags,
            vars,
            roles,
            pre_tasks,
            tasks,
            post_tasks,
            handlers,
            keywords,
            included_conditional: Vec::new(),
            basedir: basedir.to_path_buf(),
            mark: node.mark.clone(),
        })
    }

    /// A task file loaded at run time (`include_tasks`), as if it were
    /// written inside `role` (name and directory) when there is one; `basedir`
    /// is the play's directory. An empty file has no tasks.
    pub fn load_tasks_file(
        &self,
        file: &Path,
        basedir: &Path,
        role: Option<(&str, &Path)>,
    ) -> Result<Vec<Item>> {
        let data = self.files.load(file)?;
        let Some(doc) = data.as_ref() else {
            return Ok(Vec::new());
        };
        let Value::Seq(list) = &doc.value else {
            return Err(PlaybookError::at(
                "included task files must contain a list of tasks",
                &doc.mark,
            ));
        };
        let no_vars = Vars::new();
        let scope = Scope {
            basedir,
            role: role.map(|(name, path)| {
                Rc::new(RoleScope {
                    name: Rc::from(name),
                    path: path.to_path_buf(),
                })
            }),
            file_dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
            handlers: false,
            vars: &no_vars,
        };
        self.load_items(list, &scope)
    }

    /// A role loaded at run time (`include_role`): found as a play's role
    /// would be, or beside `owner_role_dir` (the role holding the include);
    /// `params` become its role params.
    pub fn load_role_at_runtime(
        &self,
        name: &str,
        params: IndexMap<String, Node>,
        basedir: &Path,
        owner_role_dir: Option<&Path>,
        files: RoleEntryFiles,
        mark: &Mark,
    ) -> Result<Rc<Role>> {
        let no_vars = Vars::new();
        let scope = Scope {
            basedir,
            role: None,
            file_dir: basedir.to_path_buf(),
            handlers: false,
            vars: &no_vars,
        };
        let entry = Node::new(Value::Str(name.to_string()), mark.clone());
        let role = self.load_role(&entry, &scope, owner_role_dir, files)?;
        let mut role = Rc::try_unwrap(role).unwrap_or_else(|shared| (*shared).clone());
        role.params = params;
        Ok(Rc::new(role))
    }

    fn load_items(&self, list: &[Node], scope: &Scope) -> Result<Vec<Item>> {
        let mut out = Vec::new();
        for node in list {
            let Some(map) = node.as_map() else {
                return Err(PlaybookError::at(
                    "A malformed block was encountered while loading a block",
                    &node.mark,
                ));
            };
            if map.contains_key("block") {
                if scope.handlers {
                    return Err(PlaybookError::at(
                        "Using a block as a handler is not supported.",
                        &node.mark,
                    ));
                }
                out.push(Item::Block(Rc::new(self.load_block(node, map, scope)?)));
            } else {
                self.load_task(node, map, scope, &mut out)?;
            }
        }
        Ok(out)
    }

    fn load_block(&self, node: &Node, map: &Mapping, scope: &Scope) -> Result<Block> {
        check_keys(map, &|k| keywords::BLOCK.contains(&k), "Block", node)?;
        check_var_names(map, "Block")?;
        let block = self.load_items(as_list(map.get("block"), "block", node)?, scope)?;
        let rescue = self.load_items(as_list(map.get("rescue"), "block", node)?, scope)?;
        let always = self.load_items(as_list(map.get("always"), "block", node)?, scope)?;
        let tags = match map.get("tags") {
            Some(t) => tags::load(t)?,
            None => Vec::new(),
        };
        let mut keywords = IndexMap::new();
        for (k, v) in map.iter() {
            let key = key_text(k).unwrap_or_default();
            if !["block", "rescue", "always", "tags", "when", "name"].contains(&key.as_str()) {
                keywords.insert(key, v.clone());
            }
        }
        Ok(Block {
            name: map.get("name").and_then(str_of),
            block,
            rescue,
            always,
            tags,
            when: when_list(map.get("when")),
            keywords,
            implicit: false,
            role: None,
            mark: node.mark.clone(),
        })
    }

    fn load_task(
        &self,
        node: &Node,
        map: &Mapping,
        scope: &Scope,
        out: &mut Vec<Item>,
    ) -> Result<()> {
        let first = action::parse(node, self.modules, true)?;
        let act = first.action.as_str();
        let tags = match map.get("tags") {
            Some(t) => tags::load(t)?,
            None => Vec::new(),
        };
        let is_task_include = keywords::is_import_tasks(act) || keywords::is_include_tasks(act);
        let is_role_include = keywords::is_import_role(act) || keywords::is_include_role(act);
        if is_task_include || is_role_include {
            let valid: &[&str] = if is_task_include {
                keywords::TASK_INCLUDE_ARGS
            } else {
                keywords::ROLE_INCLUDE_ARGS
            };
            let bad: Vec<&str> = first
                .args
                .keys()
                .map(String::as_str)
                .filter(|k| !valid.contains(k))
                .collect();
            if !bad.is_empty() {
                return Err(PlaybookError::at(
                    format!("Invalid options for {act}: {}", bad.join(",")),
                    &node.mark,
                ));
            }
            if is_role_include && scope.handlers {
                return Err(PlaybookError::at(
                    format!("Using '{act}' as a handler is not supported."),
                    &node.mark,
                ));
            }
            let has_loop = map.contains_key("loop")
                || map
                    .iter()
                    .any(|(k, _)| k.as_str().is_some_and(|k| k.starts_with("with_")));
            if keywords::is_import_tasks(act) {
                if has_loop {
                    return Err(PlaybookError::at(
                        "You cannot use loops on 'import_tasks' statements. You should use 'include_tasks' instead.",
                        &node.mark,
                    ));
                }
                return self.expand_import_tasks(node, &first, tags, scope, out);
            }
            if keywords::is_import_role(act) {
                if has_loop {
                    return Err(PlaybookError::at(
                        "You cannot use loops on 'import_role' statements. You should use 'include_role' instead.",
                        &node.mark,
                    ));
                }
                return self.expand_import_role(node, &first, tags, scope, out);
            }
        }
        let parsed = if is_task_include || is_role_include || keywords::is_meta(act) {
            first
        } else {
            action::parse(node, self.modules, false)?
        };
        let class = if scope.handlers { "Handler" } else { "Task" };
        let mut keywords_map = IndexMap::new();
        let mut loop_with = None;
        let mut loop_items = None;
        for (k, v) in map.iter() {
            let key = key_text(k).unwrap_or_default();
            if key == parsed.action
                || [
                    "action",
                    "local_action",
                    "args",
                    "delegate_to",
                    "name",
                    "tags",
                    "when",
                ]
                .contains(&key.as_str())
            {
                continue;
            }
            if let Some(lookup) = key.strip_prefix("with_") {
                loop_with = Some(lookup.to_string());
                loop_items = Some(v.clone());
                continue;
            }
            let ok = keywords::TASK.contains(&key.as_str()) || (scope.handlers && key == "listen");
            if !ok {
                return Err(PlaybookError::at(
                    format!("'{key}' is not a valid attribute for a {class}"),
                    &node.mark,
                ));
            }
            if key == "loop" {
                loop_items = Some(v.clone());
            }
            keywords_map.insert(key, v.clone());
        }
        let kind = if keywords::is_include_tasks(&parsed.action) {
            TaskKind::IncludeTasks
        } else if keywords::is_include_role(&parsed.action) {
            TaskKind::IncludeRole
        } else if keywords::is_meta(&parsed.action) {
            TaskKind::Meta
        } else {
            TaskKind::Module
        };
        // the class Ansible's error names: the object the task is loaded as
        let vars_class = match (&kind, scope.handlers) {
            (TaskKind::IncludeTasks, false) => "TaskInclude",
            (TaskKind::IncludeTasks, true) => "HandlerTaskInclude",
            (TaskKind::IncludeRole, _) => "IncludeRole",
            _ => class,
        };
        check_var_names(map, vars_class)?;
        let ends_role = parsed.args.get("_raw_params").and_then(Node::as_str) == Some("end_role");
        if kind == TaskKind::Meta && scope.role.is_none() && !scope.handlers && ends_role {
            return Err(PlaybookError::at(
                "Cannot execute 'end_role' from outside of a role",
                &node.mark,
            ));
        }
        let listen = match map.get("listen") {
            Some(n) => match &n.value {
                Value::Seq(items) => items.iter().filter_map(str_of).collect(),
                _ => str_of(n).into_iter().collect(),
            },
            None => Vec::new(),
        };
        out.push(Item::Task(Rc::new(Task {
            name: map.get("name").and_then(str_of),
            action: parsed.action,
            resolved_action: parsed.resolved,
            args: parsed.args,
            delegate_to: parsed.delegate_to,
            kind,
            tags,
            when: when_list(map.get("when")),
            loop_with,
            loop_items,
            keywords: keywords_map,
            role: scope.role.as_ref().map(|r| r.name.clone()),
            is_handler: scope.handlers,
            listen,
            mark: node.mark.clone(),
        })));
        Ok(())
    }

    /// `import_tasks`: read the file now and put its tasks in place, inside a
    /// block that carries the import's tags.
    fn expand_import_tasks(
        &self,
        node: &Node,
        parsed: &action::ParsedAction,
        tags: Vec<String>,
        scope: &Scope,
        out: &mut Vec<Item>,
    ) -> Result<()> {
        let raw = parsed
            .args
            .get("_raw_params")
            .or_else(|| parsed.args.get("file"))
            .and_then(str_of)
            .unwrap_or_default();
        let target = self.render(&raw, scope.vars);
        let subdir = if scope.handlers { "handlers" } else { "tasks" };
        let mut candidates: Vec<PathBuf> = Vec::new();
        if Path::new(&target).is_absolute() {
            candidates.push(PathBuf::from(&target));
        } else {
            candidates.push(scope.file_dir.join(&target));
            if let Some(role) = &scope.role {
                candidates.push(role.path.join(subdir).join(&target));
                candidates.push(role.path.join(&target));
            }
            candidates.push(scope.basedir.join(&target));
        }
        let Some(file) = candidates
            .into_iter()
            .map(|p| normalize(&p))
            .find(|p| p.is_file())
        else {
            let shown = match &scope.role {
                Some(role) => role.path.join(subdir).join(&target),
                None => scope.basedir.join(&target),
            };
            let _ = node;
            return Err(PlaybookError::generic(format!(
                "Unable to retrieve file contents\nCould not find or access '{}' on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option",
                normalize(&shown).display()
            )));
        };
        let data = self.files.load(&file)?;
        let Some(doc) = data.as_ref() else {
            self.warnings.borrow_mut().push(format!(
                "file {} is empty and had no tasks to include",
                file.display()
            ));
            return Ok(());
        };
        let Value::Seq(list) = &doc.value else {
            return Err(PlaybookError::at(
                "included task files must contain a list of tasks",
                &doc.mark,
            ));
        };
        let inner_scope = Scope {
            file_dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
            ..scope.clone()
        };
        let items = self.load_items(list, &inner_scope)?;
        out.push(Item::Block(import_carrier(tags, items, node)));
        Ok(())
    }

    /// `import_role`: load the role now and put its compiled blocks in place.
    fn expand_import_role(
        &self,
        node: &Node,
        parsed: &action::ParsedAction,
        tags: Vec<String>,
        scope: &Scope,
        out: &mut Vec<Item>,
    ) -> Result<()> {
        let Some(name_node) = parsed.args.get("name").or_else(|| parsed.args.get("role")) else {
            return Err(PlaybookError::at(
                "'name' is a required field for import_role.",
                &node.mark,
            ));
        };
        let from = |key: &str| parsed.args.get(key).and_then(str_of);
        let (tasks, vars, defaults, handlers) = (
            from("tasks_from"),
            from("vars_from"),
            from("defaults_from"),
            from("handlers_from"),
        );
        let files = RoleEntryFiles {
            tasks: tasks.as_deref(),
            vars: vars.as_deref(),
            defaults: defaults.as_deref(),
            handlers: handlers.as_deref(),
        };
        let role = self.load_role(name_node, scope, None, files)?;
        // The role's own tags come from the import task, not from a role
        // entry; its own tasks carry the role (vars, defaults, files).
        let mut items = Vec::new();
        for dep in &role.dependencies {
            items.extend(dep.compile(&[]));
        }
        if !role.tasks.is_empty() {
            let mut own = Block::wrapper(Vec::new(), role.tasks.clone(), role.mark.clone());
            if let Some(b) = Rc::get_mut(&mut own) {
                b.role = Some(role.clone());
            }
            items.push(Item::Block(own));
        }
        out.push(Item::Block(import_carrier(tags, items, node)));
        Ok(())
    }

    /// Load one role entry (`roles:` item, meta dependency, or an
    /// import_role's name).
    fn load_role(
        &self,
        entry: &Node,
        scope: &Scope,
        role_basedir: Option<&Path>,
        files: RoleEntryFiles,
    ) -> Result<Rc<Role>> {
        let tasks_from = files.tasks;
        let mut params = IndexMap::new();
        let mut entry_keywords = IndexMap::new();
        let (raw_name, map) = match &entry.value {
            Value::Str(s) => (s.clone(), None),
            Value::Map(m) => {
                let name = m
                    .get("role")
                    .or_else(|| m.get("name"))
                    .and_then(|n| n.as_str().map(str::to_string));
                let Some(name) = name.filter(|n| !n.is_empty()) else {
                    return Err(PlaybookError::at(
                        "role definitions must contain a role name",
                        &entry.mark,
                    ));
                };
                for (k, v) in m.iter() {
                    let key = key_text(k).unwrap_or_default();
                    if keywords::ROLE_ENTRY.contains(&key.as_str()) {
                        entry_keywords.insert(key, v.clone());
                    } else {
                        params.insert(key, v.clone());
                    }
                }
                (name, Some(m))
            }
            _ => {
                return Err(PlaybookError::at(
                    "role definitions must contain a role name",
                    &entry.mark,
                ))
            }
        };
        let role_name = self.render(&raw_name, scope.vars);
        let (name, path) = self.find_role(&role_name, scope.basedir, role_basedir, entry)?;
        if path.join("library").is_dir() {
            self.modules.add_adjacent_library_dir(&path.join("library"));
        }
        let tags = match map.and_then(|m| m.get("tags")) {
            Some(t) => tags::load(t)?,
            None => Vec::new(),
        };
        let when = when_list(map.and_then(|m| m.get("when")));
        let vars = vars_of(map.and_then(|m| m.get("vars")), entry)?;

        let role_scope = Rc::new(RoleScope {
            name: Rc::from(name.as_str()),
            path: path.clone(),
        });

        // meta/main: dependencies and allow_duplicates
        let mut dependencies = Vec::new();
        let mut allow_duplicates = false;
        let mut argument_specs: Option<Node> = None;
        if let Some(meta_file) = find_yaml_with_ext(&path.join("meta").join("main")) {
            let data = self.files.load(&meta_file)?;
            if let Some(meta) = data.as_ref().as_ref().and_then(Node::as_map) {
                allow_duplicates = meta
                    .get("allow_duplicates")
                    .and_then(Node::as_bool)
                    .unwrap_or(false);
                argument_specs = meta.get("argument_specs").cloned();
                if let Some(deps) = meta.get("dependencies") {
                    let list = match &deps.value {
                        Value::Seq(items) => items.as_slice(),
                        Value::Null => &[],
                        _ => {
                            return Err(PlaybookError::at(
                                "Expected role dependencies to be a list.",
                                &deps.mark,
                            ));
                        }
                    };
                    let owner_dir = path.parent().map(Path::to_path_buf);
                    for dep in list {
                        dependencies.push(self.load_role(
                            dep,
                            scope,
                            owner_dir.as_deref(),
                            RoleEntryFiles::default(),
                        )?);
                    }
                }
            }
        }
        if let Some(spec_file) = find_yaml_with_ext(&path.join("meta").join("argument_specs")) {
            if spec_file.extension().is_some() {
                let data = self.files.load(&spec_file)?;
                argument_specs = data
                    .as_ref()
                    .as_ref()
                    .and_then(Node::as_map)
                    .and_then(|m| m.get("argument_specs"))
                    .cloned();
            }
        }

        let defaults = self.load_role_vars(&path.join("defaults"), files.defaults)?;
        let role_vars = self.load_role_vars(&path.join("vars"), files.vars)?;

        let task_scope = Scope {
            basedir: scope.basedir,
            role: Some(role_scope.clone()),
            file_dir: path.join("tasks"),
            handlers: false,
            vars: scope.vars,
        };
        let entry_point = tasks_from.unwrap_or("main");
        let tasks_file = find_yaml_with_ext(&path.join("tasks").join(entry_point));
        if tasks_from.is_some() && tasks_file.is_none() {
            return Err(PlaybookError::at(
                format!("Could not find specified file in role: tasks/{entry_point}"),
                &entry.mark,
            ));
        }
        let mut task_nodes: Vec<Node> = Vec::new();
        let mut task_file_dir = path.join("tasks");
        if let Some(file) = &tasks_file {
            let data = self.files.load(file)?;
            if let Some(doc) = data.as_ref() {
                match &doc.value {
                    Value::Seq(items) => task_nodes = items.clone(),
                    _ => {
                        return Err(PlaybookError::at(
                            format!("The tasks/main.yml file for role '{name}' must contain a list of tasks"),
                            &doc.mark,
                        ))
                    }
                }
            }
            if let Some(dir) = file.parent() {
                task_file_dir = dir.to_path_buf();
            }
        }
        if let Some(spec) = argument_specs
            .as_ref()
            .and_then(Node::as_map)
            .and_then(|m| m.get(entry_point))
        {
            task_nodes.insert(0, validation_task(entry_point, spec, &entry.mark));
        }
        let tasks = self.load_items(
            &task_nodes,
            &Scope {
                file_dir: task_file_dir,
                ..task_scope.clone()
            },
        )?;

        let mut handlers = Vec::new();
        let handlers_file =
            find_yaml_with_ext(&path.join("handlers").join(files.handlers.unwrap_or("main")));
        if let Some(file) = handlers_file {
            let data = self.files.load(&file)?;
            if let Some(Value::Seq(items)) = data.as_ref().as_ref().map(|d| &d.value) {
                let handler_scope = Scope {
                    handlers: true,
                    file_dir: path.join("handlers"),
                    ..task_scope.clone()
                };
                handlers = self.load_items(items, &handler_scope)?;
            }
        }

        entry_keywords.shift_remove("role");
        entry_keywords.shift_remove("name");
        entry_keywords.shift_remove("tags");
        entry_keywords.shift_remove("when");
        entry_keywords.shift_remove("vars");
        Ok(Rc::new(Role {
            name,
            path,
            tags,
            when,
            params,
            keywords: entry_keywords,
            vars,
            defaults,
            role_vars,
            allow_duplicates,
            dependencies,
            tasks,
            handlers,
            mark: entry.mark.clone(),
        }))
    }

    /// Ansible's role search: `<playbook dir>/roles`, roles_path, beside the
    /// owning role (meta dependencies), the playbook dir; then the name as a path.
    fn find_role(
        &self,
        name: &str,
        basedir: &Path,
        role_basedir: Option<&Path>,
        entry: &Node,
    ) -> Result<(String, PathBuf)> {
        let mut search: Vec<PathBuf> = vec![basedir.join("roles")];
        search.extend(self.roles_path.iter().cloned());
        if let Some(dir) = role_basedir {
            search.push(dir.to_path_buf());
        }
        search.push(basedir.to_path_buf());
        for dir in &search {
            let candidate = normalize(&dir.join(name));
            if candidate.exists() {
                return Ok((name.to_string(), candidate));
            }
        }
        let direct = normalize(Path::new(name));
        if direct.is_absolute() && direct.exists() {
            let base = direct
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(name)
                .to_string();
            return Ok((base, direct));
        }
        let searched: Vec<String> = search.iter().map(|p| p.display().to_string()).collect();
        // AnsibleError, not a parser error: exit code 1.
        let mut err = PlaybookError::at(
            format!("the role '{name}' was not found in {}", searched.join(":")),
            &entry.mark,
        );
        err.exit_code = crate::error::EXIT_GENERIC_ERROR;
        Err(err)
    }

    /// `defaults/main` or `vars/main`: a file, or a directory whose YAML files
    /// are merged in name order.
    fn load_role_vars(&self, dir: &Path, entry: Option<&str>) -> Result<Rc<Vars>> {
        let key = dir.join(entry.unwrap_or("main"));
        if let Some(hit) = self.role_vars_cache.borrow().get(&key) {
            return Ok(hit.clone());
        }
        let vars = Rc::new(self.read_role_vars(&key)?);
        self.role_vars_cache.borrow_mut().insert(key, vars.clone());
        Ok(vars)
    }

    /// `<dir>/<entry>` as a file with a YAML extension, or a directory of them.
    fn read_role_vars(&self, main: &Path) -> Result<Vars> {
        let mut out = Vars::new();
        let main = main.to_path_buf();
        let files: Vec<PathBuf> = if main.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&main)
                .map(|rd| rd.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            found.retain(|p| {
                p.is_file()
                    && p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| ["yml", "yaml", "json"].contains(&e))
            });
            found.sort();
            found
        } else {
            find_yaml_with_ext(&main).into_iter().collect()
        };
        for file in files {
            let data = self.files.load(&file)?;
            if let Some(doc) = data.as_ref() {
                if let Value::Map(m) = &doc.value {
                    for (k, v) in m.iter() {
                        if let Some(key) = key_text(k) {
                            out.insert(key, v.clone());
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

fn doc_type_name(node: &Node) -> &'static str {
    node.type_name()
}

/// The task Ansible prepends to a role whose entry point has an argument spec.
fn validation_task(entry_point: &str, spec: &Node, mark: &Mark) -> Node {
    let mut name = format!("Validating arguments against arg spec '{entry_point}'");
    if let Some(desc) = spec
        .as_map()
        .and_then(|m| m.get("short_description"))
        .and_then(str_of)
    {
        name.push_str(" - ");
        name.push_str(&desc);
    }
    let s = |t: &str| Node::new(Value::Str(t.to_string()), mark.clone());
    let mut args = Mapping::new();
    args.insert(
        s("argument_spec"),
        spec.as_map()
            .and_then(|m| m.get("options"))
            .cloned()
            .unwrap_or_else(|| Node::new(Value::Map(Mapping::new()), mark.clone())),
    );
    let mut task = Mapping::new();
    task.insert(
        s("ansible.builtin.validate_argument_spec"),
        Node::new(Value::Map(args), mark.clone()),
    );
    task.insert(s("name"), s(&name));
    task.insert(
        s("tags"),
        Node::new(Value::Seq(vec![s("always")]), mark.clone()),
    );
    Node::new(Value::Map(task), mark.clone())
}
