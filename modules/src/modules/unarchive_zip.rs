//! `unarchive`'s zip handlers, Ansible's `ZipArchive` (unzip + zipinfo) and its
//! `ZipZArchive` fallback (`unzip -Z` where zipinfo is missing), tried before any tar
//! handler as there. The commands are the module's: `unzip -l` decides whether the
//! handler takes the archive, `zipinfo -T -s` lists the members compared with the
//! tree (type, mtime, size, crc32, mode, owner, group) for idempotence, check mode
//! and the `--diff` itemization, and `unzip -o` extracts. The member names and
//! CRCs Ansible reads with Python's zipfile come from the central directory read
//! here (no zip library: nothing is decompressed by the agent itself).

use super::{ModuleContext, ModuleFail, INVOCATION_UPDATES};
use crate::util::bin_path::get_bin_path;
use crate::util::fs_attrs::FileArgs;
use crate::util::mode::{current_umask, resolve_mode};
use crate::util::run::run as run_command;
use crate::util::users::{group_id, group_name, user_id, user_name};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A zip handler that accepted the archive: its name and the programs it runs.
pub(super) struct Zip {
    handler: &'static str,
    unzip: String,
    zipinfo: String,
    /// `-Zl` when zipinfo is `unzip -Z`.
    zipinfo_flag: Option<&'static str>,
}

/// Ansible's zip handlers in its order: the first that can handle `src`, or None with
/// their reasons added to `reasons` (the tar handlers are tried next).
pub(super) fn pick(
    src: &str,
    ctx: &ModuleContext,
    reasons: &mut Vec<String>,
) -> Result<Option<Zip>, ModuleFail> {
    let unzip = get_bin_path("unzip", &ctx.env);
    let zipinfo = get_bin_path("zipinfo", &ctx.env);
    // ZipArchive: unzip and zipinfo.
    match (&unzip, &zipinfo) {
        (Some(u), Some(z)) => {
            if unzip_lists(u, src, ctx, reasons)? {
                return Ok(Some(Zip {
                    handler: "ZipArchive",
                    unzip: u.clone(),
                    zipinfo: z.clone(),
                    zipinfo_flag: None,
                }));
            }
        }
        _ => {
            let missing: Vec<&str> = [("unzip", &unzip), ("zipinfo", &zipinfo)]
                .iter()
                .filter(|(_, p)| p.is_none())
                .map(|(n, _)| *n)
                .collect();
            reasons.push(missing_reason(&missing));
        }
    }
    // ZipZArchive: unzip as both, its zipinfo mode asked for by `-Zl`.
    let Some(u) = unzip else {
        reasons.push(missing_reason(&["unzip", "unzip"]));
        return Ok(None);
    };
    if !unzip_lists(&u, src, ctx, reasons)? {
        return Ok(None);
    }
    let probe = run_command(&[u.clone(), "-Zl".into()], ctx, None)?;
    if probe.out.to_lowercase().contains("zipinfo") {
        return Ok(Some(Zip {
            handler: "ZipZArchive",
            unzip: u.clone(),
            zipinfo: u,
            zipinfo_flag: Some("-Zl"),
        }));
    }
    reasons.push(format!(
        "Command \"unzip -Z\" could not handle archive: {}",
        probe.err
    ));
    Ok(None)
}

fn missing_reason(missing: &[&str]) -> String {
    format!(
        "Unable to find required '{}' binary in the path.",
        missing.join("' or '")
    )
}

/// `unzip -l src` succeeds; else its stderr becomes a reason.
fn unzip_lists(
    unzip: &str,
    src: &str,
    ctx: &ModuleContext,
    reasons: &mut Vec<String>,
) -> Result<bool, ModuleFail> {
    let o = run_command(
        &[unzip.to_string(), "-l".into(), src.to_string()],
        ctx,
        None,
    )?;
    if o.rc == 0 {
        return Ok(true);
    }
    reasons.push(format!(
        "Command \"{unzip}\" could not handle archive: {}",
        o.err
    ));
    Ok(false)
}

/// What the module decided and did: the result so far (handler, dest, src,
/// extract_results, diff), whether it changed, and the members for `files` and the
/// owner/group/mode pass.
pub(super) struct Done {
    pub result: Map<String, Value>,
    pub changed: bool,
    pub files: Vec<String>,
}

impl Zip {
    /// Compare, then extract unless the tree already matches (or in check mode).
    pub(super) fn unarchive(
        &self,
        params: &Map<String, Value>,
        ctx: &ModuleContext,
        src: &str,
        dest: &str,
        abs_dest: &str,
        file_args: &FileArgs,
    ) -> Result<Done, ModuleFail> {
        let mut excludes = super::args::str_list(params, "exclude");
        let includes = super::args::str_list(params, "include");
        let opts = super::args::str_list(params, "extra_opts");
        let keep_newer = params
            .get("keep_newer")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let excludes_given = excludes.len();
        let check = self.is_unarchived(
            src,
            abs_dest,
            file_args,
            &mut excludes,
            &includes,
            keep_newer,
            ctx,
        )?;
        let mut r = Map::new();
        r.insert("handler".into(), json!(self.handler));
        r.insert("dest".into(), json!(dest));
        r.insert("src".into(), json!(src));
        // keep_newer's additions to the excludes are the module's own `exclude`
        // parameter, as reported in its invocation.
        if excludes.len() != excludes_given {
            r.insert(INVOCATION_UPDATES.into(), json!({ "exclude": excludes }));
        }
        let changed = if ctx.check_mode {
            !check.unarchived
        } else if check.unarchived {
            false
        } else {
            let mut cmd = vec![self.unzip.clone(), "-o".into()];
            cmd.extend(opts);
            cmd.push(src.to_string());
            if !excludes.is_empty() {
                cmd.push("-x".into());
                cmd.extend(excludes.iter().cloned());
            }
            cmd.extend(includes.iter().cloned());
            cmd.extend(["-d".to_string(), abs_dest.to_string()]);
            let o = run_command(&cmd, ctx, None)?;
            r.insert(
                "extract_results".into(),
                json!({"cmd": cmd, "rc": o.rc, "out": o.out, "err": o.err}),
            );
            if o.rc != 0 {
                let mut f = ModuleFail::msg(format!("failed to unpack {src} to {dest}"));
                for (k, v) in r {
                    f = f.with(&k, v);
                }
                return Err(f);
            }
            true
        };
        if !check.diff.is_empty() {
            r.insert("diff".into(), json!({ "prepared": check.diff }));
        }
        let files = files_in_archive(src, &includes, &excludes).map_err(ModuleFail::msg)?;
        Ok(Done {
            result: r,
            changed,
            files,
        })
    }

    /// Ansible's `ZipArchive.is_unarchived`: every member zipinfo lists compared with
    /// the path under dest; keep_newer adds the members newer on disk to `excludes`.
    #[allow(clippy::too_many_arguments)]
    fn is_unarchived(
        &self,
        src: &str,
        dest: &str,
        file_args: &FileArgs,
        excludes: &mut Vec<String>,
        includes: &[String],
        keep_newer: bool,
        ctx: &ModuleContext,
    ) -> Result<Check, ModuleFail> {
        let mut cmd = vec![self.zipinfo.clone()];
        cmd.extend(self.zipinfo_flag.map(str::to_string));
        cmd.extend(["-T".into(), "-s".into(), src.to_string()]);
        if !excludes.is_empty() {
            cmd.push("-x".into());
            cmd.extend(excludes.iter().cloned());
        }
        cmd.extend(includes.iter().cloned());
        let listing = run_command(&cmd, ctx, None)?;
        let mut unarchived = listing.rc == 0;
        let fail = |msg: String| Err(ModuleFail::msg(msg));

        let umask = current_umask();
        let who = Ownership::new(file_args);
        let mut crcs: Option<HashMap<String, u32>> = None;
        let mut changed_paths: Vec<String> = Vec::new();
        let mut diff = String::new();
        let mut ftype: Option<char> = None;

        for line in listing.out.lines() {
            let Some(pcs) = split8(line) else { continue };
            let perms: Vec<char> = pcs[0].chars().collect();
            if ![7, 8, 10].contains(&perms.len()) || pcs[6].chars().count() != 15 {
                continue;
            }
            if !"dl-?".contains(perms[0]) || !perms[1..].iter().all(|c| "rwxstah-".contains(*c)) {
                continue;
            }
            let ztype = perms[0];
            let mut permstr: String = perms[1..].iter().collect();
            let Ok(size) = pcs[3].parse::<u64>() else {
                return fail(format!(
                    "invalid literal for int() with base 10: '{}'",
                    pcs[3]
                ));
            };
            let path = pcs[7].to_string();
            if excludes.contains(&path) {
                continue;
            }
            if path.ends_with('/') {
                ftype = Some('d');
            } else if ztype == 'l' {
                ftype = Some('L');
            } else if ztype == '-' || ztype == '?' {
                ftype = Some('f');
            }
            // A 'd' member without a trailing '/' keeps the previous member's type
            // in Ansible's loop (and fails there when it is the first).
            let Some(ft) = ftype else {
                return fail(
                    "cannot access local variable 'ftype' where it is not associated with a value"
                        .into(),
                );
            };
            let file_umask = match permstr.len() {
                6 => {
                    permstr = if path.ends_with('/') || permstr == "rwx---" {
                        "rwxrwxrwx".into()
                    } else {
                        "rw-rw-rw-".into()
                    };
                    umask
                }
                7 => {
                    permstr = if permstr == "rwxa---" {
                        "rwxrwxrwx".into()
                    } else {
                        "rw-rw-rw-".into()
                    };
                    umask
                }
                _ => 0,
            };
            if !valid_permstr(&permstr) {
                return fail(format!("ZIP info perm format incorrect, {permstr}"));
            }

            let on_disk = Path::new(dest).join(&path);
            let Ok(st) = std::fs::symlink_metadata(&on_disk) else {
                changed_paths.push(path.clone());
                diff.push_str(&format!(">{ft}++++++.?? {path}\n"));
                continue;
            };
            let ty = st.file_type();
            if (ft == 'd' && !ty.is_dir())
                || (ft == 'f' && !ty.is_file())
                || (ft == 'L' && !ty.is_symlink())
            {
                if ft == 'f' {
                    unarchived = false;
                }
                changed_paths.push(path.clone());
                diff.push_str(&format!("c{ft}++++++.?? {path}\n"));
                continue;
            }

            let mut change = false;
            let mut itemized: Vec<char> = format!(".{ft}.......??").chars().collect();
            let timestamp = zip_timestamp(pcs[6]);
            let mtime = st.mtime() as f64 + st.mtime_nsec() as f64 * 1e-9;
            if ty.is_file() {
                if keep_newer {
                    if timestamp > mtime {
                        change = true;
                        changed_paths.push(path.clone());
                        itemized[4] = 't';
                    } else if timestamp < mtime {
                        excludes.push(path.clone());
                        continue;
                    }
                } else if timestamp != mtime {
                    change = true;
                    changed_paths.push(path.clone());
                    itemized[4] = 't';
                }
                if size != st.len() {
                    change = true;
                    itemized[3] = 's';
                }
                let crcs = match &mut crcs {
                    Some(c) => c,
                    None => crcs.insert(
                        central_directory(Path::new(src))
                            .map_err(ModuleFail::msg)?
                            .into_iter()
                            .collect(),
                    ),
                };
                let Some(want) = crcs.get(&path).copied() else {
                    return fail(format!("KeyError: '{path}'"));
                };
                let have = file_crc32(&on_disk).map_err(|e| ModuleFail::msg(e.to_string()))?;
                if have != want {
                    change = true;
                    itemized[2] = 'c';
                }
            }

            if ft != 'L' {
                let want = match &file_args.mode {
                    Some(m) => resolve_mode(m, st.mode(), ty.is_dir(), umask).map_err(|e| {
                        ModuleFail::msg(e.details).with("path", json!(path.clone()))
                    })?,
                    None if ztype == '?' => permstr_to_octal(&permstr, 0),
                    None => permstr_to_octal(&permstr, file_umask),
                };
                if want != st.mode() & 0o7777 {
                    change = true;
                    itemized[5] = 'p';
                }
            }

            let owner = user_name(st.uid());
            if who.run_uid != 0 && (who.fut_owner != who.run_owner || who.fut_uid != who.run_uid) {
                return fail(format!(
                    "Cannot change ownership of {path} to {}, as user {}",
                    who.fut_owner, who.run_owner
                ));
            }
            match &owner {
                Some(o) if *o != who.fut_owner => {
                    change = true;
                    itemized[6] = 'o';
                }
                None if st.uid() != 0 && st.uid() != who.fut_uid => {
                    change = true;
                    itemized[6] = 'o';
                }
                _ => {}
            }
            let group = group_name(st.gid());
            if who.run_uid != 0
                && (who.fut_group != who.run_group || who.fut_gid != who.run_gid)
                && !who.groups.contains(&who.fut_gid)
            {
                return fail(format!(
                    "Cannot change group ownership of {path} to {}, as user {}",
                    who.fut_group, who.run_owner
                ));
            }
            match &group {
                Some(g) if *g != who.fut_group => {
                    change = true;
                    itemized[6] = 'g';
                }
                None if st.gid() != 0 && st.gid() != who.fut_gid => {
                    change = true;
                    itemized[6] = 'g';
                }
                _ => {}
            }

            if change {
                if !changed_paths.contains(&path) {
                    changed_paths.push(path.clone());
                }
                diff.push_str(&format!("{} {path}\n", itemized.iter().collect::<String>()));
            }
        }
        if !changed_paths.is_empty() {
            unarchived = false;
        }
        Ok(Check { unarchived, diff })
    }
}

struct Check {
    unarchived: bool,
    diff: String,
}

/// Who runs the module and who the members should belong to (owner/group, or the
/// running user's own where not given or not found).
struct Ownership {
    run_uid: u32,
    run_gid: u32,
    run_owner: String,
    run_group: String,
    groups: Vec<u32>,
    fut_owner: String,
    fut_uid: u32,
    fut_group: String,
    fut_gid: u32,
}

impl Ownership {
    fn new(file_args: &FileArgs) -> Ownership {
        // SAFETY: plain libc calls without arguments to check.
        let (run_uid, run_gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let run_owner = user_name(run_uid).unwrap_or_else(|| run_uid.to_string());
        let run_group = group_name(run_gid).unwrap_or_else(|| run_gid.to_string());
        let (fut_owner, fut_uid) = match &file_args.owner {
            Some(o) => user_id(o)
                .map(|uid| (o.clone(), uid))
                .or_else(|| {
                    let uid = o.trim().parse::<u32>().ok()?;
                    Some((user_name(uid)?, uid))
                })
                .unwrap_or_else(|| (run_owner.clone(), run_uid)),
            None => (run_owner.clone(), run_uid),
        };
        let (fut_group, fut_gid) = match &file_args.group {
            Some(g) => group_id(g)
                .map(|gid| (g.clone(), gid))
                .or_else(|| {
                    let gid = g.trim().parse::<u32>().ok()?;
                    Some((group_name(gid)?, gid))
                })
                .unwrap_or_else(|| (run_group.clone(), run_gid)),
            None => (run_group.clone(), run_gid),
        };
        Ownership {
            run_uid,
            run_gid,
            run_owner,
            run_group,
            groups: process_groups(),
            fut_owner,
            fut_uid,
            fut_group,
            fut_gid,
        }
    }
}

/// `os.getgroups()`.
fn process_groups() -> Vec<u32> {
    // SAFETY: a size query, then a buffer of that size.
    unsafe {
        let n = libc::getgroups(0, std::ptr::null_mut());
        if n <= 0 {
            return Vec::new();
        }
        let mut v = vec![0 as libc::gid_t; n as usize];
        let n = libc::getgroups(n, v.as_mut_ptr());
        v.truncate(n.max(0) as usize);
        v
    }
}

/// Python's `line.split(None, 7)` when it gives 8 fields.
fn split8(line: &str) -> Option<Vec<&str>> {
    let mut fields = Vec::with_capacity(8);
    let mut rest = line.trim_start();
    while fields.len() < 7 {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        fields.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    if rest.is_empty() {
        return None;
    }
    fields.push(rest);
    Some(fields)
}

/// `([r-][w-][SsTtx-]){3}` at the start of a 9-character string.
fn valid_permstr(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() == 9
        && b.chunks(3).all(|c| {
            matches!(c[0], b'r' | b'-')
                && matches!(c[1], b'w' | b'-')
                && matches!(c[2], b'S' | b's' | b'T' | b't' | b'x' | b'-')
        })
}

/// `rwxr-xr-x` to 0o755, each letter of r/w/x/s/t setting its bit, less `umask`.
fn permstr_to_octal(p: &str, umask: u32) -> u32 {
    let mode = p
        .bytes()
        .rev()
        .enumerate()
        .filter(|(_, c)| b"rwxst".contains(c))
        .fold(0u32, |m, (i, _)| m | (1 << i));
    mode & !umask
}

/// zipinfo's `-T` time (`yyyymmdd.hhmmss`, local time) as epoch seconds, clamped to
/// 1980..2107 as zip times are, with the daylight-saving flag off as Ansible's
/// `time.mktime` call has it.
fn zip_timestamp(ts: &str) -> f64 {
    let b = ts.as_bytes();
    let parsed = (b.len() == 15
        && b[8] == b'.'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_digit()))
    .then(|| {
        let n = |r: std::ops::Range<usize>| ts[r].parse::<i32>().unwrap_or(0);
        [n(0..4), n(4..6), n(6..8), n(9..11), n(11..13), n(13..15)]
    });
    let fields = match parsed {
        Some(f) if f[0] < 1980 => [1980, 1, 1, 0, 0, 0],
        Some(f) if f[0] > 2107 => [2107, 12, 31, 23, 59, 59],
        Some(f) => f,
        None => [1980, 1, 1, 0, 0, 0],
    };
    // SAFETY: a zeroed tm is valid; mktime only reads and normalises it.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        tm.tm_year = fields[0] - 1900;
        tm.tm_mon = fields[1] - 1;
        tm.tm_mday = fields[2];
        tm.tm_hour = fields[3];
        tm.tm_min = fields[4];
        tm.tm_sec = fields[5];
        tm.tm_isdst = 0;
        libc::mktime(&mut tm) as f64
    }
}

fn file_crc32(path: &Path) -> std::io::Result<u32> {
    let mut f = std::fs::File::open(path)?;
    let mut crc = flate2::Crc::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(crc.sum());
        }
        crc.update(&buf[..n]);
    }
}

/// The member names Ansible reports (`files`, and the owner/group/mode pass): the
/// central directory's, those matching an include pattern (once per pattern that
/// matches), or else those matching no exclude pattern (fnmatch-style).
fn files_in_archive(
    src: &str,
    includes: &[String],
    excludes: &[String],
) -> Result<Vec<String>, String> {
    let names = central_directory(Path::new(src))?;
    let mut files = Vec::new();
    for (name, _) in names {
        if !includes.is_empty() {
            for inc in includes {
                if fnmatch(&name, inc) {
                    files.push(name.clone());
                }
            }
        } else if !excludes.iter().any(|e| fnmatch(&name, e)) {
            files.push(name);
        }
    }
    Ok(files)
}

fn fnmatch(name: &str, pattern: &str) -> bool {
    match glob::Pattern::new(pattern) {
        Ok(p) => p.matches(name),
        Err(_) => name == pattern,
    }
}

/// CP437, the names' encoding unless a member sets the UTF-8 flag: bytes 0x80..0xff.
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";

fn le16(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn le32(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// The members of a zip archive as Python's zipfile reads them: (name, crc32) in
/// central-directory order. The end record is looked for where zipfile looks (the
/// file's last 22 bytes, else its last 64 KiB + 22), a zip64 end record just before
/// it; data before the archive (self-extracting stubs) is allowed for. Names are
/// UTF-8 where flagged, else CP437, cut at a NUL.
pub(super) fn central_directory(path: &Path) -> Result<Vec<(String, u32)>, String> {
    let io = |e: std::io::Error| e.to_string();
    let not_zip = || "File is not a zip file".to_string();
    let mut f = std::fs::File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    if size < 22 {
        return Err(not_zip());
    }
    let tail_start = size.saturating_sub(65536 + 22);
    f.seek(SeekFrom::Start(tail_start)).map_err(io)?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(io)?;
    let last = tail.len() - 22;
    let eocd = if tail[last..].starts_with(b"PK\x05\x06") && tail[tail.len() - 2..] == [0, 0] {
        last
    } else {
        let at = tail
            .windows(4)
            .rposition(|w| w == b"PK\x05\x06")
            .ok_or_else(not_zip)?;
        if tail.len() - at < 22 {
            return Err(not_zip());
        }
        at
    };
    let location = tail_start + eocd as u64;
    let rec = &tail[eocd..eocd + 22];
    let (mut size_cd, mut offset_cd) = (le32(rec, 12), le32(rec, 16));
    let mut concat = location as i128 - size_cd as i128 - offset_cd as i128;
    // zip64: a locator right before the end record, the zip64 end record before it.
    if location >= 20 {
        let mut loc = [0u8; 20];
        f.seek(SeekFrom::Start(location - 20)).map_err(io)?;
        f.read_exact(&mut loc).map_err(io)?;
        if loc.starts_with(b"PK\x06\x07") {
            if le32(&loc, 4) != 0 || le32(&loc, 16) > 1 {
                return Err("zipfiles that span multiple disks are not supported".into());
            }
            if location >= 76 {
                let mut rec64 = [0u8; 56];
                f.seek(SeekFrom::Start(location - 76)).map_err(io)?;
                f.read_exact(&mut rec64).map_err(io)?;
                if rec64.starts_with(b"PK\x06\x06") {
                    size_cd = le64(&rec64, 40);
                    offset_cd = le64(&rec64, 48);
                    concat = location as i128 - size_cd as i128 - offset_cd as i128 - 76;
                }
            }
        }
    }
    let start = offset_cd as i128 + concat;
    if start < 0 {
        return Err("Bad offset for central directory".into());
    }
    f.seek(SeekFrom::Start(start as u64)).map_err(io)?;
    let mut cd = Vec::new();
    f.take(size_cd).read_to_end(&mut cd).map_err(io)?;
    let mut members = Vec::new();
    let mut pos = 0usize;
    while (pos as u64) < size_cd {
        if cd.len() < pos + 46 {
            return Err("Truncated central directory".into());
        }
        let h = &cd[pos..pos + 46];
        if !h.starts_with(b"PK\x01\x02") {
            return Err("Bad magic number for central directory".into());
        }
        let flags = le16(h, 8);
        let crc = le32(h, 16) as u32;
        let (n, m, k) = (
            le16(h, 28) as usize,
            le16(h, 30) as usize,
            le16(h, 32) as usize,
        );
        let raw = &cd[(pos + 46).min(cd.len())..(pos + 46 + n).min(cd.len())];
        let mut name = if flags & 0x800 != 0 {
            String::from_utf8(raw.to_vec()).map_err(|e| {
                format!(
                    "'utf-8' codec can't decode byte in position {}: invalid utf-8",
                    e.utf8_error().valid_up_to()
                )
            })?
        } else {
            raw.iter()
                .map(|&c| {
                    if c < 0x80 {
                        char::from(c)
                    } else {
                        CP437_HIGH.chars().nth(usize::from(c - 0x80)).unwrap_or('?')
                    }
                })
                .collect()
        };
        if let Some(nul) = name.find('\0') {
            name.truncate(nul);
        }
        members.push((name, crc));
        pos += 46 + n + m + k;
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored (uncompressed) zip of `(name bytes, content, utf8 flag)` members,
    /// after `prefix` bytes of other data.
    fn zip_bytes(prefix: &[u8], members: &[(&[u8], &[u8], bool)]) -> Vec<u8> {
        let mut out = prefix.to_vec();
        let mut cd = Vec::new();
        for (name, data, utf8) in members {
            let mut crc = flate2::Crc::new();
            crc.update(data);
            let flags: u16 = if *utf8 { 0x800 } else { 0 };
            let offset = (out.len() - prefix.len()) as u32;
            let common = |v: &mut Vec<u8>| {
                v.extend(20u16.to_le_bytes());
                v.extend(flags.to_le_bytes());
                v.extend(0u16.to_le_bytes()); // stored
                                              // 2020-01-02 03:04:06 as DOS time and date.
                v.extend(((3u16 << 11) | (4 << 5) | 3).to_le_bytes());
                v.extend((((2020u16 - 1980) << 9) | (1 << 5) | 2).to_le_bytes());
                v.extend(crc.sum().to_le_bytes());
                v.extend((data.len() as u32).to_le_bytes());
                v.extend((data.len() as u32).to_le_bytes());
                v.extend((name.len() as u16).to_le_bytes());
                v.extend(0u16.to_le_bytes());
            };
            out.extend(b"PK\x03\x04");
            common(&mut out);
            out.extend(*name);
            out.extend(*data);
            cd.extend(b"PK\x01\x02");
            cd.extend(20u16.to_le_bytes());
            common(&mut cd);
            cd.extend([0u8; 6]); // comment len, disk, internal attrs
            cd.extend(0u32.to_le_bytes());
            cd.extend(offset.to_le_bytes());
            cd.extend(*name);
        }
        let cd_offset = (out.len() - prefix.len()) as u32;
        out.extend(&cd);
        out.extend(b"PK\x05\x06");
        out.extend([0u8; 4]);
        out.extend((members.len() as u16).to_le_bytes());
        out.extend((members.len() as u16).to_le_bytes());
        out.extend((cd.len() as u32).to_le_bytes());
        out.extend(cd_offset.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    #[test]
    fn reads_names_and_crcs_like_python_zipfile() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.zip");
        let members: &[(&[u8], &[u8], bool)] = &[
            (b"top/", b"", false),
            (b"top/\x81ber", b"x", false),
            ("top/é".as_bytes(), b"hello", true),
            (b"cut\0here", b"", false),
        ];
        std::fs::write(&p, zip_bytes(b"#!/bin/sh\nexit 0\n", members)).unwrap();
        let got = central_directory(&p).unwrap();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["top/", "top/über", "top/é", "cut"]);
        assert_eq!(got[2].1, 0x3610a686, "crc32 of 'hello'");
        std::fs::write(dir.path().join("m"), b"hello").unwrap();
        assert_eq!(file_crc32(&dir.path().join("m")).unwrap(), 0x3610a686);
    }

    /// The whole module over a zip the test writes: needs unzip and zipinfo.
    #[test]
    fn extracts_once_then_sees_a_changed_member_in_check_mode() {
        use super::super::run_module;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let members: &[(&[u8], &[u8], bool)] = &[(b"top/", b"", false), (b"top/a", b"a1", false)];
        std::fs::write(d.join("a.zip"), zip_bytes(b"", members)).unwrap();
        std::fs::create_dir(d.join("out")).unwrap();
        let args = json!({"src": d.join("a.zip"), "dest": d.join("out"), "remote_src": true, "list_files": true});
        let call = |check_mode| {
            let ctx = ModuleContext {
                check_mode,
                ..ModuleContext::default()
            };
            run_module("unarchive", args.as_object().unwrap(), &ctx)
        };
        let r = call(false);
        assert_eq!(
            r["changed"],
            json!(true),
            "unzip and zipinfo are needed: {r}"
        );
        assert_eq!(r["handler"], json!("ZipArchive"));
        assert_eq!(r["files"], json!(["top/", "top/a"]));
        assert_eq!(std::fs::read(d.join("out/top/a")).unwrap(), b"a1");
        let r = call(false);
        assert_eq!(r["changed"], json!(false), "{r}");
        assert!(
            r.get("extract_results").is_none() && r.get("diff").is_none(),
            "{r}"
        );
        std::fs::write(d.join("out/top/a"), b"a2").unwrap();
        let r = call(true);
        assert_eq!(r["changed"], json!(true), "{r}");
        assert_eq!(r["diff"]["prepared"], json!(".fc.t....?? top/a\n"), "{r}");
        assert_eq!(std::fs::read(d.join("out/top/a")).unwrap(), b"a2");
    }

    #[test]
    fn a_file_that_is_no_zip_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.zip");
        std::fs::write(&p, "not a zip archive at all\n").unwrap();
        assert_eq!(central_directory(&p).unwrap_err(), "File is not a zip file");
    }

    #[test]
    fn zipinfo_lines_split_like_python() {
        let line = "-rw-r--r--  3.0 unx        2 tx stor 20261123.030349 pkg/doc/a b.txt";
        let f = split8(line).unwrap();
        assert_eq!(f[0], "-rw-r--r--");
        assert_eq!(f[6], "20261123.030349");
        assert_eq!(f[7], "pkg/doc/a b.txt");
        assert!(split8("7 files, 13 bytes uncompressed").is_none());
        assert_eq!(permstr_to_octal("rwxr-xr-x", 0), 0o755);
        assert_eq!(permstr_to_octal("rw-rw-rw-", 0o022), 0o644);
        assert!(valid_permstr("rwsr-xr-T"));
        assert!(!valid_permstr("rwxa---"));
    }
}
