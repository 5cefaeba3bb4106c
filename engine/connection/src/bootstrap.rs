//! The agent bootstrap: one POSIX sh script, run over the same session the agent then
//! uses. It checks the cached binary `<cache>/agent-<sha256>`, asks for an upload when
//! it is missing or does not hash right, verifies what it received, and execs it.
//!
//! The common case — the agent is cached — costs no process but the shell itself: the
//! script's first lines test the cached entry with shell builtins only (`[`, `echo`,
//! `exec`) and exec it. Each `uname`, `find` or `$(...)` is a fork and an exec, a few
//! milliseconds of CPU per host that showed up in fact gathering on many hosts. The
//! cached entry is used when:
//! - the cache directory and the binary belong to the user the script runs as (`-O`),
//!   so only that user (or root) could have written them — a user who could as well
//!   edit the login's rc files. A directory of another user (a `become` whose HOME is
//!   the login user's, a pre-created `/tmp/.rsible-<uid>`) never takes this path;
//! - the binary is executable, and a stamp `<cache>/.verified-<sha256>` exists that is
//!   strictly newer than the binary (`[ stamp -nt f ]`): the stamp is written after the
//!   binary was hashed (hashing a real agent takes longer than a timestamp tick), so any
//!   later write to the binary (which moves its mtime), even within the stamp's tick,
//!   sends the script on to the full checks.
//!
//! No architecture test on this path: the entry was stored after `uname -m` passed on a
//! machine using this cache directory. A home shared between machines of different
//! architectures makes the exec fail with "exec format error", which the controller
//! reads as a host that cannot run the agent (agent_unusable). Any other failure of a
//! cached agent to start sends the controller to run the script again in verify mode
//! (no shortcut, the architecture tested, the binary hashed and replaced if changed).
//!
//! Otherwise (first run, become into another user's directory, a changed binary) the
//! script goes on: `uname -m`, then a stamp test by ctime (`find -cnewer`: unlike an
//! mtime, no unprivileged process can set a ctime back, which matters where the
//! directory is not the running user's own), then hashing, and an upload when needed.
//! When `find` cannot answer, its error output counts as "changed" and the binary is
//! hashed.
//!
//! The script talks to the controller with marker lines on stdout:
//! - `RSIBLE-ARCH <uname -m>`: this machine cannot run the agent (script exits).
//! - `RSIBLE-ERR <text>`: cannot create the cache, no sha256 tool, bad upload, ...
//! - `RSIBLE-CACHED` or `RSIBLE-UPLOAD`: after UPLOAD the controller sends exactly
//!   `size` bytes on stdin and nothing else until `RSIBLE-STORED`.
//! - `RSIBLE-EXEC`: the next bytes on stdout are the agent's frames.

use crate::ssh_command::shell_quote;

/// The agent binary as it will be shipped.
pub struct AgentPayload {
    pub sha256: String,
    pub size: u64,
    /// The file the bytes come from (None: given in memory).
    path: Option<std::path::PathBuf>,
    /// The bytes, read when a target first needs an upload.
    bytes: std::sync::OnceLock<Result<Vec<u8>, String>>,
}

impl AgentPayload {
    /// The payload for the agent binary at `path`, hashed once per process
    /// (every host's connection ships the same binary) and, while the file is
    /// unchanged, once across runs (payload_hash).
    pub fn load(path: &std::path::Path) -> std::io::Result<std::sync::Arc<AgentPayload>> {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex, OnceLock};
        static LOADED: OnceLock<Mutex<HashMap<std::path::PathBuf, Arc<AgentPayload>>>> =
            OnceLock::new();
        let cache = LOADED.get_or_init(|| Mutex::new(HashMap::new()));
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache.get(path) {
            return Ok(Arc::clone(p));
        }
        let (sha256, size, read) = crate::payload_hash::sha256_of(path)?;
        let bytes = std::sync::OnceLock::new();
        if let Some(read) = read {
            let _ = bytes.set(Ok(read));
        }
        let payload = Arc::new(AgentPayload {
            sha256,
            size,
            path: Some(path.to_path_buf()),
            bytes,
        });
        cache.insert(path.to_path_buf(), Arc::clone(&payload));
        Ok(payload)
    }

    pub fn new(bytes: Vec<u8>) -> AgentPayload {
        AgentPayload {
            sha256: crate::payload_hash::hex_sha256(&bytes),
            size: bytes.len() as u64,
            path: None,
            bytes: std::sync::OnceLock::from(Ok(bytes)),
        }
    }

    /// The binary's bytes, read on first use and checked against the hash the
    /// script was given: a binary replaced since is an error, never sent.
    pub fn bytes(&self) -> Result<&[u8], String> {
        let loaded = self.bytes.get_or_init(|| {
            let Some(path) = &self.path else {
                return Err("the agent binary is not available".into());
            };
            let bytes = std::fs::read(path)
                .map_err(|e| format!("cannot read agent binary {}: {e}", path.display()))?;
            if crate::payload_hash::hex_sha256(&bytes) != self.sha256 {
                return Err(format!(
                    "the agent binary {} changed while rsible ran",
                    path.display()
                ));
            }
            Ok(bytes)
        });
        loaded.as_deref().map_err(Clone::clone)
    }
}

/// `uname -m` spellings of the controller's architecture.
pub fn controller_arch_names() -> &'static [&'static str] {
    match std::env::consts::ARCH {
        "x86_64" => &["x86_64", "amd64"],
        "aarch64" => &["aarch64", "arm64", "aarch64_be"],
        "x86" => &["i386", "i486", "i586", "i686"],
        "arm" => &["armv7l", "armv6l", "armhf"],
        "powerpc64" => &["ppc64", "ppc64le"],
        "s390x" => &["s390x"],
        "riscv64" => &["riscv64"],
        _ => &[],
    }
}

/// How much the script may take for granted about a cached entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The builtins-only shortcut first (see the module comment), then the full checks.
    Cached,
    /// No shortcut and no stamp: test the architecture and hash the binary. For a
    /// second attempt after a cached agent did not start.
    Verify,
}

/// The script. `cache_dir` None means `$HOME/.cache/rsible`, or `/tmp/.rsible-<uid>`
/// when HOME is unset or not writable.
pub fn script(
    payload: &AgentPayload,
    cache_dir: Option<&str>,
    agent_args: &[String],
    check: Check,
) -> String {
    let arch_pattern = {
        let names = controller_arch_names();
        if names.is_empty() {
            "*".to_string()
        } else {
            names.join("|")
        }
    };
    let cache = match cache_dir {
        Some(d) => format!("d={}", shell_quote(d)),
        None => concat!(
            "if [ -n \"${HOME:-}\" ] && [ -d \"$HOME\" ] && [ -w \"$HOME\" ]; then ",
            "d=\"$HOME/.cache/rsible\"; else d=\"/tmp/.rsible-$(id -u)\"; fi"
        )
        .to_string(),
    };
    let args: Vec<String> = agent_args.iter().map(|a| shell_quote(a)).collect();
    let args = args.join(" ");
    let sha = &payload.sha256;
    // Builtins only: no fork before the agent's exec.
    let shortcut = match check {
        Check::Cached => format!(
            r#"if [ -O "$d" ] && [ -O "$f" ] && [ -x "$f" ] && [ "$v" -nt "$f" ]; then
  echo RSIBLE-CACHED; echo RSIBLE-EXEC; exec "$f" {args}
fi
"#
        ),
        Check::Verify => String::new(),
    };
    // The stamp is trusted by ctime only (find), and not at all when verifying.
    let stamp_test = match check {
        Check::Cached => r#"[ -f "$v" ] && [ -z "$(find "$f" -cnewer "$v" 2>&1)" ]"#,
        Check::Verify => "false",
    };
    // The cache and the upload are private (umask 077), but the agent runs
    // modules and commands that must create files as they would in the login
    // shell (Ansible's modules do): the login's umask is restored before exec.
    // The shortcut never changes the umask.
    format!(
        r#"{cache}
f="$d/agent-{sha}"
v="$d/.verified-{sha}"
{shortcut}u=$(umask)
umask 077
a=$(uname -m)
case "$a" in {arch_pattern}) ;; *) echo "RSIBLE-ARCH $a"; exit 97;; esac
h={sha}
n={size}
[ -d "$d" ] || {{ mkdir -p "$d" 2>/dev/null; chmod 700 "$d" 2>/dev/null; }}
[ -d "$d" ] && [ -w "$d" ] || {{ echo "RSIBLE-ERR cannot create cache directory $d"; exit 98; }}
sum() {{
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1"
  else echo nosum; fi
}}
s=""
if [ -f "$f" ] && [ -x "$f" ] && {stamp_test}; then
  s=$h
elif [ -f "$f" ] && [ -x "$f" ]; then
  s=$(sum "$f" 2>/dev/null); s=${{s%% *}}; [ "$s" = "$h" ] && : > "$v"
fi
if [ "$s" = "$h" ]; then
  echo RSIBLE-CACHED
else
  t="$d/.agent-$h.$$"
  echo RSIBLE-UPLOAD
  head -c "$n" > "$t" || {{ rm -f "$t"; echo "RSIBLE-ERR upload failed"; exit 98; }}
  s=$(sum "$t" 2>/dev/null); s=${{s%% *}}
  if [ "$s" = nosum ]; then rm -f "$t"; echo "RSIBLE-ERR no sha256sum or shasum on target"; exit 98; fi
  if [ "$s" != "$h" ]; then rm -f "$t"; echo "RSIBLE-ERR uploaded agent does not match sha256 $h"; exit 98; fi
  chmod 700 "$t" && mv -f "$t" "$f" || {{ rm -f "$t"; echo "RSIBLE-ERR cannot store agent in $d"; exit 98; }}
  : > "$v"
  echo RSIBLE-STORED
fi
echo RSIBLE-EXEC
umask "$u"
exec "$f" {args}
"#,
        size = payload.size,
    )
}

/// A marker line from the script.
#[derive(Debug, Clone, PartialEq)]
pub enum Marker {
    Arch(String),
    Err(String),
    Cached,
    Upload,
    Stored,
    Exec,
    /// Anything else (e.g. a login banner echoed by a shell rc file): ignored.
    Other(String),
}

pub fn parse_marker(line: &str) -> Marker {
    let line = line.trim_end_matches(['\r', '\n']);
    if let Some(a) = line.strip_prefix("RSIBLE-ARCH ") {
        return Marker::Arch(a.to_string());
    }
    if let Some(e) = line.strip_prefix("RSIBLE-ERR ") {
        return Marker::Err(e.to_string());
    }
    match line {
        "RSIBLE-CACHED" => Marker::Cached,
        "RSIBLE-UPLOAD" => Marker::Upload,
        "RSIBLE-STORED" => Marker::Stored,
        "RSIBLE-EXEC" => Marker::Exec,
        other => Marker::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// Run the script with plain /bin/sh against a temp cache, feeding `stdin`;
    /// `path` replaces PATH when given.
    fn run_with(
        payload: &AgentPayload,
        cache: &str,
        stdin: &[u8],
        check: Check,
        path: Option<&str>,
    ) -> (String, i32) {
        let s = script(
            payload,
            Some(cache),
            &["hello-from-agent".to_string()],
            check,
        );
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(&s)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(p) = path {
            cmd.env("PATH", p);
        }
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code().unwrap_or(-1),
        )
    }

    fn run_script(payload: &AgentPayload, cache: &str, stdin: &[u8]) -> (String, i32) {
        run_with(payload, cache, stdin, Check::Cached, None)
    }

    const UPLOADED: &str = "RSIBLE-UPLOAD\nRSIBLE-STORED\nRSIBLE-EXEC\nran:hello-from-agent\n";
    const CACHED: &str = "RSIBLE-CACHED\nRSIBLE-EXEC\nran:hello-from-agent\n";

    fn set_mtime(path: &str, secs: u64) {
        let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(t))
            .unwrap();
    }

    #[test]
    fn uploads_once_then_uses_cache_and_replaces_changed_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let cache = cache.to_str().unwrap();
        // A tiny "agent": a shell script echoing its first argument.
        let payload = AgentPayload::new(b"#!/bin/sh\necho ran:$1\n".to_vec());
        let (out, code) = run_script(&payload, cache, payload.bytes().unwrap());
        assert_eq!(code, 0, "{out}");
        assert_eq!(out, UPLOADED);
        let (out, _) = run_script(&payload, cache, b"");
        assert_eq!(out, CACHED);
        let stamp = format!("{cache}/.verified-{}", payload.sha256);
        assert!(std::path::Path::new(&stamp).exists());
        // A write to the cached entry after its stamp: replaced, not run.
        let cached = format!("{cache}/agent-{}", payload.sha256);
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&cached, b"#!/bin/sh\necho CHANGED\n").unwrap();
        let (out, _) = run_script(&payload, cache, payload.bytes().unwrap());
        assert_eq!(out, UPLOADED);
        // Changed, with its mtime set back before the stamp: the shortcut, which
        // compares mtimes, would take it (only the directory's owner can do this),
        // but the retry after a failed start verifies by hash and replaces it.
        std::fs::write(&cached, b"#!/bin/sh\necho CHANGED\n").unwrap();
        set_mtime(&cached, 86_400);
        let (out, _) = run_with(
            &payload,
            cache,
            payload.bytes().unwrap(),
            Check::Verify,
            None,
        );
        assert_eq!(out, UPLOADED);
        // An entry verified before stamps existed is hashed once, then stamped.
        std::fs::remove_file(&stamp).unwrap();
        let (out, _) = run_script(&payload, cache, b"");
        assert_eq!(out, CACHED);
        assert!(std::path::Path::new(&stamp).exists());
        // Verify mode hashes a good entry and keeps it.
        let (out, _) = run_with(&payload, cache, b"", Check::Verify, None);
        assert_eq!(out, CACHED);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    /// The cached path runs no program but the agent: with a PATH holding only a
    /// `uname` that claims another architecture (and no `find`, `id`, `sha256sum`),
    /// a cached agent still starts; verify mode consults `uname` and refuses.
    #[test]
    fn cached_path_uses_builtins_only_and_verify_checks_the_architecture() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let cache = cache.to_str().unwrap();
        let payload = AgentPayload::new(b"#!/bin/sh\necho ran:$1\n".to_vec());
        let (out, _) = run_script(&payload, cache, payload.bytes().unwrap());
        assert_eq!(out, UPLOADED);
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let uname = bin.join("uname");
        std::fs::write(&uname, "#!/bin/sh\necho sparc64\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&uname, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = bin.to_str().unwrap();
        // The stamp strictly newer than the binary (a tiny test payload is stored
        // and stamped within one timestamp tick; a real agent's hashing is not).
        let cached = format!("{cache}/agent-{}", payload.sha256);
        set_mtime(&cached, 86_400);
        let (out, code) = run_with(&payload, cache, b"", Check::Cached, Some(path));
        assert_eq!((out.as_str(), code), (CACHED, 0));
        let (out, code) = run_with(&payload, cache, b"", Check::Verify, Some(path));
        assert_eq!((out.as_str(), code), ("RSIBLE-ARCH sparc64\n", 97));
        // A binary newer than its stamp does not take the shortcut: the full
        // checks run, starting with `uname`.
        set_mtime(&format!("{cache}/.verified-{}", payload.sha256), 3_600);
        let (out, _) = run_with(
            &payload,
            cache,
            payload.bytes().unwrap(),
            Check::Cached,
            Some(path),
        );
        assert!(out.starts_with("RSIBLE-ARCH sparc64"), "{out}");
    }

    #[test]
    fn corrupted_upload_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("c");
        let payload = AgentPayload::new(b"#!/bin/sh\necho ran\n".to_vec());
        let mut bad = payload.bytes().unwrap().to_vec();
        bad[3] ^= 1;
        let (out, code) = run_script(&payload, cache.to_str().unwrap(), &bad);
        assert_eq!(code, 98);
        assert!(
            out.contains("RSIBLE-ERR uploaded agent does not match"),
            "{out}"
        );
        assert!(!out.contains("ran"));
    }

    #[test]
    fn markers_parse() {
        assert_eq!(
            parse_marker("RSIBLE-ARCH armv7l\n"),
            Marker::Arch("armv7l".into())
        );
        assert_eq!(parse_marker("RSIBLE-EXEC\n"), Marker::Exec);
        assert_eq!(parse_marker("motd"), Marker::Other("motd".into()));
    }
}
