//! The controller's own cache between runs, `$HOME/.cache/rsible/controller`:
//! what is remembered there (the agent's hash, `ssh -G` answers) is only ever an
//! answer that can be worked out again, so every write is best effort.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The directory, when there is a home to hold it.
pub(crate) fn dir() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(Path::new(&home).join(".cache/rsible/controller"))
}

/// Writes `bytes` to `file` (in `dir`, created when missing) through a temporary
/// file renamed over it, so that a reader sees the old content or the new, never
/// part of it. `mode` before the umask. A failure leaves no temporary file.
pub(crate) fn replace(dir: &Path, file: &Path, bytes: &[u8], mode: u32) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".tmp-{name}-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes));
    if written.is_err() || std::fs::rename(&tmp, file).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}
