//! User and group lookups through the C library (so NSS sources behave as for Python's
//! pwd/grp modules).

use std::ffi::{CStr, CString};

const BUF_LEN: usize = 16 * 1024;

/// Name of the user with this uid, if any.
pub fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; BUF_LEN];
    // SAFETY: all pointers refer to live, correctly sized local storage.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut out);
        if rc != 0 || out.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        Some(CStr::from_ptr(pwd.pw_name).to_string_lossy().into_owned())
    }
}

/// Name of the group with this gid, if any.
pub fn group_name(gid: u32) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; BUF_LEN];
    // SAFETY: as above.
    unsafe {
        let mut grp: libc::group = std::mem::zeroed();
        let mut out: *mut libc::group = std::ptr::null_mut();
        let rc = libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr(), buf.len(), &mut out);
        if rc != 0 || out.is_null() || grp.gr_name.is_null() {
            return None;
        }
        Some(CStr::from_ptr(grp.gr_name).to_string_lossy().into_owned())
    }
}

/// uid of a user name.
pub fn user_id(name: &str) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; BUF_LEN];
    // SAFETY: as above.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut out,
        );
        if rc != 0 || out.is_null() {
            return None;
        }
        Some(pwd.pw_uid)
    }
}

/// Home directory of a user name (for `~user` expansion).
pub fn user_home(name: &str) -> Option<String> {
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; BUF_LEN];
    // SAFETY: as above.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut out,
        );
        if rc != 0 || out.is_null() || pwd.pw_dir.is_null() {
            return None;
        }
        Some(CStr::from_ptr(pwd.pw_dir).to_string_lossy().into_owned())
    }
}

/// gid of a group name.
pub fn group_id(name: &str) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; BUF_LEN];
    // SAFETY: as above.
    unsafe {
        let mut grp: libc::group = std::mem::zeroed();
        let mut out: *mut libc::group = std::ptr::null_mut();
        let rc = libc::getgrnam_r(
            cname.as_ptr(),
            &mut grp,
            buf.as_mut_ptr(),
            buf.len(),
            &mut out,
        );
        if rc != 0 || out.is_null() {
            return None;
        }
        Some(grp.gr_gid)
    }
}

/// Resolve an owner parameter: a number is a uid, otherwise a user name.
pub fn resolve_uid(owner: &str) -> Option<u32> {
    owner.parse::<u32>().ok().or_else(|| user_id(owner))
}

/// Resolve a group parameter: a number is a gid, otherwise a group name.
pub fn resolve_gid(group: &str) -> Option<u32> {
    group.parse::<u32>().ok().or_else(|| group_id(group))
}

/// A passwd database entry (`pwd.getpwnam`).
#[derive(Debug, Clone, PartialEq)]
pub struct PwEntry {
    pub name: String,
    pub passwd: String,
    pub uid: u32,
    pub gid: u32,
    pub gecos: String,
    pub dir: String,
    pub shell: String,
}

/// The passwd entry of a user name, through the C library (NSS).
pub fn passwd_entry(name: &str) -> Option<PwEntry> {
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; BUF_LEN];
    let text = |p: *const libc::c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: non-null fields of a filled passwd point into `buf`, NUL-terminated.
            unsafe { CStr::from_ptr(p).to_string_lossy().into_owned() }
        }
    };
    // SAFETY: as above.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut out,
        );
        if rc != 0 || out.is_null() {
            return None;
        }
        Some(PwEntry {
            name: text(pwd.pw_name),
            passwd: text(pwd.pw_passwd),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            gecos: text(pwd.pw_gecos),
            dir: text(pwd.pw_dir),
            shell: text(pwd.pw_shell),
        })
    }
}

/// A line of /etc/group: name, gid and members.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupLine {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// Every group of the local group file, in file order (`grp.getgrall()` for a
/// machine whose groups are local, which is what the user module manages).
pub fn local_groups() -> Vec<GroupLine> {
    let content = std::fs::read("/etc/group").unwrap_or_default();
    String::from_utf8_lossy(&content)
        .lines()
        .filter_map(|line| {
            let mut f = line.split(':');
            let name = f.next()?.to_string();
            let _password = f.next()?;
            let gid = f.next()?.trim().parse().ok()?;
            let members = f
                .next()
                .unwrap_or("")
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect();
            Some(GroupLine { name, gid, members })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_known_both_ways() {
        assert_eq!(user_name(0).as_deref(), Some("root"));
        assert_eq!(user_id("root"), Some(0));
        assert_eq!(group_id("root"), Some(0));
        assert_eq!(resolve_uid("0"), Some(0));
        assert_eq!(resolve_uid("no-such-user-rsible"), None);
        assert_eq!(user_id("nul\0byte"), None);
        let root = passwd_entry("root").unwrap();
        assert_eq!((root.uid, root.gid, root.dir.as_str()), (0, 0, "/root"));
        assert!(local_groups()
            .iter()
            .any(|g| g.name == "root" && g.gid == 0));
    }
}
