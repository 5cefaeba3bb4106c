//! The ssh command line, option by option in the order Ansible's ssh plugin uses.

use crate::spec::{ConnSpec, DEFAULT_SSH_ARGS};
use crate::ConnError;
use rsible_modules::util::shlex;
use std::path::PathBuf;

fn split(what: &str, text: &str) -> Result<Vec<String>, ConnError> {
    shlex::split(text).map_err(|e| ConnError::Local(format!("cannot parse {what} '{text}': {e}")))
}

/// Default directory for ControlPath sockets.
fn default_control_dir() -> PathBuf {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    PathBuf::from(home).join(".rsible").join("cp")
}

/// argv (without the program) for running `remote_command` on the host.
pub fn ssh_argv(spec: &ConnSpec, remote_command: &str) -> Result<Vec<String>, ConnError> {
    let mut args: Vec<String> = Vec::new();
    let base = spec.ssh_args.as_deref().unwrap_or(DEFAULT_SSH_ARGS);
    let base_args = split("ssh_args", base)?;
    args.extend(base_args.iter().cloned());
    if !spec.host_key_checking {
        args.extend(["-o".into(), "StrictHostKeyChecking=no".into()]);
    }
    if let Some(port) = spec.port {
        args.extend(["-o".into(), format!("Port={port}")]);
    }
    if let Some(key) = &spec.private_key_file {
        args.extend(["-o".into(), format!("IdentityFile=\"{}\"", key.display())]);
    }
    args.extend([
        "-o".into(),
        "KbdInteractiveAuthentication=no".into(),
        "-o".into(),
        "PreferredAuthentications=gssapi-with-mic,gssapi-keyex,hostbased,publickey".into(),
        "-o".into(),
        "PasswordAuthentication=no".into(),
    ]);
    if let Some(user) = &spec.user {
        args.extend(["-o".into(), format!("User=\"{user}\"")]);
    }
    args.extend([
        "-o".into(),
        format!("ConnectTimeout={}", spec.timeout.as_secs().max(1)),
    ]);
    let mut all_user_args = base_args;
    for (what, extra) in [
        ("ssh_common_args", &spec.ssh_common_args),
        ("ssh_extra_args", &spec.ssh_extra_args),
    ] {
        if let Some(text) = extra {
            let words = split(what, text)?;
            all_user_args.extend(words.iter().cloned());
            args.extend(words);
        }
    }
    // As in Ansible: a ControlPath is added only when ControlPersist is used and the
    // user did not choose a path.
    let joined = all_user_args.join(" ");
    if joined.contains("ControlPersist") && !joined.contains("ControlPath") {
        let dir = spec
            .control_path_dir
            .clone()
            .unwrap_or_else(default_control_dir);
        if std::fs::create_dir_all(&dir).is_ok() {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        args.extend(["-o".into(), format!("ControlPath=\"{}/%C\"", dir.display())]);
    }
    args.push(spec.host.clone());
    args.push(remote_command.to_string());
    Ok(args)
}

/// Quote a string for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_follows_ansible_order() {
        let mut spec = ConnSpec::new("node1", "/bin/true");
        spec.port = Some(2222);
        spec.user = Some("kube".into());
        spec.private_key_file = Some("/k/id".into());
        spec.host_key_checking = false;
        spec.ssh_common_args = Some("-o ProxyJump=bastion".into());
        // ssh_argv creates the directory: one of the test's own, removed with it.
        let tmp = tempfile::Builder::new()
            .prefix("rsible-cp-test-")
            .tempdir()
            .unwrap();
        let cp = tmp.path().join("cp");
        spec.control_path_dir = Some(cp.clone());
        let a = ssh_argv(&spec, "echo hi").unwrap();
        assert!(cp.is_dir());
        let joined = a.join(" ");
        assert!(joined.starts_with("-C -o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=no -o Port=2222 -o IdentityFile=\"/k/id\""), "{joined}");
        assert!(joined.contains(
            "-o User=\"kube\" -o ConnectTimeout=10 -o ProxyJump=bastion -o ControlPath="
        ));
        assert_eq!(&a[a.len() - 2..], ["node1", "echo hi"]);
    }

    #[test]
    fn custom_ssh_args_replace_defaults() {
        let mut spec = ConnSpec::new("h", "/bin/true");
        spec.ssh_args = Some("-o ControlMaster=no".into());
        let a = ssh_argv(&spec, "x").unwrap();
        assert!(!a
            .iter()
            .any(|x| x.contains("ControlPersist") || x.contains("ControlPath")));
        assert_eq!(a[0], "-o");
        assert_eq!(a[1], "ControlMaster=no");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("abc"), "abc");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\"'\"'s'");
        assert_eq!(shell_quote(""), "''");
    }
}
