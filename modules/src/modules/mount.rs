//! `ansible.posix.mount` on Linux: fstab entries (present/absent/absent_from_fstab)
//! and the mounted state (mounted/unmounted/remounted/ephemeral) with mount/umount,
//! following the collection module line by line where fstab is rewritten.

use super::lineinfile::backup_local;
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::run::{required_bin, run as run_cmd};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub const SPEC: &[Param] = &[
    Param::new("boot", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("dump", Kind::Str).default(ParamDefault::Str("0")),
    Param::new("fstab", Kind::Str),
    Param::new("fstype", Kind::Str),
    Param::new("path", Kind::Path).required().aliases(&["name"]),
    Param::new("opts", Kind::Str),
    Param::new("opts_no_log", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("passno", Kind::Str).default(ParamDefault::Str("0")),
    Param::new("src", Kind::Path),
    Param::new("backup", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("state", Kind::Str).required().choices(&[
        "absent",
        "absent_from_fstab",
        "mounted",
        "present",
        "unmounted",
        "remounted",
        "ephemeral",
    ]),
];

/// The module's `args`: what the fstab line holds, reported back in the result.
#[derive(Debug, Clone)]
struct Args {
    name: String,
    src: Option<String>,
    fstype: Option<String>,
    opts: String,
    dump: String,
    passno: String,
    fstab: String,
    boot: &'static str,
    backup: bool,
    backup_file: String,
}

struct Ctx<'a> {
    ctx: &'a ModuleContext,
    state: String,
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let state = s("state").unwrap_or_default();
    if matches!(state.as_str(), "mounted" | "present" | "ephemeral") {
        let missing: Vec<&str> = ["src", "fstype"]
            .into_iter()
            .filter(|k| s(k).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(ModuleFail::msg(format!(
                "state is {state} but all of the following are missing: {}",
                missing.join(", ")
            )));
        }
    }
    let boot = params.get("boot").and_then(Value::as_bool).unwrap_or(true);
    let mut a = Args {
        name: s("path").unwrap_or_default(),
        src: s("src"),
        fstype: s("fstype"),
        opts: s("opts").unwrap_or_else(|| "defaults".into()),
        dump: s("dump").unwrap_or_else(|| "0".into()),
        passno: s("passno").unwrap_or_else(|| "0".into()),
        fstab: s("fstab").unwrap_or_else(|| "/etc/fstab".into()),
        boot: "yes",
        backup: params
            .get("backup")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        backup_file: String::new(),
    };
    let mut warnings = Vec::new();
    let mut opts: Vec<String> = a.opts.split(',').map(str::to_string).collect();
    if boot && opts.iter().any(|o| o == "noauto") {
        warnings.push("Ignore the 'boot' due to 'opts' contains 'noauto'.".to_string());
    } else if !boot {
        a.boot = "no";
        opts.push("noauto".into());
        a.opts = opts.join(",");
    }
    let linux_mounts = linux_mounts();
    if linux_mounts.is_none() {
        warnings.push(
            "Cannot open file /proc/self/mountinfo. Bind mounts might be misinterpreted.".into(),
        );
    }
    if state != "ephemeral" {
        ensure_fstab(&a.fstab)?;
    }
    let c = Ctx {
        ctx,
        state: state.clone(),
    };
    let mounted = |name: &str, src: Option<&str>| {
        ismount(name) || is_bind_mounted(linux_mounts.as_ref(), name, src)
    };
    let mut changed = false;
    match state.as_str() {
        "absent_from_fstab" => changed = unset_mount(&c, &mut a)?,
        "absent" => {
            changed = unset_mount(&c, &mut a)?;
            if changed && !ctx.check_mode {
                if mounted(&a.name, None) {
                    let (rc, msg) = umount(&c, &a.name)?;
                    if rc != 0 {
                        return Err(ModuleFail::msg(format!(
                            "Error unmounting {}: {msg}",
                            a.name
                        )));
                    }
                }
                if Path::new(&a.name).exists() {
                    std::fs::remove_dir(&a.name).map_err(|e| {
                        ModuleFail::msg(format!("Error rmdir {}: {}", a.name, py_os_error(&e)))
                    })?;
                }
            }
        }
        "unmounted" => {
            if mounted(&a.name, None) {
                if !ctx.check_mode {
                    let (rc, msg) = umount(&c, &a.name)?;
                    if rc != 0 {
                        return Err(ModuleFail::msg(format!(
                            "Error unmounting {}: {msg}",
                            a.name
                        )));
                    }
                }
                changed = true;
            }
        }
        "mounted" | "ephemeral" => {
            changed = mount_state(&c, &mut a, linux_mounts.as_ref())?;
        }
        "present" => changed = set_mount(&c, &mut a)?.1,
        "remounted" => {
            if !ctx.check_mode {
                let (rc, msg) = remount(&c, &a)?;
                if rc != 0 {
                    return Err(ModuleFail::msg(format!(
                        "Error remounting {}: {msg}",
                        a.name
                    )));
                }
            }
            changed = true;
        }
        _ => return Err(ModuleFail::msg("Unexpected position reached")),
    }
    let mut r = Map::new();
    r.insert("changed".into(), json!(changed));
    r.insert("name".into(), json!(a.name));
    r.insert("opts".into(), json!(a.opts));
    r.insert("dump".into(), json!(a.dump));
    r.insert("passno".into(), json!(a.passno));
    r.insert("fstab".into(), json!(a.fstab));
    r.insert("boot".into(), json!(a.boot));
    r.insert("backup_file".into(), json!(a.backup_file));
    if let Some(src) = &a.src {
        r.insert("src".into(), json!(src));
    }
    if let Some(fstype) = &a.fstype {
        r.insert("fstype".into(), json!(fstype));
    }
    if !warnings.is_empty() {
        r.insert("warnings".into(), json!(warnings));
    }
    Ok(r)
}

/// The `mounted`/`ephemeral` states: directories made, fstab set, then mounted or
/// remounted; on failure fstab and the new directories are put back.
fn mount_state(
    c: &Ctx,
    a: &mut Args,
    linux_mounts: Option<&HashMap<String, MountRec>>,
) -> Result<bool, ModuleFail> {
    let mut dirs_created = Vec::new();
    if !Path::new(&a.name).exists() && !c.ctx.check_mode {
        let absolute = a.name.starts_with('/');
        let mut cur = String::new();
        for part in a.name.trim_matches('/').split('/') {
            cur = format!("{cur}/{part}");
            if !absolute {
                cur = cur.trim_start_matches('/').to_string();
            }
            if !Path::new(&cur).exists() {
                match std::fs::create_dir(&cur) {
                    Ok(()) => dirs_created.push(cur.clone()),
                    Err(e)
                        if e.kind() == std::io::ErrorKind::AlreadyExists
                            && Path::new(&cur).is_dir() => {}
                    Err(e) => {
                        return Err(ModuleFail::msg(format!(
                            "Error making dir {}: {}",
                            a.name,
                            py_os_error(&e)
                        )))
                    }
                }
            }
        }
    }
    let (old_lines, mut changed) = if c.state != "ephemeral" {
        set_mount(c, a)?
    } else {
        (Vec::new(), false)
    };
    let mut res = 0;
    let mut msg = String::new();
    if ismount(&a.name) || is_bind_mounted(linux_mounts, &a.name, a.src.as_deref()) {
        if changed && !c.ctx.check_mode {
            (res, msg) = remount(c, a)?;
            changed = true;
        }
        if c.state == "ephemeral" {
            return Err(ModuleFail::msg(
                "rsible agent: ansible.posix.mount state=ephemeral over an existing mount is not implemented natively",
            ));
        }
    } else {
        changed = true;
        if !c.ctx.check_mode {
            (res, msg) = mount(c, a)?;
        }
    }
    if res != 0 {
        if c.state != "ephemeral" {
            let _ = std::fs::write(&a.fstab, old_lines.concat());
        }
        for d in dirs_created.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
        return Err(ModuleFail::msg(format!("Error mounting {}: {msg}", a.name)));
    }
    Ok(changed)
}

/// Python's `str(OSError)`: "[Errno N] text: 'path'" without the path part.
fn py_os_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text).to_string();
    match e.raw_os_error() {
        Some(n) => format!("[Errno {n}] {text}"),
        None => text,
    }
}

/// A missing fstab is created empty (with its directory), as the module does.
fn ensure_fstab(fstab: &str) -> Result<(), ModuleFail> {
    let p = Path::new(fstab);
    if p.exists() {
        return Ok(());
    }
    if let Some(dir) = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| ModuleFail::msg(format!("Failed to open {fstab} due to {e}")))?;
    }
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(p)
        .map(drop)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                ModuleFail::msg(format!("Failed to open {fstab} due to permission issue"))
            } else {
                ModuleFail::msg(format!("Failed to open {fstab} due to {}", py_os_error(&e)))
            }
        })
}

/// fstab's escapes for space, ampersand and backslash.
fn escape(v: &str) -> String {
    v.replace('\\', "\\134")
        .replace(' ', "\\040")
        .replace('&', "\\046")
}

/// Python's `readlines()`: lines with their endings.
fn read_lines(path: &str) -> Result<Vec<String>, ModuleFail> {
    let bytes = std::fs::read(path)
        .map_err(|e| ModuleFail::msg(format!("{}: '{path}'", py_os_error(&e))))?;
    Ok(String::from_utf8_lossy(&bytes)
        .split_inclusive('\n')
        .map(str::to_string)
        .collect())
}

fn write_fstab(a: &mut Args, lines: &[String], record_backup: bool) -> Result<(), ModuleFail> {
    let backup = if a.backup {
        backup_local(Path::new(&a.fstab))?
    } else {
        String::new()
    };
    if record_backup {
        a.backup_file = backup;
    }
    std::fs::write(&a.fstab, lines.concat())
        .map_err(|e| ModuleFail::msg(format!("{}: '{}'", py_os_error(&e), a.fstab)))
}

/// Whether an fstab line is the entry for `name` (a swap line named `none` must
/// also match `src` when one is given).
fn entry_matches(fields: &[&str], name: &str, src: Option<&str>) -> bool {
    let (f_src, f_name, f_type) = (fields[0], fields[1], fields.get(2).copied());
    if f_name != name {
        return false;
    }
    !matches!(src, Some(s) if f_name == "none" && f_type == Some("swap") && f_src != s)
}

/// Add or update the entry; returns the old lines (to restore) and whether it changed.
fn set_mount(c: &Ctx, a: &mut Args) -> Result<(Vec<String>, bool), ModuleFail> {
    let e_name = escape(&a.name);
    let e_src = escape(a.src.as_deref().unwrap_or_default());
    let e_fstype = escape(a.fstype.as_deref().unwrap_or_default());
    let want = [
        e_src.clone(),
        e_fstype.clone(),
        escape(&a.opts),
        escape(&a.dump),
        escape(&a.passno),
    ];
    let mut old = Vec::new();
    let mut out = Vec::new();
    let mut exists = false;
    let mut changed = false;
    for mut line in read_lines(&a.fstab)? {
        if !line.ends_with('\n') {
            line.push('\n');
        }
        old.push(line.clone());
        let t = line.trim();
        let fields: Vec<&str> = line.split_whitespace().collect();
        if t.is_empty() || t.starts_with('#') || !(4..=6).contains(&fields.len()) {
            out.push(line);
            continue;
        }
        if !entry_matches(&fields, &e_name, a.src.as_deref()) {
            out.push(line);
            continue;
        }
        exists = true;
        // src, fstype, opts, dump, passno; a missing dump/passno is Python's int 0,
        // which never equals the string wanted.
        let have = [
            Some(fields[0]),
            Some(fields[2]),
            Some(fields[3]),
            fields.get(4).copied(),
            fields.get(5).copied(),
        ];
        let mut ld: Vec<String> = have.iter().map(|h| h.unwrap_or("0").to_string()).collect();
        for i in 0..5 {
            if have[i] != Some(want[i].as_str()) {
                ld[i] = want[i].clone();
                changed = true;
            }
        }
        if changed {
            out.push(format!(
                "{} {} {} {} {} {}\n",
                ld[0], fields[1], ld[1], ld[2], ld[3], ld[4]
            ));
        } else {
            out.push(line);
        }
    }
    if !exists {
        out.push(format!(
            "{e_src} {e_name} {e_fstype} {} {} {}\n",
            escape(&a.opts),
            escape(&a.dump),
            escape(&a.passno)
        ));
        changed = true;
    }
    if changed && !c.ctx.check_mode {
        write_fstab(a, &out, true)?;
    }
    Ok((old, changed))
}

/// Remove the entry (only well-formed six-field lines are considered).
fn unset_mount(c: &Ctx, a: &mut Args) -> Result<bool, ModuleFail> {
    let e_name = escape(&a.name);
    let mut out = Vec::new();
    let mut changed = false;
    for line in read_lines(&a.fstab)? {
        let t = line.trim();
        let fields: Vec<&str> = line.split_whitespace().collect();
        if t.is_empty() || t.starts_with('#') || fields.len() != 6 {
            out.push(line);
            continue;
        }
        if !entry_matches(&fields, &e_name, a.src.as_deref()) {
            out.push(line);
            continue;
        }
        changed = true;
    }
    if changed && !c.ctx.check_mode {
        write_fstab(a, &out, false)?;
    }
    Ok(changed)
}

/// `-T fstab` when an alternate fstab is used.
fn fstab_args(a: &Args) -> Vec<String> {
    if a.fstab != "/etc/fstab" && !a.fstab.is_empty() {
        vec!["-T".into(), a.fstab.clone()]
    } else {
        Vec::new()
    }
}

fn ephemeral_args(a: &Args) -> Vec<String> {
    let mut v = vec!["-t".into(), a.fstype.clone().unwrap_or_default()];
    if a.opts != "defaults" {
        v.extend(["-o".into(), a.opts.clone()]);
    }
    v.push(a.src.clone().unwrap_or_default());
    v
}

fn finish(c: &Ctx, cmd: Vec<String>) -> Result<(i32, String), ModuleFail> {
    let o = run_cmd(&cmd, c.ctx, None)?;
    Ok(if o.rc == 0 {
        (0, String::new())
    } else {
        (o.rc, o.out + &o.err)
    })
}

fn mount(c: &Ctx, a: &Args) -> Result<(i32, String), ModuleFail> {
    let mut cmd = vec![required_bin("mount", c.ctx)?];
    if c.state == "ephemeral" {
        cmd.extend(ephemeral_args(a));
    } else {
        cmd.extend(fstab_args(a));
    }
    cmd.push(a.name.clone());
    finish(c, cmd)
}

fn umount(c: &Ctx, path: &str) -> Result<(i32, String), ModuleFail> {
    finish(c, vec![required_bin("umount", c.ctx)?, path.to_string()])
}

/// `mount -o remount`, falling back to umount + mount when that fails.
fn remount(c: &Ctx, a: &Args) -> Result<(i32, String), ModuleFail> {
    let mut cmd = vec![required_bin("mount", c.ctx)?];
    let with_opts = c.state == "remounted" && a.opts != "defaults";
    cmd.extend([
        "-o".into(),
        if with_opts {
            format!("remount,{}", a.opts)
        } else {
            "remount".into()
        },
    ]);
    if c.state == "ephemeral" {
        cmd.extend(ephemeral_args(a));
    } else {
        cmd.extend(fstab_args(a));
    }
    cmd.push(a.name.clone());
    let (rc, msg) = finish(c, cmd)?;
    if rc == 0 {
        return Ok((rc, msg));
    }
    if with_opts {
        return Err(ModuleFail::msg(
            "Options were specified with remounted, but the remount command failed. Failing in order to prevent an unexpected mount result. Try replacing this command with a \"state: unmounted\" followed by a \"state: mounted\" using the full desired mount options instead.",
        ));
    }
    let (rc, msg) = umount(c, &a.name)?;
    if rc != 0 {
        return Ok((rc, msg));
    }
    mount(c, a)
}

/// The collection's `ismount`: a different device than the parent, or the same inode.
fn ismount(path: &str) -> bool {
    let Ok(m1) = std::fs::symlink_metadata(path) else {
        return false;
    };
    if m1.file_type().is_symlink() {
        return false;
    }
    let Ok(parent) = std::fs::canonicalize(Path::new(path).join("..")) else {
        return false;
    };
    let Ok(m2) = std::fs::symlink_metadata(parent) else {
        return false;
    };
    m1.dev() != m2.dev() || m1.ino() == m2.ino()
}

#[derive(Debug, Clone)]
struct MountRec {
    src: String,
}

/// The module's view of /proc/self/mountinfo: mount point -> source, where the source
/// of a mount under another is its root path (which is how bind mounts are told).
fn linux_mounts() -> Option<HashMap<String, MountRec>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    struct Info {
        parent: i64,
        root: String,
        dst: String,
        src: String,
    }
    let mut infos: HashMap<i64, Info> = HashMap::new();
    let mut order = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 7 {
            continue;
        }
        let (Ok(id), Ok(parent)) = (f[0].parse::<i64>(), f[1].parse::<i64>()) else {
            continue;
        };
        order.push(id);
        infos.insert(
            id,
            Info {
                parent,
                root: f[3].to_string(),
                dst: f[4].to_string(),
                src: f[f.len() - 2].to_string(),
            },
        );
    }
    let mut mounts = HashMap::new();
    for id in order {
        let Some(m) = infos.get(&id) else { continue };
        let src = match infos.get(&m.parent).filter(|_| m.parent != 1) {
            Some(p) => {
                let mut root = m.root.clone();
                if p.root.len() > 1 && root.starts_with(&format!("{}/", p.root)) {
                    root = root[p.root.len()..].to_string();
                }
                if p.dst != "/" {
                    root = format!("{}{}", p.dst, root);
                }
                root
            }
            None => m.src.clone(),
        };
        mounts.insert(m.dst.clone(), MountRec { src });
    }
    Some(mounts)
}

fn is_bind_mounted(
    mounts: Option<&HashMap<String, MountRec>>,
    dest: &str,
    src: Option<&str>,
) -> bool {
    let Some(mounts) = mounts else {
        return false;
    };
    match (mounts.get(dest), src) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(m), Some(s)) => m.src == s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_fstab_fields() {
        assert_eq!(escape("/mnt/a b&c\\d"), "/mnt/a\\040b\\046c\\134d");
    }

    #[test]
    fn root_is_a_mount_point() {
        assert!(ismount("/"));
        assert!(!ismount("/nonexistent-rsible"));
        assert!(linux_mounts().is_some_and(|m| m.contains_key("/")));
    }

    #[test]
    fn swap_lines_named_none_match_by_source() {
        let f = ["/swap.img", "none", "swap", "sw", "0", "0"];
        assert!(entry_matches(&f, "none", None));
        assert!(entry_matches(&f, "none", Some("/swap.img")));
        assert!(!entry_matches(&f, "none", Some("/other")));
        assert!(!entry_matches(&f, "swap", None));
    }
}
