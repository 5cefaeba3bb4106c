//! `include_vars`: reads variables from YAML/JSON files on the controller
//! (one file, or a directory walked in name order), as Ansible's action
//! plugin does. The caller stores the facts at the include_vars precedence level.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use rsible_templar::{from_yaml, to_json, Value};
use serde_json::{json, Map, Value as Json};

use crate::lexical_path::normalize;

const VALID_DIR_ARGS: &[&str] = &[
    "dir",
    "depth",
    "files_matching",
    "ignore_files",
    "extensions",
    "ignore_unknown_extensions",
];
const VALID_FILE_ARGS: &[&str] = &["file", "_raw_params"];
const VALID_ALL: &[&str] = &["name", "hash_behaviour"];

/// Where relative names are looked up.
pub struct IncludeVarsPaths<'a> {
    /// The role the task belongs to.
    pub role_path: Option<&'a Path>,
    /// The directory of the file that holds the task.
    pub task_dir: &'a Path,
    /// The playbook directory.
    pub basedir: &'a Path,
}

/// The result, and the variables to set on the host when it did not fail.
pub struct IncludeVarsOutcome {
    pub result: Map<String, Json>,
    pub vars: IndexMap<String, Value>,
}

struct Walk {
    included: Vec<String>,
    vars: IndexMap<String, Value>,
}

/// Runs include_vars with already templated arguments.
pub fn include_vars(
    args: &IndexMap<String, Value>,
    paths: &IncludeVarsPaths,
) -> IncludeVarsOutcome {
    let fail_plain = |msg: String| IncludeVarsOutcome {
        result: obj(json!({"failed": true, "msg": msg})),
        vars: IndexMap::new(),
    };
    let mut dirs = 0;
    let mut files = 0;
    for key in args.keys() {
        if VALID_DIR_ARGS.contains(&key.as_str()) {
            dirs += 1;
        } else if VALID_FILE_ARGS.contains(&key.as_str()) {
            files += 1;
        } else if !VALID_ALL.contains(&key.as_str()) {
            return fail_plain(format!("{key} is not a valid option in include_vars"));
        }
    }
    if dirs > 0 && files > 0 {
        return fail_plain(
            "You are mixing file only and dir only arguments, these are incompatible".into(),
        );
    }
    if args.contains_key("hash_behaviour") {
        return fail_plain("rsible does not support include_vars hash_behaviour yet".into());
    }
    let text = |k: &str| {
        args.get(k)
            .filter(|v| !v.is_none() && !v.is_undefined())
            .map(value_text)
    };
    let mut walk = Walk {
        included: Vec::new(),
        vars: IndexMap::new(),
    };
    let outcome = match text("dir") {
        Some(dir) => load_dir(&dir, args, paths, &mut walk),
        None => match text("file").or_else(|| text("_raw_params")) {
            Some(file) => {
                let file = file.trim_end_matches('\n').to_string();
                match find_vars_file(&file, paths) {
                    Ok(found) => load_file(&found, false, &[], &mut walk),
                    Err(msg) => Err(msg),
                }
            }
            None => Ok(()),
        },
    };
    let mut vars = walk.vars;
    if let Some(name) = text("name") {
        let mut scoped = IndexMap::new();
        scoped.insert(
            name,
            crate::scope::map_value(vars.iter().map(|(k, v)| (k.clone(), v.clone()))),
        );
        vars = scoped;
    }
    let mut result = Map::new();
    let failed = outcome.is_err();
    if let Err(msg) = outcome {
        result.insert("failed".into(), Json::Bool(true));
        result.insert("message".into(), Json::String(msg));
        vars.clear();
    }
    result.insert(
        "ansible_included_var_files".into(),
        Json::Array(walk.included.into_iter().map(Json::String).collect()),
    );
    let facts: Map<String, Json> = vars.iter().map(|(k, v)| (k.clone(), to_json(v))).collect();
    result.insert("ansible_facts".into(), Json::Object(facts));
    result.insert("_ansible_no_log".into(), Json::Bool(false));
    if failed {
        vars.clear();
    }
    IncludeVarsOutcome { result, vars }
}

fn value_text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(v) if v.is_none() || v.is_undefined() => Vec::new(),
        Some(v) => match v.as_str() {
            Some(s) => s.split_whitespace().map(str::to_string).collect(),
            None => v
                .try_iter()
                .map(|it| it.map(|i| value_text(&i)).collect())
                .unwrap_or_default(),
        },
    }
}

/// `_find_needle('vars', name)`: the role's `vars/` and the role, else
/// `vars/` beside the task's file and the file's directory, then the same
/// under the playbook directory.
fn find_vars_file(name: &str, paths: &IncludeVarsPaths) -> Result<PathBuf, String> {
    let p = Path::new(name);
    if p.is_absolute() {
        return if p.exists() {
            Ok(p.to_path_buf())
        } else {
            Err(not_found(name, &[p.to_path_buf()]))
        };
    }
    let mut candidates = Vec::new();
    if let Some(role) = paths.role_path {
        candidates.push(role.join("vars").join(name));
        candidates.push(role.join(name));
    }
    candidates.push(paths.task_dir.join("vars").join(name));
    candidates.push(paths.task_dir.join(name));
    candidates.push(paths.basedir.join("vars").join(name));
    candidates.push(paths.basedir.join(name));
    let candidates: Vec<PathBuf> = candidates.iter().map(|c| normalize(c)).collect();
    candidates
        .iter()
        .find(|c| c.exists())
        .cloned()
        .ok_or_else(|| not_found(name, &candidates))
}

fn not_found(name: &str, searched: &[PathBuf]) -> String {
    let list: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
    format!(
        "Could not find or access '{name}'\nSearched in:\n\t{} on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option",
        list.join("\n\t")
    )
}

/// `dir:` is relative to the role's `vars/` inside a role, else to the
/// directory of the file holding the task.
fn load_dir(
    dir: &str,
    args: &IndexMap<String, Value>,
    paths: &IncludeVarsPaths,
    walk: &mut Walk,
) -> Result<(), String> {
    let root = match paths.role_path {
        Some(role) => {
            if dir.split('/').next() == Some("vars") && role.join(dir).exists() {
                role.join(dir)
            } else {
                role.join("vars").join(dir)
            }
        }
        None => paths.task_dir.join(dir),
    };
    let root = if Path::new(dir).is_absolute() {
        PathBuf::from(dir)
    } else {
        root
    };
    if !root.exists() {
        return Err(format!("{} directory does not exist", root.display()));
    }
    if !root.is_dir() {
        return Err(format!("{} is not a directory", root.display()));
    }
    let depth = args
        .get("depth")
        .and_then(|v| i64::try_from(v.clone()).ok())
        .unwrap_or(0)
        .max(0) as usize;
    let matcher = match args.get("files_matching").filter(|v| !v.is_none()) {
        Some(pattern) => Some(
            regex::Regex::new(&value_text(pattern))
                .map_err(|e| format!("Invalid regular expression: {e}"))?,
        ),
        None => None,
    };
    let ignore: Vec<regex::Regex> = string_list(args.get("ignore_files"))
        .iter()
        .map(|p| {
            regex::Regex::new(&format!("(?:{p})$"))
                .map_err(|_| format!("Invalid regular expression: {p}"))
        })
        .collect::<Result<_, _>>()?;
    let extensions = match args.get("extensions") {
        Some(v) if !v.is_none() => string_list(Some(v)),
        _ => vec!["yaml".into(), "yml".into(), "json".into()],
    };
    let skip_unknown = args
        .get("ignore_unknown_extensions")
        .is_some_and(Value::is_true);
    // os.walk, sorted by directory path, each directory's files sorted.
    let mut dirs: Vec<PathBuf> = Vec::new();
    collect_dirs(&root, &mut dirs);
    dirs.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    for current in dirs {
        let level = current
            .strip_prefix(&root)
            .map(|r| r.components().count())
            .unwrap_or(0)
            + 1;
        if depth != 0 && level > depth {
            continue;
        }
        let mut names: Vec<String> = std::fs::read_dir(&current)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.path().is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        for name in names {
            if let Some(role) = paths.role_path {
                if role.join(&name) == current.join("vars").join("main.yml") {
                    continue;
                }
            }
            if matcher.as_ref().is_some_and(|m| !m.is_match(&name)) {
                continue;
            }
            if ignore.iter().any(|r| r.is_match(&name)) {
                continue;
            }
            if skip_unknown && !has_extension(&name, &extensions) {
                continue;
            }
            load_file(&current.join(&name), true, &extensions, walk)?;
        }
    }
    Ok(())
}

fn collect_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    if let Ok(rd) = std::fs::read_dir(dir) {
        for entry in rd.flatten() {
            let p = entry.path();
            if p.is_dir() {
                collect_dirs(&p, out);
            }
        }
    }
}

fn has_extension(name: &str, extensions: &[String]) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| x == e))
}

fn load_file(
    file: &Path,
    check_extension: bool,
    extensions: &[String],
    walk: &mut Walk,
) -> Result<(), String> {
    if check_extension && !has_extension(&file.to_string_lossy(), extensions) {
        return Err(format!(
            "{} does not have a valid extension: {}",
            file.display(),
            extensions.join(", ")
        ));
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("Could not read {}: {e}", file.display()))?;
    let docs = rsible_yaml::load_str(&text, Some(&file.display().to_string()))
        .map_err(|e| e.to_string().trim_end().to_string())?;
    let doc = docs
        .into_iter()
        .next()
        .filter(|d| !matches!(d.value, rsible_yaml::Value::Null));
    let Some(doc) = doc else {
        walk.included.push(file.display().to_string());
        return Ok(());
    };
    let Some(map) = doc.as_map() else {
        return Err(format!(
            "{} must be stored as a dictionary/hash",
            file.display()
        ));
    };
    walk.included.push(file.display().to_string());
    for (k, v) in map.iter() {
        if let Some(key) = rsible_playbook::action::key_text(k) {
            walk.vars.insert(key, from_yaml(v));
        }
    }
    Ok(())
}

fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}
