//! Wrapping a command in sudo or su. The password is never put on the command line:
//! sudo prints a random prompt on stderr and the controller answers on stdin.

use crate::spec::{BecomeMethod, BecomeSpec};
use crate::ssh_command::shell_quote;
use std::io::Read;

/// A prompt nobody else prints, so seeing it means sudo is asking us.
pub fn random_prompt() -> String {
    let mut bytes = [0u8; 12];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !filled {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes[..8].copy_from_slice(&((t as u64) ^ std::process::id() as u64).to_le_bytes());
    }
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("[sudo via rsible, key={key}] password:")
}

/// The command line that runs `cmd` (a shell command string) as the become user,
/// and the prompt to watch for (sudo with a password only).
pub fn wrap(become_: &BecomeSpec, cmd: &str) -> (String, Option<String>) {
    let user = if become_.user.is_empty() {
        "root"
    } else {
        &become_.user
    };
    match become_.method {
        BecomeMethod::Sudo => {
            let mut flags = become_.flags.clone().unwrap_or_else(|| "-H -S -n".into());
            let prompt = if become_.password.is_some() {
                // -n would make sudo fail instead of asking.
                flags = flags
                    .split_whitespace()
                    .filter(|f| *f != "-n")
                    .collect::<Vec<_>>()
                    .join(" ");
                Some(random_prompt())
            } else {
                None
            };
            let prompt_arg = prompt
                .as_ref()
                .map(|p| format!(" -p {}", shell_quote(p)))
                .unwrap_or_default();
            (
                format!(
                    "sudo {flags}{prompt_arg} -u {} /bin/sh -c {}",
                    shell_quote(user),
                    shell_quote(cmd)
                ),
                prompt,
            )
        }
        BecomeMethod::Su => {
            let flags = become_.flags.clone().unwrap_or_default();
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!("{flags} ")
            };
            (
                format!(
                    "su {flags}{} -c {}",
                    shell_quote(user),
                    shell_quote(&format!("/bin/sh -c {}", shell_quote(cmd)))
                ),
                // util-linux su prompts on stderr and reads the answer from
                // stdin (no terminal needed). Watched even without a password,
                // so that a prompt nobody can answer fails as "Missing su
                // password" instead of waiting forever (root is never asked).
                Some("Password:".to_string()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sudo_without_password_is_non_interactive() {
        let b = BecomeSpec {
            user: "app".into(),
            ..Default::default()
        };
        let (cmd, prompt) = wrap(&b, "echo hi");
        assert_eq!(cmd, "sudo -H -S -n -u app /bin/sh -c 'echo hi'");
        assert!(prompt.is_none());
    }

    #[test]
    fn sudo_with_password_uses_a_random_prompt_and_never_the_password() {
        let b = BecomeSpec {
            password: Some(crate::Secret("s3cret".into())),
            ..Default::default()
        };
        let (cmd, prompt) = wrap(&b, "id");
        let prompt = prompt.unwrap();
        assert!(prompt.starts_with("[sudo via rsible, key="));
        assert!(cmd.starts_with("sudo -H -S -p '[sudo via rsible"));
        assert!(cmd.ends_with("-u root /bin/sh -c id"));
        assert!(!cmd.contains("s3cret"));
        assert_ne!(random_prompt(), random_prompt());
    }
}
