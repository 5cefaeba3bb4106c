//! group_vars/ and host_vars/ files (the `host_group_vars` vars plugin), loaded from
//! each directory the caller names: inventory-adjacent ones and playbook-adjacent ones
//! are kept apart so the variable system can give them their own precedence.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use rsible_yaml::Value;

use crate::model::{Inventory, Vars};
use crate::yaml_input::load_yaml_text;

#[derive(Clone, Debug, PartialEq)]
pub struct VarsFileError(pub String);

impl std::fmt::Display for VarsFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VarsFileError {}

/// The vars found under one base directory.
#[derive(Clone, Debug, Default)]
pub struct VarsDir {
    pub base: PathBuf,
    /// group name -> merged vars of its group_vars files (only groups that had files).
    pub group_vars: IndexMap<String, Vars>,
    pub host_vars: IndexMap<String, Vars>,
}

/// Vars directories in the order they were given (lowest precedence first).
#[derive(Clone, Debug, Default)]
pub struct VarsDirs {
    pub dirs: Vec<VarsDir>,
}

impl VarsDirs {
    /// This group's vars from all directories, merged in order.
    pub fn group(&self, group: &str) -> Vars {
        let mut out = Vars::new();
        for d in &self.dirs {
            if let Some(v) = d.group_vars.get(group) {
                combine_into(&mut out, v);
            }
        }
        out
    }

    /// Vars of several groups, directory by directory and within each in the given order
    /// (what `get_vars_from_inventory_sources(..., groups)` yields).
    pub fn groups(&self, groups: &[String]) -> Vars {
        let mut out = Vars::new();
        for d in &self.dirs {
            for g in groups {
                if let Some(v) = d.group_vars.get(g) {
                    combine_into(&mut out, v);
                }
            }
        }
        out
    }

    pub fn host(&self, host: &str) -> Vars {
        let mut out = Vars::new();
        for d in &self.dirs {
            if let Some(v) = d.host_vars.get(host) {
                combine_into(&mut out, v);
            }
        }
        out
    }
}

/// Ansible's `combine_vars` with the default `hash_behaviour = replace`: a shallow update.
pub fn combine_into(into: &mut Vars, from: &Vars) {
    for (k, v) in from {
        into.insert(k.clone(), v.clone());
    }
}

impl Inventory {
    /// Directories the vars plugin searches for inventory-adjacent group_vars/host_vars:
    /// each source directory, or the directory of each source file (host lists skipped).
    pub fn inventory_vars_dirs(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for s in &self.sources {
            let p = Path::new(s);
            if s.contains(',') && !p.exists() {
                continue;
            }
            let dir = if p.is_dir() {
                p.to_path_buf()
            } else {
                p.parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from("."))
            };
            out.push(dir);
        }
        out
    }
}

/// Load `group_vars/<group>` for every group and `host_vars/<host>` for every host of
/// `inventory` from each of `dirs`.
pub fn load_vars_dirs(inventory: &Inventory, dirs: &[PathBuf]) -> Result<VarsDirs, VarsFileError> {
    let mut out = VarsDirs::default();
    for base in dirs {
        let mut dir = VarsDir {
            base: base.clone(),
            ..VarsDir::default()
        };
        let group_dir = base.join("group_vars");
        if group_dir.is_dir() {
            for g in inventory.groups.keys() {
                if g.starts_with('/') {
                    continue;
                }
                let files = find_vars_files(&group_dir, g);
                if !files.is_empty() {
                    dir.group_vars.insert(g.clone(), load_files(&files)?);
                }
            }
        }
        let host_dir = base.join("host_vars");
        if host_dir.is_dir() {
            let mut names: Vec<&String> = inventory.hosts.keys().collect();
            let implicit: Vec<String> = crate::model::LOCALHOST_NAMES
                .iter()
                .filter(|n| !inventory.hosts.contains_key(**n))
                .map(|n| n.to_string())
                .collect();
            names.extend(implicit.iter());
            for h in names {
                if h.starts_with('/') {
                    continue;
                }
                let files = find_vars_files(&host_dir, h);
                if !files.is_empty() {
                    dir.host_vars.insert(h.clone(), load_files(&files)?);
                }
            }
        }
        out.dirs.push(dir);
    }
    Ok(out)
}

const EXTENSIONS: [&str; 4] = ["", ".yml", ".yaml", ".json"];

/// DataLoader.find_vars_files: the first of `<name>`, `<name>.yml`, `<name>.yaml`,
/// `<name>.json` that exists; a directory is read recursively.
pub fn find_vars_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    for ext in EXTENSIONS {
        let candidate = dir.join(format!("{name}{ext}"));
        if candidate.exists() {
            if candidate.is_dir() {
                return dir_vars_files(&candidate);
            }
            return vec![candidate];
        }
    }
    Vec::new()
}

fn dir_vars_files(dir: &Path) -> Vec<PathBuf> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => return Vec::new(),
    };
    names.sort();
    let mut found = Vec::new();
    for name in names {
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let full = dir.join(&name);
        let ext = crate::paths::splitext_ext(&name);
        if full.is_dir() && ext.is_empty() {
            found.extend(dir_vars_files(&full));
        } else if full.is_file() && EXTENSIONS.contains(&ext) {
            found.push(full);
        }
    }
    found
}

/// Load and merge vars files in order; empty files are ignored.
fn load_files(files: &[PathBuf]) -> Result<Vars, VarsFileError> {
    let mut vars = Vars::new();
    for f in files {
        let shown = f.to_string_lossy();
        // A vaulted vars file is opened with the run's secrets.
        let bytes = rsible_vault::read_file(f).map_err(|e| match e {
            rsible_vault::ReadError::Vault(v) => VarsFileError(v.to_string()),
            rsible_vault::ReadError::Io(e) => {
                VarsFileError(format!("Could not read '{shown}': {e}"))
            }
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|e| VarsFileError(format!("Could not process '{shown}': {e}")))?;
        let Some(doc) = load_yaml_text(&text, &shown).map_err(VarsFileError)? else {
            continue;
        };
        match &doc.value {
            Value::Map(m) => {
                for (k, v) in m.iter() {
                    vars.insert(crate::pyrepr::py_str(k), v.clone());
                }
            }
            Value::Null => {}
            _ if crate::yaml_source::is_falsy(&doc) => {}
            _ => {
                return Err(VarsFileError(format!(
                    "Could not process '{shown}'.: failed to combine variables, expected dicts but got a 'dict' and a '{}'",
                    python_type(&doc.value)
                )))
            }
        }
    }
    Ok(vars)
}

fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Seq(_) => "AnsibleSequence",
        Value::Str(_) => "AnsibleUnicode",
        Value::Int(_) | Value::BigInt(_) => "int",
        Value::Float(_) => "float",
        Value::Bool(_) => "bool",
        _ => "object",
    }
}
