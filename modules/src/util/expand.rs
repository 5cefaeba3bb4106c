//! Python's `os.path.expandvars` and `os.path.expanduser`, which Ansible applies to
//! `path` parameters and (by default) to command arguments.

use std::collections::BTreeMap;

/// Look a variable up in the task environment first, then the agent's own.
fn lookup(name: &str, env: &BTreeMap<String, String>) -> Option<String> {
    env.get(name).cloned().or_else(|| std::env::var(name).ok())
}

/// `$NAME` and `${NAME}` replaced when set; anything else is left as written.
pub fn expand_vars(s: &str, env: &BTreeMap<String, String>) -> String {
    if !s.contains('$') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(braced) = after.strip_prefix('{') {
            if let Some(end) = braced.find('}') {
                let name = &braced[..end];
                match lookup(name, env) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[pos..pos + 1 + 1 + end + 1]),
                }
                rest = &braced[end + 1..];
                continue;
            }
        } else {
            let len = after
                .char_indices()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
                .map(|(i, _)| i)
                .unwrap_or(after.len());
            if len > 0 {
                let name = &after[..len];
                match lookup(name, env) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('$');
                        out.push_str(name);
                    }
                }
                rest = &after[len..];
                continue;
            }
        }
        out.push('$');
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `~` and `~user` at the start replaced by the home directory when known.
pub fn expand_user(s: &str, env: &BTreeMap<String, String>) -> String {
    let Some(tail) = s.strip_prefix('~') else {
        return s.to_string();
    };
    let (user, rest) = match tail.find('/') {
        Some(i) => (&tail[..i], &tail[i..]),
        None => (tail, ""),
    };
    let home = if user.is_empty() {
        lookup("HOME", env).or_else(|| {
            // SAFETY: getuid has no preconditions.
            let uid = unsafe { libc::getuid() };
            super::users::user_name(uid).and_then(|n| super::users::user_home(&n))
        })
    } else {
        super::users::user_home(user)
    };
    match home {
        Some(h) => {
            let h = if h.len() > 1 {
                h.trim_end_matches('/')
            } else {
                &h
            };
            format!("{h}{rest}")
        }
        None => s.to_string(),
    }
}

/// Both, in Ansible's order: `expanduser(expandvars(s))`.
pub fn expand_path(s: &str, env: &BTreeMap<String, String>) -> String {
    expand_user(&expand_vars(s, env), env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("FOO".to_string(), "bar".to_string()),
            ("HOME".to_string(), "/home/me".to_string()),
        ])
    }

    #[test]
    fn vars_expand_like_python() {
        assert_eq!(expand_vars("$FOO/x", &env()), "bar/x");
        assert_eq!(expand_vars("${FOO}x", &env()), "barx");
        assert_eq!(expand_vars("$NOPE_RSIBLE/x", &env()), "$NOPE_RSIBLE/x");
        assert_eq!(expand_vars("${NOPE_RSIBLE}", &env()), "${NOPE_RSIBLE}");
        assert_eq!(expand_vars("cost $5 $ ${", &env()), "cost $5 $ ${");
    }

    #[test]
    fn tilde_expands_to_home() {
        assert_eq!(expand_user("~/x", &env()), "/home/me/x");
        assert_eq!(expand_user("~", &env()), "/home/me");
        assert_eq!(expand_user("~root/x", &env()), "/root/x");
        assert_eq!(expand_user("a~/x", &env()), "a~/x");
        assert_eq!(
            expand_user("~no-such-user-rsible/x", &env()),
            "~no-such-user-rsible/x"
        );
    }
}
