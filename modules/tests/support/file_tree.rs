//! A directory's files as compared between the two sides at the end of a test.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Every entry under `dir`, by relative path: `dir MODE`, `link TARGET` or
/// `MODE CONTENT`. Backups (`~` names carry a pid and a timestamp) are counted under
/// `<backups>` instead.
pub fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap_or(&p).display().to_string();
            let Ok(meta) = fs::symlink_metadata(&p) else {
                continue;
            };
            let mode = format!("{:o}", meta.permissions().mode() & 0o7777);
            if rel.ends_with('~') {
                *out.entry("<backups>".into()).or_insert_with(String::new) += "b";
            } else if meta.is_dir() {
                out.insert(rel, format!("dir {mode}"));
                stack.push(p);
            } else if meta.file_type().is_symlink() {
                let target = fs::read_link(&p).unwrap_or_default();
                out.insert(rel, format!("link {}", target.display()));
            } else {
                let content = fs::read(&p).unwrap_or_default();
                out.insert(rel, format!("{mode} {}", String::from_utf8_lossy(&content)));
            }
        }
    }
    out
}
