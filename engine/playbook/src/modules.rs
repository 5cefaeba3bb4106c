//! Which modules and actions exist, so that task keys can be told apart from
//! typos (`couldn't resolve module/action 'x'`) and short names follow the
//! redirects Ansible applies (`sysctl` -> `ansible.posix.sysctl`).
//!
//! The list is built by scanning what Ansible itself would find: ansible-core's
//! `modules/` and `plugins/action/`, its `config/ansible_builtin_runtime.yml`
//! redirects, the installed collections (scanned lazily, one collection at the
//! time a name from it is asked for) and `library` directories. When no
//! ansible-core is found, a built-in list of ansible.builtin names keeps the
//! common modules resolving.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use rsible_yaml::{Node, Value};

/// ansible-core 2.18's ansible.builtin modules and action plugins (names only).
const BUILTIN_FALLBACK: &[&str] = &[
    "add_host",
    "apt",
    "apt_key",
    "apt_repository",
    "assemble",
    "assert",
    "async_status",
    "blockinfile",
    "command",
    "copy",
    "cron",
    "deb822_repository",
    "debconf",
    "debug",
    "dnf",
    "dnf5",
    "dpkg_selections",
    "expect",
    "fail",
    "fetch",
    "file",
    "find",
    "gather_facts",
    "get_url",
    "getent",
    "git",
    "group",
    "group_by",
    "hostname",
    "import_playbook",
    "import_role",
    "import_tasks",
    "include_role",
    "include_tasks",
    "include_vars",
    "iptables",
    "known_hosts",
    "lineinfile",
    "meta",
    "mount_facts",
    "normal",
    "package",
    "package_facts",
    "pause",
    "ping",
    "pip",
    "raw",
    "reboot",
    "replace",
    "rpm_key",
    "script",
    "service",
    "service_facts",
    "set_fact",
    "set_stats",
    "setup",
    "shell",
    "slurp",
    "stat",
    "subversion",
    "systemd",
    "systemd_service",
    "sysvinit",
    "tempfile",
    "template",
    "unarchive",
    "uri",
    "user",
    "validate_argument_spec",
    "wait_for",
    "wait_for_connection",
    "yum_repository",
];

#[derive(Default)]
struct LibraryDirs {
    adjacent: Vec<PathBuf>,
    configured: Vec<PathBuf>,
}

#[derive(Default)]
struct CollectionIndex {
    names: HashSet<String>,
    redirects: HashMap<String, String>,
}

pub struct ModuleRegistry {
    builtin: HashSet<String>,
    builtin_redirects: HashMap<String, String>,
    library: RefCell<HashSet<String>>,
    /// `library` directories in search order: playbook- and role-adjacent
    /// ones first (as Ansible adds them), then configured ones.
    library_dirs: RefCell<LibraryDirs>,
    /// The installed ansible-core package directory, when one was found.
    core: Option<PathBuf>,
    /// Directories that hold an `ansible_collections/` tree.
    collection_roots: RefCell<Vec<PathBuf>>,
    collections: RefCell<HashMap<String, CollectionIndex>>,
}

impl ModuleRegistry {
    /// A registry that knows only the built-in fallback list.
    pub fn builtin_only() -> Self {
        ModuleRegistry {
            builtin: BUILTIN_FALLBACK.iter().map(|s| s.to_string()).collect(),
            // ansible-core 2.18's action redirect (the yum module is gone).
            builtin_redirects: HashMap::from([(
                "yum".to_string(),
                "ansible.builtin.dnf".to_string(),
            )]),
            library: RefCell::new(HashSet::new()),
            library_dirs: RefCell::new(LibraryDirs::default()),
            core: None,
            collection_roots: RefCell::new(Vec::new()),
            collections: RefCell::new(HashMap::new()),
        }
    }

    /// Build from an ansible-core package directory (`.../site-packages/ansible`)
    /// if one is given, and the directories holding `ansible_collections/`.
    pub fn new(ansible_core: Option<&Path>, collection_roots: Vec<PathBuf>) -> Self {
        let mut registry = ModuleRegistry::builtin_only();
        if let Some(core) = ansible_core {
            registry.core = Some(core.to_path_buf());
            let mut names = HashSet::new();
            add_plugin_names(&core.join("modules"), &mut names);
            add_plugin_names(&core.join("plugins").join("action"), &mut names);
            if !names.is_empty() {
                registry.builtin = names;
            }
            let runtime = core.join("config").join("ansible_builtin_runtime.yml");
            // ansible-core's routing file is large (370 KB); a line scan of its
            // regular layout is much cheaper than a full YAML parse.
            registry.builtin_redirects = fs::read_to_string(&runtime)
                .ok()
                .and_then(|text| scan_module_redirects(&text))
                .unwrap_or_else(|| read_module_redirects(&runtime));
        }
        registry.collection_roots = RefCell::new(collection_roots);
        registry
    }

    /// Find ansible-core and collections where Ansible would: the Python
    /// environment of an `ansible-playbook` on PATH or in `$VIRTUAL_ENV`,
    /// the usual system site-packages, and `collections_paths`.
    pub fn discover(collections_paths: &[PathBuf]) -> Self {
        let site_packages = find_site_packages();
        let core = site_packages
            .iter()
            .map(|sp| sp.join("ansible"))
            .find(|p| p.join("modules").is_dir());
        let mut roots: Vec<PathBuf> = Vec::new();
        for path in collections_paths {
            // collections_path entries may point at the ansible_collections dir itself.
            if path.file_name().and_then(|n| n.to_str()) == Some("ansible_collections") {
                if let Some(parent) = path.parent() {
                    roots.push(parent.to_path_buf());
                }
            } else {
                roots.push(path.clone());
            }
        }
        roots.extend(site_packages);
        ModuleRegistry::new(core.as_deref(), roots)
    }

    /// Make the modules in a `library` directory known (ansible.cfg `library`,
    /// the playbook's `library/`, a role's `library/`).
    pub fn add_library_dir(&self, dir: &Path) {
        let mut names = HashSet::new();
        add_plugin_names(dir, &mut names);
        self.library.borrow_mut().extend(names);
        let mut dirs = self.library_dirs.borrow_mut();
        if !dirs.configured.iter().any(|d| d == dir) {
            dirs.configured.push(dir.to_path_buf());
        }
    }

    /// A `library/` beside a playbook or in a role: searched before the
    /// configured ones, in the order they were added.
    pub fn add_adjacent_library_dir(&self, dir: &Path) {
        let mut names = HashSet::new();
        add_plugin_names(dir, &mut names);
        self.library.borrow_mut().extend(names);
        let mut dirs = self.library_dirs.borrow_mut();
        if !dirs.adjacent.iter().any(|d| d == dir) {
            dirs.adjacent.push(dir.to_path_buf());
        }
    }

    /// A playbook-adjacent `collections/` directory: searched first.
    pub fn add_collection_root(&self, root: &Path) {
        let mut roots = self.collection_roots.borrow_mut();
        if !roots.iter().any(|r| r == root) {
            roots.insert(0, root.to_path_buf());
            self.collections.borrow_mut().clear();
        }
    }

    /// The installed ansible-core package directory (`.../site-packages/ansible`).
    pub fn ansible_core_dir(&self) -> Option<&Path> {
        self.core.as_deref()
    }

    /// Directories holding an `ansible_collections/` tree, in search order.
    pub fn collection_roots(&self) -> Vec<PathBuf> {
        self.collection_roots.borrow().clone()
    }

    /// The module file a resolved name (from [`ModuleRegistry::resolve`])
    /// runs, as Ansible's module loader finds it.
    pub fn locate_module(&self, fqcn: &str) -> Option<PathBuf> {
        let mut parts = fqcn.splitn(3, '.');
        let (ns, coll, name) = (parts.next()?, parts.next()?, parts.next()?);
        if ns == "ansible" && (coll == "legacy" || coll == "builtin") {
            if coll == "legacy" {
                let dirs = self.library_dirs.borrow();
                for dir in dirs.adjacent.iter().chain(dirs.configured.iter()) {
                    if let Some(p) = find_plugin_file(dir, name) {
                        return Some(p);
                    }
                }
            }
            return find_plugin_file(&self.core.as_ref()?.join("modules"), name);
        }
        self.collection_roots.borrow().iter().find_map(|root| {
            let dir = root.join("ansible_collections").join(ns).join(coll);
            if !dir.is_dir() {
                return None;
            }
            find_plugin_file(&dir.join("plugins").join("modules"), name)
        })
    }

    /// Whether the resolved name has an action plugin of its own (which the
    /// Python fallback would bypass).
    pub fn has_action_plugin(&self, fqcn: &str) -> bool {
        let mut parts = fqcn.splitn(3, '.');
        let (Some(ns), Some(coll), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        if ns == "ansible" && (coll == "legacy" || coll == "builtin") {
            return self.core.as_ref().is_some_and(|c| {
                find_plugin_file(&c.join("plugins").join("action"), name).is_some()
            });
        }
        self.collection_roots.borrow().iter().any(|root| {
            let dir = root.join("ansible_collections").join(ns).join(coll);
            find_plugin_file(&dir.join("plugins").join("action"), name).is_some()
        })
    }

    /// The fully qualified name `name` resolves to, or `None` when Ansible
    /// would say "couldn't resolve module/action".
    pub fn resolve(&self, name: &str) -> Option<String> {
        self.resolve_depth(name, 0)
    }

    pub fn exists(&self, name: &str) -> bool {
        self.resolve(name).is_some()
    }

    fn resolve_depth(&self, name: &str, depth: u32) -> Option<String> {
        if depth > 10 {
            return None;
        }
        let (short, legacy) = if let Some(s) = name.strip_prefix("ansible.legacy.") {
            (s, true)
        } else if let Some(s) = name.strip_prefix("ansible.builtin.") {
            (s, false)
        } else if !name.contains('.') {
            (name, true)
        } else {
            return self.resolve_in_collection(name, depth);
        };
        if legacy && self.library.borrow().contains(short) {
            return Some(format!("ansible.legacy.{short}"));
        }
        if self.builtin.contains(short) {
            return Some(format!("ansible.builtin.{short}"));
        }
        let target = self.builtin_redirects.get(short)?.clone();
        self.resolve_depth(&target, depth + 1)
    }

    fn resolve_in_collection(&self, fqcn: &str, depth: u32) -> Option<String> {
        let mut parts = fqcn.splitn(3, '.');
        let (ns, coll, plugin) = (parts.next()?, parts.next()?, parts.next()?);
        let key = format!("{ns}.{coll}");
        let redirect = {
            let mut cache = self.collections.borrow_mut();
            let index = cache
                .entry(key)
                .or_insert_with(|| self.scan_collection(ns, coll));
            if index.names.contains(plugin) {
                return Some(fqcn.to_string());
            }
            index.redirects.get(plugin).cloned()?
        };
        self.resolve_depth(&redirect, depth + 1)
    }

    fn scan_collection(&self, ns: &str, coll: &str) -> CollectionIndex {
        let mut index = CollectionIndex::default();
        for root in self.collection_roots.borrow().iter() {
            let dir = root.join("ansible_collections").join(ns).join(coll);
            if !dir.is_dir() {
                continue;
            }
            add_plugin_names(&dir.join("plugins").join("modules"), &mut index.names);
            add_plugin_names(&dir.join("plugins").join("action"), &mut index.names);
            index.redirects = read_module_redirects(&dir.join("meta").join("runtime.yml"));
            // Ansible uses the first collection root that has the collection.
            break;
        }
        index
    }
}

/// The file of plugin `name` in a plugin directory (`name.py`, or `name`
/// with no extension as old-style modules are), one subdirectory deep.
fn find_plugin_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let direct = |d: &Path| {
        [format!("{name}.py"), name.to_string()]
            .into_iter()
            .map(|f| d.join(f))
            .find(|p| p.is_file())
    };
    if let Some(p) = direct(dir) {
        return Some(p);
    }
    let entries = fs::read_dir(dir).ok()?;
    let mut subdirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    subdirs.iter().find_map(|d| direct(d))
}

/// Plugin names (file stems) in a plugin directory, one subdirectory deep as
/// older collections nest modules.
fn add_plugin_names(dir: &Path, names: &mut HashSet<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if file_name.starts_with('_') || file_name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            let Ok(sub) = fs::read_dir(&path) else {
                continue;
            };
            for e in sub.flatten() {
                if let Some(stem) = plugin_stem(&e.path()) {
                    names.insert(stem);
                }
            }
        } else if let Some(stem) = plugin_stem(&path) {
            names.insert(stem);
        }
    }
}

fn plugin_stem(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if name.starts_with('_') || name.starts_with('.') || name.ends_with(".pyc") {
        return None;
    }
    let stem = match name.rsplit_once('.') {
        Some((stem, ext)) if ["py", "ps1", "sh", "yml", "yaml"].contains(&ext) => {
            if ext == "yml" || ext == "yaml" {
                return None; // documentation sidecars, not modules
            }
            stem
        }
        Some(_) => return None,
        None => name, // old-style modules may have no extension (kubespray's `kube` has .py)
    };
    Some(stem.to_string())
}

/// `plugin_routing.modules.<name>.redirect` entries of a runtime.yml.
fn read_module_redirects(path: &Path) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Ok(docs) = crate::files::parse_yaml_file(path) else {
        return out;
    };
    let Some(doc) = docs.first() else { return out };
    let modules = doc
        .as_map()
        .and_then(|m| m.get("plugin_routing"))
        .and_then(Node::as_map)
        .and_then(|m| m.get("modules"))
        .and_then(Node::as_map);
    let Some(modules) = modules else { return out };
    for (key, value) in modules.iter() {
        let (Some(name), Value::Map(entry)) = (key.as_str(), &value.value) else {
            continue;
        };
        if let Some(target) = entry.get("redirect").and_then(Node::as_str) {
            out.insert(name.to_string(), target.to_string());
        }
    }
    out
}

/// Module redirects from a runtime.yml laid out as ansible-core writes it:
/// `plugin_routing:` / two-space `modules:` / four-space names / six-space
/// `redirect:`. Returns `None` when the text does not look like that.
fn scan_module_redirects(text: &str) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut in_routing = false;
    let mut in_modules = false;
    let mut in_action = false;
    let mut current: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_end();
        if trimmed.is_empty() || trimmed.trim_start().starts_with('#') {
            continue;
        }
        let indent = trimmed.len() - trimmed.trim_start().len();
        match indent {
            0 => {
                in_routing = trimmed == "plugin_routing:";
                in_modules = false;
            }
            2 if in_routing => {
                // Action redirects name actions too (`yum` -> the dnf action); a
                // module redirect of the same name wins.
                in_modules = matches!(trimmed.trim_start(), "modules:" | "action:");
                in_action = trimmed.trim_start() == "action:";
                current = None;
            }
            4 if in_modules => current = trimmed.trim_start().strip_suffix(':'),
            6 if in_modules => {
                if let (Some(name), Some(target)) =
                    (current, trimmed.trim_start().strip_prefix("redirect:"))
                {
                    let target = target.trim().trim_matches(['"', '\'']).to_string();
                    if !in_action || !out.contains_key(name) {
                        out.insert(name.to_string(), target);
                    }
                }
            }
            _ => {}
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

fn find_site_packages() -> Vec<PathBuf> {
    let mut prefixes: Vec<PathBuf> = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        prefixes.push(PathBuf::from(venv));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("ansible-playbook").is_file() {
                if let Some(prefix) = dir.parent() {
                    prefixes.push(prefix.to_path_buf());
                }
            }
        }
    }
    prefixes.push(PathBuf::from("/usr/local"));
    prefixes.push(PathBuf::from("/usr"));
    let mut out = Vec::new();
    for prefix in prefixes {
        let lib = prefix.join("lib");
        let Ok(entries) = fs::read_dir(&lib) else {
            continue;
        };
        let mut pythons: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("python3"))
            })
            .collect();
        pythons.sort();
        for py in pythons {
            for sub in ["site-packages", "dist-packages"] {
                let sp = py.join(sub);
                if sp.is_dir() && !out.contains(&sp) {
                    out.push(sp);
                }
            }
        }
    }
    let dist = PathBuf::from("/usr/lib/python3/dist-packages");
    if dist.is_dir() && !out.contains(&dist) {
        out.push(dist);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_resolves_builtin_spellings() {
        let r = ModuleRegistry::builtin_only();
        assert_eq!(
            r.resolve("command").as_deref(),
            Some("ansible.builtin.command")
        );
        assert_eq!(
            r.resolve("ansible.builtin.copy").as_deref(),
            Some("ansible.builtin.copy")
        );
        assert_eq!(
            r.resolve("ansible.legacy.debug").as_deref(),
            Some("ansible.builtin.debug")
        );
        assert_eq!(r.resolve("no_such_module"), None);
        assert_eq!(r.resolve("community.general.ini_file"), None);
        assert_eq!(r.resolve("yum").as_deref(), Some("ansible.builtin.dnf"));
    }

    #[test]
    fn runtime_scan_reads_redirects() {
        let text = "---\nplugin_routing:\n  connection:\n    x:\n      redirect: a.b.c\n  modules:\n    sysctl:\n      redirect: ansible.posix.sysctl\n    old:\n      tombstone:\n        removal_version: 2.0\n";
        let map = scan_module_redirects(text).unwrap();
        assert_eq!(
            map.get("sysctl").map(String::as_str),
            Some("ansible.posix.sysctl")
        );
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn runtime_scan_reads_action_redirects_after_module_ones() {
        let text = "plugin_routing:\n  modules:\n    a:\n      redirect: x.y.module_a\n  action:\n    a:\n      redirect: x.y.action_a\n    yum:\n      redirect: ansible.builtin.dnf\n";
        let map = scan_module_redirects(text).unwrap();
        assert_eq!(
            map.get("yum").map(String::as_str),
            Some("ansible.builtin.dnf")
        );
        assert_eq!(map.get("a").map(String::as_str), Some("x.y.module_a"));
    }

    #[test]
    fn library_modules_resolve_as_legacy() {
        let dir = std::env::temp_dir().join(format!("rsible-pb-lib-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("kube.py"), "# module").unwrap();
        let r = ModuleRegistry::builtin_only();
        assert_eq!(r.resolve("kube"), None);
        r.add_library_dir(&dir);
        assert_eq!(r.resolve("kube").as_deref(), Some("ansible.legacy.kube"));
        assert_eq!(r.resolve("ansible.builtin.kube"), None);
        let _ = fs::remove_dir_all(&dir);
    }
}
