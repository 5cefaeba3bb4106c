//! Small path helpers with Python's os.path semantics where Ansible relies on them.

use std::path::{Path, PathBuf};

/// Ansible's `basedir()`: the directory of a file, or the path itself when it is a directory.
pub fn basedir(source: &str) -> String {
    let p = Path::new(source);
    if p.is_dir() {
        return source.to_string();
    }
    match p.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_string_lossy().into_owned(),
        _ => ".".to_string(),
    }
}

/// `os.path.splitext(path)[1]`: the extension with its dot, ignoring leading dots of the name.
pub fn splitext_ext(path: &str) -> &str {
    let name_start = path.rfind('/').map(|i| i + 1).unwrap_or(0);
    let name = &path[name_start..];
    let trimmed = name.trim_start_matches('.');
    let lead = name.len() - trimmed.len();
    match trimmed.rfind('.') {
        Some(i) => &name[lead + i..],
        None => "",
    }
}

/// Ansible's `unfrackpath(path, follow=False)`: expand `~`, make absolute, normalise `.`/`..`.
pub fn unfrack(path: &str) -> String {
    let expanded = if path == "~" || path.starts_with("~/") {
        match std::env::var("HOME") {
            Ok(home) => format!("{home}{}", &path[1..]),
            Err(_) => path.to_string(),
        }
    } else {
        path.to_string()
    };
    let mut p = PathBuf::from(&expanded);
    if p.is_relative() {
        if let Ok(cwd) = std::env::current_dir() {
            p = cwd.join(p);
        }
    }
    let mut parts: Vec<String> = Vec::new();
    for comp in p.components() {
        use std::path::Component::*;
        match comp {
            RootDir | Prefix(_) => parts.clear(),
            CurDir => {}
            ParentDir => {
                parts.pop();
            }
            Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitext_like_python() {
        assert_eq!(splitext_ext("/a/b.yml"), ".yml");
        assert_eq!(splitext_ext("/a/.hidden"), "");
        assert_eq!(splitext_ext("/a.d/hosts"), "");
        assert_eq!(splitext_ext("x.tar.gz"), ".gz");
    }

    #[test]
    fn unfrack_normalises() {
        assert_eq!(unfrack("/a/./b/../c"), "/a/c");
    }
}
