//! Magic variables: the ones Ansible defines itself (inventory_hostname,
//! groups, hostvars, ansible_play_hosts, ...).

use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use rsible_templar::{Templar, Value};

use crate::vars::{Layer, VarLayers};

/// The ansible-core version rsible reports (to templates and to modules).
pub const ANSIBLE_VERSION: &str = "2.18.0";

/// `ansible_version` as the 2.18 level rsible implements.
pub fn ansible_version() -> Value {
    let mut v: IndexMap<String, Value> = IndexMap::new();
    v.insert("full".into(), Value::from(ANSIBLE_VERSION));
    v.insert("major".into(), Value::from(2));
    v.insert("minor".into(), Value::from(18));
    v.insert("revision".into(), Value::from(0));
    v.insert("string".into(), Value::from("2.18.0"));
    crate::scope::map_value(v)
}

/// `hostvars`: every host's variables, templated in that host's own context
/// when read, as Ansible's HostVars does.
pub struct HostVars {
    pub templar: Arc<Templar>,
    pub hosts: IndexMap<String, Arc<VarLayers>>,
}

impl std::fmt::Debug for HostVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.hosts.keys().map(|k| (k, "...")))
            .finish()
    }
}

impl std::fmt::Debug for HostVarsHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostVarsVars")
    }
}

impl Object for HostVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        let Some(scope) = self.hosts.get(name).cloned() else {
            // Ansible's HostVars gives an undefined named after the lookup
            let what = format!("hostvars['{name}']");
            let quoted = rsible_templar::python_repr::string_repr(&what);
            rsible_templar::record_undefined_reason(format!("{quoted} is undefined"));
            return None;
        };
        Some(Value::from_object(HostVarsHost {
            templar: self.templar.clone(),
            scope,
        }))
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.hosts.keys().map(|k| Value::from(k.as_str())).collect())
    }
}

/// One host's variables inside `hostvars`.
pub struct HostVarsHost {
    templar: Arc<Templar>,
    scope: Arc<VarLayers>,
}

impl Object for HostVarsHost {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        use rsible_templar::VarSource;
        let name = key.as_str()?;
        let Some(raw) = self.scope.get(name) else {
            rsible_templar::record_undefined_reason(format!(
                "'ansible.vars.hostvars.HostVarsVars object' has no attribute '{name}'"
            ));
            return None;
        };
        // Templated in the host's own context; an error leaves the raw value,
        // which then fails where it is used.
        Some(
            self.templar
                .template(&raw, self.scope.as_ref())
                .unwrap_or(raw),
        )
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        use rsible_templar::VarSource;
        Enumerator::Values(self.scope.names().into_iter().map(Value::from).collect())
    }
}

/// The per-host magic variables that do not depend on the task.
pub struct MagicInputs<'a> {
    pub host: &'a str,
    pub group_names: Vec<String>,
    pub groups: &'a Value,
    pub hostvars: &'a Value,
    pub play_hosts: &'a Value,
    pub play_batch: &'a Value,
    pub playbook_dir: &'a str,
    pub check_mode: bool,
    pub diff_mode: bool,
    pub role: Option<(&'a str, &'a str)>,
    pub omit: &'a str,
    /// The file the task was read from (for `ansible_search_path`).
    pub task_file: Option<&'a str>,
    /// `ansible_playbook_python`: the Python of the ansible installation
    /// rsible found (there is no controller Python otherwise).
    pub playbook_python: Option<&'a str>,
    /// Variables from the command line (`ansible_run_tags`, `ansible_limit`, ...).
    pub option_vars: &'a [(String, Value)],
    /// `ansible_play_name` and the play's role names.
    pub play_name: &'a str,
    pub play_role_names: &'a [String],
    pub dependent_role_names: &'a [String],
}

/// What the command line said, as Ansible's `load_options_vars` exposes it.
#[derive(Clone, Debug, Default)]
pub struct CliOptions {
    pub run_tags: Vec<String>,
    pub skip_tags: Vec<String>,
    /// `--limit` as given; `ansible_limit` is only defined with one.
    pub limit: Option<String>,
    pub forks: i64,
    pub verbosity: u8,
    /// The inventory sources as absolute paths.
    pub inventory_sources: Vec<String>,
    /// The ansible.cfg in use (`ansible_config_file`, None without one).
    pub config_file: Option<String>,
}

/// `ansible_run_tags`, `ansible_skip_tags`, `ansible_limit`, `ansible_forks`,
/// `ansible_verbosity`, `ansible_inventory_sources` (check and diff mode
/// are set per task from the options).
pub fn option_vars(o: &CliOptions) -> Vec<(String, Value)> {
    let list = |items: &[String]| Value::from_iter(items.iter().map(|s| Value::from(s.as_str())));
    let mut vars = vec![
        ("ansible_run_tags".to_string(), list(&o.run_tags)),
        ("ansible_skip_tags".to_string(), list(&o.skip_tags)),
        ("ansible_forks".to_string(), Value::from(o.forks)),
        ("ansible_verbosity".to_string(), Value::from(o.verbosity)),
        (
            "ansible_inventory_sources".to_string(),
            list(&o.inventory_sources),
        ),
    ];
    vars.push((
        "ansible_config_file".to_string(),
        o.config_file
            .as_deref()
            .map_or(Value::from(()), Value::from),
    ));
    if let Some(limit) = &o.limit {
        vars.push(("ansible_limit".to_string(), Value::from(limit.as_str())));
    }
    vars
}

pub fn magic_layer(m: MagicInputs) -> Layer {
    let mut v: IndexMap<String, Value> = IndexMap::new();
    v.insert("inventory_hostname".into(), Value::from(m.host));
    let short = m.host.split('.').next().unwrap_or(m.host);
    v.insert("inventory_hostname_short".into(), Value::from(short));
    v.insert(
        "group_names".into(),
        Value::from_iter(m.group_names.into_iter().map(Value::from)),
    );
    v.insert("groups".into(), m.groups.clone());
    v.insert("hostvars".into(), m.hostvars.clone());
    v.insert("ansible_play_hosts".into(), m.play_hosts.clone());
    v.insert("ansible_play_hosts_all".into(), m.play_hosts.clone());
    v.insert("play_hosts".into(), m.play_batch.clone());
    v.insert("ansible_play_batch".into(), m.play_batch.clone());
    v.insert("playbook_dir".into(), Value::from(m.playbook_dir));
    if let Some(python) = m.playbook_python {
        v.insert("ansible_playbook_python".into(), Value::from(python));
    }
    v.insert("ansible_check_mode".into(), Value::from(m.check_mode));
    v.insert("ansible_diff_mode".into(), Value::from(m.diff_mode));
    v.insert("ansible_version".into(), ansible_version());
    for (name, value) in m.option_vars {
        v.insert(name.clone(), value.clone());
    }
    let names = |items: &[String]| Value::from_iter(items.iter().map(|s| Value::from(s.as_str())));
    let mut all_roles: Vec<String> = m.play_role_names.to_vec();
    for dep in m.dependent_role_names {
        if !all_roles.contains(dep) {
            all_roles.push(dep.clone());
        }
    }
    v.insert("ansible_role_names".into(), names(&all_roles));
    v.insert("ansible_play_role_names".into(), names(m.play_role_names));
    v.insert("role_names".into(), names(m.play_role_names));
    v.insert(
        "ansible_dependent_role_names".into(),
        names(m.dependent_role_names),
    );
    v.insert("ansible_play_name".into(), Value::from(m.play_name));
    v.insert("omit".into(), Value::from(m.omit));
    if let Some((name, path)) = m.role {
        v.insert("role_name".into(), Value::from(name));
        v.insert("role_path".into(), Value::from(path));
        v.insert("ansible_role_name".into(), Value::from(name));
    }
    v.insert(
        "ansible_search_path".into(),
        search_path(m.role.map(|r| r.1), m.task_file, m.playbook_dir),
    );
    Arc::new(v)
}

/// Ansible's `Task.get_search_path()`: the role's path, then the directory of
/// the task's file (lookups and `first_found` search these, then the
/// playbook directory).
fn search_path(role_path: Option<&str>, task_file: Option<&str>, playbook_dir: &str) -> Value {
    let mut paths: Vec<String> = Vec::new();
    if let Some(r) = role_path {
        paths.push(r.to_string());
    }
    let task_dir = task_file
        .and_then(|f| std::path::Path::new(f).parent())
        .map(|d| d.display().to_string())
        .unwrap_or_else(|| playbook_dir.to_string());
    if !paths.contains(&task_dir) {
        paths.push(task_dir);
    }
    Value::from_iter(paths.into_iter().map(Value::from))
}
