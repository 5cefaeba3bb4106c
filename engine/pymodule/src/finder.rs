//! Which support files a module needs: starting from the module, every
//! `ansible.module_utils.*` and `ansible_collections.<ns>.<coll>.plugins.module_utils.*`
//! it imports, then what those import, until nothing new turns up (as
//! Ansible's recursive finder does). Other imports (the standard library,
//! third-party packages) are left to the target's Python.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use crate::imports::{scan, Import};

/// Where Python packages that a payload may bundle are found.
#[derive(Debug, Clone, Default)]
pub struct SearchRoots {
    /// The directory holding the installed `ansible/` package (site-packages).
    pub ansible_core_parent: Option<PathBuf>,
    /// Directories holding an `ansible_collections/` tree, first match wins.
    pub collection_roots: Vec<PathBuf>,
}

/// A Python module found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyFile {
    /// Where it is read from.
    pub path: PathBuf,
    /// Whether it is a package (`__init__.py`).
    pub is_package: bool,
}

impl SearchRoots {
    /// The file of a dotted module name when it is one the payload bundles.
    pub fn find(&self, dotted: &str) -> Option<PyFile> {
        let parts: Vec<&str> = dotted.split('.').collect();
        let base =
            if dotted == "ansible.module_utils" || dotted.starts_with("ansible.module_utils.") {
                self.ansible_core_parent.clone()?
            } else if parts.len() >= 5
                && parts[0] == "ansible_collections"
                && parts[3] == "plugins"
                && parts[4] == "module_utils"
            {
                self.collection_root(parts[1], parts[2])?
            } else {
                return None;
            };
        let mut path = base;
        for p in &parts {
            path.push(p);
        }
        let init = path.join("__init__.py");
        if init.is_file() {
            return Some(PyFile {
                path: init,
                is_package: true,
            });
        }
        let file = path.with_extension("py");
        file.is_file().then_some(PyFile {
            path: file,
            is_package: false,
        })
    }

    /// The first root that has collection `ns.coll`.
    pub fn collection_root(&self, ns: &str, coll: &str) -> Option<PathBuf> {
        self.collection_roots
            .iter()
            .find(|r| r.join("ansible_collections").join(ns).join(coll).is_dir())
            .cloned()
    }
}

/// The support modules `source` (the module `module_name`, a module in
/// package `package`) needs, by dotted name, transitively.
pub fn support_modules(
    roots: &SearchRoots,
    package: &str,
    source: &str,
) -> Result<BTreeMap<String, PyFile>, String> {
    let mut found: BTreeMap<String, PyFile> = BTreeMap::new();
    let mut queue: VecDeque<(String, String)> = VecDeque::new();
    queue.push_back((package.to_string(), source.to_string()));
    while let Some((pkg, text)) = queue.pop_front() {
        for name in wanted_names(roots, &pkg, &scan(&text)) {
            for dotted in with_parents(&name) {
                if found.contains_key(&dotted) {
                    continue;
                }
                let Some(file) = roots.find(&dotted) else {
                    continue;
                };
                let body = std::fs::read(&file.path)
                    .map_err(|e| format!("cannot read {}: {e}", file.path.display()))?;
                let own_package = if file.is_package {
                    dotted.clone()
                } else {
                    parent_of(&dotted).to_string()
                };
                queue.push_back((own_package, String::from_utf8_lossy(&body).into_owned()));
                found.insert(dotted, file);
            }
        }
    }
    Ok(found)
}

/// The dotted names an import list refers to that the payload may bundle:
/// for `from P import n`, `P.n` when it is a module, else `P`.
fn wanted_names(roots: &SearchRoots, package: &str, imports: &[Import]) -> Vec<String> {
    let mut out = Vec::new();
    for import in imports {
        match import {
            Import::Module(name) => out.push(longest_existing(roots, name)),
            Import::From { level, base, names } => {
                let absolute = match absolutize(package, *level, base) {
                    Some(a) => a,
                    None => continue,
                };
                for n in names {
                    let candidate = format!("{absolute}.{n}");
                    if n != "*" && roots.find(&candidate).is_some() {
                        out.push(candidate);
                    } else {
                        out.push(longest_existing(roots, &absolute));
                    }
                }
                if names.is_empty() {
                    out.push(longest_existing(roots, &absolute));
                }
            }
        }
    }
    out.retain(|n| !n.is_empty());
    out
}

/// `ansible.module_utils.six.moves` is no file: its longest prefix that is.
fn longest_existing(roots: &SearchRoots, dotted: &str) -> String {
    let mut name = dotted;
    loop {
        if roots.find(name).is_some() {
            return name.to_string();
        }
        match name.rsplit_once('.') {
            Some((head, _)) => name = head,
            None => return String::new(),
        }
    }
}

/// A relative import made absolute against the importing module's package.
fn absolutize(package: &str, level: usize, base: &str) -> Option<String> {
    if level == 0 {
        return Some(base.to_string());
    }
    let mut parts: Vec<&str> = package.split('.').filter(|p| !p.is_empty()).collect();
    for _ in 1..level {
        parts.pop()?;
    }
    if !base.is_empty() {
        parts.push(base);
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

/// `a.b.c` -> `a`, `a.b`, `a.b.c`: importing a module imports its packages.
fn with_parents(dotted: &str) -> Vec<String> {
    let parts: Vec<&str> = dotted.split('.').collect();
    (1..=parts.len()).map(|n| parts[..n].join(".")).collect()
}

fn parent_of(dotted: &str) -> &str {
    dotted.rsplit_once('.').map(|(h, _)| h).unwrap_or("")
}

/// The path inside the payload of a dotted module name.
pub fn archive_path(dotted: &str, is_package: bool) -> String {
    let rel = dotted.replace('.', "/");
    if is_package {
        format!("{rel}/__init__.py")
    } else {
        format!("{rel}.py")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    #[test]
    fn follows_imports_transitively_and_relatively() {
        let dir = tempfile::tempdir().unwrap();
        let core = dir.path().join("site");
        let colls = dir.path().join("colls");
        write(&core, "ansible/module_utils/__init__.py", "");
        write(
            &core,
            "ansible/module_utils/basic.py",
            "from ansible.module_utils.six.moves import map\ntry:\n    import ansible.module_utils.common.text as t\nexcept ImportError:\n    pass\n",
        );
        write(&core, "ansible/module_utils/six/__init__.py", "");
        write(&core, "ansible/module_utils/common/__init__.py", "");
        write(
            &core,
            "ansible/module_utils/common/text.py",
            "import json\n",
        );
        write(&core, "ansible/module_utils/unused.py", "");
        let cu = "ansible_collections/acme/tools/plugins/module_utils";
        write(&colls, &format!("{cu}/helper.py"), "from .deep import x\n");
        write(&colls, &format!("{cu}/deep.py"), "");
        let roots = SearchRoots {
            ansible_core_parent: Some(core.clone()),
            collection_roots: vec![colls.clone()],
        };
        let module = "from ansible.module_utils.basic import AnsibleModule\nfrom ..module_utils.helper import h\n";
        let found = support_modules(
            &roots,
            "ansible_collections.acme.tools.plugins.modules",
            module,
        )
        .unwrap();
        let names: Vec<&str> = found.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            vec![
                "ansible.module_utils",
                "ansible.module_utils.basic",
                "ansible.module_utils.common",
                "ansible.module_utils.common.text",
                "ansible.module_utils.six",
                "ansible_collections.acme.tools.plugins.module_utils.deep",
                "ansible_collections.acme.tools.plugins.module_utils.helper",
            ]
        );
        assert!(found["ansible.module_utils.six"].is_package);
    }

    #[test]
    fn relative_levels() {
        assert_eq!(absolutize("a.b.c", 2, "x").as_deref(), Some("a.b.x"));
        assert_eq!(absolutize("a.b", 1, "").as_deref(), Some("a.b"));
        assert_eq!(absolutize("a", 3, "x"), None);
    }
}
