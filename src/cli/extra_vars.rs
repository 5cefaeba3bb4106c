//! `-e/--extra-vars` values turned into variable mappings, the way Ansible's
//! `load_extra_vars` reads them: `@file` (YAML or JSON), inline `{...}` /
//! `[...]` YAML/JSON, otherwise `k=v` pairs (string values).

use std::fmt;
use std::path::Path;

use rsible_config::parsing::parse_kv;
use rsible_yaml::{Mapping, Node, Value};

use crate::exit::ExitCode;

/// One `-e` value after loading: where it came from (the option text) and
/// the mapping it holds. Callers merge them in order (later wins, with
/// `hash_behaviour` deciding replace vs merge).
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraVars {
    pub source: String,
    pub vars: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExtraVarsError {
    /// Ansible's AnsibleOptionsError (exit 5).
    Option(String),
    /// The `@file` could not be read (exit 1).
    Missing(String),
    /// Unparseable YAML/JSON (exit 4); the text is the loader's message.
    Parse(String),
}

impl ExtraVarsError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            ExtraVarsError::Option(_) => ExitCode::BadOption,
            ExtraVarsError::Missing(_) => ExitCode::Error,
            ExtraVarsError::Parse(_) => ExitCode::Parse,
        }
    }
}

impl fmt::Display for ExtraVarsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtraVarsError::Option(m) | ExtraVarsError::Parse(m) => f.write_str(m),
            ExtraVarsError::Missing(path) => write!(
                f,
                "Unable to retrieve file contents\nCould not find or access '{path}' on the Ansible Controller.\n\
                 If you are using a module and expect the file to exist on the remote, see the remote_src option"
            ),
        }
    }
}

/// Load every `-e` value in order; empty values are skipped as in Ansible.
/// `@` paths are relative to `base_dir` (the working directory).
pub fn parse(values: &[String], base_dir: &Path) -> Result<Vec<ExtraVars>, ExtraVarsError> {
    let mut out = Vec::new();
    for option in values.iter().filter(|v| !v.is_empty()) {
        let vars = load_one(option, base_dir)?;
        if !matches!(vars.value, Value::Map(_)) {
            return Err(ExtraVarsError::Option(format!(
                "Invalid extra vars data supplied. '{option}' could not be made into a dictionary"
            )));
        }
        out.push(ExtraVars {
            source: option.clone(),
            vars,
        });
    }
    Ok(out)
}

fn load_one(option: &str, base_dir: &Path) -> Result<Node, ExtraVarsError> {
    if let Some(file) = option.strip_prefix('@') {
        let path = base_dir.join(file);
        if !path.is_file() {
            return Err(ExtraVarsError::Missing(file.to_string()));
        }
        return rsible_yaml::load_one_file(&path)
            .map(|loaded| loaded.value)
            .map_err(|e| ExtraVarsError::Parse(e.to_string()));
    }
    if option.starts_with(['/', '.']) {
        return Err(ExtraVarsError::Option(format!(
            "Please prepend extra_vars filename '{option}' with '@'"
        )));
    }
    if option.starts_with(['[', '{']) {
        return rsible_yaml::load_one(option, None)
            .map_err(|e| ExtraVarsError::Parse(e.to_string()));
    }
    let pairs = parse_kv(option, false).map_err(|e| ExtraVarsError::Option(e.to_string()))?;
    let mut map = Mapping::new();
    for (k, v) in pairs {
        map.insert(Node::unplaced(Value::Str(k)), Node::unplaced(Value::Str(v)));
    }
    Ok(Node::unplaced(Value::Map(map)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(node: &Node) -> Vec<(String, String)> {
        node.as_map()
            .expect("map")
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().unwrap_or("?").to_string(),
                    v.as_str().unwrap_or("<non-str>").to_string(),
                )
            })
            .collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn key_value_pairs_are_strings() {
        let got = parse(&["a=1 b=\"x y\"".to_string()], Path::new("/")).unwrap();
        assert_eq!(
            strings(&got[0].vars),
            vec![pair("a", "1"), pair("b", "x y")]
        );
    }

    #[test]
    fn inline_json_keeps_types() {
        let got = parse(&["{\"a\": 1, \"b\": [true]}".to_string()], Path::new("/")).unwrap();
        let map = got[0].vars.as_map().unwrap();
        assert_eq!(map.get("a").map(|n| n.value.clone()), Some(Value::Int(1)));
        assert!(map.get("b").and_then(|n| n.as_seq()).is_some());
    }

    #[test]
    fn file_relative_to_base_dir() {
        let dir = std::env::temp_dir().join(format!("rsible-extra-vars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("v.yml"), "a: yes\nb: text\n").unwrap();
        let got = parse(&["@v.yml".to_string(), String::new()], &dir).unwrap();
        assert_eq!(got.len(), 1, "empty values are skipped");
        let map = got[0].vars.as_map().unwrap();
        assert_eq!(
            map.get("a").map(|n| n.value.clone()),
            Some(Value::Bool(true))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    // Messages recorded from ansible-playbook 2.18 (/tmp/ref) with the same -e values.
    #[test]
    fn errors_in_ansible_wording() {
        let err = parse(&["/x.yml".to_string()], Path::new("/")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Please prepend extra_vars filename '/x.yml' with '@'"
        );
        assert_eq!(err.exit_code(), ExitCode::BadOption);
        let err = parse(&["[1]".to_string()], Path::new("/")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid extra vars data supplied. '[1]' could not be made into a dictionary"
        );
        let err = parse(&["@/nonexist.yml".to_string()], Path::new("/")).unwrap_err();
        assert!(err.to_string().starts_with(
            "Unable to retrieve file contents\nCould not find or access '/nonexist.yml' on the Ansible Controller."
        ));
        assert_eq!(err.exit_code(), ExitCode::Error);
        let err = parse(&["{\"a\":".to_string()], Path::new("/")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("We were unable to read either as JSON nor YAML"),
            "{err}"
        );
        assert_eq!(err.exit_code(), ExitCode::Parse);
    }
}
