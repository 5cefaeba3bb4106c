//! The small system collectors: apparmor, caps, chroot, cmdline, dns, env,
//! fips, loadavg, lsb, pkg_mgr, selinux, service_mgr, ssh_pub_keys, user, systemd.

use super::helper_cache;
use super::util::{file_content, file_lines, Programs};
use super::{Facts, Gather};
use serde_json::{json, Map, Value};
use std::ffi::{CStr, CString};
use std::path::Path;

fn one(key: &str, value: Value) -> Facts {
    let mut f = Facts::new();
    f.insert(key.into(), value);
    f
}

pub fn apparmor(_g: &Gather) -> Facts {
    let status = if Path::new("/sys/kernel/security/apparmor").exists() {
        "enabled"
    } else {
        "disabled"
    };
    one("apparmor", json!({ "status": status }))
}

pub fn caps(g: &Gather) -> Facts {
    let mut f = Facts::new();
    f.insert("system_capabilities_enforced".into(), json!("N/A"));
    f.insert("system_capabilities".into(), json!("N/A"));
    let Some((0, out, _)) = g.programs.find("capsh").map(|capsh| {
        // What capsh prints follows from the capabilities and ids it inherits.
        let status = file_lines("/proc/self/status");
        let creds: Vec<&String> = status
            .iter()
            .filter(|l| {
                ["Cap", "Uid:", "Gid:", "NoNewPrivs:"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect();
        let extra = format!("{creds:?}");
        let inputs = helper_cache::Inputs {
            files: &[],
            touched_by_reads: &[],
            extra: &extra,
        };
        helper_cache::run_cached(&capsh, &["--print"], g.programs.env(), &inputs)
    }) else {
        return f;
    };
    let mut enforced = "NA";
    let mut caps: Vec<Value> = Vec::new();
    for line in out.lines().filter(|l| !l.is_empty()) {
        if line.starts_with("Current:") {
            let after = line.split(':').nth(1).unwrap_or("").trim();
            if after == "=ep" {
                enforced = "False";
            } else {
                enforced = "True";
                caps = line
                    .split('=')
                    .nth(1)
                    .unwrap_or("")
                    .split(',')
                    .map(|c| json!(c.trim()))
                    .collect();
            }
        }
    }
    f.insert("system_capabilities_enforced".into(), json!(enforced));
    f.insert("system_capabilities".into(), Value::Array(caps));
    f
}

pub fn chroot(_g: &Gather) -> Facts {
    use std::os::unix::fs::MetadataExt;
    let is_chroot = if std::env::var_os("debian_chroot").is_some_and(|v| !v.is_empty()) {
        true
    } else {
        match (std::fs::metadata("/"), std::fs::metadata("/proc/1/root/.")) {
            (Ok(me), Ok(init)) => me.ino() != init.ino() || me.dev() != init.dev(),
            (Ok(me), Err(_)) => me.ino() != 2,
            _ => false,
        }
    };
    one("is_chroot", Value::Bool(is_chroot))
}

pub fn cmdline(_g: &Gather) -> Facts {
    let mut f = Facts::new();
    let Some(data) = file_content("/proc/cmdline").filter(|d| !d.is_empty()) else {
        return f;
    };
    let mut plain = Map::new();
    let mut proc_cmdline = Map::new();
    for piece in data.split_whitespace() {
        match piece.split_once('=') {
            None => {
                plain.insert(piece.into(), Value::Bool(true));
                proc_cmdline.insert(piece.into(), Value::Bool(true));
            }
            Some((k, v)) => {
                plain.insert(k.into(), json!(v));
                match proc_cmdline.get_mut(k) {
                    Some(Value::Array(list)) => list.push(json!(v)),
                    Some(existing) => {
                        let first = existing.clone();
                        *existing = json!([first, v]);
                    }
                    None => {
                        proc_cmdline.insert(k.into(), json!(v));
                    }
                }
            }
        }
    }
    f.insert("cmdline".into(), Value::Object(plain));
    f.insert("proc_cmdline".into(), Value::Object(proc_cmdline));
    f
}

pub fn dns(_g: &Gather) -> Facts {
    let mut dns = Map::new();
    for line in file_content("/etc/resolv.conf").unwrap_or_default().lines() {
        if line.starts_with('#') || line.starts_with(';') || line.trim().is_empty() {
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let rest = || Value::Array(tokens[1..].iter().map(|t| json!(t)).collect());
        match tokens[0] {
            "nameserver" => {
                let list = dns
                    .entry("nameservers")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(list) = list {
                    list.extend(tokens[1..].iter().map(|t| json!(t)));
                }
            }
            "domain" if tokens.len() > 1 => {
                dns.insert("domain".into(), json!(tokens[1]));
            }
            "search" => {
                dns.insert("search".into(), rest());
            }
            "sortlist" => {
                dns.insert("sortlist".into(), rest());
            }
            "options" => {
                let mut opts = Map::new();
                for option in &tokens[1..] {
                    match option.split_once(':') {
                        Some((k, v)) if !v.is_empty() => opts.insert(k.into(), json!(v)),
                        Some((k, _)) => opts.insert(k.into(), Value::Bool(true)),
                        None => opts.insert((*option).into(), Value::Bool(true)),
                    };
                }
                dns.insert("options".into(), Value::Object(opts));
            }
            _ => {}
        }
    }
    one("dns", Value::Object(dns))
}

/// The module process's environment: the agent's, with the task's
/// `environment` over it (Ansible's module process starts with both).
pub fn env(g: &Gather) -> Facts {
    let mut env = Map::new();
    for (k, v) in std::env::vars_os() {
        env.insert(k.to_string_lossy().into_owned(), json!(v.to_string_lossy()));
    }
    for (k, v) in g.programs.env() {
        env.insert(k.clone(), json!(v));
    }
    one("env", Value::Object(env))
}

pub fn fips(_g: &Gather) -> Facts {
    let on = file_content("/proc/sys/crypto/fips_enabled").as_deref() == Some("1");
    one("fips", Value::Bool(on))
}

pub fn loadavg(_g: &Gather) -> Facts {
    let mut avg = [0f64; 3];
    // SAFETY: getloadavg writes at most 3 doubles into the array we own.
    let n = unsafe { libc::getloadavg(avg.as_mut_ptr(), 3) };
    if n != 3 {
        return Facts::new();
    }
    one(
        "loadavg",
        json!({"1m": avg[0], "5m": avg[1], "15m": avg[2]}),
    )
}

/// What the lsb_release implementations (Debian's shell and Python ones, Ubuntu's,
/// redhat-lsb) read: their output is cached keyed by these files' metadata.
const LSB_RELEASE_READS: &[&str] = &[
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/lsb-release",
    "/etc/lsb-release.d",
    "/etc/debian_version",
    "/etc/redhat-release",
    "/etc/system-release",
    "/etc/SuSE-release",
    "/usr/share/distro-info/debian.csv",
    "/usr/share/distro-info/ubuntu.csv",
    "/var/lib/apt/lists",
    "/etc/apt/sources.list",
    "/etc/apt/sources.list.d",
];

pub fn lsb(g: &Gather) -> Facts {
    let mut lsb = Map::new();
    let lsb_release = g.programs.find("lsb_release").map(|program| {
        // The task's environment is in the key as well (run_cached).
        let extra = format!("{:?}", std::env::var_os("LSB_OS_RELEASE"));
        let inputs = helper_cache::Inputs {
            files: LSB_RELEASE_READS,
            touched_by_reads: &[],
            extra: &extra,
        };
        helper_cache::run_cached(&program, &["-a"], g.programs.env(), &inputs)
    });
    if let Some((0, out, _)) = lsb_release {
        for line in out.lines() {
            let Some((_, value)) = line.split_once(':') else {
                continue;
            };
            let value = json!(value.trim());
            if line.contains("LSB Version:") || line.contains("Release:") {
                lsb.insert("release".into(), value);
            } else if line.contains("Distributor ID:") {
                lsb.insert("id".into(), value);
            } else if line.contains("Description:") {
                lsb.insert("description".into(), value);
            } else if line.contains("Codename:") {
                lsb.insert("codename".into(), value);
            }
        }
    }
    if lsb.is_empty() && Path::new("/etc/lsb-release").exists() {
        for line in file_lines("/etc/lsb-release") {
            let value = json!(line.split_once('=').map(|x| x.1).unwrap_or("").trim());
            if line.contains("DISTRIB_ID") {
                lsb.insert("id".into(), value);
            } else if line.contains("DISTRIB_RELEASE") {
                lsb.insert("release".into(), value);
            } else if line.contains("DISTRIB_DESCRIPTION") {
                lsb.insert("description".into(), value);
            } else if line.contains("DISTRIB_CODENAME") {
                lsb.insert("codename".into(), value);
            }
        }
    }
    if let Some(Value::String(release)) = lsb.get("release").cloned() {
        let major = release.split('.').next().unwrap_or("").to_string();
        lsb.insert("major_release".into(), json!(major));
    }
    for v in lsb.values_mut() {
        if let Value::String(s) = v {
            if !s.is_empty() {
                *s = s
                    .trim_matches(|c| c == '\'' || c == '"' || c == '\\')
                    .to_string();
            }
        }
    }
    one("lsb", Value::Object(lsb))
}

const PKG_MGRS: &[(&str, &str)] = &[
    ("/usr/bin/rpm-ostree", "atomic_container"),
    ("/usr/bin/yum", "dnf"),
    ("/usr/bin/dnf-3", "dnf"),
    ("/usr/bin/dnf5", "dnf5"),
    ("/usr/bin/apt-get", "apt"),
    ("/usr/bin/zypper", "zypper"),
    ("/usr/sbin/urpmi", "urpmi"),
    ("/usr/bin/pacman", "pacman"),
    ("/bin/opkg", "opkg"),
    ("/usr/pkg/bin/pkgin", "pkgin"),
    ("/opt/local/bin/pkgin", "pkgin"),
    ("/opt/tools/bin/pkgin", "pkgin"),
    ("/opt/local/bin/port", "macports"),
    ("/usr/local/bin/brew", "homebrew"),
    ("/opt/homebrew/bin/brew", "homebrew"),
    ("/sbin/apk", "apk"),
    ("/usr/sbin/pkg", "pkgng"),
    ("/usr/sbin/swlist", "swdepot"),
    ("/usr/bin/emerge", "portage"),
    ("/usr/sbin/pkgadd", "svr4pkg"),
    ("/usr/bin/pkg", "pkg5"),
    ("/usr/bin/xbps-install", "xbps"),
    ("/usr/local/sbin/pkg", "pkgng"),
    ("/usr/bin/swupd", "swupd"),
    ("/usr/sbin/sorcery", "sorcery"),
    ("/usr/bin/installp", "installp"),
];

pub fn pkg_mgr(g: &Gather) -> Facts {
    let family = g
        .facts
        .get("os_family")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut name = "unknown".to_string();
    for (path, mgr) in PKG_MGRS {
        if family == "Altlinux" && *path == "/usr/bin/pkg" {
            continue;
        }
        if Path::new(path).exists() {
            name = mgr.to_string();
        }
    }
    if family == "RedHat" {
        name = if Path::new("/run/ostree-booted").exists() {
            "atomic_container".into()
        } else {
            ["/usr/bin/dnf", "/usr/bin/microdnf"]
                .iter()
                .find(|p| Path::new(p).exists())
                .map(|p| {
                    let real = std::fs::canonicalize(p).unwrap_or_default();
                    if real == Path::new("/usr/bin/dnf5") {
                        "dnf5".to_string()
                    } else {
                        "dnf".to_string()
                    }
                })
                .unwrap_or_else(|| "unknown".into())
        };
    } else if family == "Debian" && name != "apt" {
        name = "apt".into();
    } else if family == "Altlinux" && name == "apt" {
        name = "apt_rpm".into();
    }
    if name == "apt" && Path::new("/usr/bin/rpm").exists() {
        let (rc, _, _) = rpm_provides_apt_get(g.programs);
        if rc == 0 {
            name = "apt_rpm".into();
        }
    }
    one("pkg_mgr", json!(name))
}

/// `rpm -q --whatprovides /usr/bin/apt-get`, as Ansible asks it on apt systems
/// that have rpm. Its answer (usually "not owned", exit 1) depends only on
/// the rpm database and rpm's configuration, so it is kept on the target
/// (helper_cache) keyed by those files: running rpm cost ~13 ms of CPU, half
/// of a gathering, on every apt machine with rpm installed.
fn rpm_provides_apt_get(programs: &Programs) -> (i32, String, String) {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut files: Vec<String> = [
        "/usr/bin/apt-get",
        "/usr/lib/rpm/macros",
        "/usr/lib/rpm/macros.d",
        "/usr/lib/rpm/rpmrc",
        "/etc/rpm",
        "/etc/rpmrc",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for dotfile in [".rpmmacros", ".rpmrc"] {
        files.push(format!("{home}/{dotfile}"));
    }
    // The database wherever rpm may keep it (Debian's rpm: ~/.rpmdb), with
    // every file a new package changes.
    let mut wal = Vec::new();
    for db in [
        "/var/lib/rpm",
        "/usr/lib/sysimage/rpm",
        &format!("{home}/.rpmdb"),
    ] {
        files.push(db.to_string());
        for f in ["rpmdb.sqlite", "Packages", "Packages.db"] {
            files.push(format!("{db}/{f}"));
        }
        wal.push(format!("{db}/rpmdb.sqlite-wal"));
    }
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let wal: Vec<&str> = wal.iter().map(String::as_str).collect();
    let inputs = helper_cache::Inputs {
        files: &files,
        touched_by_reads: &wal,
        extra: &home,
    };
    helper_cache::run_cached_any_status(
        Path::new("/usr/bin/rpm"),
        &["-q", "--whatprovides", "/usr/bin/apt-get"],
        programs.env(),
        &inputs,
    )
}

/// libselinux is what Ansible's selinux binding loads; without it Ansible
/// reports the library missing.
fn libselinux_present() -> bool {
    let dirs = [
        "/lib",
        "/lib64",
        "/usr/lib",
        "/usr/lib64",
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
    ];
    dirs.iter()
        .any(|d| Path::new(d).join("libselinux.so.1").exists())
}

pub fn selinux(_g: &Gather) -> Facts {
    let mut f = Facts::new();
    if !libselinux_present() {
        f.insert(
            "selinux".into(),
            json!({"status": "Missing selinux Python library"}),
        );
        f.insert("selinux_python_present".into(), Value::Bool(false));
        return f;
    }
    f.insert("selinux_python_present".into(), Value::Bool(true));
    let enforce = file_content("/sys/fs/selinux/enforce");
    let Some(enforce) = enforce else {
        f.insert("selinux".into(), json!({"status": "disabled"}));
        return f;
    };
    let mode_name = |m: &str| match m.trim() {
        "1" | "enforcing" => "enforcing",
        "0" | "permissive" => "permissive",
        "-1" | "disabled" => "disabled",
        _ => "unknown",
    };
    let config = file_lines("/etc/selinux/config");
    let config_value = |key: &str| {
        config.iter().find_map(|l| {
            l.trim()
                .strip_prefix(key)
                .and_then(|r| r.strip_prefix('='))
                .map(|v| v.trim().to_string())
        })
    };
    let policyvers = file_content("/sys/fs/selinux/policyvers")
        .and_then(|v| v.parse::<i64>().ok())
        .map(Value::from)
        .unwrap_or_else(|| json!("unknown"));
    let config_mode = config_value("SELINUX")
        .map(|m| mode_name(&m).to_string())
        .unwrap_or_else(|| "unknown".into());
    let policy_type = config_value("SELINUXTYPE").unwrap_or_else(|| "unknown".into());
    f.insert(
        "selinux".into(),
        json!({
            "status": "enabled",
            "policyvers": policyvers,
            "config_mode": config_mode,
            "mode": mode_name(&enforce),
            "type": policy_type,
        }),
    );
    f
}

fn is_systemd_managed(programs: &Programs) -> bool {
    programs.find("systemctl").is_some() && crate::util::systemd_canary::canary_exists()
}

pub fn service_mgr(g: &Gather) -> Facts {
    let system = g.facts.get("system").and_then(Value::as_str).unwrap_or("");
    let distribution = g
        .facts
        .get("distribution")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut proc_1 = file_content("/proc/1/comm").map(|c| format!("{c}\n"));
    if proc_1.as_deref() == Some("COMMAND\n") {
        proc_1 = None;
    }
    if proc_1.is_none() {
        if let Ok(target) = std::fs::read_link("/sbin/init") {
            proc_1 = Some(target.to_string_lossy().into_owned());
        }
    }
    let proc_1 = proc_1
        .map(|p| {
            Path::new(p.trim_end())
                .file_name()
                .map(|n| n.to_string_lossy().trim().to_string())
                .unwrap_or_default()
        })
        .filter(|p| p != "init" && !p.ends_with("sh"));
    let name = if let Some(p) = proc_1 {
        match p.as_str() {
            "procd" => "openwrt_init".to_string(),
            "runit-init" => "runit".to_string(),
            "svscan" => "svc".to_string(),
            "openrc-init" => "openrc".to_string(),
            _ => p,
        }
    } else if distribution == "OpenWrt" {
        "openwrt_init".into()
    } else if distribution == "SMGL" {
        "simpleinit_msb".into()
    } else if system == "Linux" {
        let offline_systemd = g.programs.find("systemctl").is_some()
            && std::fs::read_link("/sbin/init")
                .ok()
                .and_then(|t| t.file_name().map(|n| n == "systemd"))
                .unwrap_or(false);
        if is_systemd_managed(g.programs) {
            "systemd".into()
        } else if g.programs.find("initctl").is_some() && Path::new("/etc/init/").exists() {
            "upstart".into()
        } else if Path::new("/sbin/openrc").exists() {
            "openrc".into()
        } else if offline_systemd {
            "systemd".into()
        } else if Path::new("/etc/init.d/").exists() {
            "sysvinit".into()
        } else if Path::new("/etc/dinit.d/").exists() {
            "dinit".into()
        } else {
            "service".into()
        }
    } else {
        "service".into()
    };
    one("service_mgr", json!(name))
}

pub fn systemd(g: &Gather) -> Facts {
    let mut f = Facts::new();
    if !is_systemd_managed(g.programs) {
        return f;
    }
    // The version and feature list are compiled into systemctl and its library.
    let inputs = helper_cache::Inputs {
        files: &["/usr/lib/systemd", "/lib/systemd"],
        touched_by_reads: &[],
        extra: "",
    };
    let out = g.programs.find("systemctl").map(|program| {
        helper_cache::run_cached(&program, &["--version"], g.programs.env(), &inputs)
    });
    let Some((0, out, _)) = out else {
        return f;
    };
    let features = out.split('\n').nth(1).unwrap_or("").to_string();
    let Some(version) = out
        .split(' ')
        .nth(1)
        .and_then(|v| v.trim().parse::<i64>().ok())
    else {
        return f;
    };
    f.insert(
        "systemd".into(),
        json!({"features": features, "version": version}),
    );
    f
}

pub fn ssh_pub_keys(_g: &Gather) -> Facts {
    let mut f = Facts::new();
    for dir in ["/etc/ssh", "/etc/openssh", "/etc"] {
        for algo in ["dsa", "rsa", "ecdsa", "ed25519"] {
            let name = format!("ssh_host_key_{algo}_public");
            if f.contains_key(&name) {
                return f;
            }
            let Some(data) = file_content(format!("{dir}/ssh_host_{algo}_key.pub")) else {
                continue;
            };
            let mut parts = data.split_whitespace();
            if let (Some(keytype), Some(key)) = (parts.next(), parts.next()) {
                f.insert(name.clone(), json!(key));
                f.insert(format!("{name}_keytype"), json!(keytype));
            }
        }
    }
    f
}

struct Passwd {
    name: String,
    uid: u32,
    gid: u32,
    gecos: String,
    dir: String,
    shell: String,
}

fn passwd(name: Option<&str>, uid: u32) -> Option<Passwd> {
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: every pointer refers to live local storage of the stated size;
    // the strings are copied out before `buf` goes away.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = match name.and_then(|n| CString::new(n).ok()) {
            Some(cname) => libc::getpwnam_r(
                cname.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut out,
            ),
            None => libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut out),
        };
        if rc != 0 || out.is_null() {
            return None;
        }
        let s = |p: *const libc::c_char| {
            if p.is_null() {
                String::new()
            } else {
                CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        Some(Passwd {
            name: s(pwd.pw_name),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            gecos: s(pwd.pw_gecos),
            dir: s(pwd.pw_dir),
            shell: s(pwd.pw_shell),
        })
    }
}

pub fn user(_g: &Gather) -> Facts {
    // SAFETY: these calls only read the process credentials.
    let (uid, euid, gid) = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid()) };
    // Python's getpass.getuser(): the login variables first, then the password database.
    let user_id = ["LOGNAME", "USER", "LNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .or_else(|| passwd(None, uid).map(|p| p.name))
        .unwrap_or_default();
    let mut f = Facts::new();
    f.insert("user_id".into(), json!(user_id));
    if let Some(p) = passwd(Some(&user_id), uid).or_else(|| passwd(None, uid)) {
        f.insert("user_uid".into(), json!(p.uid));
        f.insert("user_gid".into(), json!(p.gid));
        f.insert("user_gecos".into(), json!(p.gecos));
        f.insert("user_dir".into(), json!(p.dir));
        f.insert("user_shell".into(), json!(p.shell));
    }
    f.insert("real_user_id".into(), json!(uid));
    f.insert("effective_user_id".into(), json!(euid));
    f.insert("real_group_id".into(), json!(gid));
    // Ansible reports the real group id here too.
    f.insert("effective_group_id".into(), json!(gid));
    f
}
