//! The become password and flags a task's connection uses, from the
//! variables Ansible's sudo/su become plugins read (in their order).
//! The password is wrapped in a `Secret` at once so it cannot reach a
//! `Debug` print; the connection layer feeds it to the prompt on stdin.

use rsible_connection::Secret;

/// `get` returns a variable's templated text (vaulted values opened).
type VarText<'a> = &'a dyn Fn(&str) -> Option<String>;

/// `ansible_become_password`, `ansible_become_pass`, then the method's own
/// (`ansible_sudo_pass`, `ansible_su_password`, ...).
pub(super) fn password(method: &str, get: VarText) -> Option<Secret> {
    let own: &[&str] = match method {
        "sudo" => &["ansible_sudo_pass"],
        "su" => &["ansible_su_pass", "ansible_su_password"],
        _ => &[],
    };
    ["ansible_become_password", "ansible_become_pass"]
        .iter()
        .chain(own)
        .find_map(|name| get(name))
        .map(Secret)
}

/// `ansible_become_flags`, then the method's own (`ansible_sudo_flags`, `ansible_su_flags`).
pub(super) fn flags(method: &str, get: VarText) -> Option<String> {
    let own = match method {
        "sudo" => Some("ansible_sudo_flags"),
        "su" => Some("ansible_su_flags"),
        _ => None,
    };
    std::iter::once("ansible_become_flags")
        .chain(own)
        .find_map(get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_names_win_over_method_ones() {
        let vars = |name: &str| match name {
            "ansible_become_pass" => Some("generic".to_string()),
            "ansible_sudo_pass" => Some("sudo".to_string()),
            "ansible_su_flags" => Some("-l".to_string()),
            _ => None,
        };
        assert_eq!(password("sudo", &vars), Some(Secret("generic".into())));
        assert_eq!(flags("su", &vars).as_deref(), Some("-l"));
        assert_eq!(flags("sudo", &vars), None);
        let only_su = |name: &str| (name == "ansible_su_password").then(|| "pw".to_string());
        assert_eq!(password("su", &only_su), Some(Secret("pw".into())));
        assert_eq!(password("sudo", &only_su), None);
        assert!(!format!("{:?}", password("su", &only_su)).contains("pw"));
    }
}
