//! Ansible's `backup_local`: a copy of a file beside it named
//! `<file>.<pid>.<YYYY-MM-DD@HH:MM:SS>~`, mode and times kept.
//!
//! Ansible starts a new module process for every call, so its pid keeps two
//! backups of one file made within one second apart. The agent answers every
//! call from one process: when the name with its pid is taken, the next free
//! number stands in for the pid a new process would have had, and an earlier
//! backup is never overwritten (Kubespray backs up resolv.conf in two `replace`
//! loops within the same second).

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use super::ModuleFail;
use crate::util::pytime::backup_stamp;

/// How many numbers after the pid are tried before giving up.
const MAX_TRIES: u32 = 10_000;

pub(super) fn backup_local(dest: &Path) -> Result<String, ModuleFail> {
    let stamp = backup_stamp(SystemTime::now());
    let pid = std::process::id();
    for offset in 0..MAX_TRIES {
        let name = format!("{}.{}.{stamp}~", dest.display(), pid.wrapping_add(offset));
        if fs::symlink_metadata(&name).is_ok() {
            continue;
        }
        copy_with_times(dest, Path::new(&name)).map_err(|e| {
            ModuleFail::msg(format!(
                "Could not make backup of {} to {name}: {e}",
                dest.display()
            ))
        })?;
        return Ok(name);
    }
    Err(ModuleFail::msg(format!(
        "Could not make backup of {}: no free backup name",
        dest.display()
    )))
}

/// Python's `shutil.copy2`: content and permission bits, then access and
/// modification times.
fn copy_with_times(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::copy(from, to)?;
    let meta = fs::metadata(from)?;
    let times = fs::FileTimes::new()
        .set_accessed(meta.accessed()?)
        .set_modified(meta.modified()?);
    fs::File::options().write(true).open(to)?.set_times(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_backups_in_one_second_keep_both_copies() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("resolv.conf");
        fs::write(&file, "first\n").unwrap();
        let a = backup_local(&file).unwrap();
        fs::write(&file, "second\n").unwrap();
        let b = backup_local(&file).unwrap();
        assert_ne!(a, b);
        assert_eq!(fs::read_to_string(&a).unwrap(), "first\n");
        assert_eq!(fs::read_to_string(&b).unwrap(), "second\n");
        assert!(a.contains(&format!(".{}.", std::process::id())), "{a}");
    }
}
