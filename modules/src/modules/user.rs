//! `user` on Linux: useradd/usermod/userdel (and chage) as Ansible's generic `User`
//! class drives them, with its change detection, check mode and result keys.
//! libuser (`local: true`) and ssh keys with a passphrase are not native.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::run::{required_bin, run as run_cmd, Output};
use crate::util::users::{group_id, group_name, local_groups, passwd_entry, PwEntry};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

pub const SPEC: &[Param] = &[
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["absent", "present"]),
    Param::new("name", Kind::Str).required().aliases(&["user"]),
    Param::new("uid", Kind::Int),
    Param::new("non_unique", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("group", Kind::Str),
    Param::new("groups", Kind::List),
    Param::new("comment", Kind::Str),
    Param::new("home", Kind::Path),
    Param::new("shell", Kind::Path),
    Param::new("password", Kind::Str).no_log(),
    Param::new("login_class", Kind::Str),
    Param::new("password_expire_max", Kind::Int),
    Param::new("password_expire_min", Kind::Int),
    Param::new("password_expire_warn", Kind::Int),
    Param::new("hidden", Kind::Bool),
    Param::new("seuser", Kind::Str),
    Param::new("force", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("remove", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("create_home", Kind::Bool)
        .default(ParamDefault::Bool(true))
        .aliases(&["createhome"]),
    Param::new("skeleton", Kind::Str),
    Param::new("system", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("move_home", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("append", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("generate_ssh_key", Kind::Bool),
    Param::new("ssh_key_bits", Kind::Int),
    Param::new("ssh_key_type", Kind::Str).default(ParamDefault::Str("rsa")),
    Param::new("ssh_key_file", Kind::Path),
    Param::new("ssh_key_comment", Kind::Str),
    Param::new("ssh_key_passphrase", Kind::Str).no_log(),
    Param::new("update_password", Kind::Str)
        .default(ParamDefault::Str("always"))
        .choices(&["always", "on_create"]),
    Param::new("expires", Kind::Raw),
    Param::new("password_lock", Kind::Bool),
    Param::new("local", Kind::Bool),
    Param::new("profile", Kind::Str),
    Param::new("authorization", Kind::Str),
    Param::new("role", Kind::Str),
    Param::new("umask", Kind::Str),
    Param::new("password_expire_account_disable", Kind::Int),
    Param::new("uid_min", Kind::Int),
    Param::new("uid_max", Kind::Int),
];

const SHADOW_FILE: &str = "/etc/shadow";
const LOGIN_DEFS: &str = "/etc/login.defs";

struct User<'a> {
    p: &'a Map<String, Value>,
    ctx: &'a ModuleContext,
    name: String,
    /// The `groups` list joined with commas, as Ansible keeps (and reports) it.
    groups: Option<String>,
    /// `expires` as days since the epoch; negative means "never".
    expires: Option<f64>,
    home: Option<String>,
}

fn not_native(what: &str) -> ModuleFail {
    ModuleFail::msg(format!(
        "rsible agent: user with {what} is not implemented natively"
    ))
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let mut u = User::new(params, ctx)?;
    let state = u.str("state").unwrap_or("present").to_string();
    let mut r = Map::new();
    r.insert("name".into(), json!(u.name));
    r.insert("state".into(), json!(state));
    let mut outcome: Option<Output> = None;
    if state == "absent" {
        if u.exists() {
            if ctx.check_mode {
                return Ok(changed_only());
            }
            let o = u.remove()?;
            if o.rc != 0 {
                return Err(fail_with(&u.name, &o));
            }
            r.insert("force".into(), json!(u.flag("force")));
            r.insert("remove".into(), json!(u.flag("remove")));
            outcome = Some(o);
        }
    } else {
        if !u.exists() {
            if ctx.check_mode {
                return Ok(changed_only());
            }
            let needs_parents = match &u.home {
                Some(h) if u.flag("create_home") => {
                    !Path::new(h).parent().is_some_and(Path::is_dir)
                }
                _ => false,
            };
            let o = u.create()?;
            if needs_parents {
                if let (Some(info), Some(home)) = (passwd_entry(&u.name), u.home.clone()) {
                    chown_tree(&home, info.uid, info.gid)?;
                }
            }
            r.insert("system".into(), json!(u.flag("system")));
            r.insert("create_home".into(), json!(u.flag("create_home")));
            outcome = Some(o);
        } else {
            outcome = u.modify()?;
            r.insert("append".into(), json!(u.flag("append")));
            r.insert("move_home".into(), json!(u.flag("move_home")));
        }
        if let Some(o) = outcome.as_ref().filter(|o| o.rc != 0) {
            return Err(fail_with(&u.name, o));
        }
        if u.str("password").is_some() {
            r.insert("password".into(), json!("NOT_LOGGING_PASSWORD"));
        }
    }
    r.insert("changed".into(), json!(outcome.is_some()));
    if let Some(o) = &outcome {
        if !o.out.is_empty() {
            r.insert("stdout".into(), json!(o.out));
        }
        if !o.err.is_empty() {
            r.insert("stderr".into(), json!(o.err));
        }
    }
    if state == "present" {
        if let Some(info) = passwd_entry(&u.name) {
            u.report_present(&info, &mut r)?;
        }
    }
    Ok(r)
}

fn fail_with(name: &str, o: &Output) -> ModuleFail {
    ModuleFail::msg(o.err.clone())
        .with("name", json!(name))
        .with("rc", json!(o.rc))
}

/// Check mode's early exit: Ansible returns nothing but `changed`.
fn changed_only() -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("changed".into(), json!(true));
    r
}

/// The shadow entry fields the module reads: password hash, expiry, min, max, warn.
#[derive(Debug, Default, Clone, PartialEq)]
struct Shadow {
    password: String,
    expire: Option<i64>,
    min: Option<i64>,
    max: Option<i64>,
    warn: Option<i64>,
}

fn shadow_entry(name: &str) -> Option<Shadow> {
    let content = std::fs::read(SHADOW_FILE).ok()?;
    let text = String::from_utf8_lossy(&content);
    let line = text.lines().find(|l| l.split(':').next() == Some(name))?;
    let f: Vec<&str> = line.split(':').collect();
    let num = |i: usize| f.get(i).and_then(|v| v.trim().parse::<i64>().ok());
    Some(Shadow {
        password: f.get(1).unwrap_or(&"").to_string(),
        min: num(3),
        max: num(4),
        warn: num(5),
        expire: num(7),
    })
}

impl<'a> User<'a> {
    fn new(p: &'a Map<String, Value>, ctx: &'a ModuleContext) -> Result<User<'a>, ModuleFail> {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let groups = p.get("groups").and_then(Value::as_array).map(|a| {
            a.iter()
                .map(|g| g.as_str().map_or_else(|| g.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(",")
        });
        let expires = match p.get("expires") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => Some(s.trim().parse::<f64>().map_err(|_| {
                ModuleFail::msg(format!(
                    "argument 'expires' is of type <class 'str'> and we were unable to convert to float: could not convert string to float: '{s}'"
                ))
            })?),
            Some(other) => {
                return Err(ModuleFail::msg(format!(
                    "argument 'expires' is of type {} and we were unable to convert to float",
                    other
                )))
            }
        };
        let u = User {
            p,
            ctx,
            name,
            groups,
            expires,
            home: p.get("home").and_then(Value::as_str).map(str::to_string),
        };
        if u.flag("local") {
            return Err(not_native("local: true (libuser)"));
        }
        if u.str("ssh_key_passphrase").is_some() && u.flag("generate_ssh_key") {
            return Err(not_native("ssh_key_passphrase"));
        }
        Ok(u)
    }

    fn str(&self, k: &str) -> Option<&str> {
        self.p.get(k).and_then(Value::as_str)
    }

    fn int(&self, k: &str) -> Option<i64> {
        self.p.get(k).and_then(Value::as_i64)
    }

    fn flag(&self, k: &str) -> bool {
        self.p.get(k).and_then(Value::as_bool).unwrap_or(false)
    }

    fn exists(&self) -> bool {
        passwd_entry(&self.name).is_some()
    }

    /// `user_info`: the passwd entry with the shadow hash when passwd holds `x`.
    fn info(&self) -> Option<PwEntry> {
        let mut info = passwd_entry(&self.name)?;
        if info.passwd.chars().count() <= 1 {
            info.passwd = shadow_entry(&self.name).unwrap_or_default().password;
        }
        Some(info)
    }

    fn exec(&self, cmd: Vec<String>) -> Result<Output, ModuleFail> {
        if self.ctx.check_mode {
            return Ok(Output {
                rc: 0,
                out: String::new(),
                err: String::new(),
            });
        }
        run_cmd(&cmd, self.ctx, None)
    }

    fn remove(&self) -> Result<Output, ModuleFail> {
        let mut cmd = vec![required_bin("userdel", self.ctx)?];
        if self.flag("force") {
            cmd.push("-f".into());
        }
        if self.flag("remove") {
            cmd.push("-r".into());
        }
        cmd.push(self.name.clone());
        self.exec(cmd)
    }

    /// The requested groups, each checked to exist. With `names_only`, gids are
    /// turned into names; `drop_primary` leaves out the user's own primary group.
    fn groups_set(&self, drop_primary: bool, names_only: bool) -> Result<Vec<String>, ModuleFail> {
        let Some(groups) = &self.groups else {
            return Ok(Vec::new());
        };
        let primary = passwd_entry(&self.name).map(|i| i.gid);
        let mut out = BTreeSet::new();
        for g in groups.split(',').filter(|g| !g.is_empty()).map(str::trim) {
            let Some((gname, gid)) = group_lookup(g) else {
                return Err(ModuleFail::msg(format!("Group {g} does not exist")));
            };
            if drop_primary && primary == Some(gid) {
                continue;
            }
            out.insert(if names_only { gname } else { g.to_string() });
        }
        Ok(out.into_iter().collect())
    }

    fn create(&mut self) -> Result<Output, ModuleFail> {
        let mut cmd = vec![required_bin("useradd", self.ctx)?];
        if let Some(uid) = self.int("uid") {
            cmd.extend(["-u".into(), uid.to_string()]);
            if self.flag("non_unique") {
                cmd.push("-o".into());
            }
        }
        if let Some(se) = self.str("seuser") {
            cmd.extend(["-Z".into(), se.to_string()]);
        }
        if let Some(group) = self.str("group") {
            if group_lookup(group).is_none() {
                return Err(ModuleFail::msg(format!("Group {group} does not exist")));
            }
            cmd.extend(["-g".into(), group.to_string()]);
        } else if group_lookup(&self.name).is_some() {
            // A group named like the user exists: do not create another (-N);
            // Ansible's Red Hat <= 5 and old SUSE branches do not apply to supported hosts.
            cmd.push("-N".into());
        }
        if self.groups.as_deref().is_some_and(|g| !g.is_empty()) {
            let groups = self.groups_set(true, false)?;
            cmd.extend(["-G".into(), groups.join(",")]);
        }
        if let Some(c) = self.str("comment") {
            cmd.extend(["-c".into(), c.to_string()]);
        }
        if let Some(home) = self.home.clone() {
            if self.flag("create_home") && !Path::new(&home).parent().is_some_and(Path::is_dir) {
                self.create_homedir(&home)?;
            }
            cmd.extend(["-d".into(), home]);
        }
        if let Some(s) = self.str("shell") {
            cmd.extend(["-s".into(), s.to_string()]);
        }
        if let Some(e) = self.expires {
            cmd.extend(["-e".into(), expires_date(e)]);
        }
        if let Some(i) = self.int("password_expire_account_disable") {
            cmd.extend(["-f".into(), i.to_string()]);
        }
        if let Some(pw) = self.str("password") {
            cmd.push("-p".into());
            cmd.push(if self.flag("password_lock") {
                format!("!{pw}")
            } else {
                pw.to_string()
            });
        }
        if self.flag("create_home") {
            cmd.push("-m".into());
            if let Some(sk) = self.str("skeleton") {
                cmd.extend(["-k".into(), sk.to_string()]);
            }
            if let Some(um) = self.str("umask") {
                cmd.extend(["-K".into(), format!("UMASK={um}")]);
            }
        } else {
            cmd.push("-M".into());
        }
        if self.flag("system") {
            cmd.push("-r".into());
        }
        if let Some(v) = self.int("uid_min") {
            cmd.extend(["-K".into(), format!("UID_MIN={v}")]);
        }
        if let Some(v) = self.int("uid_max") {
            cmd.extend(["-K".into(), format!("UID_MAX={v}")]);
        }
        cmd.push(self.name.clone());
        self.exec(cmd)
    }

    /// usermod with only what differs; None when the user already matches.
    fn modify(&self) -> Result<Option<Output>, ModuleFail> {
        let usermod = required_bin("usermod", self.ctx)?;
        let Some(info) = self.info() else {
            return Ok(None);
        };
        let has_append = usermod_has_append(&usermod, self.ctx);
        let mut cmd = vec![usermod];
        if let Some(uid) = self.int("uid").filter(|u| *u != i64::from(info.uid)) {
            cmd.extend(["-u".into(), uid.to_string()]);
            if self.flag("non_unique") {
                cmd.push("-o".into());
            }
        }
        if let Some(group) = self.str("group") {
            let Some((_, gid)) = group_lookup(group) else {
                return Err(ModuleFail::msg(format!("Group {group} does not exist")));
            };
            if gid != info.gid {
                cmd.extend(["-g".into(), gid.to_string()]);
            }
        }
        if let Some(groups) = &self.groups {
            self.groups_args(groups, has_append, &mut cmd)?;
        }
        if let Some(c) = self.str("comment").filter(|c| *c != info.gecos) {
            cmd.extend(["-c".into(), c.to_string()]);
        }
        if let Some(h) = self.home.as_deref().filter(|h| *h != info.dir) {
            cmd.extend(["-d".into(), h.to_string()]);
            if self.flag("move_home") {
                cmd.push("-m".into());
            }
        }
        if let Some(s) = self.str("shell").filter(|s| *s != info.shell) {
            cmd.extend(["-s".into(), s.to_string()]);
        }
        if let Some(e) = self.expires {
            // getspnam reads an empty field as -1; no shadow entry at all reads as 0.
            let current = shadow_entry(&self.name).map_or(0, |s| s.expire.unwrap_or(-1));
            if e < 0.0 {
                if current >= 0 {
                    cmd.extend(["-e".into(), String::new()]);
                }
            } else if current < 0 || days_since_epoch(current * 86400) != days_since_epoch(e as i64)
            {
                cmd.extend(["-e".into(), expires_date(e)]);
            }
        }
        if let Some(i) = self.int("password_expire_account_disable") {
            cmd.extend(["-f".into(), i.to_string()]);
        }
        let lock = self.p.get("password_lock").and_then(Value::as_bool);
        if lock == Some(true) && !info.passwd.starts_with('!') {
            cmd.push("-L".into());
        } else if lock == Some(false) && info.passwd.starts_with('!') {
            cmd.push("-U".into());
        }
        if let Some(pw) = self.str("password") {
            if self.str("update_password") == Some("always")
                && info.passwd.trim_start_matches('!') != pw.trim_start_matches('!')
            {
                cmd.retain(|c| c != "-U" && c != "-L");
                cmd.push("-p".into());
                cmd.push(if lock == Some(true) {
                    format!("!{pw}")
                } else {
                    pw.to_string()
                });
            }
        }
        if cmd.len() == 1 {
            return Ok(None);
        }
        cmd.push(self.name.clone());
        self.exec(cmd).map(Some)
    }

    fn groups_args(
        &self,
        groups: &str,
        has_append: bool,
        cmd: &mut Vec<String>,
    ) -> Result<(), ModuleFail> {
        let current: BTreeSet<String> = local_groups()
            .into_iter()
            .filter(|g| g.members.contains(&self.name))
            .map(|g| g.name)
            .collect();
        let append = self.flag("append");
        let mut wanted: Vec<String> = Vec::new();
        let needs_mod = if groups.is_empty() {
            !current.is_empty() && !append
        } else {
            wanted = self.groups_set(false, true)?;
            let wanted_set: BTreeSet<String> = wanted.iter().cloned().collect();
            let diff: BTreeSet<String> =
                current.symmetric_difference(&wanted_set).cloned().collect();
            if diff.is_empty() {
                false
            } else if append {
                let missing = wanted.iter().any(|g| diff.contains(g));
                if missing && has_append {
                    cmd.push("-a".into());
                }
                if missing && !has_append {
                    cmd.extend(["-A".into(), diff.into_iter().collect::<Vec<_>>().join(",")]);
                    return Ok(());
                }
                missing
            } else {
                true
            }
        };
        if needs_mod {
            cmd.extend(["-G".into(), wanted.join(",")]);
        }
        Ok(())
    }

    /// The result keys of an existing user, a missing home made, ssh key, chage.
    fn report_present(
        &mut self,
        info: &PwEntry,
        r: &mut Map<String, Value>,
    ) -> Result<(), ModuleFail> {
        r.insert("uid".into(), json!(info.uid));
        r.insert("group".into(), json!(info.gid));
        r.insert("comment".into(), json!(info.gecos));
        r.insert("home".into(), json!(info.dir));
        r.insert("shell".into(), json!(info.shell));
        if let Some(g) = &self.groups {
            r.insert("groups".into(), json!(g));
        }
        let home = self.home.clone().unwrap_or_else(|| info.dir.clone());
        if !Path::new(&home).exists() && self.flag("create_home") {
            if !self.ctx.check_mode {
                self.create_homedir(&home)?;
                chown_tree(&home, info.uid, info.gid)?;
            }
            r.insert("changed".into(), json!(true));
        }
        if self.flag("generate_ssh_key") {
            self.ssh_key(info, &home, r)?;
        }
        if let Some(o) = self.password_expire()? {
            if o.rc != 0 {
                return Err(fail_with(&self.name, &o));
            }
            r.insert("changed".into(), json!(true));
        }
        Ok(())
    }

    fn password_expire(&self) -> Result<Option<Output>, ModuleFail> {
        // Without a shadow entry Ansible's getspnam fails and nothing is changed.
        let Some(shadow) = shadow_entry(&self.name) else {
            return Ok(None);
        };
        // An empty shadow field reads as -1 through getspnam.
        let differs =
            |want: Option<i64>, have: Option<i64>| want.is_some_and(|w| w != have.unwrap_or(-1));
        let min = self.int("password_expire_min");
        let max = self.int("password_expire_max");
        let warn = self.int("password_expire_warn");
        let mut cmd = vec![];
        if differs(min, shadow.min) {
            cmd.extend(["-m".to_string(), min.unwrap_or_default().to_string()]);
        }
        if differs(max, shadow.max) {
            cmd.extend(["-M".to_string(), max.unwrap_or_default().to_string()]);
        }
        if differs(warn, shadow.warn) {
            cmd.extend(["-W".to_string(), warn.unwrap_or_default().to_string()]);
        }
        if cmd.is_empty() {
            return Ok(None);
        }
        let mut full = vec![required_bin("chage", self.ctx)?];
        full.extend(cmd);
        full.push(self.name.clone());
        self.exec(full).map(Some)
    }

    fn ssh_key(
        &self,
        info: &PwEntry,
        _home: &str,
        r: &mut Map<String, Value>,
    ) -> Result<(), ModuleFail> {
        let ty = self.str("ssh_key_type").unwrap_or("rsa").to_string();
        let file = self
            .str("ssh_key_file")
            .map(str::to_string)
            .unwrap_or_else(|| format!(".ssh/id_{ty}"));
        let key = if Path::new(&file).is_absolute() {
            file
        } else {
            Path::new(&info.dir).join(file).display().to_string()
        };
        let pubfile = format!("{key}.pub");
        let ssh_dir = Path::new(&key).parent().map(Path::to_path_buf);
        let mut generate = true;
        if let Some(dir) = ssh_dir.filter(|d| !d.exists()) {
            if self.ctx.check_mode {
                r.insert("changed".into(), json!(true));
                generate = false;
            } else {
                std::fs::create_dir(&dir)
                    .and_then(|_| {
                        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                    })
                    .and_then(|_| std::os::unix::fs::chown(&dir, Some(info.uid), Some(info.gid)))
                    .map_err(|e| {
                        ModuleFail::msg(format!("Failed to create {}: {e}", dir.display()))
                            .with("name", json!(self.name))
                            .with("rc", json!(1))
                    })?;
            }
        }
        if generate && (Path::new(&key).exists() || Path::new(&pubfile).exists()) {
            if self.flag("force") {
                return Err(not_native(
                    "generate_ssh_key and force over an existing key",
                ));
            }
            generate = false;
        }
        if generate {
            let mut cmd = vec![required_bin("ssh-keygen", self.ctx)?, "-t".into(), ty];
            if let Some(bits) = self.int("ssh_key_bits").filter(|b| *b > 0) {
                cmd.extend(["-b".into(), bits.to_string()]);
            }
            let comment = self
                .str("ssh_key_comment")
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "ansible-generated on {}",
                        super::hostname::kernel_hostname()
                    )
                });
            cmd.extend([
                "-C".into(),
                comment,
                "-f".into(),
                key.clone(),
                "-N".into(),
                String::new(),
            ]);
            let o = self.exec(cmd)?;
            if o.rc != 0 {
                return Err(fail_with(&self.name, &o));
            }
            r.insert("changed".into(), json!(true));
            if !self.ctx.check_mode {
                for f in [&key, &pubfile] {
                    let _ = std::os::unix::fs::chown(f, Some(info.uid), Some(info.gid));
                }
            }
        }
        let fingerprint = if Path::new(&key).exists() {
            let o = run_cmd(
                &[
                    required_bin("ssh-keygen", self.ctx)?,
                    "-l".into(),
                    "-f".into(),
                    key.clone(),
                ],
                self.ctx,
                None,
            )?;
            if o.rc == 0 {
                o.out
            } else {
                o.err
            }
        } else {
            format!("SSH Key file {key} does not exist")
        };
        r.insert("ssh_fingerprint".into(), json!(fingerprint.trim()));
        r.insert("ssh_key_file".into(), json!(key));
        let public = std::fs::read_to_string(&pubfile)
            .ok()
            .map(|s| s.trim().to_string());
        r.insert("ssh_public_key".into(), json!(public));
        Ok(())
    }

    /// A home directory from the skeleton (or empty), with login.defs' mode.
    fn create_homedir(&self, path: &str) -> Result<(), ModuleFail> {
        let home = Path::new(path);
        if home.exists() {
            return Ok(());
        }
        let skeleton = self.str("skeleton").unwrap_or("/etc/skel");
        let made = if Path::new(skeleton).exists() && skeleton != "/dev/null" {
            copy_tree(Path::new(skeleton), home)
        } else {
            std::fs::create_dir_all(home)
        };
        made.map_err(|e| ModuleFail::msg(e.to_string()))?;
        if let Some(mode) = home_mode() {
            std::fs::set_permissions(home, std::fs::Permissions::from_mode(mode))
                .map_err(|e| ModuleFail::msg(e.to_string()))?;
        }
        Ok(())
    }
}

/// `grp.getgrgid(int(g))` then `grp.getgrnam(g)`: the group's name and gid.
fn group_lookup(g: &str) -> Option<(String, u32)> {
    if let Ok(gid) = g.trim().parse::<u32>() {
        if let Some(name) = group_name(gid) {
            return Some((name, gid));
        }
    }
    group_id(g).map(|gid| (g.to_string(), gid))
}

/// Whether `usermod --help` lists `-a, --append` (Ansible asks even in check mode).
fn usermod_has_append(usermod: &str, ctx: &ModuleContext) -> bool {
    run_cmd(&[usermod.to_string(), "--help".into()], ctx, None)
        .map(|o| {
            format!("{}{}", o.out, o.err)
                .lines()
                .any(|l| l.trim().starts_with("-a, --append"))
        })
        .unwrap_or(false)
}

/// The mode login.defs gives new homes: HOME_MODE wins, else 0777 & ~UMASK, else 0755;
/// None without login.defs (the directory keeps the mode it was made with).
fn home_mode() -> Option<u32> {
    let text = std::fs::read_to_string(LOGIN_DEFS).ok()?;
    let mut mode = 0o755;
    let digits = |v: &str| {
        let v = v.trim_start();
        (!v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
            .then(|| u32::from_str_radix(v, 8).ok())
            .flatten()
    };
    for line in text.lines() {
        if let Some(m) = line
            .strip_prefix("HOME_MODE")
            .filter(|r| r.starts_with([' ', '\t']))
            .and_then(digits)
        {
            return Some(m);
        }
        if let Some(u) = line
            .strip_prefix("UMASK")
            .filter(|r| r.starts_with([' ', '\t']))
            .and_then(digits)
        {
            mode = 0o777 & !u;
        }
    }
    Some(mode)
}

/// `time.strftime('%Y-%m-%d', time.gmtime(expires))`, or '' for a negative value.
fn expires_date(expires: f64) -> String {
    if expires < 0.0 {
        return String::new();
    }
    let day = crate::util::pytime::utc_time(UNIX_EPOCH + Duration::from_secs(expires as u64));
    format!("{:04}-{:02}-{:02}", day.year, day.month, day.day)
}

fn days_since_epoch(secs: i64) -> i64 {
    secs.div_euclid(86400)
}

/// `shutil.copytree(src, dst, symlinks=True)`: symlinks copied as links, files with
/// their modes, directories created.
fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    let meta = std::fs::metadata(src)?;
    std::fs::set_permissions(dst, meta.permissions())?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let ft = entry.file_type()?;
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else if ft.is_dir() {
            copy_tree(&from, &to)?;
        } else {
            std::fs::copy(&from, &to)?;
        }
    }
    Ok(())
}

/// chown a home and everything below it (symlinks followed, as os.chown does).
fn chown_tree(path: &str, uid: u32, gid: u32) -> Result<(), ModuleFail> {
    fn walk(p: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
        std::os::unix::fs::chown(p, Some(uid), Some(gid))?;
        if std::fs::symlink_metadata(p)?.is_dir() {
            for e in std::fs::read_dir(p)? {
                walk(&e?.path(), uid, gid)?;
            }
        }
        Ok(())
    }
    walk(Path::new(path), uid, gid).map_err(|e| ModuleFail::msg(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_dates_are_utc_calendar_days() {
        assert_eq!(expires_date(0.0), "1970-01-01");
        assert_eq!(expires_date(1_700_000_000.0), "2023-11-14");
        assert_eq!(expires_date(951_782_400.0), "2000-02-29");
        assert_eq!(expires_date(-1.0), "");
    }

    #[test]
    fn root_exists_and_missing_groups_are_refused() {
        let p = serde_json::from_value::<Map<String, Value>>(json!({
            "name": "rsible-no-such-user", "groups": ["rsible-no-such-group"]
        }))
        .unwrap();
        let ctx = ModuleContext::default();
        let u = User::new(&p, &ctx).unwrap();
        assert!(!u.exists());
        let e = u.groups_set(true, false).unwrap_err();
        assert_eq!(
            e.0["msg"],
            json!("Group rsible-no-such-group does not exist")
        );
        assert_eq!(group_lookup("0"), Some(("root".to_string(), 0)));
    }
}
