//! Action groups for `module_defaults: {group/<name>: ...}`: the
//! `action_groups` of ansible-core's `config/ansible_builtin_runtime.yml` and
//! of each collection's `meta/runtime.yml`, resolved to the fully qualified
//! names of their actions as Ansible's `Base._resolve_group` does (members
//! that do not resolve are left out, `metadata.extend_group` adds other
//! groups' actions).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rsible_yaml::{Node, Value};

use crate::modules::ModuleRegistry;

/// Groups already resolved, by fully qualified group name.
#[derive(Default)]
pub struct ActionGroups {
    resolved: HashMap<String, Vec<String>>,
    /// `action_groups` sections read so far, by collection (`ns.coll`).
    sections: HashMap<String, Option<Node>>,
}

/// `group/<name>` with a short name belongs to ansible.builtin.
pub fn qualify_group(name: &str) -> String {
    if is_fqcr(name) {
        name.to_string()
    } else {
        format!("ansible.builtin.{name}")
    }
}

/// A collection reference `ns.coll.resource`.
fn is_fqcr(name: &str) -> bool {
    name.split('.').count() >= 3 && name.split('.').all(|p| !p.is_empty())
}

impl ActionGroups {
    /// The actions of a fully qualified group, or Ansible's error when the
    /// group (or its collection) cannot be found.
    pub fn actions(
        &mut self,
        registry: &ModuleRegistry,
        fq_group: &str,
    ) -> Result<Vec<String>, String> {
        let mut visiting = Vec::new();
        self.resolve(registry, fq_group, true, &mut visiting)
    }

    fn resolve(
        &mut self,
        registry: &ModuleRegistry,
        fq_group: &str,
        mandatory: bool,
        visiting: &mut Vec<String>,
    ) -> Result<Vec<String>, String> {
        if let Some(actions) = self.resolved.get(fq_group) {
            return Ok(actions.clone());
        }
        let not_found = || {
            format!(
                "Error loading module_defaults: could not resolve the module_defaults group {fq_group}"
            )
        };
        // Groups that extend each other would recurse forever: Ansible caches
        // a group before resolving its extensions, which stops the cycle.
        if visiting.iter().any(|g| g == fq_group) {
            return Ok(Vec::new());
        }
        let collection: String = fq_group
            .splitn(3, '.')
            .take(2)
            .collect::<Vec<_>>()
            .join(".");
        let resource = fq_group
            .strip_prefix(&format!("{collection}."))
            .unwrap_or(fq_group);
        let section = self.section(registry, &collection);
        let group = section.as_ref().and_then(|s| {
            let map = s.as_map()?;
            map.get(fq_group).or_else(|| map.get(resource)).cloned()
        });
        let Some(group) = group else {
            return if mandatory {
                Err(not_found())
            } else {
                Ok(Vec::new())
            };
        };
        let mut actions = Vec::new();
        let mut extends: Vec<String> = Vec::new();
        if let Value::Seq(members) = &group.value {
            for member in members {
                if let Some(name) = member.as_str() {
                    let fq = if is_fqcr(name) {
                        name.to_string()
                    } else {
                        format!("{collection}.{name}")
                    };
                    if let Some(resolved) = registry.resolve(&fq) {
                        actions.push(resolved);
                    }
                } else if let Some(meta) = member
                    .as_map()
                    .and_then(|m| m.get("metadata"))
                    .and_then(Node::as_map)
                {
                    match meta.get("extend_group").map(|n| &n.value) {
                        Some(Value::Seq(list)) => {
                            extends.extend(list.iter().filter_map(|n| n.as_str().map(String::from)))
                        }
                        Some(_) => extends.extend(
                            meta.get("extend_group")
                                .and_then(Node::as_str)
                                .map(String::from),
                        ),
                        None => {}
                    }
                }
            }
        }
        visiting.push(fq_group.to_string());
        for other in extends {
            let other = if is_fqcr(&other) {
                other
            } else {
                format!("{collection}.{other}")
            };
            let more = self.resolve(registry, &other, false, visiting)?;
            actions.extend(more);
        }
        visiting.pop();
        self.resolved.insert(fq_group.to_string(), actions.clone());
        Ok(actions)
    }

    /// The `action_groups` mapping of a collection's routing file.
    fn section(&mut self, registry: &ModuleRegistry, collection: &str) -> Option<Node> {
        if let Some(s) = self.sections.get(collection) {
            return s.clone();
        }
        let section = routing_file(registry, collection).and_then(|p| read_action_groups(&p));
        self.sections
            .insert(collection.to_string(), section.clone());
        section
    }
}

/// Where a collection's routing metadata lives.
fn routing_file(registry: &ModuleRegistry, collection: &str) -> Option<PathBuf> {
    if collection == "ansible.builtin" || collection == "ansible.legacy" {
        let core = registry.ansible_core_dir()?;
        return Some(core.join("config").join("ansible_builtin_runtime.yml"));
    }
    let (ns, coll) = collection.split_once('.')?;
    registry.collection_roots().into_iter().find_map(|root| {
        let dir = root.join("ansible_collections").join(ns).join(coll);
        dir.is_dir().then(|| dir.join("meta").join("runtime.yml"))
    })
}

/// The top-level `action_groups:` section of a runtime.yml. ansible-core's
/// own file is large (370 KB), so only that section's lines are parsed.
fn read_action_groups(path: &Path) -> Option<Node> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut section = String::new();
    let mut inside = false;
    for line in text.lines() {
        let top_level = !line.is_empty() && !line.starts_with([' ', '\t', '#']);
        if top_level {
            if inside {
                break;
            }
            inside = line.trim_end() == "action_groups:";
        }
        if inside {
            section.push_str(line);
            section.push('\n');
        }
    }
    if section.is_empty() {
        return None;
    }
    let doc = rsible_yaml::load_one(&section, Some(&path.display().to_string())).ok()?;
    doc.as_map()?.get("action_groups").cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_group_names_belong_to_ansible_builtin() {
        assert_eq!(qualify_group("testgroup"), "ansible.builtin.testgroup");
        assert_eq!(qualify_group("amazon.aws.aws"), "amazon.aws.aws");
    }

    #[test]
    fn a_collection_group_resolves_its_members_and_extensions() {
        let dir = std::env::temp_dir().join(format!("rsible-action-groups-{}", std::process::id()));
        let coll = dir.join("ansible_collections/ns/coll");
        std::fs::create_dir_all(coll.join("plugins/modules")).unwrap();
        std::fs::create_dir_all(coll.join("meta")).unwrap();
        for m in ["one", "two", "three"] {
            std::fs::write(coll.join(format!("plugins/modules/{m}.py")), "").unwrap();
        }
        std::fs::write(
            coll.join("meta/runtime.yml"),
            "requires_ansible: '>=2.15'\naction_groups:\n  base:\n    - one\n    - missing\n  all:\n    - metadata:\n        extend_group: [base]\n    - ns.coll.three\nplugin_routing: {}\n",
        )
        .unwrap();
        let registry = ModuleRegistry::new(None, vec![dir.clone()]);
        let mut groups = ActionGroups::default();
        assert_eq!(
            groups.actions(&registry, "ns.coll.all").unwrap(),
            vec!["ns.coll.three".to_string(), "ns.coll.one".to_string()]
        );
        let err = groups.actions(&registry, "ns.coll.nothing").unwrap_err();
        assert!(err.contains("could not resolve the module_defaults group ns.coll.nothing"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
