//! Path resolution as Ansible's `unfrackpath(follow=False)` does it for
//! config values: `$VAR`/`${VAR}` expanded (unset ones left alone), then `~`,
//! then relative paths joined to a base directory, then `.`/`..` folded away
//! without touching the filesystem.

use std::path::{Path, PathBuf};

use crate::EnvLookup;

/// Expand variables and `~`, make absolute against `base`, normalise.
/// `{{CWD}}` is replaced by the working directory first, as Ansible allows.
pub fn resolve_path(path: &str, base: &Path, cwd: &Path, env: EnvLookup<'_>) -> PathBuf {
    let path = path.replace("{{CWD}}", &cwd.to_string_lossy());
    let expanded = expand_user(&expand_vars(&path, env), env);
    let joined = if expanded.starts_with('/') {
        expanded
    } else {
        let base = base.to_string_lossy();
        if base.is_empty() || base.ends_with('/') {
            format!("{base}{expanded}")
        } else {
            format!("{base}/{expanded}")
        }
    };
    PathBuf::from(normalize(&joined))
}

/// Python's `os.path.expandvars`: `$name` (name = ASCII letters, digits, `_`)
/// and `${anything}`; variables that are not set stay as written.
pub fn expand_vars(text: &str, env: EnvLookup<'_>) -> String {
    if !text.contains('$') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(close) => (&braced[..close], close + 2),
                None => ("", 0),
            }
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..len], len)
        };
        match (consumed, env(name)) {
            (n, Some(value)) if n > 0 && !name.is_empty() => {
                out.push_str(&value);
                rest = &after[consumed..];
            }
            (n, _) if n > 0 => {
                out.push('$');
                out.push_str(&after[..consumed]);
                rest = &after[consumed..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Python's `os.path.expanduser`: `~` and `~/...` from `$HOME`, `~user` from
/// the password database. Anything else is returned unchanged.
pub fn expand_user(path: &str, env: EnvLookup<'_>) -> String {
    let Some(rest) = path.strip_prefix('~') else {
        return path.to_string();
    };
    let (user, tail) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, ""),
    };
    let home = if user.is_empty() {
        env("HOME").or_else(|| home_of_user(None))
    } else {
        home_of_user(Some(user))
    };
    match home {
        Some(home) => {
            let home = if home == "/" {
                String::new()
            } else {
                home.trim_end_matches('/').to_string()
            };
            let joined = format!("{home}{tail}");
            if joined.is_empty() {
                "/".to_string()
            } else {
                joined
            }
        }
        None => path.to_string(),
    }
}

/// Home directory from /etc/passwd: of `user`, or of the current uid.
fn home_of_user(user: Option<&str>) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let uid = current_uid();
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 6 {
            return None;
        }
        let matches = match user {
            Some(u) => fields[0] == u,
            None => uid.as_deref().is_some_and(|id| fields[2] == id),
        };
        matches.then(|| fields[5].to_string())
    })
}

/// The real uid, read from /proc so no libc binding is needed.
fn current_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1).map(str::to_string)
}

/// Python's `posixpath.normpath`: fold `.`, `..` and repeated slashes, keep a
/// leading `//` (POSIX leaves its meaning to the system), `.` for empty.
pub fn normalize(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let leading = path.len() - path.trim_start_matches('/').len();
    let prefix = match leading {
        0 => "",
        2 => "//",
        _ => "/",
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if prefix.is_empty() {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = format!("{prefix}{}", parts.join("/"));
    if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/home/u".into()),
            "VENV" => Some("/opt/venv".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn vars_expand_like_python() {
        assert_eq!(expand_vars("$VENV/roles", &env), "/opt/venv/roles");
        assert_eq!(expand_vars("${VENV}x", &env), "/opt/venvx");
        assert_eq!(expand_vars("$UNSET/x", &env), "$UNSET/x");
        assert_eq!(expand_vars("${UNSET}/x", &env), "${UNSET}/x");
        assert_eq!(expand_vars("a$EMPTY/b", &env), "a/b");
        assert_eq!(expand_vars("cost $ 5", &env), "cost $ 5");
        assert_eq!(expand_vars("${open", &env), "${open");
        assert_eq!(expand_vars("$$VENV", &env), "$/opt/venv");
    }

    #[test]
    fn tilde_expands_from_home() {
        assert_eq!(expand_user("~", &env), "/home/u");
        assert_eq!(expand_user("~/x", &env), "/home/u/x");
        assert_eq!(expand_user("a/~", &env), "a/~");
        assert_eq!(expand_user("~nosuchuser_zz/x", &env), "~nosuchuser_zz/x");
        assert_eq!(expand_user("~root/x", &env), "/root/x");
    }

    #[test]
    fn normalize_like_posixpath() {
        assert_eq!(normalize("/a/./b/../c//d/"), "/a/c/d");
        assert_eq!(normalize("a/../../b"), "../b");
        assert_eq!(normalize("/../a"), "/a");
        assert_eq!(normalize("//a"), "//a");
        assert_eq!(normalize("///a"), "/a");
        assert_eq!(normalize(""), ".");
        assert_eq!(normalize("a/.."), ".");
    }

    // As recorded from ansible-config dump: a relative roles_path entry with
    // an unset $VIRTUAL_ENV stays literal and lands under the cfg directory.
    #[test]
    fn resolves_relative_to_base() {
        let base = Path::new("/srv/ks");
        let cwd = Path::new("/elsewhere");
        assert_eq!(
            resolve_path("./library", base, cwd, &env),
            PathBuf::from("/srv/ks/library")
        );
        assert_eq!(
            resolve_path("$VIRTUAL_ENV/usr/roles", base, cwd, &env),
            PathBuf::from("/srv/ks/$VIRTUAL_ENV/usr/roles")
        );
        assert_eq!(
            resolve_path("$VENV/r", base, cwd, &env),
            PathBuf::from("/opt/venv/r")
        );
        assert_eq!(
            resolve_path("~/r", base, cwd, &env),
            PathBuf::from("/home/u/r")
        );
        assert_eq!(
            resolve_path("{{CWD}}/r", base, cwd, &env),
            PathBuf::from("/elsewhere/r")
        );
    }
}
