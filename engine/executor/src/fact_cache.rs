//! The persistent fact cache (`fact_caching = jsonfile`): one JSON file per
//! host in `fact_caching_connection`, named `<fact_caching_prefix><host>`,
//! older than `fact_caching_timeout` seconds (0: never) counting as absent.
//! `memory` (the default) keeps facts for the run only and needs no files.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

#[derive(Clone, Debug, Default)]
pub struct FactCacheConfig {
    /// `fact_caching`: `memory` or `jsonfile`.
    pub plugin: String,
    pub connection: Option<String>,
    pub prefix: String,
    pub timeout: i64,
}

/// Where facts outlive the run, if anywhere.
#[derive(Debug)]
pub struct FactCache {
    dir: Option<PathBuf>,
    prefix: String,
    timeout: i64,
}

impl FactCache {
    /// The cache the configuration asks for; an unknown plugin is an error
    /// naming itself, never a silent memory cache.
    pub fn new(cfg: &FactCacheConfig) -> Result<FactCache, String> {
        let dir = match cfg.plugin.as_str() {
            "" | "memory" => None,
            "jsonfile" | "ansible.builtin.jsonfile" => {
                let Some(conn) = cfg.connection.as_deref().filter(|c| !c.is_empty()) else {
                    return Err("error, 'jsonfile' cache plugin requires the 'fact_caching_connection' config option to be set (to a writeable directory path)".into());
                };
                Some(PathBuf::from(expand_home(conn)))
            }
            other => {
                return Err(format!(
                    "rsible does not support the '{other}' fact cache plugin yet (memory and jsonfile are supported)"
                ))
            }
        };
        Ok(FactCache {
            dir,
            prefix: cfg.prefix.clone(),
            timeout: cfg.timeout,
        })
    }

    /// Whether facts outlive the run (jsonfile), not only the memory cache.
    pub fn is_persistent(&self) -> bool {
        self.dir.is_some()
    }

    fn file(&self, host: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(format!("{}{host}", self.prefix)))
    }

    /// The cached facts of a host, when present and not expired.
    pub fn load(&self, host: &str) -> Option<Map<String, Value>> {
        let path = self.file(host)?;
        let meta = std::fs::metadata(&path).ok()?;
        if self.timeout > 0 {
            let age = meta
                .modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .unwrap_or(Duration::ZERO);
            if age.as_secs() as i64 > self.timeout {
                return None;
            }
        }
        let text = std::fs::read_to_string(&path).ok()?;
        match serde_json::from_str(&text).ok()? {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Writes a host's facts (sorted keys, 4-space indent, as Ansible's jsonfile does).
    pub fn save(&self, host: &str, facts: &Map<String, Value>) -> Result<(), String> {
        let Some(path) = self.file(host) else {
            return Ok(());
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                format!(
                    "error in 'jsonfile' cache plugin while trying to create cache dir {}: {e}",
                    dir.display()
                )
            })?;
        }
        let sorted: std::collections::BTreeMap<&String, &Value> = facts.iter().collect();
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        serde::Serialize::serialize(&sorted, &mut ser).map_err(|e| e.to_string())?;
        let tmp = path.with_extension("rsible-tmp");
        std::fs::write(&tmp, &buf)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                format!(
                    "error in 'jsonfile' cache plugin while trying to write to '{}' : {e}",
                    path.display()
                )
            })
    }

    /// `--flush-cache` and `meta: clear_facts`: forget a host's facts.
    pub fn remove(&self, host: &str) {
        if let Some(path) = self.file(host) {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cache(dir: &std::path::Path, timeout: i64) -> FactCache {
        FactCache::new(&FactCacheConfig {
            plugin: "jsonfile".into(),
            connection: Some(dir.display().to_string()),
            prefix: String::new(),
            timeout,
        })
        .expect("jsonfile cache")
    }

    #[test]
    fn saves_loads_and_removes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = cache(dir.path(), 0);
        let Value::Object(facts) = json!({"b": 1, "a": {"x": true}}) else {
            panic!()
        };
        c.save("web1", &facts).expect("save");
        let text = std::fs::read_to_string(dir.path().join("web1")).expect("file");
        assert_eq!(
            text,
            "{\n    \"a\": {\n        \"x\": true\n    },\n    \"b\": 1\n}"
        );
        assert_eq!(c.load("web1"), Some(facts));
        c.remove("web1");
        assert_eq!(c.load("web1"), None);
    }

    #[test]
    fn jsonfile_needs_a_directory_and_unknown_plugins_fail() {
        let missing = FactCache::new(&FactCacheConfig {
            plugin: "jsonfile".into(),
            ..FactCacheConfig::default()
        });
        assert!(missing.is_err());
        let redis = FactCache::new(&FactCacheConfig {
            plugin: "redis".into(),
            ..FactCacheConfig::default()
        });
        assert!(redis.unwrap_err().contains("'redis'"));
    }
}
