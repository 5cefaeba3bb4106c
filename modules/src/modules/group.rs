//! `group`: create, change the gid of, or remove a local group with groupadd/groupmod/
//! groupdel (or libuser's lgroup* with `local`), as Ansible's Linux group module.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::run::{required_bin, run as run_cmd, Output};
use crate::util::users::group_id;
use serde_json::{json, Map, Value};

pub const SPEC: &[Param] = &[
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["absent", "present"]),
    Param::new("name", Kind::Str).required(),
    Param::new("force", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("gid", Kind::Int),
    Param::new("system", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("local", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("non_unique", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("gid_min", Kind::Int),
    Param::new("gid_max", Kind::Int),
];

const GROUP_FILE: &str = "/etc/group";

struct Group<'a> {
    name: String,
    gid: Option<i64>,
    local: bool,
    non_unique: bool,
    ctx: &'a ModuleContext,
}

fn flag(params: &Map<String, Value>, key: &str) -> bool {
    params.get(key).and_then(Value::as_bool).unwrap_or(false)
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let int = |k: &str| params.get(k).and_then(Value::as_i64);
    if flag(params, "non_unique") && int("gid").is_none() {
        return Err(ModuleFail::msg(
            "non_unique is True but all of the following are missing: gid",
        ));
    }
    let local = flag(params, "local");
    if flag(params, "force") && local {
        return Err(ModuleFail::msg(
            "force is not a valid option for local, force=True and local=True are mutually exclusive",
        ));
    }
    if local && int("gid_min").is_some() {
        return Err(ModuleFail::msg("'gid_min' can not be used with 'local'"));
    }
    if local && int("gid_max").is_some() {
        return Err(ModuleFail::msg("'gid_max' can not be used with 'local'"));
    }
    let g = Group {
        name: params
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        gid: int("gid"),
        local,
        non_unique: flag(params, "non_unique"),
        ctx,
    };
    let state = params
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or("present");
    let system = flag(params, "system");
    let mut r = Map::new();
    r.insert("name".into(), json!(g.name));
    r.insert("state".into(), json!(state));
    let mut outcome: Option<Output> = None;
    if state == "absent" {
        if g.exists()? {
            if ctx.check_mode {
                return Ok(changed_only());
            }
            let mut cmd = vec![g.command("groupdel")?];
            if flag(params, "force") {
                cmd.push("-f".into());
            }
            cmd.push(g.name.clone());
            let o = run_cmd(&cmd, ctx, None)?;
            if o.rc != 0 {
                return Err(ModuleFail::msg(o.err).with("name", json!(g.name)));
            }
            outcome = Some(o);
        }
    } else if !g.exists()? {
        if ctx.check_mode {
            return Ok(changed_only());
        }
        let o = g.add(system, int("gid_min"), int("gid_max"))?;
        if o.rc != 0 {
            return Err(ModuleFail::msg(o.err).with("name", json!(g.name)));
        }
        outcome = Some(o);
    } else if let Some(o) = g.modify()? {
        if o.rc != 0 {
            return Err(ModuleFail::msg(o.err).with("name", json!(g.name)));
        }
        outcome = Some(o);
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
    if g.exists()? {
        if let Some(gid) = group_id(&g.name) {
            r.insert("system".into(), json!(system));
            r.insert("gid".into(), json!(gid));
        }
    }
    Ok(r)
}

/// Check mode's early exit: Ansible returns nothing but `changed`.
fn changed_only() -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("changed".into(), json!(true));
    r
}

impl Group<'_> {
    /// The program, or its libuser twin (`lgroupadd`, ...) with `local`.
    fn command(&self, name: &str) -> Result<String, ModuleFail> {
        if self.local {
            required_bin(&format!("l{name}"), self.ctx)
        } else {
            required_bin(name, self.ctx)
        }
    }

    fn exists(&self) -> Result<bool, ModuleFail> {
        if !self.local {
            return Ok(group_id(&self.name).is_some());
        }
        let content = std::fs::read(GROUP_FILE).map_err(|_| {
            ModuleFail::msg(format!(
                "'local: true' specified but unable to find local group file {GROUP_FILE} to parse."
            ))
        })?;
        let prefix = format!("{}:", self.name);
        Ok(content
            .split(|&b| b == b'\n')
            .any(|line| line.starts_with(prefix.as_bytes())))
    }

    /// With `local`, a gid already held by another group is refused up front.
    fn check_local_gid(&self) -> Result<(), ModuleFail> {
        let Some(gid) = self.gid.filter(|g| self.local && *g != 0) else {
            return Ok(());
        };
        if let Some(owner) = u32::try_from(gid)
            .ok()
            .and_then(crate::util::users::group_name)
        {
            if owner != self.name {
                return Err(ModuleFail::msg(format!(
                    "GID '{gid}' already exists with group '{owner}'"
                )));
            }
        }
        Ok(())
    }

    fn add(
        &self,
        system: bool,
        gid_min: Option<i64>,
        gid_max: Option<i64>,
    ) -> Result<Output, ModuleFail> {
        self.check_local_gid()?;
        let mut cmd = vec![self.command("groupadd")?];
        if let Some(gid) = self.gid {
            cmd.extend(["-g".to_string(), gid.to_string()]);
            if self.non_unique {
                cmd.push("-o".into());
            }
        }
        if system {
            cmd.push("-r".into());
        }
        if let Some(min) = gid_min {
            cmd.extend(["-K".to_string(), format!("GID_MIN={min}")]);
        }
        if let Some(max) = gid_max {
            cmd.extend(["-K".to_string(), format!("GID_MAX={max}")]);
        }
        cmd.push(self.name.clone());
        run_cmd(&cmd, self.ctx, None)
    }

    /// groupmod when the gid differs; None when nothing is to change.
    fn modify(&self) -> Result<Option<Output>, ModuleFail> {
        self.check_local_gid()?;
        let bin = self.command("groupmod")?;
        let current = group_id(&self.name).map(i64::from);
        let Some(gid) = self.gid.filter(|g| Some(*g) != current) else {
            return Ok(None);
        };
        if self.ctx.check_mode {
            return Ok(Some(Output {
                rc: 0,
                out: String::new(),
                err: String::new(),
            }));
        }
        let mut cmd = vec![bin, "-g".into(), gid.to_string()];
        if self.non_unique {
            cmd.push("-o".into());
        }
        cmd.push(self.name.clone());
        run_cmd(&cmd, self.ctx, None).map(Some)
    }
}
