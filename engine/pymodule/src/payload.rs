//! The payload: one zip that the target's Python runs as `python payload.zip`.
//! It holds `__main__.py` (our bootstrap, `bootstrap.py`), the module at its
//! package path (`ansible/modules/x.py` or
//! `ansible_collections/ns/coll/plugins/modules/x.py`), the module_utils it
//! needs, and an `__init__.py` for every package on the way. Entries are
//! sorted and timestamps fixed, so the same module always gives the same
//! bytes and content hash (the agent keeps payloads by hash).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use crate::finder::{archive_path, support_modules, SearchRoots};
use crate::style::{detect, ModuleStyle};

const BOOTSTRAP: &str = include_str!("bootstrap.py");

/// A packed module, ready to send.
#[derive(Debug)]
pub struct Payload {
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
    /// The dotted name the module runs under (`ansible.modules.getent`).
    pub python_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    /// The module is not new-style Python: the fallback cannot run it.
    Unsupported { module: String, style: ModuleStyle },
    /// Reading the module or a module_util, or writing the zip, failed.
    Io(String),
}

impl std::fmt::Display for PayloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PayloadError::Unsupported { module, style } => write!(
                f,
                "module {module} is {}, which rsible's Python fallback does not run (only modules using ansible.module_utils)",
                style.describe()
            ),
            PayloadError::Io(msg) => f.write_str(msg),
        }
    }
}

/// The dotted Python name a module runs under, from its resolved FQCN.
pub fn python_name(fqcn: &str) -> String {
    let parts: Vec<&str> = fqcn.splitn(3, '.').collect();
    match parts.as_slice() {
        ["ansible", "builtin" | "legacy", name] => format!("ansible.modules.{name}"),
        [ns, coll, name] => format!("ansible_collections.{ns}.{coll}.plugins.modules.{name}"),
        _ => format!("ansible.modules.{fqcn}"),
    }
}

/// Packs the module `fqcn` read from `path`.
pub fn build(fqcn: &str, path: &Path, roots: &SearchRoots) -> Result<Payload, PayloadError> {
    let content = std::fs::read(path)
        .map_err(|e| PayloadError::Io(format!("cannot read {}: {e}", path.display())))?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let style = detect(file_name, &content);
    if style != ModuleStyle::NewPython {
        return Err(PayloadError::Unsupported {
            module: fqcn.to_string(),
            style,
        });
    }
    // Very old modules ask for basic.py with a marker comment.
    let source = String::from_utf8_lossy(&content).replace(
        "#<<INCLUDE_ANSIBLE_MODULE_COMMON>>",
        "from ansible.module_utils.basic import *",
    );
    let name = python_name(fqcn);
    let package = name.rsplit_once('.').map(|(p, _)| p).unwrap_or("");
    let support = support_modules(roots, package, &source).map_err(PayloadError::Io)?;

    let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    entries.insert(
        "__main__.py".into(),
        BOOTSTRAP.replace("@MODULE@", &name).into_bytes(),
    );
    entries.insert(archive_path(&name, false), source.into_bytes());
    for (dotted, file) in &support {
        let body = std::fs::read(&file.path)
            .map_err(|e| PayloadError::Io(format!("cannot read {}: {e}", file.path.display())))?;
        entries.insert(archive_path(dotted, file.is_package), body);
    }
    // Every directory is a package: an empty __init__.py where none was bundled.
    let dirs: Vec<String> = entries
        .keys()
        .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d.to_string()))
        .collect();
    for dir in dirs {
        let mut prefix = String::new();
        for part in dir.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            entries.entry(format!("{prefix}/__init__.py")).or_default();
        }
    }
    let bytes = write_zip(&entries).map_err(PayloadError::Io)?;
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Payload {
        bytes,
        sha256,
        python_name: name,
    })
}

fn write_zip(entries: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, body) in entries {
        zip.start_file(name.as_str(), options)
            .map_err(|e| format!("cannot write the payload: {e}"))?;
        zip.write_all(body)
            .map_err(|e| format!("cannot write the payload: {e}"))?;
    }
    let cursor = zip
        .finish()
        .map_err(|e| format!("cannot write the payload: {e}"))?;
    Ok(cursor.into_inner())
}

/// Payloads built during a run, by module file: Kubespray's `kube` runs
/// dozens of times and is packed once.
#[derive(Default)]
pub struct PayloadCache {
    built: HashMap<(String, PathBuf), Result<Arc<Payload>, PayloadError>>,
}

impl PayloadCache {
    pub fn get(
        &mut self,
        fqcn: &str,
        path: &Path,
        roots: &SearchRoots,
    ) -> Result<Arc<Payload>, PayloadError> {
        self.built
            .entry((fqcn.to_string(), path.to_path_buf()))
            .or_insert_with(|| build(fqcn, path, roots).map(Arc::new))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn packs_module_with_its_utils_deterministically() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("ansible/module_utils")).unwrap();
        std::fs::write(site.join("ansible/module_utils/basic.py"), "X = 1\n").unwrap();
        let module = dir.path().join("kube.py");
        std::fs::write(
            &module,
            "#!/usr/bin/python\nfrom ansible.module_utils.basic import *\n",
        )
        .unwrap();
        let roots = SearchRoots {
            ansible_core_parent: Some(site),
            collection_roots: vec![],
        };
        let a = build("ansible.legacy.kube", &module, &roots).unwrap();
        let b = build("ansible.legacy.kube", &module, &roots).unwrap();
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(a.python_name, "ansible.modules.kube");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(a.bytes)).unwrap();
        let names: Vec<String> = zip.file_names().map(str::to_string).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            vec![
                "__main__.py",
                "ansible/__init__.py",
                "ansible/module_utils/__init__.py",
                "ansible/module_utils/basic.py",
                "ansible/modules/__init__.py",
                "ansible/modules/kube.py",
            ]
        );
        let mut main = String::new();
        zip.by_name("__main__.py")
            .unwrap()
            .read_to_string(&mut main)
            .unwrap();
        assert!(main.contains("MODULE = \"ansible.modules.kube\""));
    }

    #[test]
    fn refuses_non_python_modules_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let module = dir.path().join("legacy_tool");
        std::fs::write(&module, "#!/bin/sh\necho changed=false\n").unwrap();
        let err = build(
            "ansible.legacy.legacy_tool",
            &module,
            &SearchRoots::default(),
        )
        .unwrap_err();
        assert!(err
            .to_string()
            .contains("module ansible.legacy.legacy_tool is an old-style"));
    }

    #[test]
    fn collection_names() {
        assert_eq!(
            python_name("community.general.ini_file"),
            "ansible_collections.community.general.plugins.modules.ini_file"
        );
        assert_eq!(
            python_name("ansible.builtin.getent"),
            "ansible.modules.getent"
        );
    }
}
