//! Paths joined from search directories and relative names, cleaned up the
//! way Ansible prints them, without touching the file system.

use std::path::{Component, Path, PathBuf};

/// `a/./b/../c` -> `a/c`: `.` dropped, `..` removes the part before it (a
/// `..` with nothing before it is dropped too, as at the root). Symlinks are
/// not resolved.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_are_resolved_textually() {
        assert_eq!(
            normalize(Path::new("/r/tasks/./sub/../main.yml")),
            Path::new("/r/tasks/main.yml")
        );
        assert_eq!(normalize(Path::new("/../a")), Path::new("/a"));
        assert_eq!(normalize(Path::new("a/../../b")), Path::new("b"));
    }
}
