//! `platform`: system, kernel, machine, architecture, host names, machine id.

use super::util::file_content;
use super::{Facts, Gather};
use serde_json::Value;
use std::ffi::CStr;

struct Uname {
    sysname: String,
    nodename: String,
    release: String,
    version: String,
    machine: String,
}

fn uname() -> Option<Uname> {
    // SAFETY: uname fills the zeroed struct we own; its fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return None;
        }
        let s = |f: &[libc::c_char]| CStr::from_ptr(f.as_ptr()).to_string_lossy().into_owned();
        Some(Uname {
            sysname: s(&u.sysname),
            nodename: s(&u.nodename),
            release: s(&u.release),
            version: s(&u.version),
            machine: s(&u.machine),
        })
    }
}

pub fn collect(g: &Gather) -> Facts {
    let mut f = Facts::new();
    let Some(u) = uname() else {
        return f;
    };
    let s = |v: &str| Value::String(v.to_string());
    f.insert("system".into(), s(&u.sysname));
    f.insert("kernel".into(), s(&u.release));
    f.insert("kernel_version".into(), s(&u.version));
    f.insert("machine".into(), s(&u.machine));
    if let Some(v) = super::python::probe().map(|p| p.version_string()) {
        f.insert("python_version".into(), Value::String(v));
    }
    let fqdn = fqdn(&u.nodename);
    f.insert("fqdn".into(), s(&fqdn));
    f.insert(
        "hostname".into(),
        s(u.nodename.split('.').next().unwrap_or("")),
    );
    f.insert("nodename".into(), s(&u.nodename));
    let domain: Vec<&str> = fqdn.split('.').skip(1).collect();
    f.insert("domain".into(), s(&domain.join(".")));
    let bits = if cfg!(target_pointer_width = "64") {
        "64"
    } else {
        "32"
    };
    f.insert("userspace_bits".into(), s(bits));
    f.insert("architecture".into(), s(&u.machine));
    if u.machine == "x86_64" {
        let arch = if bits == "64" { "x86_64" } else { "i386" };
        f.insert("userspace_architecture".into(), s(arch));
    }
    let machine_id = file_content("/var/lib/dbus/machine-id")
        .filter(|s| !s.is_empty())
        .or_else(|| file_content("/etc/machine-id").filter(|s| !s.is_empty()));
    if let Some(id) = machine_id {
        let first = id.lines().next().unwrap_or("").to_string();
        f.insert("machine_id".into(), Value::String(first));
    }
    let _ = g;
    f
}

/// Python's `socket.getfqdn()`: the canonical name of the host name from the
/// resolver (gethostbyaddr of its address), the first name containing a dot
/// among the name and its aliases, else the host name itself.
pub(crate) fn fqdn(nodename: &str) -> String {
    use std::ffi::CString;
    let Ok(cname) = CString::new(nodename) else {
        return nodename.to_string();
    };
    // SAFETY: gethostbyname returns static storage or NULL; we copy out at once.
    // The agent is single-threaded, so the static buffer is not shared.
    unsafe {
        let he = libc_gethostbyname(cname.as_ptr());
        if he.is_null() {
            return nodename.to_string();
        }
        let addr_list = (*he).h_addr_list;
        if addr_list.is_null() || (*addr_list).is_null() {
            return nodename.to_string();
        }
        let len = (*he).h_length;
        let family = (*he).h_addrtype;
        let he2 = libc_gethostbyaddr((*addr_list) as *const libc::c_void, len as u32, family);
        if he2.is_null() {
            return nodename.to_string();
        }
        let mut names = Vec::new();
        if !(*he2).h_name.is_null() {
            names.push(CStr::from_ptr((*he2).h_name).to_string_lossy().into_owned());
        }
        let mut alias = (*he2).h_aliases;
        while !alias.is_null() && !(*alias).is_null() {
            names.push(CStr::from_ptr(*alias).to_string_lossy().into_owned());
            alias = alias.add(1);
        }
        names
            .into_iter()
            .find(|n| n.contains('.'))
            .or_else(|| {
                (!(*he2).h_name.is_null())
                    .then(|| CStr::from_ptr((*he2).h_name).to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| nodename.to_string())
    }
}

#[repr(C)]
struct HostEnt {
    h_name: *mut libc::c_char,
    h_aliases: *mut *mut libc::c_char,
    h_addrtype: libc::c_int,
    h_length: libc::c_int,
    h_addr_list: *mut *mut libc::c_char,
}

extern "C" {
    #[link_name = "gethostbyname"]
    fn libc_gethostbyname(name: *const libc::c_char) -> *mut HostEnt;
    #[link_name = "gethostbyaddr"]
    fn libc_gethostbyaddr(addr: *const libc::c_void, len: u32, family: libc::c_int)
        -> *mut HostEnt;
}
