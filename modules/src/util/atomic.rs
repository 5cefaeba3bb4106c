//! Write-then-rename, so a target never sees a half-written file (Ansible's atomic_move).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary name in the same directory as `dest` (so rename is atomic).
pub fn temp_path_for(dest: &Path) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let base = dest
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = format!(".rsible-tmp-{}-{n}-{base}", std::process::id());
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(name),
        _ => PathBuf::from(name),
    }
}

/// What to do about permissions of the written file.
#[derive(Debug, Clone, Copy)]
pub enum NewMode {
    /// Keep the mode and owner of an existing `dest`; new files get 0666 & ~umask.
    KeepExisting,
    /// Set exactly these permission bits.
    Exact(u32),
}

/// Stream `src` into `dest` atomically. Returns the number of bytes written.
pub fn write_atomic(dest: &Path, src: &mut dyn Read, mode: NewMode) -> io::Result<u64> {
    let tmp = temp_path_for(dest);
    let result = write_then_rename(&tmp, dest, src, mode);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_then_rename(
    tmp: &Path,
    dest: &Path,
    src: &mut dyn Read,
    mode: NewMode,
) -> io::Result<u64> {
    let mut f: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)?;
    let written = io::copy(src, &mut f)?;
    f.flush()?;
    f.sync_all()?;
    drop(f);
    let existing = fs::metadata(dest).ok();
    let perms = match (mode, &existing) {
        (NewMode::Exact(m), _) => m,
        (NewMode::KeepExisting, Some(meta)) => meta.mode() & 0o7777,
        (NewMode::KeepExisting, None) => 0o666 & !super::mode::current_umask(),
    };
    if let Some(meta) = &existing {
        // Keep the owner of the file being replaced, as atomic_move does; failing to
        // (not root) leaves the new file owned by us, which is also what Ansible does.
        let _ = std::os::unix::fs::chown(tmp, Some(meta.uid()), Some(meta.gid()));
    }
    fs::set_permissions(tmp, fs::Permissions::from_mode(perms))?;
    fs::rename(tmp, dest)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_keeps_existing_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let n = write_atomic(&p, &mut &b"new content"[..], NewMode::KeepExisting).unwrap();
        assert_eq!(n, 11);
        assert_eq!(fs::read(&p).unwrap(), b"new content");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o640);
        // No temp files left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failure_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub");
        fs::create_dir(&target).unwrap();
        // Renaming a file over a non-empty directory fails.
        fs::write(target.join("x"), b"x").unwrap();
        assert!(write_atomic(&target, &mut &b"data"[..], NewMode::Exact(0o644)).is_err());
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }
}
