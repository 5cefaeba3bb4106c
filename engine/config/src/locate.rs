//! Which ansible.cfg is used: the first that exists and is readable of
//! `$ANSIBLE_CONFIG` (a file, or a directory holding ansible.cfg),
//! `./ansible.cfg`, `~/.ansible.cfg`, `/etc/ansible/ansible.cfg`. Only that
//! one file is read.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::paths::resolve_path;
use crate::EnvLookup;

/// The file chosen, plus the warning Ansible prints when it skipped an
/// ansible.cfg in a world-writable working directory.
#[derive(Debug, Default, PartialEq)]
pub struct Located {
    pub file: Option<PathBuf>,
    pub warnings: Vec<String>,
}

pub fn find_config_file(cwd: &Path, env: EnvLookup<'_>) -> Located {
    let mut candidates: Vec<PathBuf> = Vec::new();

    let from_env = env("ANSIBLE_CONFIG").map(|value| {
        let path = resolve_path(&value, cwd, cwd, env);
        if path.is_dir() {
            path.join("ansible.cfg")
        } else {
            path
        }
    });
    if let Some(path) = &from_env {
        candidates.push(path.clone());
    }

    // A world-writable cwd could hold a planted ansible.cfg: skip it.
    let cwd_cfg = cwd.join("ansible.cfg");
    let mut skipped_public_cwd = false;
    match std::fs::metadata(cwd) {
        Ok(meta) if meta.permissions().mode() & 0o002 != 0 => {
            skipped_public_cwd = cwd_cfg.exists();
        }
        Ok(_) => candidates.push(cwd_cfg),
        Err(_) => {}
    }

    candidates.push(resolve_path("~/.ansible.cfg", cwd, cwd, env));
    candidates.push(PathBuf::from("/etc/ansible/ansible.cfg"));

    let file = candidates
        .into_iter()
        .find(|p| p.exists() && File::open(p).is_ok());

    let mut warnings = Vec::new();
    // Ansible stays quiet only when $ANSIBLE_CONFIG named the file actually used.
    if skipped_public_cwd && (from_env.is_none() || from_env != file) {
        warnings.push(format!(
            "Ansible is being run in a world writable directory ({}), ignoring it as an ansible.cfg source. \
             For more information see https://docs.ansible.com/ansible/devel/reference_appendices/config.html#cfg-in-world-writable-dir",
            cwd.display()
        ));
    }
    Located { file, warnings }
}
