//! Reading and writing the files ansible-vault works on: `-` is stdin or
//! stdout; a file is replaced atomically (a private temporary file beside
//! it, then a rename), so a failure never leaves it half-written.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// Ansible's `os.path.realpath`: links resolved where the file exists,
/// otherwise made absolute; `-` stays `-`.
pub fn real_path(name: &str, cwd: &Path) -> String {
    if name == "-" {
        return name.to_string();
    }
    let joined = cwd.join(name);
    if let Ok(p) = std::fs::canonicalize(&joined) {
        return p.to_string_lossy().into_owned();
    }
    normalize(&joined).to_string_lossy().into_owned()
}

/// `--output`: made absolute (without resolving links), `-` kept.
pub fn absolute_path(name: &str, cwd: &Path) -> String {
    if name == "-" {
        return name.to_string();
    }
    normalize(&cwd.join(name)).to_string_lossy().into_owned()
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

pub fn read_data(name: &str) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    let result = if name == "-" {
        std::io::stdin().lock().read_to_end(&mut data).map(|_| ())
    } else {
        std::fs::read(name).map(|d| data = d)
    };
    result.map_err(|e| {
        format!(
            "Unable to read source file ({name}): {}",
            py_os_error(&e, name)
        )
    })?;
    Ok(data)
}

/// Writes `data` to stdout (`-`) or replaces the file `name` with it, with
/// `mode` (ansible-vault's 0600 unless the caller keeps the old mode).
pub fn write_data(data: &[u8], name: &str, mode: u32) -> Result<(), String> {
    if name == "-" {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(data)
            .and_then(|_| out.flush())
            .map_err(|e| format!("Unable to write to stdout: {e}"));
    }
    let path = Path::new(name);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(
        ".{}.",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|_| format!("Destination '{}' not writable", dir.display()))?;
    tmp.write_all(data)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| format!("Unable to write to temporary vault file: {e}"))?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("Problem creating temporary vault file: {e}"))?;
    tmp.persist(path)
        .map_err(|e| format!("Problem creating temporary vault file: {}", e.error))?;
    Ok(())
}

/// The permission bits of an existing file.
pub fn mode_of(name: &str) -> Option<u32> {
    std::fs::metadata(name)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

/// Python's `str(OSError)`: `[Errno 2] No such file or directory: 'x'`.
pub fn py_os_error(e: &std::io::Error, name: &str) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let text = e.to_string();
            let reason = text.split(" (os error").next().unwrap_or(&text);
            format!("[Errno {code}] {reason}: '{name}'")
        }
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_atomically_with_the_mode_asked() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("v.yml");
        std::fs::write(&f, "old").unwrap();
        let name = f.to_string_lossy().into_owned();
        write_data(b"new", &name, 0o640).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"new");
        assert_eq!(mode_of(&name), Some(0o640));
        // nothing else left beside it
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("nope").to_string_lossy().into_owned();
        assert!(read_data(&missing)
            .unwrap_err()
            .contains("[Errno 2] No such file or directory"));
    }
}
