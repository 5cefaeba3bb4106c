//! Running a playbook engine (rsible-playbook or the reference
//! ansible-playbook) on files a test wrote into a directory, the same way for
//! both, so that their outputs can be compared.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// What one run of a playbook engine gave back.
#[derive(Debug)]
pub struct PlaybookRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Wall time of the whole run.
    pub took: Duration,
}

impl PlaybookRun {
    /// The PLAY RECAP line of `host`, whitespace collapsed (empty when none).
    pub fn recap(&self, host: &str) -> String {
        let tail = self.stdout.split("PLAY RECAP").nth(1).unwrap_or_default();
        tail.lines()
            .find(|l| l.starts_with(&format!("{host} ")))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }

    /// Asserts that `host`'s recap line starts with `host : expected`.
    pub fn assert_recap(&self, host: &str, expected: &str) {
        assert!(
            self.recap(host)
                .starts_with(&format!("{host} : {expected}")),
            "recap of {host}: want '{expected}'\n{}",
            self.describe()
        );
    }

    /// Exit code, time and both outputs, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "exit {:?} after {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }

    /// The `fatal: [host]: ...` line (empty when none).
    pub fn fatal_line(&self, host: &str) -> String {
        self.stdout
            .lines()
            .find(|l| l.starts_with(&format!("fatal: [{host}]")))
            .unwrap_or_default()
            .to_string()
    }
}

/// Writes each `(name, content)` into `dir`; panics naming the file that
/// could not be written.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        let path = dir.join(name);
        fs::write(&path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// Runs `program` with `args` in `dir`, configured by `dir/ansible.cfg` and
/// with colours off whatever the caller's environment says (so both engines
/// print plain text). Panics when the program cannot be started.
pub fn run_playbook<I, S>(program: &Path, dir: &Path, args: I) -> PlaybookRun
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run_playbook_with_env(program, dir, args, &[])
}

/// `run_playbook` with extra environment variables for the program.
pub fn run_playbook_with_env<I, S>(
    program: &Path,
    dir: &Path,
    args: I,
    env: &[(&str, &str)],
) -> PlaybookRun
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let start = Instant::now();
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("ANSIBLE_CONFIG", dir.join("ansible.cfg"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env_remove("ANSIBLE_FORCE_COLOR")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    PlaybookRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: start.elapsed(),
    }
}
