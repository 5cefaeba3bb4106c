//! Output of slow, deterministic fact helpers (`python3 -c`, `lsb_release -a`,
//! `capsh --print`) kept on the target between runs, so that gathering facts
//! does not start an interpreter every time.
//!
//! An entry is keyed by everything its output depends on: the program (path as
//! run, and the inode, size, mtime and ctime of what it resolves to), its
//! arguments, the same metadata of the files it reads, the task's environment
//! it runs with, and any extra text (the agent's environment, credentials). A package upgrade or an edited release file
//! changes the key, so a stale entry is never read, only left behind.
//!
//! The cache lives next to the agent binary (`<cache dir>/facts-cache/`), and
//! only when that directory belongs to the agent's user and nobody else can
//! write it; otherwise (a local run of a development binary) helpers just run.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What a helper prints: (rc, stdout, stderr), as `util::run` returns it.
pub type Output = (i32, String, String);

/// What, beside the program itself, an entry depends on.
pub struct Inputs<'a> {
    /// Files (or directories) the program reads: their metadata goes in the key.
    pub files: &'a [&'a str],
    /// Files that running the program itself touches without changing what it
    /// answers: SQLite truncates its empty `-wal` file on every open, which
    /// moves the file's ctime (rpm's database on Debian), so with the ctime in
    /// the key every run missed. Keyed by inode, size and mtime only; a real
    /// write (a transaction appended to the WAL) still moves the mtime.
    pub touched_by_reads: &'a [&'a str],
    /// Any other text the output depends on.
    pub extra: &'a str,
}

/// The task's environment a helper runs with (over the agent's).
pub type Env = BTreeMap<String, String>;

/// `program args`, run with `env`, from the cache when its inputs are
/// unchanged; otherwise run it and keep the result (only a successful run is kept).
pub fn run_cached(program: &Path, args: &[&str], env: &Env, inputs: &Inputs) -> Output {
    match cache_dir() {
        Some(dir) => run_cached_in(&dir, program, args, env, inputs, Keep::Successes),
        None => super::util::run(program, args, env),
    }
}

/// The same for a query whose failure is an answer as stable as its success
/// (`rpm -q --whatprovides` on a system where nothing provides the file): its
/// output is kept whatever the exit status. Only for programs that cannot
/// fail for a passing reason.
pub fn run_cached_any_status(program: &Path, args: &[&str], env: &Env, inputs: &Inputs) -> Output {
    match cache_dir() {
        Some(dir) => run_cached_in(&dir, program, args, env, inputs, Keep::Any),
        None => super::util::run(program, args, env),
    }
}

/// Which runs an entry is written for.
#[derive(Clone, Copy, PartialEq)]
enum Keep {
    Successes,
    Any,
}

fn run_cached_in(
    dir: &Path,
    program: &Path,
    args: &[&str],
    env: &Env,
    inputs: &Inputs,
    keep: Keep,
) -> Output {
    let Some(key) = key(program, args, env, inputs) else {
        return super::util::run(program, args, env);
    };
    let entry = dir.join(&key);
    if let Some(hit) = read_entry(&entry) {
        return hit;
    }
    let out = super::util::run(program, args, env);
    // A program that could not be started (util::run's own status) is never kept.
    if out.0 == 0 || (keep == Keep::Any && out.0 > 0 && out.0 < 126) {
        write_entry(dir, &entry, &out);
    }
    out
}

/// The entry's name: sha256 of every input, or None when the program is gone.
fn key(program: &Path, args: &[&str], env: &Env, inputs: &Inputs) -> Option<String> {
    let mut h = Sha256::new();
    h.update(b"rsible-facts-helper-v1\0");
    h.update(program.as_os_str().as_encoded_bytes());
    h.update(b"\0");
    h.update(identity(program)?.as_bytes());
    for a in args {
        h.update(a.as_bytes());
        h.update(b"\0");
    }
    for f in inputs.files {
        h.update(f.as_bytes());
        h.update(b"\0");
        h.update(identity(Path::new(f)).unwrap_or_default().as_bytes());
        h.update(b"\0");
    }
    for f in inputs.touched_by_reads {
        h.update(f.as_bytes());
        h.update(b"\0");
        h.update(
            content_identity(Path::new(f))
                .unwrap_or_default()
                .as_bytes(),
        );
        h.update(b"\0");
    }
    h.update(inputs.extra.as_bytes());
    // A task without `environment` keys its entries as before the task's
    // environment was passed on.
    if !env.is_empty() {
        h.update(b"\0task-environment\0");
        for (k, v) in env {
            h.update(k.as_bytes());
            h.update(b"=");
            h.update(v.as_bytes());
            h.update(b"\0");
        }
    }
    Some(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// A file's metadata as text (following symlinks; the link itself too, so a
/// re-pointed link changes it); None when it does not exist.
fn identity(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    let link = std::fs::symlink_metadata(path)
        .map(|l| format!("{}:{}", l.ino(), l.mtime_nsec() + l.mtime() * 1_000_000_000))
        .unwrap_or_default();
    Some(format!(
        "{}:{}:{}:{}.{}:{}.{}:{link}",
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec()
    ))
}

/// A file's metadata without its ctime (see Inputs::touched_by_reads).
fn content_identity(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    Some(format!(
        "{}:{}:{}:{}.{}",
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec()
    ))
}

/// `<agent dir>/facts-cache` when the agent runs from its cache directory and that
/// directory is private to this user.
/// Found once per agent process: a gathering asks for every helper it runs,
/// and the answer (where the binary lives, who owns it) does not change.
fn cache_dir() -> Option<PathBuf> {
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(find_cache_dir).clone()
}

fn find_cache_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let name = exe.file_name()?.to_string_lossy().into_owned();
    if !name.starts_with("agent-") {
        return None;
    }
    let agent_dir = exe.parent()?;
    let dir = agent_dir.join("facts-cache");
    private_dir(agent_dir).then_some(())?;
    if !dir.is_dir() {
        let _ = std::fs::create_dir(&dir);
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    }
    private_dir(&dir).then_some(dir)
}

/// Owned by our effective user and writable by nobody else.
fn private_dir(dir: &Path) -> bool {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    std::fs::symlink_metadata(dir)
        .map(|m| m.is_dir() && m.uid() == euid && m.mode() & 0o022 == 0)
        .unwrap_or(false)
}

fn read_entry(path: &Path) -> Option<Output> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some((
        i32::try_from(v.get("rc")?.as_i64()?).ok()?,
        v.get("stdout")?.as_str()?.to_string(),
        v.get("stderr")?.as_str()?.to_string(),
    ))
}

/// Written to a temporary name and renamed: concurrent agents (inventory aliases
/// of one machine) never read half an entry.
fn write_entry(dir: &Path, path: &Path, out: &Output) {
    let body = serde_json::json!({"rc": out.0, "stdout": out.1, "stderr": out.2}).to_string();
    let tmp = dir.join(format!(
        ".tmp-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    if std::fs::write(&tmp, body).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Env {
        Env::new()
    }

    fn inputs<'a>(files: &'a [&'a str], extra: &'a str) -> Inputs<'a> {
        Inputs {
            files,
            touched_by_reads: &[],
            extra,
        }
    }

    #[test]
    fn key_changes_with_every_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("os-release");
        std::fs::write(&input, "ID=one\n").expect("write");
        let input_s = input.to_string_lossy().into_owned();
        let files = [input_s.as_str()];
        let sh = Path::new("/bin/sh");
        let base = key(sh, &["-c", "true"], &none(), &inputs(&files, "x")).expect("key");
        assert_eq!(
            base,
            key(sh, &["-c", "true"], &none(), &inputs(&files, "x")).expect("key")
        );
        assert_ne!(
            base,
            key(sh, &["-c", "false"], &none(), &inputs(&files, "x")).expect("k")
        );
        assert_ne!(
            base,
            key(sh, &["-c", "true"], &none(), &inputs(&files, "y")).expect("k")
        );
        // The task's environment is an input too.
        let task_env = Env::from([("PATH".to_string(), "/elsewhere".to_string())]);
        let with_env = key(sh, &["-c", "true"], &task_env, &inputs(&files, "x")).expect("k");
        assert_ne!(base, with_env);
        let other_env = Env::from([("PATH".to_string(), "/other".to_string())]);
        assert_ne!(
            with_env,
            key(sh, &["-c", "true"], &other_env, &inputs(&files, "x")).expect("k")
        );
        // An edited input (new size and mtime) is a new entry.
        std::fs::write(&input, "ID=two-longer\n").expect("write");
        assert_ne!(
            base,
            key(sh, &["-c", "true"], &none(), &inputs(&files, "x")).expect("k")
        );
        // A missing program has no entry at all.
        assert!(key(
            Path::new("/nonexistent/prog"),
            &[],
            &none(),
            &inputs(&[], "")
        )
        .is_none());
    }

    #[test]
    fn a_file_touched_by_reads_keys_by_its_content_not_its_ctime() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let wal = dir.path().join("rpmdb.sqlite-wal");
        std::fs::write(&wal, "").expect("write");
        let wal_s = wal.to_string_lossy().into_owned();
        let touched = [wal_s.as_str()];
        let key_now = |touched_by_reads: &[&str], files: &[&str]| {
            let inputs = Inputs {
                files,
                touched_by_reads,
                extra: "",
            };
            key(Path::new("/bin/sh"), &["-c", "true"], &none(), &inputs).expect("key")
        };
        let as_touched = key_now(&touched, &[]);
        let as_file = key_now(&[], &touched);
        // A reader's open moves only the ctime (as a chmod does); timestamps
        // move by the kernel's clock tick, hence the pause.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert_eq!(as_touched, key_now(&touched, &[]));
        assert_ne!(as_file, key_now(&[], &touched));
        // A write (a transaction in the WAL) is a new entry.
        std::fs::write(&wal, "a page").expect("write");
        assert_ne!(as_touched, key_now(&touched, &[]));
    }

    #[test]
    fn a_second_run_is_served_from_the_cache_until_an_input_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("release");
        std::fs::write(&input, "1\n").expect("write");
        let input_s = input.to_string_lossy().into_owned();
        let files = [input_s.as_str()];
        // `sh -c <script>` through the cache, keyed by the release file.
        let run = |script: &str, env: &Env, keep: Keep| {
            let args = ["-c", script];
            let sh = Path::new("/bin/sh");
            run_cached_in(dir.path(), sh, &args, env, &inputs(&files, ""), keep)
        };
        // Each real run prints a new pid: equal output means the cache answered.
        let first = run("echo $$", &none(), Keep::Successes);
        assert_eq!(first.0, 0);
        let second = run("echo $$", &none(), Keep::Successes);
        assert_eq!(first, second);
        std::fs::write(&input, "2 changed\n").expect("write");
        let third = run("echo $$", &none(), Keep::Successes);
        assert_ne!(first.1, third.1, "a changed input runs the helper again");
        // The helper runs with the task's environment, and its answer is kept apart.
        let env = Env::from([("RSIBLE_T".to_string(), "one".to_string())]);
        let with = run("echo $RSIBLE_T", &env, Keep::Successes);
        assert_eq!(with.1, "one\n");
        let without = run("echo $RSIBLE_T", &none(), Keep::Successes);
        assert_eq!(without.1, "\n");
        // A failing helper is not kept.
        let fail = "echo $$; exit 3";
        let a = run(fail, &none(), Keep::Successes);
        let b = run(fail, &none(), Keep::Successes);
        assert_eq!((a.0, b.0), (3, 3));
        assert_ne!(a.1, b.1);
        // ... unless asked for: then kept like a success.
        let c = run(fail, &none(), Keep::Any);
        let d = run(fail, &none(), Keep::Any);
        assert_eq!(c.0, 3);
        assert_eq!(c, d);
    }

    #[test]
    fn entries_round_trip_and_only_private_dirs_are_used() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("e");
        let out: Output = (0, "line \"quoted\"\n".into(), String::new());
        write_entry(dir.path(), &path, &out);
        assert_eq!(read_entry(&path), Some(out));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        assert!(private_dir(dir.path()));
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        assert!(!private_dir(dir.path()));
    }
}
