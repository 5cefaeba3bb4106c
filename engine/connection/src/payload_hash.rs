//! The agent binary's sha256, remembered between runs on the controller.
//!
//! Every run needs the hash before its first connection (the bootstrap script
//! names the cached agent by it), and hashing the ~14 MB binary took 25 ms of
//! CPU, 0.1-0.3 s of wall time on a loaded machine, before any host was
//! contacted. The binary rarely changes between runs, so its hash is kept in
//! `$HOME/.cache/rsible/controller/sha256-<dev>-<inode>` with the file's size,
//! mtime and ctime, and used while all of them still match (no process can set
//! a ctime back).
//!
//! Only a binary whose ctime is a few seconds old is remembered: file times
//! tick coarsely (a few milliseconds), so a write within the tick of our read
//! could leave them unchanged; a settled file has no such write. The bytes
//! themselves are only read when a target needs an upload, and checked
//! against the hash then (payload `bytes`).

use sha2::{Digest, Sha256};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How old a binary's ctime must be before its hash is remembered.
const SETTLED: Duration = Duration::from_secs(3);

/// What identifies one version of the file.
#[derive(Debug, PartialEq)]
struct Stamp {
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    fn line(&self, sha: &str) -> String {
        format!(
            "{} {}.{} {}.{} {sha}\n",
            self.size, self.mtime.0, self.mtime.1, self.ctime.0, self.ctime.1
        )
    }

    fn settled(&self) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.ctime.0 + (SETTLED.as_secs() as i64) < now
    }
}

pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The hash and size of the file at `path`, and its bytes when they had to be
/// read for it (no remembered hash).
pub(crate) fn sha256_of(path: &Path) -> io::Result<(String, u64, Option<Vec<u8>>)> {
    let meta = std::fs::metadata(path)?;
    let stamp = Stamp::of(&meta);
    let memo = memo_file(&meta);
    if let Some(sha) = memo.as_deref().and_then(|m| remembered(m, &stamp)) {
        return Ok((sha, stamp.size, None));
    }
    let bytes = std::fs::read(path)?;
    let sha = hex_sha256(&bytes);
    let after = std::fs::metadata(path).map(|m| Stamp::of(&m)).ok();
    // Remembered only when nothing moved while we read, and the file has settled.
    if after.as_ref() == Some(&stamp) && stamp.size == bytes.len() as u64 && stamp.settled() {
        if let Some(memo) = &memo {
            remember(memo, &stamp.line(&sha));
        }
    }
    Ok((sha, bytes.len() as u64, Some(bytes)))
}

fn memo_file(meta: &std::fs::Metadata) -> Option<PathBuf> {
    Some(crate::controller_cache::dir()?.join(format!("sha256-{}-{}", meta.dev(), meta.ino())))
}

fn remembered(memo: &Path, stamp: &Stamp) -> Option<String> {
    let text = std::fs::read_to_string(memo).ok()?;
    let (head, sha) = text.trim_end().rsplit_once(' ')?;
    let valid = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
    (valid && format!("{head} {sha}\n") == stamp.line(sha)).then(|| sha.to_string())
}

/// Best effort: a cache that cannot be written only costs the next run a hash.
fn remember(memo: &Path, line: &str) {
    if let Some(dir) = memo.parent() {
        // 0o666 before the umask: the mode `std::fs::write` gives.
        crate::controller_cache::replace(dir, memo, line.as_bytes(), 0o666);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled_file(dir: &Path, content: &[u8]) -> PathBuf {
        let path = dir.join("agent");
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn the_line_matches_only_its_own_stamp() {
        let stamp = Stamp {
            size: 5,
            mtime: (10, 1),
            ctime: (20, 2),
        };
        let sha = "ab".repeat(32);
        let dir = tempfile::tempdir().unwrap();
        let memo = dir.path().join("m");
        std::fs::write(&memo, stamp.line(&sha)).unwrap();
        assert_eq!(remembered(&memo, &stamp), Some(sha.clone()));
        for other in [
            Stamp { size: 6, ..stamp },
            Stamp {
                mtime: (10, 2),
                ..stamp
            },
            Stamp {
                ctime: (20, 3),
                ..stamp
            },
        ] {
            assert_eq!(remembered(&memo, &other), None, "{other:?}");
        }
        std::fs::write(&memo, stamp.line("not-a-hash")).unwrap();
        assert_eq!(remembered(&memo, &stamp), None);
    }

    #[test]
    fn a_fresh_file_is_hashed_and_not_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let path = settled_file(dir.path(), b"agent bytes");
        let meta = std::fs::metadata(&path).unwrap();
        let (sha, size, bytes) = sha256_of(&path).unwrap();
        assert_eq!(sha, hex_sha256(b"agent bytes"));
        assert_eq!(size, 11);
        assert_eq!(bytes.as_deref(), Some(&b"agent bytes"[..]));
        assert!(!Stamp::of(&meta).settled(), "just written");
    }

    #[test]
    fn a_settled_stamp_is_one_a_few_seconds_old() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let at = |secs| Stamp {
            size: 0,
            mtime: (0, 0),
            ctime: (secs, 0),
        };
        assert!(at(now - 60).settled());
        assert!(!at(now).settled());
    }
}
