//! Small readers the collectors share: file contents as Ansible's
//! `get_file_content` returns them, and the programs collectors run.

use crate::util::bin_path;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The file's text, stripped of surrounding whitespace; None when it cannot be read.
pub fn file_content(path: impl AsRef<Path>) -> Option<String> {
    let bytes = read_pseudo_file(path.as_ref()).ok()?;
    Some(String::from_utf8_lossy(&bytes).trim().to_string())
}

/// A file's bytes, read without asking its size first. Nearly every file a
/// gathering reads is a sysfs or procfs entry, whose reported size says
/// nothing (4096 or 0), and `std::fs::read` spends a `statx` on asking: a
/// tenth of a gathering's system calls.
///
/// A sysfs file is read with one `read` when it is shorter than a page:
/// sysfs hands out an attribute whole, so a read that does not fill the
/// buffer reached the end, and the read that would only confirm it costs as
/// much again (the kernel formats the attribute a second time). A gathering
/// reads over a hundred of them.
pub fn read_pseudo_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(4096);
    if path.starts_with("/sys") {
        let mut page = [0u8; 4096];
        let n = loop {
            match file.read(&mut page) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        bytes.extend_from_slice(&page[..n]);
        if n < page.len() {
            return Ok(bytes);
        }
    }
    // Through `Take`, which reads into the spare capacity as it is: `File`'s
    // own read_to_end asks for the size, a zeroed bounce buffer costs a memset
    // per file.
    file.take(u64::MAX).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Where a sysfs link such as /sys/block/sda or /sys/class/net/eth0 points,
/// as `os.path.realpath` answers it: the link's target joined to its directory
/// and normalised. Those directories are real directories in sysfs, so one
/// `readlink` does what `canonicalize` does with one per path component.
/// None when `link` is not a symbolic link.
pub fn sysfs_link_target(link: &Path) -> Option<PathBuf> {
    let target = std::fs::read_link(link).ok()?;
    let joined = link.parent()?.join(target);
    let mut normal = PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::ParentDir => {
                normal.pop();
            }
            std::path::Component::CurDir => {}
            other => normal.push(other),
        }
    }
    Some(normal)
}

/// The file's lines (Python `splitlines` of the stripped content); empty when unreadable.
pub fn file_lines(path: impl AsRef<Path>) -> Vec<String> {
    file_content(path)
        .map(|c| c.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The programs of one gathering, as Ansible's collectors find and run them
/// (`module.get_bin_path`, `module.run_command`): looked up in the PATH of the
/// module process's environment (the task's `environment` first, else the
/// agent's) and the sbin directories, and run with that environment. The
/// directory list is made once and each program's answer kept: several
/// collectors ask for the same program (systemctl, dmidecode), and `udevadm`
/// is asked once per mount.
pub struct Programs<'a> {
    env: &'a BTreeMap<String, String>,
    dirs: OnceLock<Vec<String>>,
    found: Mutex<HashMap<&'static str, Option<PathBuf>>>,
}

impl<'a> Programs<'a> {
    pub fn new(env: &'a BTreeMap<String, String>) -> Programs<'a> {
        Programs {
            env,
            dirs: OnceLock::new(),
            found: Mutex::new(HashMap::new()),
        }
    }

    /// The task's environment, which the programs run with.
    pub fn env(&self) -> &BTreeMap<String, String> {
        self.env
    }

    /// `get_bin_path(name)`.
    pub fn find(&self, name: &'static str) -> Option<PathBuf> {
        let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        found
            .entry(name)
            .or_insert_with(|| {
                let dirs = self.dirs.get_or_init(|| bin_path::search_dirs(self.env));
                bin_path::find_in(name, dirs).map(PathBuf::from)
            })
            .clone()
    }

    /// `run` with the task's environment.
    pub fn run(&self, program: &Path, args: &[&str]) -> (i32, String, String) {
        run(program, args, self.env)
    }
}

/// Runs a program with the task's environment `env` over the agent's, in the C
/// locale; (rc, stdout, stderr), rc -1 when it could not start.
pub fn run(program: &Path, args: &[&str], env: &BTreeMap<String, String>) -> (i32, String, String) {
    let out = Command::new(program)
        .args(args)
        .envs(env)
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .env("LC_MESSAGES", "C")
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ),
        Err(e) => (-1, String::new(), e.to_string()),
    }
}

/// A compiled regex, compiled once per process: collectors match the same
/// patterns against every line of /proc/cpuinfo and the like, and compiling
/// costs far more than matching. None for an invalid pattern.
pub fn regex(pattern: &str) -> Option<regex::Regex> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static COMPILED: RefCell<HashMap<String, Option<regex::Regex>>> = RefCell::new(HashMap::new());
    }
    COMPILED.with(|c| {
        c.borrow_mut()
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(pattern).ok())
            .clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Every readable file of a few sysfs directories reads the same in one
    /// `read` as read to its end, and a file longer than a page (outside
    /// /sys) is read whole.
    #[test]
    fn pseudo_files_read_whole() {
        let mut compared = 0;
        for dir in [
            "/sys/class/net/lo",
            "/sys/kernel/mm/transparent_hugepage",
            "/sys/block",
        ] {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(want) = std::fs::read(&path) else {
                    continue;
                };
                assert_eq!(
                    read_pseudo_file(&path).ok(),
                    Some(want),
                    "{}",
                    path.display()
                );
                compared += 1;
            }
        }
        assert!(compared > 5, "only {compared} sysfs files to compare");
        let dir = tempfile::tempdir().expect("tempdir");
        let long = dir.path().join("long");
        let text: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&long, &text).expect("write");
        assert_eq!(read_pseudo_file(&long).expect("read"), text);
    }

    #[test]
    fn programs_come_from_the_task_path_once_and_run_with_its_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tool = dir.path().join("rsible-fact-tool");
        std::fs::write(&tool, "#!/bin/sh\necho \"$RSIBLE_T $LC_ALL\"\n").expect("write");
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let env = BTreeMap::from([
            ("PATH".to_string(), dir.path().display().to_string()),
            ("RSIBLE_T".to_string(), "from-task".to_string()),
            ("LC_ALL".to_string(), "de_DE.UTF-8".to_string()),
        ]);
        let programs = Programs::new(&env);
        let found = programs
            .find("rsible-fact-tool")
            .expect("found in the task PATH");
        assert_eq!(found, tool);
        // The task's environment, then the C locale the collectors parse in.
        assert_eq!(programs.run(&found, &[]).1, "from-task C\n");
        // The answer is kept for the gathering: a program removed meanwhile
        // is still the one found (no second PATH scan).
        std::fs::remove_file(&tool).expect("rm");
        assert_eq!(programs.find("rsible-fact-tool"), Some(tool));
        // The agent's own PATH is not searched when the task names one.
        // (`sh` is in /usr/bin or /bin there; the sbin directories are still searched.)
        let sh = programs.find("sh");
        assert!(
            sh.as_ref()
                .is_none_or(|p| !p.starts_with("/usr/bin") && !p.starts_with("/bin")),
            "{sh:?}"
        );
        assert!(Programs::new(&BTreeMap::new())
            .find("rsible-fact-tool")
            .is_none());
    }
}
