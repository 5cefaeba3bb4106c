//! Reading YAML files once: every task file, role file and playbook is parsed
//! a single time per run and shared by path (Kubespray imports the same task
//! files from many places).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rsible_yaml::{Node, Value};

use crate::error::{PlaybookError, Result};

/// Parse a YAML file into its documents.
pub fn parse_yaml_file(path: &Path) -> Result<Vec<Node>> {
    let bytes = rsible_vault::read_file(path).map_err(|e| match e {
        rsible_vault::ReadError::Vault(v) => PlaybookError::parse(v.to_string()),
        rsible_vault::ReadError::Io(e) => PlaybookError::parse(format!(
            "Unable to retrieve file contents\nCould not find or access '{}': {}",
            path.display(),
            e
        )),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        PlaybookError::parse(format!(
            "Unable to retrieve file contents\nCould not find or access '{}': {}",
            path.display(),
            e
        ))
    })?;
    // Positions name the file by absolute path, as Ansible's errors do.
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| normalize(&d.join(path)))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    // rsible-yaml's error text is Ansible's whole message, position and
    // offending line included.
    rsible_yaml::load_str(&text, Some(&absolute.display().to_string()))
        .map_err(|e| PlaybookError::parse(e.to_string().trim_end_matches('\n').to_string()))
}

/// The first document of a file, as Ansible's loader returns it (`None` for an empty file).
#[derive(Default)]
pub struct FileCache {
    files: RefCell<HashMap<PathBuf, Rc<Option<Node>>>>,
}

impl FileCache {
    pub fn load(&self, path: &Path) -> Result<Rc<Option<Node>>> {
        if let Some(hit) = self.files.borrow().get(path) {
            return Ok(hit.clone());
        }
        let docs = parse_yaml_file(path)?;
        let first = docs
            .into_iter()
            .next()
            .filter(|n| !matches!(n.value, Value::Null));
        let entry = Rc::new(first);
        self.files
            .borrow_mut()
            .insert(path.to_path_buf(), entry.clone());
        Ok(entry)
    }
}

/// Lexically normalise a path (no symlink resolution), as os.path.normpath.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in path.components() {
        match comp {
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The first existing file among `<base>`, `<base>.yml`, `<base>.yaml`, `<base>.json`
/// (Ansible's extension search for role files).
pub fn find_yaml_with_ext(base: &Path) -> Option<PathBuf> {
    for ext in ["", ".yml", ".yaml", ".json"] {
        let mut p = base.as_os_str().to_owned();
        p.push(ext);
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
    }
    None
}
