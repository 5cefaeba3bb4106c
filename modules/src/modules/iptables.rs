//! `iptables`: one rule, a chain's policy, a flush or a chain, managed with the
//! `iptables`/`ip6tables` binaries exactly as ansible-core 2.18's module builds its
//! command lines (`-C` to test, `-A`/`-I`/`-D`, `-F`, `-P`, `-L`, `-N`, `-X`).

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::run::{check_rc, required_bin, run};
use regex::Regex;
use serde_json::{json, Map, Value};

pub const SPEC: &[Param] = &[
    Param::new("table", Kind::Str)
        .default(ParamDefault::Str("filter"))
        .choices(&["filter", "nat", "mangle", "raw", "security"]),
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["absent", "present"]),
    Param::new("action", Kind::Str)
        .default(ParamDefault::Str("append"))
        .choices(&["append", "insert"]),
    Param::new("ip_version", Kind::Str)
        .default(ParamDefault::Str("ipv4"))
        .choices(&["ipv4", "ipv6"]),
    Param::new("chain", Kind::Str),
    Param::new("rule_num", Kind::Str),
    Param::new("protocol", Kind::Str),
    Param::new("wait", Kind::Str),
    Param::new("source", Kind::Str),
    Param::new("to_source", Kind::Str),
    Param::new("destination", Kind::Str),
    Param::new("to_destination", Kind::Str),
    Param::new("match", Kind::List).default(ParamDefault::List(&[])),
    Param::new("tcp_flags", Kind::Raw),
    Param::new("jump", Kind::Str),
    Param::new("gateway", Kind::Str),
    Param::new("log_prefix", Kind::Str),
    Param::new("log_level", Kind::Str).choices(&[
        "0", "1", "2", "3", "4", "5", "6", "7", "emerg", "alert", "crit", "error", "warning",
        "notice", "info", "debug",
    ]),
    Param::new("goto", Kind::Str),
    Param::new("in_interface", Kind::Str),
    Param::new("out_interface", Kind::Str),
    Param::new("fragment", Kind::Str),
    Param::new("set_counters", Kind::Str),
    Param::new("source_port", Kind::Str),
    Param::new("destination_port", Kind::Str),
    Param::new("destination_ports", Kind::List).default(ParamDefault::List(&[])),
    Param::new("to_ports", Kind::Str),
    Param::new("set_dscp_mark", Kind::Str),
    Param::new("set_dscp_mark_class", Kind::Str),
    Param::new("comment", Kind::Str),
    Param::new("ctstate", Kind::List).default(ParamDefault::List(&[])),
    Param::new("src_range", Kind::Str),
    Param::new("dst_range", Kind::Str),
    Param::new("match_set", Kind::Str),
    Param::new("match_set_flags", Kind::Str)
        .choices(&["src", "dst", "src,dst", "dst,src", "src,src", "dst,dst"]),
    Param::new("limit", Kind::Str),
    Param::new("limit_burst", Kind::Str),
    Param::new("uid_owner", Kind::Str),
    Param::new("gid_owner", Kind::Str),
    Param::new("reject_with", Kind::Str),
    Param::new("icmp_type", Kind::Str),
    Param::new("syn", Kind::Str)
        .default(ParamDefault::Str("ignore"))
        .choices(&["ignore", "match", "negate"]),
    Param::new("flush", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("policy", Kind::Str).choices(&["ACCEPT", "DROP", "QUEUE", "RETURN"]),
    Param::new("chain_management", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("numeric", Kind::Bool).default(ParamDefault::Bool(false)),
];

/// The module's parameters, read once.
struct Params<'a>(&'a Map<String, Value>);

impl Params<'_> {
    fn s(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(Value::as_str)
    }
    fn list(&self, k: &str) -> Vec<String> {
        super::args::str_list(self.0, k)
    }
    fn b(&self, k: &str) -> bool {
        self.0.get(k).and_then(Value::as_bool).unwrap_or(false)
    }
}

/// `append_param`: `flag value`, or `! flag value` for a value starting with `!`.
fn param(rule: &mut Vec<String>, value: Option<&str>, flag: &str) {
    let Some(v) = value else { return };
    match v.strip_prefix('!') {
        Some(rest) => rule.extend(["!".into(), flag.into(), rest.into()]),
        None => rule.extend([flag.into(), v.into()]),
    }
}

fn match_flag(rule: &mut Vec<String>, value: Option<&str>, flag: &str, negatable: bool) {
    match value {
        Some("match") => rule.push(flag.into()),
        Some("negate") if negatable => rule.extend(["!".into(), flag.into()]),
        _ => {}
    }
}

fn csv(rule: &mut Vec<String>, values: &[String], flag: &str) {
    if !values.is_empty() {
        rule.extend([flag.into(), values.join(",")]);
    }
}

fn add_match(rule: &mut Vec<String>, wanted: bool, name: &str) {
    if wanted {
        rule.extend(["-m".into(), name.into()]);
    }
}

fn jump(rule: &mut Vec<String>, wanted: bool, target: &str) {
    if wanted {
        rule.extend(["-j".into(), target.into()]);
    }
}

/// Python truthiness of an optional string parameter.
fn set(v: Option<&str>) -> bool {
    v.is_some_and(|s| !s.is_empty())
}

/// `construct_rule`: the rule's arguments in the module's order.
fn construct_rule(p: &Params, jump_override: Option<&str>) -> Vec<String> {
    let mut r = Vec::new();
    let jump_param = jump_override.or(p.s("jump"));
    if let Some(w) = p.s("wait").filter(|w| !w.is_empty()) {
        r.extend(["-w".into(), w.into()]);
    }
    param(&mut r, p.s("protocol"), "-p");
    param(&mut r, p.s("source"), "-s");
    param(&mut r, p.s("destination"), "-d");
    let matches = p.list("match");
    for m in &matches {
        param(&mut r, Some(m), "-m");
    }
    if let Some(flags) = p.0.get("tcp_flags").and_then(Value::as_object) {
        let join = |k: &str| {
            flags.get(k).and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(",")
            })
        };
        if let (Some(f), Some(s)) = (join("flags"), join("flags_set")) {
            r.extend(["--tcp-flags".into(), f, s]);
        }
    }
    param(&mut r, jump_param, "-j");
    if jump_param.is_some_and(|j| j.eq_ignore_ascii_case("tee")) {
        param(&mut r, p.s("gateway"), "--gateway");
    }
    param(&mut r, p.s("log_prefix"), "--log-prefix");
    param(&mut r, p.s("log_level"), "--log-level");
    param(&mut r, p.s("to_destination"), "--to-destination");
    let dports = p.list("destination_ports");
    add_match(&mut r, !dports.is_empty(), "multiport");
    csv(&mut r, &dports, "--dports");
    param(&mut r, p.s("to_source"), "--to-source");
    param(&mut r, p.s("goto"), "-g");
    param(&mut r, p.s("in_interface"), "-i");
    param(&mut r, p.s("out_interface"), "-o");
    param(&mut r, p.s("fragment"), "-f");
    param(&mut r, p.s("set_counters"), "-c");
    param(&mut r, p.s("source_port"), "--source-port");
    param(&mut r, p.s("destination_port"), "--destination-port");
    param(&mut r, p.s("to_ports"), "--to-ports");
    param(&mut r, p.s("set_dscp_mark"), "--set-dscp");
    let not_dscp_jump = !jump_param.unwrap_or_default().eq_ignore_ascii_case("dscp");
    if set(p.s("set_dscp_mark")) && not_dscp_jump {
        jump(&mut r, true, "DSCP");
    }
    param(&mut r, p.s("set_dscp_mark_class"), "--set-dscp-class");
    if set(p.s("set_dscp_mark_class")) && not_dscp_jump {
        jump(&mut r, true, "DSCP");
    }
    match_flag(&mut r, p.s("syn"), "--syn", true);
    let ctstate = p.list("ctstate");
    let has = |m: &str| matches.iter().any(|x| x == m);
    if has("conntrack") {
        csv(&mut r, &ctstate, "--ctstate");
    } else if has("state") {
        csv(&mut r, &ctstate, "--state");
    } else if !ctstate.is_empty() {
        add_match(&mut r, true, "conntrack");
        csv(&mut r, &ctstate, "--ctstate");
    }
    let (src_range, dst_range) = (p.s("src_range"), p.s("dst_range"));
    if has("iprange") {
        param(&mut r, src_range, "--src-range");
        param(&mut r, dst_range, "--dst-range");
    } else if set(src_range) || set(dst_range) {
        add_match(&mut r, true, "iprange");
        param(&mut r, src_range, "--src-range");
        param(&mut r, dst_range, "--dst-range");
    }
    let match_set = p.s("match_set");
    if has("set") {
        param(&mut r, match_set, "--match-set");
        match_flag(
            &mut r,
            Some("match"),
            p.s("match_set_flags").unwrap_or_default(),
            false,
        );
    } else if set(match_set) {
        add_match(&mut r, true, "set");
        param(&mut r, match_set, "--match-set");
        match_flag(
            &mut r,
            Some("match"),
            p.s("match_set_flags").unwrap_or_default(),
            false,
        );
    }
    add_match(
        &mut r,
        set(p.s("limit")) || set(p.s("limit_burst")),
        "limit",
    );
    param(&mut r, p.s("limit"), "--limit");
    param(&mut r, p.s("limit_burst"), "--limit-burst");
    for (key, flag) in [("uid_owner", "--uid-owner"), ("gid_owner", "--gid-owner")] {
        let v = p.s(key);
        add_match(&mut r, set(v), "owner");
        match_flag(&mut r, v, flag, true);
        param(&mut r, v, flag);
    }
    if jump_param.is_none() {
        jump(&mut r, set(p.s("reject_with")), "REJECT");
        jump(&mut r, set(p.s("set_dscp_mark_class")), "DSCP");
        jump(&mut r, set(p.s("set_dscp_mark")), "DSCP");
    }
    param(&mut r, p.s("reject_with"), "--reject-with");
    let icmp_flag = if p.s("ip_version") == Some("ipv6") {
        "--icmpv6-type"
    } else {
        "--icmp-type"
    };
    param(&mut r, p.s("icmp_type"), icmp_flag);
    add_match(&mut r, set(p.s("comment")), "comment");
    param(&mut r, p.s("comment"), "--comment");
    r
}

/// The module's cross-parameter checks, in the order Ansible's validator makes them.
fn check_parameters(p: &Params) -> Result<(), ModuleFail> {
    let given = |k: &str| p.0.get(k).is_some_and(|v| !v.is_null());
    for group in [
        ["set_dscp_mark", "set_dscp_mark_class"],
        ["flush", "policy"],
    ] {
        // `flush` always has a value once defaulted: Ansible checks what the user gave.
        let count = group
            .iter()
            .filter(|k| {
                p.0.get(**k)
                    .is_some_and(|v| !v.is_null() && *v != json!(false))
            })
            .count();
        if count > 1 {
            return Err(ModuleFail::msg(format!(
                "parameters are mutually exclusive: {}",
                group.join("|")
            )));
        }
    }
    for tee in ["TEE", "tee"] {
        if p.s("jump") == Some(tee) && !given("gateway") {
            return Err(ModuleFail::msg(format!(
                "jump is {tee} but all of the following are missing: gateway"
            )));
        }
    }
    if !p.b("flush") && !given("chain") {
        return Err(ModuleFail::msg(
            "flush is False but all of the following are missing: chain",
        ));
    }
    for key in ["set_dscp_mark", "set_dscp_mark_class"] {
        if given(key) && !given("jump") {
            return Err(ModuleFail::msg(format!(
                "missing parameter(s) required by '{key}': jump"
            )));
        }
    }
    Ok(())
}

struct Iptables<'a> {
    ctx: &'a ModuleContext,
    bin: String,
    table: String,
    chain: Option<String>,
    numeric: bool,
}

impl Iptables<'_> {
    /// `push_arguments`: binary, table, action and chain (a missing chain is left out,
    /// as run_command drops None arguments).
    fn base(&self, action: &str) -> Vec<String> {
        let mut cmd = vec![
            self.bin.clone(),
            "-t".into(),
            self.table.clone(),
            action.into(),
        ];
        cmd.extend(self.chain.clone());
        cmd
    }

    fn checked(&self, cmd: Vec<String>) -> Result<String, ModuleFail> {
        let o = run(&cmd, self.ctx, None)?;
        check_rc(&cmd, &o)?;
        Ok(o.out)
    }

    fn succeeds(&self, cmd: Vec<String>) -> Result<bool, ModuleFail> {
        Ok(run(&cmd, self.ctx, None)?.rc == 0)
    }

    fn list_cmd(&self) -> Vec<String> {
        let mut cmd = self.base("-L");
        if self.numeric {
            cmd.push("--numeric".into());
        }
        cmd
    }
}

pub fn run_module(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let p = Params(params);
    check_parameters(&p)?;
    let rule = construct_rule(&p, None);
    let state = p.s("state").unwrap_or("present").to_string();
    let mut result = Map::new();
    result.insert("changed".into(), json!(false));
    // The module returns `failed: false` too; Ansible's result processing drops it.
    result.insert("ip_version".into(), json!(p.s("ip_version")));
    result.insert("table".into(), json!(p.s("table")));
    result.insert("chain".into(), json!(p.s("chain")));
    result.insert("flush".into(), json!(p.b("flush")));
    result.insert("rule".into(), json!(rule.join(" ")));
    result.insert("state".into(), json!(state));
    result.insert("chain_management".into(), json!(p.b("chain_management")));

    let binary = if p.s("ip_version") == Some("ipv6") {
        "ip6tables"
    } else {
        "iptables"
    };
    let bin = required_bin(binary, ctx)?;
    // Logging options imply the LOG target.
    let mut jump_override = None;
    if set(p.s("log_prefix")) || set(p.s("log_level")) {
        match p.s("jump") {
            None => jump_override = Some("LOG"),
            Some("LOG") => {}
            Some(_) => {
                return Err(ModuleFail::msg(
                    "Logging options can only be used with the LOG jump target.",
                ))
            }
        }
    }
    let ipt = Iptables {
        ctx,
        bin: bin.clone(),
        table: p.s("table").unwrap_or("filter").to_string(),
        chain: p.s("chain").map(str::to_string),
        numeric: p.b("numeric"),
    };
    // The version decides whether `-w` takes seconds; every iptables since 1.6 does.
    let version_cmd = vec![bin.clone(), "--version".into()];
    let version = ipt.checked(version_cmd)?;
    let wait_blanked = version_before(&version, (1, 6, 0));
    let wait_dropped = version_before(&version, (1, 4, 20));
    let mut effective = params.clone();
    if wait_dropped {
        effective.insert("wait".into(), Value::Null);
    } else if wait_blanked {
        effective.insert("wait".into(), json!(""));
    }
    let eff = Params(&effective);
    let rule_now = || construct_rule(&eff, jump_override);

    if p.b("flush") {
        result.insert("changed".into(), json!(true));
        if !ctx.check_mode {
            ipt.checked(ipt.base("-F"))?;
        }
    } else if let Some(policy) = p.s("policy") {
        let out = ipt.checked(ipt.list_cmd())?;
        let header = out.split('\n').next().unwrap_or_default();
        let current = Regex::new(r"\(policy ([A-Z]+)\)")
            .ok()
            .and_then(|re| re.captures(header).map(|c| c[1].to_string()));
        let Some(current) = current else {
            return Err(ModuleFail::msg("Can't detect current policy"));
        };
        let changed = current != policy;
        result.insert("changed".into(), json!(changed));
        if changed && !ctx.check_mode {
            let mut cmd = ipt.base("-P");
            cmd.push(policy.to_string());
            ipt.checked(cmd)?;
        }
    } else if rule.is_empty() {
        let present = ipt.succeeds(ipt.list_cmd())?;
        let manage = p.b("chain_management") && !ctx.check_mode;
        if state == "absent" {
            result.insert("changed".into(), json!(present));
            if present && manage {
                ipt.checked(ipt.base("-X"))?;
            }
        } else {
            result.insert("changed".into(), json!(!present));
            if !present && manage {
                ipt.checked(ipt.base("-N"))?;
            }
        }
    } else {
        let mut check = ipt.base("-C");
        check.extend(rule_now());
        let present = ipt.succeeds(check)?;
        let should = state == "present";
        let changed = present != should;
        result.insert("changed".into(), json!(changed));
        if changed && !ctx.check_mode {
            let action = match (should, p.s("action")) {
                (false, _) => "-D",
                (true, Some("insert")) => "-I",
                (true, _) => "-A",
            };
            let mut cmd = ipt.base(action);
            if action == "-I" {
                if let Some(n) = p.s("rule_num").filter(|n| !n.is_empty()) {
                    cmd.push(n.to_string());
                }
            }
            cmd.extend(rule_now());
            ipt.checked(cmd)?;
        }
    }
    Ok(result)
}

/// Whether `iptables --version` output (`iptables v1.8.9 (nf_tables)`) names a version
/// older than `min` (LooseVersion's numeric comparison).
fn version_before(output: &str, min: (u64, u64, u64)) -> bool {
    let text = output.split('v').nth(1).unwrap_or_default();
    let nums: Vec<u64> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(3)
        .filter_map(|s| s.parse().ok())
        .collect();
    let get = |i: usize| nums.get(i).copied().unwrap_or(0);
    (get(0), get(1), get(2)) < min
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: Value) -> String {
        let mut m = v.as_object().cloned().unwrap();
        for k in ["match", "destination_ports", "ctstate"] {
            m.entry(k).or_insert(json!([]));
        }
        m.entry("syn").or_insert(json!("ignore"));
        m.entry("ip_version").or_insert(json!("ipv4"));
        construct_rule(&Params(&m), None).join(" ")
    }

    #[test]
    fn rules_are_built_in_the_modules_order() {
        assert_eq!(
            rule(json!({"protocol": "tcp", "destination_port": "22", "ctstate": ["NEW", "ESTABLISHED"], "jump": "ACCEPT", "comment": "ssh"})),
            "-p tcp -j ACCEPT --destination-port 22 -m conntrack --ctstate NEW,ESTABLISHED -m comment --comment ssh"
        );
        assert_eq!(
            rule(json!({"source": "!10.0.0.0/8", "reject_with": "tcp-reset"})),
            "! -s 10.0.0.0/8 -j REJECT --reject-with tcp-reset"
        );
        assert!(version_before("iptables v1.4.7\n", (1, 6, 0)));
        assert!(!version_before("iptables v1.8.9 (nf_tables)\n", (1, 6, 0)));
    }
}
