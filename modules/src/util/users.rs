//! User and group lookups through the C library (so NSS sources behave as for Python's
//! pwd/grp modules).

use std::ffi::{CStr, CString};

const BUF_LEN: usize = 16 * 1024;

/// Calls one of the C library's reentrant database lookups (`getpwuid_r`,
/// `getpwnam_r`, `getgrgid_r`, `getgrnam_r`: entry, buffer, buffer length,
/// result) and reads the entry with `read` while its buffer is alive; None
/// when the lookup fails or finds nothing. `E` is `libc::passwd` or
/// `libc::group`, plain C structs for which all-zero bytes are valid.
fn lookup<E, T>(
    call: impl FnOnce(*mut E, *mut libc::c_char, usize, *mut *mut E) -> libc::c_int,
    read: impl FnOnce(&E) -> Option<T>,
) -> Option<T> {
    let mut buf = vec![0 as libc::c_char; BUF_LEN];
    // SAFETY: `E` is one of the C entry structs named above (all-zero is a
    // valid value); the pointers handed to `call` refer to live, correctly
    // sized local storage, and the entry's strings point into `buf`, which
    // outlives `read`.
    let mut entry: E = unsafe { std::mem::zeroed() };
    let mut out: *mut E = std::ptr::null_mut();
    let rc = call(&mut entry, buf.as_mut_ptr(), buf.len(), &mut out);
    if rc != 0 || out.is_null() {
        return None;
    }
    read(&entry)
}

/// A C string field of an entry; None when the pointer is null.
fn text_field(p: *const libc::c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null fields of an entry filled by `lookup` point into its
    // buffer, NUL-terminated, and are only read within `read`.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// The passwd entry of a user name, read by `read`.
fn by_user_name<T>(name: &str, read: impl FnOnce(&libc::passwd) -> Option<T>) -> Option<T> {
    let cname = CString::new(name).ok()?;
    // SAFETY: the arguments are what `lookup` hands over.
    lookup(
        |e, buf, len, out| unsafe { libc::getpwnam_r(cname.as_ptr(), e, buf, len, out) },
        read,
    )
}

/// Name of the user with this uid, if any.
pub fn user_name(uid: u32) -> Option<String> {
    // SAFETY: the arguments are what `lookup` hands over.
    lookup(
        |e, buf, len, out| unsafe { libc::getpwuid_r(uid, e, buf, len, out) },
        |pwd: &libc::passwd| text_field(pwd.pw_name),
    )
}

/// Name of the group with this gid, if any.
pub fn group_name(gid: u32) -> Option<String> {
    // SAFETY: the arguments are what `lookup` hands over.
    lookup(
        |e, buf, len, out| unsafe { libc::getgrgid_r(gid, e, buf, len, out) },
        |grp: &libc::group| text_field(grp.gr_name),
    )
}

/// uid of a user name.
pub fn user_id(name: &str) -> Option<u32> {
    by_user_name(name, |pwd| Some(pwd.pw_uid))
}

/// Home directory of a user name (for `~user` expansion).
pub fn user_home(name: &str) -> Option<String> {
    by_user_name(name, |pwd| text_field(pwd.pw_dir))
}

/// gid of a group name.
pub fn group_id(name: &str) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    // SAFETY: the arguments are what `lookup` hands over.
    lookup(
        |e, buf, len, out| unsafe { libc::getgrnam_r(cname.as_ptr(), e, buf, len, out) },
        |grp: &libc::group| Some(grp.gr_gid),
    )
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

/// The passwd entry of a user name, through the C library (NSS); a null
/// field reads as empty.
pub fn passwd_entry(name: &str) -> Option<PwEntry> {
    let text = |p| text_field(p).unwrap_or_default();
    by_user_name(name, |pwd| {
        Some(PwEntry {
            name: text(pwd.pw_name),
            passwd: text(pwd.pw_passwd),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            gecos: text(pwd.pw_gecos),
            dir: text(pwd.pw_dir),
            shell: text(pwd.pw_shell),
        })
    })
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
        assert_eq!(group_name(0).as_deref(), Some("root"));
        assert_eq!(user_home("root").as_deref(), Some("/root"));
        assert_eq!(user_home("no-such-user-rsible"), None);
        assert_eq!(group_id("no-such-group-rsible"), None);
        let root = passwd_entry("root").unwrap();
        assert_eq!((root.uid, root.gid, root.dir.as_str()), (0, 0, "/root"));
        assert!(local_groups()
            .iter()
            .any(|g| g.name == "root" && g.gid == 0));
    }
}
