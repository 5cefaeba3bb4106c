//! `ssh -G`'s answer for one ssh command line, remembered between runs.
//!
//! Asking costs ~5 ms of CPU (a process, ssh's start, the configuration read) per
//! distinct command line — per host of a real inventory — and run, and the first
//! connection to a master waits for it before any session opens. The answer depends
//! only on the ssh binary, the command line, the working directory (relative `-F`,
//! `-i`), the local user (uid, name, home: `~`, %d, %u, %i), the local host name (%l,
//! %L), the configuration files (system, user, `-F`, every file an Include's glob
//! matches) and, where the configuration or the command line
//! expands `${VAR}`, the environment. All of that is hashed into the memo's name
//! (`$HOME/.cache/rsible/controller/ssh-G-<sha256>`), so any change to it is a miss
//! and ssh is asked again.
//!
//! Asked every run, as before, never remembered:
//! - a configuration with `Match` (its `exec`, `localnetwork`, `canonical`, `tagged`
//!   criteria depend on more than files) or `CanonicalizeHostname` other than `no`
//!   (a DNS answer), anywhere in the files ssh may read;
//! - an Include with a token (`%`), an environment variable, or a wildcard outside
//!   its last path component, nested too deep, or a file that cannot be read;
//! - files (or ssh) changed in the last few seconds: file times tick coarsely, so a
//!   write within the tick of our read could leave them unchanged.
//!
//! A memo is written once; those older than a week are removed when another is written.

use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How old every input's ctime must be before an answer is remembered.
const SETTLED: Duration = Duration::from_secs(3);
/// ssh's own limit on nested Include.
const MAX_INCLUDE_DEPTH: usize = 16;

/// What `ssh -v -G` said: the configuration it prints on stdout, and the files
/// its debug output says it read.
pub(crate) struct SshAnswer {
    pub config: String,
    /// None: ssh printed no debug lines (a `-q` after our `-v`), so it did not
    /// say what it read.
    pub files_read: Option<Vec<PathBuf>>,
}

impl SshAnswer {
    /// From `ssh -v -G`'s stdout and stderr.
    pub(crate) fn parse(stdout: &[u8], stderr: &[u8]) -> SshAnswer {
        let stderr = String::from_utf8_lossy(stderr);
        let files_read = stderr.lines().any(|l| l.starts_with("debug1: ")).then(|| {
            stderr
                .lines()
                .filter_map(|l| l.strip_prefix("debug1: Reading configuration data "))
                .map(PathBuf::from)
                .collect()
        });
        SshAnswer {
            config: String::from_utf8_lossy(stdout).into_owned(),
            files_read,
        }
    }
}

/// `ssh -G`'s output for `program options...`: remembered when the inputs are
/// unchanged since it was, else `ask()`'s (remembered for the next run when it may be).
pub(crate) fn answer(
    program: &str,
    options: &[String],
    ask: impl FnOnce() -> Option<SshAnswer>,
) -> Option<String> {
    match (crate::controller_cache::dir(), Places::real()) {
        (Some(dir), Some(places)) => {
            answer_in(&dir, program, options, &places, SystemTime::now(), ask)
        }
        _ => ask().map(|a| a.config),
    }
}

pub(crate) fn answer_in(
    dir: &Path,
    program: &str,
    options: &[String],
    places: &Places,
    now: SystemTime,
    ask: impl FnOnce() -> Option<SshAnswer>,
) -> Option<String> {
    let Some(before) = Fingerprint::of(program, options, places) else {
        return ask().map(|a| a.config);
    };
    let memo = dir.join(format!("ssh-G-{}", before.name()));
    if let Some(text) = read_own_file(&memo) {
        return Some(text);
    }
    let answer = ask()?;
    // Remembered only when nothing moved while ssh read it, all has settled, and
    // every file ssh says it read is one the fingerprint stamps (a build of ssh
    // with its system configuration elsewhere, an Include read otherwise than
    // here: asked every run).
    let unchanged = Fingerprint::of(program, options, places).is_some_and(|after| after == before);
    let covered = answer
        .files_read
        .as_deref()
        .is_some_and(|read| before.covers(read));
    if unchanged && before.settled(now) && covered {
        remember(dir, &memo, &answer.config);
    }
    Some(answer.config)
}

/// Everything `ssh -G`'s answer depends on, as text, with the newest ctime in it.
#[derive(Debug, PartialEq)]
pub(crate) struct Fingerprint {
    text: Vec<u8>,
    newest_ctime: i64,
    /// The configuration files stamped (whether or not they exist).
    configs: Vec<PathBuf>,
}

impl Fingerprint {
    /// None: the answer may depend on more than this knows (see the module comment).
    pub(crate) fn of(program: &str, options: &[String], places: &Places) -> Option<Fingerprint> {
        let mut f = Fingerprint {
            text: b"rsible ssh -G memo v1\0".to_vec(),
            newest_ctime: 0,
            configs: Vec::new(),
        };
        let program_path = resolve_program(program)?;
        f.field(&format!("program {program}"));
        f.stamp(&program_path)?;
        for option in options {
            f.field(&format!("option {option}"));
        }
        f.field(&format!("cwd {}", std::env::current_dir().ok()?.display()));
        f.field(&format!(
            "user {} {} {}",
            places.uid,
            places.user_name,
            places.home.display()
        ));
        f.field(&format!("host {}", host_name()?));
        let mut expands_env = options.iter().any(|o| o.contains("${"));
        let mut user_configs = vec![places.home.join(".ssh/config")];
        user_configs.extend(config_options(options).into_iter().map(PathBuf::from));
        for config in &user_configs {
            expands_env |= f.config_file(config, Origin::User, places, 0)?;
        }
        expands_env |= f.config_file(&places.system_config, Origin::System, places, 0)?;
        if expands_env {
            let mut vars: Vec<_> = std::env::vars_os().collect();
            vars.sort();
            for (k, v) in vars {
                f.text.extend_from_slice(b"env ");
                f.text.extend_from_slice(k.as_bytes());
                f.text.push(b'=');
                f.text.extend_from_slice(v.as_bytes());
                f.text.push(0);
            }
        }
        Some(f)
    }

    fn name(&self) -> String {
        crate::payload_hash::hex_sha256(&self.text)
    }

    /// Whether every file in `read` is one of the stamped configuration files.
    fn covers(&self, read: &[PathBuf]) -> bool {
        let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let known: Vec<PathBuf> = self.configs.iter().map(|p| canonical(p)).collect();
        read.iter().all(|r| known.contains(&canonical(r)))
    }

    fn settled(&self, now: SystemTime) -> bool {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.newest_ctime + (SETTLED.as_secs() as i64) < now
    }

    fn field(&mut self, text: &str) {
        self.text.extend_from_slice(text.as_bytes());
        self.text.push(0);
    }

    /// The file's identity and times, or that it is absent. None: it cannot be
    /// looked at (ssh's view of it is unknown).
    fn stamp(&mut self, path: &Path) -> Option<()> {
        match std::fs::metadata(path) {
            Ok(m) => {
                self.field(&format!(
                    "stamp {} {} {} {} {}.{} {}.{} {:o} {}",
                    path.display(),
                    m.dev(),
                    m.ino(),
                    m.size(),
                    m.mtime(),
                    m.mtime_nsec(),
                    m.ctime(),
                    m.ctime_nsec(),
                    m.mode(),
                    m.uid()
                ));
                self.newest_ctime = self.newest_ctime.max(m.ctime());
                Some(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.field(&format!("absent {}", path.display()));
                Some(())
            }
            Err(_) => None,
        }
    }

    /// Stamps a configuration file and what it includes. Some(true): it expands
    /// `${VAR}`. None: not rememberable.
    fn config_file(
        &mut self,
        path: &Path,
        origin: Origin,
        places: &Places,
        depth: usize,
    ) -> Option<bool> {
        if depth > MAX_INCLUDE_DEPTH {
            return None;
        }
        self.stamp(path)?;
        self.configs.push(path.to_path_buf());
        let text = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(false),
            Err(_) => return None,
        };
        let text = String::from_utf8_lossy(&text);
        let mut expands_env = text.contains("${");
        for line in text.lines() {
            let Some((keyword, args)) = directive(line) else {
                continue;
            };
            match keyword.as_str() {
                "match" => return None,
                "canonicalizehostname" if !args.eq_ignore_ascii_case("no") => return None,
                "include" => {
                    for pattern in words(args) {
                        expands_env |= self.include(&pattern, origin, places, depth)?;
                    }
                }
                _ => {}
            }
        }
        Some(expands_env)
    }

    /// One Include argument: every file its glob matches now.
    fn include(
        &mut self,
        pattern: &str,
        origin: Origin,
        places: &Places,
        depth: usize,
    ) -> Option<bool> {
        let home = &places.home;
        if pattern.contains('%') || pattern.contains('$') {
            return None;
        }
        let path = if let Some(rest) = pattern.strip_prefix("~/") {
            home.join(rest)
        } else if pattern.starts_with('~') {
            return None; // another user's home
        } else if pattern.starts_with('/') {
            PathBuf::from(pattern)
        } else {
            match origin {
                Origin::User => home.join(".ssh").join(pattern),
                Origin::System => places.system_dir.join(pattern),
            }
        };
        let wildcard = |s: &OsStr| s.as_bytes().iter().any(|b| b"*?[".contains(b));
        let parent = path.parent()?;
        if parent.components().any(|c| wildcard(c.as_os_str())) {
            return None;
        }
        // Listed anew every run: a file added later is among the matches then.
        self.field(&format!("include {}", path.display()));
        // As glob(3) for ssh: a leading dot is matched only by a dot.
        let options = glob::MatchOptions {
            require_literal_leading_dot: true,
            ..Default::default()
        };
        let mut matches: Vec<PathBuf> = glob::glob_with(path.to_str()?, options)
            .ok()?
            .collect::<Result<_, _>>()
            .ok()?;
        matches.sort();
        let mut expands_env = false;
        for file in matches {
            expands_env |= self.config_file(&file, origin, places, depth + 1)?;
        }
        Some(expands_env)
    }
}

#[derive(Clone, Copy)]
enum Origin {
    User,
    System,
}

/// A configuration line's keyword (lowercase) and arguments; None for blank
/// lines and comments. `Keyword value` and `Keyword=value` are both ssh's.
fn directive(line: &str) -> Option<(String, &str)> {
    let line = line.trim_start();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let keyword = line[..end].to_ascii_lowercase();
    let rest = line[end..].trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    Some((keyword, rest))
}

/// Whitespace-separated arguments, double quotes grouping.
fn words(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in args.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(current);
    }
    out
}

/// The files given with `-F` (`-F file` or `-Ffile`).
fn config_options(options: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut args = options.iter();
    while let Some(a) = args.next() {
        if a == "-F" {
            if let Some(v) = args.next() {
                out.push(v.clone());
            }
        } else if let Some(v) = a.strip_prefix("-F") {
            out.push(v.to_string());
        }
    }
    out
}

fn resolve_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0))
}

/// Where ssh looks for its configuration, and who it runs as.
pub(crate) struct Places {
    pub uid: u32,
    pub user_name: String,
    /// From the passwd entry, as ssh reads it for `~`, %d and ~/.ssh/config (not $HOME).
    pub home: PathBuf,
    pub system_config: PathBuf,
    /// Where a system configuration's relative Include points.
    pub system_dir: PathBuf,
}

impl Places {
    fn real() -> Option<Places> {
        let uid = unsafe { libc::getuid() };
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: the buffer outlives the entry's strings, read before it is dropped.
        let rc =
            unsafe { libc::getpwuid_r(uid, &mut entry, buf.as_mut_ptr(), buf.len(), &mut found) };
        if rc != 0 || found.is_null() {
            return None;
        }
        // SAFETY: getpwuid_r succeeded: both are NUL-terminated strings in `buf`.
        let (name, home) = unsafe {
            (
                CStr::from_ptr(entry.pw_name).to_string_lossy().into_owned(),
                PathBuf::from(OsStr::from_bytes(CStr::from_ptr(entry.pw_dir).to_bytes())),
            )
        };
        Some(Places {
            uid,
            user_name: name,
            home,
            system_config: PathBuf::from("/etc/ssh/ssh_config"),
            system_dir: PathBuf::from("/etc/ssh"),
        })
    }
}

fn host_name() -> Option<String> {
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname fills the struct it is given.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return None;
    }
    // SAFETY: nodename is NUL-terminated after a successful uname.
    Some(
        unsafe { CStr::from_ptr(uts.nodename.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// The memo's text, when the file is ours and only we can write it.
fn read_own_file(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let ours = meta.uid() == unsafe { libc::geteuid() } && meta.mode() & 0o022 == 0;
    if !ours {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// Best effort: a memo that cannot be written only costs the next run an `ssh -G`.
fn remember(dir: &Path, memo: &Path, text: &str) {
    crate::controller_cache::replace(dir, memo, text.as_bytes(), 0o600);
    prune(dir, SystemTime::now());
}

/// Memos are written once and never refreshed: those older than this go when
/// another is written (command lines with temporary paths would pile up), and
/// one still in use costs a single `ssh -G` to write again.
const PRUNE_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

fn prune(dir: &Path, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let is_memo = entry.file_name().as_bytes().starts_with(b"ssh-G-");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t + PRUNE_AFTER < now);
        if is_memo && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
#[path = "ssh_g_memo_tests.rs"]
mod tests;
