//! What Ansible's modules ask of libselinux through its Python binding, read the way
//! libselinux itself reads the system: the selinuxfs mount (`/sys/fs/selinux`, the
//! old `/selinux`, else `/proc/mounts`; a read-only mount counts as none, as in
//! containers), `/etc/selinux/config` for the policy type, `<selinuxfs>/enforce`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// libselinux's configuration file (fixed: the module's `configfile` does not move it).
pub const SELINUX_CONFIG: &str = "/etc/selinux/config";

/// The filesystem magic of selinuxfs (`statfs.f_type`).
const SELINUX_MAGIC: u32 = 0xf97c_ff8c;

/// The running system's SELinux, as libselinux sees it.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// The writable selinuxfs mount, when there is one.
    pub mount: Option<PathBuf>,
    /// libselinux's configuration file.
    pub config: PathBuf,
}

impl Runtime {
    /// The machine's SELinux.
    pub fn detect() -> Runtime {
        Runtime {
            mount: selinux_mount(),
            config: PathBuf::from(SELINUX_CONFIG),
        }
    }

    /// `is_selinux_enabled()`: a usable selinuxfs and a configuration file.
    pub fn enabled(&self) -> bool {
        self.mount.is_some() && self.config.exists()
    }

    /// `security_getenforce()`: `Some(true)` enforcing, `Some(false)` permissive,
    /// None when the enforce file cannot be read.
    pub fn enforcing(&self) -> Option<bool> {
        let mount = self.mount.as_ref()?;
        let text = fs::read_to_string(mount.join("enforce")).ok()?;
        text.trim().parse::<i64>().ok().map(|v| v != 0)
    }

    /// `security_setenforce(value)`.
    pub fn set_enforcing(&self, enforcing: bool) -> io::Result<()> {
        let Some(mount) = &self.mount else {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        };
        fs::write(mount.join("enforce"), if enforcing { "1" } else { "0" })
    }

    /// `selinux_getpolicytype()`: the last `SELINUXTYPE=` of the configuration
    /// (key case-insensitive, value up to the first blank), `targeted` without one.
    pub fn policy_type(&self) -> String {
        let text = fs::read(&self.config).unwrap_or_default();
        let mut found = None;
        for raw in text.split(|b| *b == b'\n') {
            let line = String::from_utf8_lossy(raw);
            let line = line.trim_start_matches(|c: char| c.is_ascii_whitespace());
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let Some(head) = line.get(..12) else { continue };
            if head.eq_ignore_ascii_case("SELINUXTYPE=") {
                let value = &line[12..];
                let end = value
                    .find(|c: char| c.is_ascii_whitespace())
                    .unwrap_or(value.len());
                found = Some(value[..end].to_string());
            }
        }
        found.unwrap_or_else(|| "targeted".to_string())
    }
}

/// `verify_selinuxmnt`: Some(usable) when `dir` is a selinuxfs mount (usable only
/// when writable), None when it is not selinuxfs at all.
fn verify_mount(dir: &Path) -> Option<bool> {
    let c_path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statfs/statvfs fill the zeroed structs we own from a NUL-terminated path.
    unsafe {
        let mut fs_info: libc::statfs = std::mem::zeroed();
        if libc::statfs(c_path.as_ptr(), &mut fs_info) != 0
            || fs_info.f_type as u32 != SELINUX_MAGIC
        {
            return None;
        }
        let mut vfs: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c_path.as_ptr(), &mut vfs) != 0 {
            return None;
        }
        Some(vfs.f_flag & libc::ST_RDONLY == 0)
    }
}

/// The selinuxfs mount libselinux would use, if any.
fn selinux_mount() -> Option<PathBuf> {
    for dir in ["/sys/fs/selinux", "/selinux"] {
        match verify_mount(Path::new(dir)) {
            Some(true) => return Some(PathBuf::from(dir)),
            Some(false) => return None,
            None => {}
        }
    }
    let filesystems = fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if !filesystems.contains("selinuxfs") {
        return None;
    }
    let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
    let dir = mounts.lines().find_map(|line| {
        let mut fields = line.split(' ');
        let (_, dir, fstype) = (fields.next()?, fields.next()?, fields.next()?);
        (fstype == "selinuxfs").then(|| PathBuf::from(dir))
    })?;
    (verify_mount(&dir) == Some(true)).then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime_with_config(text: &str) -> (tempfile::TempDir, Runtime) {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        fs::write(&config, text).unwrap();
        let rt = Runtime {
            mount: Some(dir.path().to_path_buf()),
            config,
        };
        (dir, rt)
    }

    #[test]
    fn policy_type_is_read_as_libselinux_reads_it() {
        let (_d, rt) = runtime_with_config(
            "# SELINUXTYPE=commented\nSELINUX=enforcing\n  selinuxtype=mls extra\n",
        );
        assert_eq!(rt.policy_type(), "mls");
        let (_d, rt) = runtime_with_config("SELINUX=enforcing\n");
        assert_eq!(rt.policy_type(), "targeted");
        let missing = Runtime {
            mount: None,
            config: PathBuf::from("/nonexistent/rsible/selinux/config"),
        };
        assert_eq!(missing.policy_type(), "targeted");
        assert!(!missing.enabled());
    }

    #[test]
    fn enforce_file_is_read_and_written() {
        let (d, rt) = runtime_with_config("SELINUXTYPE=targeted\n");
        fs::write(d.path().join("enforce"), "1").unwrap();
        assert!(rt.enabled());
        assert_eq!(rt.enforcing(), Some(true));
        rt.set_enforcing(false).unwrap();
        assert_eq!(fs::read_to_string(d.path().join("enforce")).unwrap(), "0");
        assert_eq!(rt.enforcing(), Some(false));
    }

    #[test]
    fn a_directory_that_is_not_selinuxfs_is_no_mount() {
        assert_eq!(verify_mount(Path::new("/")), None);
    }
}
