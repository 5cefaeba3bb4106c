//! Resolving every setting: environment first, then the config file, then
//! the default — Ansible's order for settings without play/CLI sources.

use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::ini::{self, IniDoc};
use crate::locate::find_config_file;
use crate::settings::{SettingDef, Settings, SETTINGS};
use crate::value::{convert, convert_default, Kind, Source, Value};
use crate::{ConfigError, EnvLookup};

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    /// The environment variable that supplied it.
    Env(String),
    /// The config file, with the `[section]` and key that supplied it.
    File {
        path: PathBuf,
        section: String,
        key: String,
    },
}

/// As `ansible-config dump` prints origins: `default`, `env: NAME`, or the file path.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::Env(name) => write!(f, "env: {name}"),
            Origin::File { path, .. } => write!(f, "{}", path.display()),
        }
    }
}

/// One resolved setting.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub def: &'static SettingDef,
    pub value: Value,
    pub origin: Origin,
}

impl PartialEq for Resolved {
    fn eq(&self, other: &Self) -> bool {
        self.def.name == other.def.name && self.value == other.value && self.origin == other.origin
    }
}

/// The loaded configuration: typed fields (through `Deref` to [`Settings`]),
/// the file used, and every value with its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The ansible.cfg that was read, if any.
    pub file: Option<PathBuf>,
    /// Warnings to print as `[WARNING]: ...` (e.g. a skipped world-writable cwd).
    pub warnings: Vec<String>,
    pub settings: Settings,
    resolved: IndexMap<&'static str, Resolved>,
}

impl std::ops::Deref for Config {
    type Target = Settings;
    fn deref(&self) -> &Settings {
        &self.settings
    }
}

impl std::ops::DerefMut for Config {
    fn deref_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }
}

impl Config {
    /// Find and read the config file and resolve every setting.
    /// `env` answers environment lookups (inject a fake one in tests).
    pub fn load(cwd: &Path, env: EnvLookup<'_>) -> Result<Config, ConfigError> {
        let located = find_config_file(cwd, env);
        Self::load_file(located.file, located.warnings, cwd, env)
    }

    /// Resolve settings from a given config file (or none), skipping the search.
    pub fn load_file(
        file: Option<PathBuf>,
        warnings: Vec<String>,
        cwd: &Path,
        env: EnvLookup<'_>,
    ) -> Result<Config, ConfigError> {
        let doc = match &file {
            Some(path) => Some(read_ini(path)?),
            None => None,
        };
        let mut resolved: IndexMap<&'static str, Resolved> = IndexMap::new();
        let mut home = String::new();
        for def in SETTINGS {
            let r = resolve_one(def, file.as_deref(), doc.as_ref(), cwd, env, &home)?;
            if def.name == "ANSIBLE_HOME" {
                home = r.value.to_string();
            }
            resolved.insert(def.name, r);
        }
        let settings = Settings::from_values(&|name| resolved.get(name).map(|r| r.value.clone()))?;
        let config = Config {
            file,
            warnings,
            settings,
            resolved,
        };
        config.refuse_unsupported()?;
        Ok(config)
    }

    /// Where a setting came from, by Ansible name (`DEFAULT_FORKS`,
    /// `ssh.ssh_args`) or field name (`forks`).
    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.resolved(name).map(|r| &r.origin)
    }

    /// The value and origin of a setting, by Ansible or field name.
    pub fn resolved(&self, name: &str) -> Option<&Resolved> {
        let def = crate::settings::find(name)?;
        self.resolved.get(def.name)
    }

    /// Every setting in table order.
    pub fn all(&self) -> impl Iterator<Item = &Resolved> {
        self.resolved.values()
    }

    /// Lines like `ansible-config dump --only-changed` prints for the
    /// settings rsible knows: `NAME(origin) = value`, sorted by name.
    pub fn dump_changed(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .all()
            .filter(|r| r.origin != Origin::Default)
            .map(|r| format!("{}({}) = {}", r.def.name, r.origin, r.value))
            .collect();
        lines.sort();
        lines
    }

    /// Settings rsible reads only to reject: running with them would silently
    /// behave differently from Ansible.
    fn refuse_unsupported(&self) -> Result<(), ConfigError> {
        if self.settings.jinja2_native {
            let origin = self
                .origin("jinja2_native")
                .map(ToString::to_string)
                .unwrap_or_default();
            return Err(ConfigError::Unsupported {
                setting: "DEFAULT_JINJA2_NATIVE".to_string(),
                origin,
                message: "jinja2_native = True is not implemented; remove it to run with rsible"
                    .to_string(),
            });
        }
        Ok(())
    }
}

fn read_ini(path: &Path) -> Result<IniDoc, ConfigError> {
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    match ext.as_str() {
        ".ini" | ".cfg" => {}
        ".yaml" | ".yml" => {
            return Err(ConfigError::UnsupportedType {
                ftype: "yaml".into(),
            })
        }
        _ => {
            return Err(ConfigError::UnsupportedExtension {
                path: path.to_path_buf(),
                ext,
            })
        }
    }
    let bytes = std::fs::read(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| ConfigError::NotUtf8 {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    ini::parse(&text).map_err(|message| ConfigError::Syntax {
        path: path.to_path_buf(),
        message,
    })
}

fn resolve_one(
    def: &'static SettingDef,
    file: Option<&Path>,
    doc: Option<&IniDoc>,
    cwd: &Path,
    env: EnvLookup<'_>,
    home: &str,
) -> Result<Resolved, ConfigError> {
    // Environment: the last listed variable that is set wins.
    let from_env = def
        .env
        .iter()
        .rev()
        .find_map(|name| env(name).map(|v| (v, Origin::Env(name.to_string()))));
    // Config file: likewise the last listed (section, key) present.
    let from_file = || {
        let (doc, path) = (doc?, file?);
        def.ini.iter().rev().find_map(|(section, key)| {
            doc.get(section, key).map(|v| {
                let origin = Origin::File {
                    path: path.to_path_buf(),
                    section: section.to_string(),
                    key: key.to_string(),
                };
                (v.to_string(), origin)
            })
        })
    };
    let found = from_env.or_else(from_file);

    let cfg_dir = file.and_then(Path::parent).unwrap_or(cwd);
    let default_source = Source {
        from_ini: false,
        base_dir: cwd,
        cwd,
        env,
    };
    let (value, origin) = match found {
        None => (
            convert_with_default(def, home, &default_source)?,
            Origin::Default,
        ),
        Some((raw, origin)) => {
            let from_ini = matches!(origin, Origin::File { .. });
            let base_dir = if from_ini { cfg_dir } else { cwd };
            let source = Source {
                from_ini,
                base_dir,
                cwd,
                env,
            };
            match convert(&raw, def.kind, &source) {
                Ok(value) => (value, origin),
                // An empty environment variable that does not convert means "unset".
                Err(_) if raw.is_empty() && matches!(origin, Origin::Env(_)) => (
                    convert_with_default(def, home, &default_source)?,
                    Origin::Default,
                ),
                Err(message) => {
                    return Err(ConfigError::InvalidType {
                        setting: def.name.to_string(),
                        origin: origin.to_string(),
                        message,
                    })
                }
            }
        }
    };
    check_choice(def, &value)?;
    Ok(Resolved { def, value, origin })
}

fn convert_with_default(
    def: &SettingDef,
    home: &str,
    source: &Source<'_>,
) -> Result<Value, ConfigError> {
    convert_default(&def.default, def.kind, home, source).map_err(|message| {
        ConfigError::InvalidType {
            setting: def.name.to_string(),
            origin: "default".to_string(),
            message,
        }
    })
}

fn check_choice(def: &SettingDef, value: &Value) -> Result<(), ConfigError> {
    if def.choices.is_empty() {
        return Ok(());
    }
    let ok = match value {
        Value::Str(s) => def.choices.contains(&s.as_str()),
        Value::List(items) if def.kind == Kind::List => {
            items.iter().all(|s| def.choices.contains(&s.as_str()))
        }
        Value::None => true,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    Err(ConfigError::InvalidChoice {
        setting: def.name.to_string(),
        value: value.to_string(),
        valid: def.choices.join(", "),
    })
}
