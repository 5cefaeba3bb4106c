//! The agent bootstrap: one POSIX sh script, run over the same session the agent then
//! uses. It checks the cached binary `<cache>/agent-<sha256>`, asks for an upload when
//! it is missing or does not hash right, verifies what it received, and execs it.
//! A verified binary gets a stamp `<cache>/.verified-<sha256>`; while the binary's inode has
//! not changed since the stamp was written it is not hashed again (hashing 13 MB on every
//! connection cost each host ~60 ms of CPU). The test is the binary's ctime against the
//! stamp's mtime (`find -cnewer`): any write, chmod or rename moves a ctime, and unlike an
//! mtime no unprivileged process can set it back, so a binary changed after its stamp —
//! even with its mtime restored — is hashed and replaced. When `find` cannot answer, its
//! error output counts as "changed" and the binary is hashed.
//!
//! The script talks to the controller with marker lines on stdout:
//! - `RSIBLE-ARCH <uname -m>`: this machine cannot run the agent (script exits).
//! - `RSIBLE-ERR <text>`: cannot create the cache, no sha256 tool, bad upload, ...
//! - `RSIBLE-CACHED` or `RSIBLE-UPLOAD`: after UPLOAD the controller sends exactly
//!   `size` bytes on stdin and nothing else until `RSIBLE-STORED`.
//! - `RSIBLE-EXEC`: the next bytes on stdout are the agent's frames.

use crate::ssh_command::shell_quote;
use sha2::{Digest, Sha256};

/// The agent binary as it will be shipped.
pub struct AgentPayload {
    pub bytes: Vec<u8>,
    pub sha256: String,
}

impl AgentPayload {
    /// The payload for the agent binary at `path`, read and hashed once per
    /// process: every host's connection ships the same binary, and hashing tens
    /// of megabytes per host would dominate the run's start on many hosts.
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
        let payload = Arc::new(AgentPayload::new(std::fs::read(path)?));
        cache.insert(path.to_path_buf(), Arc::clone(&payload));
        Ok(payload)
    }

    pub fn new(bytes: Vec<u8>) -> AgentPayload {
        let sha256 = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        AgentPayload { bytes, sha256 }
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

/// The script. `cache_dir` None means `$HOME/.cache/rsible`, or `/tmp/.rsible-<uid>`
/// when HOME is unset or not writable.
pub fn script(payload: &AgentPayload, cache_dir: Option<&str>, agent_args: &[String]) -> String {
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
    // The cache and the upload are private (umask 077), but the agent runs
    // modules and commands that must create files as they would in the login
    // shell (Ansible's modules do): the login's umask is restored before exec.
    format!(
        r#"u=$(umask)
umask 077
a=$(uname -m)
case "$a" in {arch_pattern}) ;; *) echo "RSIBLE-ARCH $a"; exit 97;; esac
{cache}
h={sha}
n={size}
[ -d "$d" ] || {{ mkdir -p "$d" 2>/dev/null; chmod 700 "$d" 2>/dev/null; }}
[ -d "$d" ] && [ -w "$d" ] || {{ echo "RSIBLE-ERR cannot create cache directory $d"; exit 98; }}
sum() {{
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1"
  else echo nosum; fi
}}
f="$d/agent-$h"
v="$d/.verified-$h"
s=""
if [ -f "$f" ] && [ -x "$f" ] && [ -f "$v" ] && [ -z "$(find "$f" -cnewer "$v" 2>&1)" ]; then
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
        sha = payload.sha256,
        size = payload.bytes.len(),
        args = args.join(" "),
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

    /// Run the script with plain /bin/sh against a temp cache, feeding `stdin`.
    fn run_script(payload: &AgentPayload, cache: &str, stdin: &[u8]) -> (String, i32) {
        let s = script(payload, Some(cache), &["hello-from-agent".to_string()]);
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(&s)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code().unwrap_or(-1),
        )
    }

    #[test]
    fn uploads_once_then_uses_cache_and_replaces_tampered_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let cache = cache.to_str().unwrap();
        // A tiny "agent": a shell script echoing its first argument.
        let payload = AgentPayload::new(b"#!/bin/sh\necho ran:$1\n".to_vec());
        let (out, code) = run_script(&payload, cache, &payload.bytes);
        assert_eq!(code, 0, "{out}");
        assert_eq!(
            out,
            "RSIBLE-UPLOAD\nRSIBLE-STORED\nRSIBLE-EXEC\nran:hello-from-agent\n"
        );
        let (out, _) = run_script(&payload, cache, b"");
        assert_eq!(out, "RSIBLE-CACHED\nRSIBLE-EXEC\nran:hello-from-agent\n");
        assert!(std::path::Path::new(&format!("{cache}/.verified-{}", payload.sha256)).exists());
        // Tamper with the cached entry and set its mtime back to long before the
        // stamp, as an attacker hiding the change would: it must be replaced, not
        // run (the ctime the write moved cannot be set back).
        let cached = format!("{cache}/agent-{}", payload.sha256);
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&cached, b"#!/bin/sh\necho EVIL\n").unwrap();
        let earlier = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400);
        std::fs::File::options()
            .write(true)
            .open(&cached)
            .and_then(|f| f.set_modified(earlier))
            .unwrap();
        let (out, _) = run_script(&payload, cache, &payload.bytes);
        assert_eq!(
            out,
            "RSIBLE-UPLOAD\nRSIBLE-STORED\nRSIBLE-EXEC\nran:hello-from-agent\n"
        );
        // An entry verified before stamps existed is hashed once, then stamped.
        std::fs::remove_file(format!("{cache}/.verified-{}", payload.sha256)).unwrap();
        let (out, _) = run_script(&payload, cache, b"");
        assert_eq!(out, "RSIBLE-CACHED\nRSIBLE-EXEC\nran:hello-from-agent\n");
        assert!(std::path::Path::new(&format!("{cache}/.verified-{}", payload.sha256)).exists());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn corrupted_upload_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("c");
        let payload = AgentPayload::new(b"#!/bin/sh\necho ran\n".to_vec());
        let mut bad = payload.bytes.clone();
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
