//! A local user made for one test, with a password, whose sudo asks for it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Exists while it lives: the user (home directory, /bin/sh, a password set
/// through chpasswd's stdin) and its sudoers.d entry, both removed on drop.
pub struct SudoPasswordUser {
    pub name: String,
    pub password: String,
    sudoers: PathBuf,
}

impl SudoPasswordUser {
    /// `prefix` (a few letters) keeps tests apart; `defaults` are extra
    /// sudoers `Defaults:<user>` settings (`secure_path=...`). Panics
    /// naming the prerequisite when the user cannot be made.
    pub fn create(prefix: &str, defaults: &[String]) -> SudoPasswordUser {
        let id = std::process::id() % 100_000;
        let user = SudoPasswordUser {
            name: format!("{prefix}{id}"),
            password: format!("Pw-{prefix}-{id}!x"),
            sudoers: PathBuf::from(format!("/etc/sudoers.d/rsible-test-{prefix}{id}")),
        };
        let out = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", &user.name])
            .output()
            .expect("prerequisite missing: useradd");
        assert!(
            out.status.success(),
            "prerequisite missing: cannot create user {}: {}",
            user.name,
            String::from_utf8_lossy(&out.stderr)
        );
        // chpasswd reads the pair on stdin: the password is on no command line.
        let mut child = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .expect("prerequisite missing: chpasswd");
        if let Some(mut stdin) = child.stdin.take() {
            writeln!(stdin, "{}:{}", user.name, user.password).expect("write to chpasswd");
        }
        assert!(child.wait().is_ok_and(|s| s.success()), "chpasswd failed");
        let mut entry = format!("{} ALL=(ALL) ALL\n", user.name);
        for d in defaults {
            entry.push_str(&format!("Defaults:{} {d}\n", user.name));
        }
        std::fs::write(&user.sudoers, entry).expect("write the sudoers.d entry");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&user.sudoers, std::fs::Permissions::from_mode(0o440))
            .expect("chmod the sudoers.d entry");
        user
    }
}

impl Drop for SudoPasswordUser {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.sudoers);
        let _ = Command::new("pkill")
            .args(["-KILL", "-u", &self.name])
            .status();
        let _ = Command::new("userdel").args(["-r", &self.name]).output();
    }
}
