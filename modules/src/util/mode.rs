//! File modes as Ansible accepts them: an int (used as-is), an octal string, or a
//! symbolic chmod string ("u=rw,g=r,o-w", "a+X"), applied to the current mode.

use serde_json::Value;

const PERM_BITS: u32 = 0o7777;

/// Why a mode could not be computed; `msg` is Ansible's wording.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeError {
    pub msg: String,
    pub details: String,
}

/// Compute the wanted permission bits from a `mode` parameter value, given the
/// current st_mode of the path (needed by symbolic modes) and the process umask.
pub fn resolve_mode(
    mode: &Value,
    current_st_mode: u32,
    is_dir: bool,
    umask: u32,
) -> Result<u32, ModeError> {
    let wanted = match mode {
        Value::Number(n) => match n.as_u64() {
            Some(v) if v <= u32::MAX as u64 => v as u32,
            _ => return Err(invalid_mode(n.to_string())),
        },
        Value::String(s) => match parse_octal(s) {
            Some(v) => v,
            None => symbolic_to_octal(s, current_st_mode & PERM_BITS, is_dir, umask).map_err(
                |details| ModeError {
                    msg: "mode must be in octal or symbolic form".into(),
                    details,
                },
            )?,
        },
        other => {
            return Err(ModeError {
                msg: "mode must be in octal or symbolic form".into(),
                // The module calls mode.split(',') on what is not an int.
                details: format!(
                    "'{}' object has no attribute 'split'",
                    match other {
                        Value::Array(_) => "list",
                        Value::Object(_) => "dict",
                        Value::Number(_) => "float",
                        Value::Null => "NoneType",
                        _ => "bool",
                    }
                ),
            });
        }
    };
    if wanted & !PERM_BITS != 0 {
        return Err(invalid_mode(wanted.to_string()));
    }
    Ok(wanted)
}

fn invalid_mode(details: String) -> ModeError {
    ModeError {
        msg: "Invalid mode supplied, only permission info is allowed".into(),
        details,
    }
}

/// Python's `int(s, 8)`: optional sign/whitespace, optional `0o` prefix, underscores
/// between digits.
fn parse_octal(s: &str) -> Option<u32> {
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    let t = t
        .strip_prefix("0o")
        .or_else(|| t.strip_prefix("0O"))
        .unwrap_or(t);
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let digits: String = t.chars().filter(|c| *c != '_').collect();
    if !digits.chars().all(|c| ('0'..='7').contains(&c)) {
        return None;
    }
    u32::from_str_radix(&digits, 8).ok()
}

/// Apply a symbolic mode to `prev` the way Ansible's `_symbolic_mode_to_octal` does.
pub fn symbolic_to_octal(
    symbolic: &str,
    prev: u32,
    is_dir: bool,
    umask: u32,
) -> Result<u32, String> {
    let mut new_mode = prev;
    for clause in symbolic.split(',') {
        let bad = || format!("bad symbolic permission for mode: {clause}");
        let first_op = clause.find(['+', '-', '=']).ok_or_else(bad)?;
        let users_part = &clause[..first_op];
        let use_umask = users_part.is_empty();
        let users = if users_part.is_empty() || users_part == "a" {
            "ugo"
        } else {
            users_part
        };
        if !users.chars().all(|c| matches!(c, 'u' | 'g' | 'o')) {
            return Err(bad());
        }
        // Split the rest into (operator, perms) pairs.
        let rest = &clause[first_op..];
        let mut pairs: Vec<(char, String)> = Vec::new();
        for c in rest.chars() {
            if matches!(c, '+' | '-' | '=') {
                pairs.push((c, String::new()));
            } else if let Some(last) = pairs.last_mut() {
                last.1.push(c);
            }
        }
        for (op, perms) in pairs {
            if !perms
                .chars()
                .all(|c| matches!(c, 'r' | 'w' | 'x' | 'X' | 's' | 't' | 'u' | 'g' | 'o'))
            {
                return Err(bad());
            }
            for user in users.chars() {
                let apply = perms_for_user(user, &perms, new_mode, is_dir, use_umask, umask);
                new_mode = apply_operation(user, op, apply, new_mode);
            }
        }
    }
    Ok(new_mode)
}

fn perms_for_user(
    user: char,
    perms: &str,
    prev: u32,
    is_dir: bool,
    use_umask: bool,
    umask: u32,
) -> u32 {
    let rev_umask = umask ^ PERM_BITS;
    let masked = |bit: u32| if use_umask { rev_umask & bit } else { bit };
    let x_applies = is_dir || prev & 0o111 != 0;
    let shift = match user {
        'u' => 6,
        'g' => 3,
        _ => 0,
    };
    let mut out = 0;
    for p in perms.chars() {
        out |= match p {
            'r' => masked(0o4 << shift),
            'w' => masked(0o2 << shift),
            'x' => masked(0o1 << shift),
            'X' if x_applies => 0o1 << shift,
            's' if user == 'u' => 0o4000,
            's' if user == 'g' => 0o2000,
            't' if user == 'o' => 0o1000,
            'u' => ((prev >> 6) & 0o7) << shift,
            'g' => ((prev >> 3) & 0o7) << shift,
            'o' => (prev & 0o7) << shift,
            _ => 0,
        };
    }
    out
}

fn apply_operation(user: char, op: char, apply: u32, current: u32) -> u32 {
    match op {
        '=' => {
            let mask = match user {
                'u' => 0o4700,
                'g' => 0o2070,
                _ => 0o1007,
            };
            (current & (mask ^ PERM_BITS)) | apply
        }
        '+' => current | apply,
        _ => current & !apply,
    }
}

/// The process umask. Read from /proc/self/status where the kernel shows it
/// (Linux 4.7+): swapping the mask to read it, even for a moment, changes it
/// for every other thread of the process (the agent's job and watchdog
/// threads, a test binary's parallel tests), which may create a file then.
pub fn current_umask() -> u32 {
    if let Some(mask) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| umask_in_status(&status))
    {
        return mask;
    }
    // SAFETY: umask only swaps the process mask; we restore the old value immediately.
    unsafe {
        let old = libc::umask(0o022);
        libc::umask(old);
        old as u32
    }
}

/// The `Umask:` line of a /proc/<pid>/status text, in octal.
fn umask_in_status(status: &str) -> Option<u32> {
    let value = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    u32::from_str_radix(value.trim(), 8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn umask_is_read_from_the_status_text() {
        let status = "Name:\tagent\nUmask:\t0027\nState:\tR (running)\n";
        assert_eq!(umask_in_status(status), Some(0o027));
        assert_eq!(umask_in_status("Name:\tagent\n"), None);
        // This kernel shows it: the racy fallback is not what runs here.
        let own = std::fs::read_to_string("/proc/self/status").unwrap();
        assert_eq!(umask_in_status(&own), Some(current_umask()));
    }

    #[test]
    fn octal_strings_and_ints() {
        assert_eq!(resolve_mode(&json!("0644"), 0, false, 0o022), Ok(0o644));
        assert_eq!(resolve_mode(&json!("755"), 0, false, 0o022), Ok(0o755));
        assert_eq!(resolve_mode(&json!("0o700"), 0, false, 0o022), Ok(0o700));
        // YAML 0644 arrives as the int 420 and is used as-is.
        assert_eq!(resolve_mode(&json!(420), 0, false, 0o022), Ok(0o644));
        // An int 644 is decimal, like in Ansible: 0o1204.
        assert_eq!(resolve_mode(&json!(644), 0, false, 0o022), Ok(0o1204));
    }

    #[test]
    fn symbolic_modes_follow_ansible() {
        // Reference: `file state=touch mode=u=rw,g=r` on a 0644 file stays 0644.
        assert_eq!(
            symbolic_to_octal("u=rw,g=r", 0o644, false, 0o022),
            Ok(0o644)
        );
        assert_eq!(
            symbolic_to_octal("u=rwx,g=rx,o=", 0o644, false, 0o022),
            Ok(0o750)
        );
        assert_eq!(symbolic_to_octal("a+X", 0o644, true, 0o022), Ok(0o755));
        assert_eq!(symbolic_to_octal("a+X", 0o644, false, 0o022), Ok(0o644));
        assert_eq!(symbolic_to_octal("go-rwx", 0o777, false, 0o022), Ok(0o700));
        assert_eq!(symbolic_to_octal("+w", 0o444, false, 0o022), Ok(0o644));
        assert_eq!(
            symbolic_to_octal("u+s,o+t", 0o755, false, 0o022),
            Ok(0o5755)
        );
        assert_eq!(symbolic_to_octal("g=u", 0o740, false, 0o022), Ok(0o770));
    }

    #[test]
    fn bad_modes_are_reported_in_ansibles_words() {
        let e = resolve_mode(&json!("rwxr-xr-x"), 0o644, false, 0o022).unwrap_err();
        assert_eq!(e.msg, "mode must be in octal or symbolic form");
        let e = resolve_mode(&json!("u=rwz"), 0o644, false, 0o022).unwrap_err();
        assert_eq!(e.details, "bad symbolic permission for mode: u=rwz");
        let e = resolve_mode(&json!("077777"), 0, false, 0o022).unwrap_err();
        assert_eq!(
            e.msg,
            "Invalid mode supplied, only permission info is allowed"
        );
    }
}
