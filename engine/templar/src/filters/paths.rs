//! Path filters computed on the text as Python's `os.path` does (posixpath):
//! `relpath`.

use minijinja::Value;

use crate::python_repr::str_of;

/// posixpath.normpath of an absolute path: `.` and empty parts dropped, `..`
/// taking one part off.
fn normalized_parts(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p.to_string()),
        }
    }
    parts
}

/// posixpath.abspath: relative paths are taken from the current directory.
fn absolute_parts(path: &str) -> Vec<String> {
    if path.starts_with('/') {
        return normalized_parts(path);
    }
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "/".into());
    normalized_parts(&format!("{cwd}/{path}"))
}

/// `relpath(path, start='.')`: `path` relative to `start`.
pub fn relpath(path: Value, start: Option<Value>) -> Result<Value, minijinja::Error> {
    let path = str_of(&path);
    if path.is_empty() {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "no path specified",
        ));
    }
    let start = start.map(|s| str_of(&s)).unwrap_or_else(|| ".".into());
    let (to, from) = (absolute_parts(&path), absolute_parts(&start));
    let common = to.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut rel: Vec<String> = vec!["..".to_string(); from.len() - common];
    rel.extend(to[common..].iter().cloned());
    Ok(Value::from(if rel.is_empty() {
        ".".to_string()
    } else {
        rel.join("/")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(p: &str, s: &str) -> String {
        relpath(Value::from(p), Some(Value::from(s)))
            .map(|v| v.to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn relpath_as_posixpath() {
        assert_eq!(rel("/a/b/c", "/a"), "b/c");
        assert_eq!(rel("/a/b", "/a/b"), ".");
        assert_eq!(rel("/a/x", "/a/b/c"), "../../x");
        assert_eq!(rel("/a/./b/../c/", "/"), "a/c");
        assert!(rel("", "/").starts_with("error"));
    }
}
