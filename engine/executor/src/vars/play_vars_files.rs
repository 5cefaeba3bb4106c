//! A play's `vars_files`, as ansible-core 2.18's `VariableManager.get_vars`
//! reads them: each entry (a name, or a list of names of which the first
//! existing one is read) is templated with the variables below the level plus
//! extra and magic variables, so it may depend on the host; it is looked up
//! as `<playbook dir>/vars/<name>` then `<playbook dir>/<name>`. A missing
//! file, or an entry whose template is undefined for the host, is skipped
//! silently, as 2.18 does; a file that does not parse stops the run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use rsible_templar::{from_yaml, Templar, Value, VarSource};
use rsible_yaml::{Node, Value as Y};

use super::precedence as level;
use super::Layer;

/// Why vars_files stop the run (Ansible's `ERROR!`), with the exit code.
#[derive(Clone, Debug)]
pub struct VarsFilesError {
    pub message: String,
    pub exit_code: i32,
}

/// Files already read during the run (Ansible caches them in its loader too).
#[derive(Default)]
pub struct VarsFilesCache {
    files: HashMap<PathBuf, Result<Layer, VarsFilesError>>,
}

/// The levels that are already in the variables vars_files entries are
/// templated with, and that vars_files override.
pub fn is_below_vars_files(name: &str) -> bool {
    matches!(
        name,
        level::ROLE_DEFAULTS
            | level::INVENTORY_ALL
            | level::INVENTORY_GROUPS
            | level::INVENTORY_GROUP_VARS_ALL
            | level::PLAYBOOK_GROUP_VARS_ALL
            | level::INVENTORY_GROUP_VARS
            | level::PLAYBOOK_GROUP_VARS
            | level::INVENTORY_HOST
            | level::INVENTORY_HOST_VARS
            | level::PLAYBOOK_HOST_VARS
            | level::FACTS
            | level::PLAY_VARS
    )
}

/// The levels the entries' templates see: those below plus extra and magic variables.
pub fn is_template_context(name: &str) -> bool {
    is_below_vars_files(name) || name == level::EXTRA_VARS || name == level::MAGIC
}

/// The play's entries, each as its list of candidate names (`get_vars_files`:
/// a single name stands for a list of one).
pub fn entries(node: Option<&Node>) -> Vec<Vec<Value>> {
    let Some(node) = node else {
        return Vec::new();
    };
    match &node.value {
        Y::Null => Vec::new(),
        Y::Seq(items) => items
            .iter()
            .map(|item| match &item.value {
                Y::Seq(candidates) => candidates.iter().map(from_yaml).collect(),
                _ => vec![from_yaml(item)],
            })
            .collect(),
        _ => vec![vec![from_yaml(node)]],
    }
}

/// Whether no entry needs templating (such plays are checked once, up front).
pub fn is_static(entries: &[Vec<Value>]) -> bool {
    entries
        .iter()
        .flatten()
        .all(|v| v.as_str().is_none_or(|s| !Templar::is_template(s)))
}

/// The variables the entries give a host, later files over earlier ones.
pub fn layer(
    templar: &Templar,
    entries: &[Vec<Value>],
    basedir: &Path,
    vars: &dyn VarSource,
    cache: &mut VarsFilesCache,
) -> Result<Layer, VarsFilesError> {
    let mut out: IndexMap<String, Value> = IndexMap::new();
    'entries: for candidates in entries {
        for candidate in candidates {
            let name = match templar.template(candidate, vars) {
                Ok(v) => v,
                // 2.18 skips the entry when it cannot be templated yet (`-vvv`
                // says so); a later task with more variables may read it.
                Err(e) if e.is_undefined() => continue 'entries,
                Err(e) => {
                    return Err(VarsFilesError {
                        message: e.to_string(),
                        exit_code: 1,
                    })
                }
            };
            let Some(name) = name.as_str() else {
                return Err(VarsFilesError {
                    message: format!(
                        "Invalid vars_files entry found: {}\nvars_files entries should be either a string type or a list of string types after template expansion",
                        rsible_templar::python_repr::repr(&name)
                    ),
                    exit_code: 1,
                });
            };
            let Some(path) = find(basedir, name) else {
                continue;
            };
            let vars = cache
                .files
                .entry(path.clone())
                .or_insert_with(|| load(&path))
                .clone()?;
            for (k, v) in vars.iter() {
                out.insert(k.clone(), v.clone());
            }
            continue 'entries;
        }
    }
    Ok(Arc::new(out))
}

/// `path_dwim_relative_stack([playbook dir], 'vars', name)`.
fn find(basedir: &Path, name: &str) -> Option<PathBuf> {
    if name.is_empty() {
        return None;
    }
    if let Some(rest) = name.strip_prefix('~') {
        let home = std::env::var_os("HOME").map(PathBuf::from)?;
        let path = home.join(rest.trim_start_matches('/'));
        return path.exists().then_some(path);
    }
    if name.starts_with('/') {
        let path = PathBuf::from(name);
        return path.exists().then_some(path);
    }
    let mut candidates = Vec::new();
    if name.split('/').next() != Some("vars") {
        candidates.push(basedir.join("vars").join(name));
    }
    candidates.push(basedir.join(name));
    candidates.into_iter().find(|p| p.exists())
}

/// One file's variables: a mapping, a list of mappings, or nothing.
fn load(path: &Path) -> Result<Layer, VarsFilesError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| VarsFilesError {
        message: format!("Invalid vars_file '{shown}'.. {e}"),
        exit_code: 1,
    })?;
    let docs = rsible_yaml::load_str(&text, Some(&shown)).map_err(|e| VarsFilesError {
        message: e.to_string().trim_end().to_string(),
        exit_code: 4,
    })?;
    let mut out: IndexMap<String, Value> = IndexMap::new();
    let Some(doc) = docs.into_iter().next() else {
        return Ok(Arc::new(out));
    };
    let invalid = |type_name: &str| {
        VarsFilesError {
        message: format!(
            "Invalid vars_file '{shown}'.. variable files must contain either a dictionary of variables, or a list of dictionaries. Got: <class '{type_name}'> "
        ),
        exit_code: 1,
    }
    };
    let mappings: Vec<&Node> = match &doc.value {
        Y::Null => Vec::new(),
        Y::Map(_) => vec![&doc],
        Y::Seq(items) => {
            if items.iter().any(|i| !matches!(i.value, Y::Map(_))) {
                return Err(invalid("ansible.parsing.yaml.objects.AnsibleSequence"));
            }
            items.iter().collect()
        }
        Y::Str(_) => return Err(invalid("ansible.parsing.yaml.objects.AnsibleUnicode")),
        Y::Bool(_) => return Err(invalid("bool")),
        Y::Int(_) | Y::BigInt(_) => return Err(invalid("int")),
        Y::Float(_) => return Err(invalid("float")),
        _ => return Err(invalid("ansible.parsing.yaml.objects.AnsibleUnicode")),
    };
    for mapping in mappings {
        if let Some(map) = mapping.as_map() {
            for (k, v) in map.iter() {
                if let Some(key) = k.as_str() {
                    out.insert(key.to_string(), from_yaml(v));
                }
            }
        }
    }
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn vars(pairs: &[(&str, &str)]) -> crate::vars::VarLayers {
        let mut scope = crate::vars::VarLayers::new();
        scope.push_map(
            level::PLAY_VARS,
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(*v)))
                .collect(),
        );
        scope
    }

    #[test]
    fn entries_are_templated_looked_up_under_vars_and_first_found() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "vars/a.yml", "x: from vars/a\n");
        write(dir.path(), "c.yml", "- {y: 1}\n- {z: 2}\n");
        let docs = rsible_yaml::load_str(
            "[\"{{ which }}.yml\", [missing.yml, c.yml], nothere.yml, \"{{ nope }}.yml\"]",
            None,
        )
        .unwrap();
        let entries = entries(docs.first());
        assert!(!is_static(&entries));
        let mut cache = VarsFilesCache::default();
        let got = layer(
            &Templar::new(),
            &entries,
            dir.path(),
            &vars(&[("which", "a")]),
            &mut cache,
        )
        .unwrap();
        assert_eq!(got.get("x"), Some(&Value::from("from vars/a")));
        assert_eq!(got.get("y"), Some(&Value::from(1)));
        assert_eq!(got.get("z"), Some(&Value::from(2)));
    }

    #[test]
    fn a_file_that_is_not_a_mapping_stops_the_run() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "list.yml", "- 1\n- 2\n");
        let docs = rsible_yaml::load_str("[list.yml]", None).unwrap();
        let err = layer(
            &Templar::new(),
            &entries(docs.first()),
            dir.path(),
            &vars(&[]),
            &mut VarsFilesCache::default(),
        )
        .unwrap_err();
        assert!(err.message.contains("AnsibleSequence"), "{}", err.message);
    }
}
