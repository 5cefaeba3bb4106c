//! `local`: facts from `fact_path` (facts.d): `*.fact` files read as JSON or
//! INI, executable ones run and their output read the same way.

use super::{Facts, Gather};
use serde_json::{Map, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub fn collect(g: &Gather) -> Facts {
    let mut f = Facts::new();
    f.insert("local".into(), Value::Object(Map::new()));
    let dir = Path::new(g.fact_path);
    if g.fact_path.is_empty() || !dir.exists() {
        return f;
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "fact"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut local = Map::new();
    for path in files {
        let shown = path.display().to_string();
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().replace(".fact", ""))
            .unwrap_or_default();
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                local.insert(
                    base,
                    Value::String(format!("Could not stat fact ({shown}): {e}")),
                );
                continue;
            }
        };
        let out = if meta.permissions().mode() & 0o100 != 0 {
            // Run as Ansible's run_command runs it: with the task's environment.
            let run = std::process::Command::new(&path)
                .envs(g.programs.env())
                .output();
            match run {
                Ok(o) if o.status.success() => o.stdout,
                Ok(o) => {
                    local.insert(
                        base,
                        Value::String(format!(
                            "Failure executing fact script ({shown}), rc: {}, err: {}",
                            o.status.code().unwrap_or(-1),
                            String::from_utf8_lossy(&o.stderr)
                        )),
                    );
                    continue;
                }
                Err(e) => {
                    local.insert(
                        base,
                        Value::String(format!("Could not execute fact script ({shown}): {e}")),
                    );
                    continue;
                }
            }
        } else {
            std::fs::read(&path).unwrap_or_default()
        };
        let Ok(text) = String::from_utf8(out) else {
            local.insert(
                base,
                Value::String(format!(
                    "error loading fact - output of running \"{shown}\" was not utf-8"
                )),
            );
            continue;
        };
        let text = text.trim();
        let fact = match serde_json::from_str::<Value>(text) {
            Ok(v) => v,
            Err(_) => parse_ini(text).unwrap_or_else(|| {
                Value::String(format!(
                    "error loading facts as JSON or ini - please check content: {shown}"
                ))
            }),
        };
        local.insert(base, fact);
    }
    f.insert("local".into(), Value::Object(local));
    f
}

/// Python's ConfigParser as facts.d uses it: sections of `key = value` /
/// `key: value`, keys lower-cased; None when the text is not INI.
fn parse_ini(text: &str) -> Option<Value> {
    let mut out = Map::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            current = Some(name.to_string());
            out.entry(name.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            continue;
        }
        let section = current.as_ref()?;
        let split_at = trimmed.find(['=', ':'])?;
        let key = trimmed[..split_at].trim().to_lowercase();
        let value = trimmed[split_at + 1..].trim().to_string();
        if let Some(Value::Object(sect)) = out.get_mut(section) {
            sect.insert(key, Value::String(value));
        }
    }
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_ini_and_bad_facts() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.fact"), "{\"x\": 1}").expect("write");
        std::fs::write(dir.path().join("b.fact"), "[sect]\nKey = v\n").expect("write");
        std::fs::write(dir.path().join("c.fact"), "not ini").expect("write");
        std::fs::write(dir.path().join("ignored.txt"), "{}").expect("write");
        let path = dir.path().display().to_string();
        let facts = Facts::new();
        let env = Default::default();
        let f = collect(&Gather {
            facts: &facts,
            fact_path: &path,
            programs: &super::super::util::Programs::new(&env),
        });
        assert_eq!(f["local"]["a"], json!({"x": 1}));
        assert_eq!(f["local"]["b"], json!({"sect": {"key": "v"}}));
        assert!(f["local"]["c"]
            .as_str()
            .is_some_and(|s| s.starts_with("error loading facts as JSON or ini")));
        assert!(f["local"].get("ignored").is_none());
    }

    #[test]
    fn a_fact_script_runs_with_the_task_environment() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("env.fact");
        std::fs::write(
            &script,
            "#!/bin/sh\necho \"{\\\"v\\\": \\\"$RSIBLE_T\\\"}\"\n",
        )
        .expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let path = dir.path().display().to_string();
        let facts = Facts::new();
        let env = [("RSIBLE_T".to_string(), "from-task".to_string())].into();
        let f = collect(&Gather {
            facts: &facts,
            fact_path: &path,
            programs: &super::super::util::Programs::new(&env),
        });
        assert_eq!(f["local"]["env"], json!({"v": "from-task"}));
    }
}
