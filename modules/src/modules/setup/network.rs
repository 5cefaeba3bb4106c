//! `network` on Linux, as Ansible gathers it: interfaces from /sys/class/net,
//! addresses from `ip addr show primary|secondary`, the default IPv4/IPv6
//! interface from `ip route get` towards a public address; plus the
//! fibre_channel_wwn, iscsi and nvme collectors. `ip`'s answers are asked over
//! netlink (netlink.rs) and `ip` runs only where that fails; as in Ansible,
//! without an `ip` program there are no network facts.

use super::netlink;
use super::util::{file_content, file_lines, Programs};
use super::{Facts, Gather};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

const V4_PROBE: &str = "8.8.8.8";
const V6_PROBE: &str = "2404:6800:400a:800::1012";

pub fn collect(g: &Gather) -> Facts {
    let mut f = Facts::new();
    let Some(ip) = g.programs.find("ip") else {
        return f;
    };
    let ip = Ip {
        program: &ip,
        programs: g.programs,
    };
    let mut default_v4 = default_route(&ip, "-4", V4_PROBE);
    let mut default_v6 = default_route(&ip, "-6", V6_PROBE);
    let (interfaces, all_v4, all_v6) = interfaces_info(&ip, &mut default_v4, &mut default_v6);
    f.insert(
        "interfaces".into(),
        Value::Array(interfaces.iter().map(|(k, _)| json!(k)).collect()),
    );
    for (name, info) in interfaces {
        f.insert(name, Value::Object(info));
    }
    f.insert("default_ipv4".into(), Value::Object(default_v4));
    f.insert("default_ipv6".into(), Value::Object(default_v6));
    f.insert("all_ipv4_addresses".into(), json!(all_v4));
    f.insert("all_ipv6_addresses".into(), json!(all_v6));
    f.insert("locally_reachable_ips".into(), locally_reachable(&ip));
    f
}

/// The `ip` program found for this gathering, for where netlink fails.
struct Ip<'a> {
    program: &'a Path,
    programs: &'a Programs<'a>,
}

impl Ip<'_> {
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.programs.run(self.program, args)
    }
}

fn default_route(ip: &Ip, family: &str, probe: &str) -> Map<String, Value> {
    let out = match netlink::route_get(probe) {
        Some(line) => line,
        None => ip.run(&[family, "route", "get", probe]).1,
    };
    route_facts(&out, probe)
}

/// What Ansible reads from `ip route get`'s first line: interface, address, gateway.
fn route_facts(out: &str, probe: &str) -> Map<String, Value> {
    let mut m = Map::new();
    let Some(first) = out.lines().next() else {
        return m;
    };
    let words: Vec<&str> = first.split_whitespace().collect();
    if words.first() != Some(&probe) {
        return m;
    }
    for i in 0..words.len().saturating_sub(1) {
        match words[i] {
            "dev" => {
                m.insert("interface".into(), json!(words[i + 1]));
            }
            "src" => {
                m.insert("address".into(), json!(words[i + 1]));
            }
            "via" if words[i + 1] != probe => {
                m.insert("gateway".into(), json!(words[i + 1]));
            }
            _ => {}
        }
    }
    m
}

fn locally_reachable(ip: &Ip) -> Value {
    let mut v4: Vec<String> = Vec::new();
    let mut v6: Vec<String> = Vec::new();
    for family in ["-4", "-6"] {
        let lines = match netlink::local_routes(family == "-6") {
            Some(lines) => lines,
            None => match ip.run(&[family, "route", "show", "table", "local"]) {
                (0, out, _) => out.lines().map(str::to_string).collect(),
                _ => continue,
            },
        };
        for line in &lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.len() < 2 || words[0] != "local" {
                continue;
            }
            let list = if words[1].contains(':') {
                &mut v6
            } else {
                &mut v4
            };
            if !list.iter().any(|a| a == words[1]) {
                list.push(words[1].to_string());
            }
        }
    }
    json!({"ipv4": v4, "ipv6": v6})
}

/// `ip addr show` output cut into each device's lines (the header names it).
fn sections(text: &str) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            // "4: eth0: <...>" or "5: veth0@if4: <...>"
            let name = line
                .split(':')
                .nth(1)
                .map(|n| n.trim().split('@').next().unwrap_or("").to_string());
            current = name;
            continue;
        }
        if let Some(dev) = &current {
            out.entry(dev.clone()).or_default().push(line.to_string());
        }
    }
    out
}

const INTERFACE_TYPE: &[(&str, &str)] = &[
    ("1", "ether"),
    ("32", "infiniband"),
    ("512", "ppp"),
    ("772", "loopback"),
    ("65534", "tunnel"),
];

type Interfaces = Vec<(String, Map<String, Value>)>;

fn entry<'a>(list: &'a mut Interfaces, name: &str) -> &'a mut Map<String, Value> {
    if let Some(pos) = list.iter().position(|(n, _)| n == name) {
        return &mut list[pos].1;
    }
    list.push((name.to_string(), Map::new()));
    let last = list.len() - 1;
    &mut list[last].1
}

fn interfaces_info(
    ip: &Ip,
    default_v4: &mut Map<String, Value>,
    default_v6: &mut Map<String, Value>,
) -> (Interfaces, Vec<String>, Vec<String>) {
    let mut interfaces: Interfaces = Vec::new();
    let mut all_v4 = Vec::new();
    let mut all_v6 = Vec::new();
    let listing = |which: &str| {
        netlink::addresses(which == "secondary")
            .unwrap_or_else(|| sections(&ip.run(&["addr", "show", which]).1))
    };
    let primary = listing("primary");
    let secondary = listing("secondary");
    // /sys/class/net in directory order, as Python's glob lists it.
    let devices: Vec<PathBuf> = std::fs::read_dir("/sys/class/net")
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    let mut macaddress = String::new();
    for path in devices {
        if !path.is_dir() {
            continue;
        }
        let device = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        {
            let d = entry(&mut interfaces, &device);
            *d = Map::new();
            d.insert("device".into(), json!(device));
        }
        read_sysfs(&path, &device, &mut interfaces, &mut macaddress);
        let ctx = AddrCtx {
            device: &device,
            macaddress: &macaddress,
        };
        if let Some(lines) = primary.get(&device) {
            parse_ip_output(
                &ctx,
                lines,
                false,
                &mut interfaces,
                default_v4,
                default_v6,
                &mut all_v4,
                &mut all_v6,
            );
        }
        if let Some(lines) = secondary.get(&device) {
            parse_ip_output(
                &ctx,
                lines,
                true,
                &mut interfaces,
                default_v4,
                default_v6,
                &mut all_v4,
                &mut all_v6,
            );
        }
        let ethtool = ethtool_data(ip.programs, &device);
        entry(&mut interfaces, &device).extend(ethtool);
    }
    let renamed = interfaces
        .into_iter()
        .map(|(k, v)| (k.replace(':', "_"), v))
        .collect();
    (renamed, all_v4, all_v6)
}

fn read_sysfs(path: &Path, device: &str, interfaces: &mut Interfaces, macaddress: &mut String) {
    let d = entry(interfaces, device);
    if path.join("address").exists() {
        *macaddress = file_content(path.join("address")).unwrap_or_default();
        if !macaddress.is_empty() && macaddress != "00:00:00:00:00:00" {
            d.insert("macaddress".into(), json!(macaddress));
        }
    }
    if let Some(mtu) = file_content(path.join("mtu")).and_then(|m| m.parse::<i64>().ok()) {
        d.insert("mtu".into(), json!(mtu));
    }
    if let Some(state) = file_content(path.join("operstate")) {
        d.insert("active".into(), json!(state != "down"));
    }
    // realpath's last component; the kernel follows the links on the way.
    let module_link = path.join("device/driver/module");
    let module = std::fs::read_link(&module_link)
        .or_else(|_| std::fs::canonicalize(&module_link).map(|_| module_link.clone()));
    if let Ok(module) = module {
        if let Some(name) = module.file_name() {
            d.insert("module".into(), json!(name.to_string_lossy()));
        }
    }
    if let Some(t) = file_content(path.join("type")) {
        let kind = INTERFACE_TYPE
            .iter()
            .find(|(k, _)| *k == t)
            .map(|(_, v)| *v)
            .unwrap_or("unknown");
        d.insert("type".into(), json!(kind));
    }
    if path.join("bridge").exists() {
        d.insert("type".into(), json!("bridge"));
        let mut members: Vec<String> = std::fs::read_dir(path.join("brif"))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        members.sort();
        d.insert("interfaces".into(), json!(members));
        if path.join("bridge/bridge_id").exists() {
            d.insert(
                "id".into(),
                json!(file_content(path.join("bridge/bridge_id")).unwrap_or_default()),
            );
        }
        if path.join("bridge/stp_state").exists() {
            d.insert(
                "stp".into(),
                json!(file_content(path.join("bridge/stp_state")).as_deref() == Some("1")),
            );
        }
    }
    if path.join("bonding").exists() {
        let first = |f: &str| {
            file_content(path.join("bonding").join(f))
                .unwrap_or_default()
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string()
        };
        d.insert("type".into(), json!("bonding"));
        let slaves: Vec<String> = file_content(path.join("bonding/slaves"))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        d.insert("slaves".into(), json!(slaves));
        d.insert("mode".into(), json!(first("mode")));
        d.insert("miimon".into(), json!(first("miimon")));
        d.insert("lacp_rate".into(), json!(first("lacp_rate")));
        if let Some(primary) = file_content(path.join("bonding/primary")).filter(|p| !p.is_empty())
        {
            d.insert("primary".into(), json!(primary));
            let asa = path.join("bonding/all_slaves_active");
            if asa.exists() {
                d.insert(
                    "all_slaves_active".into(),
                    json!(file_content(asa).as_deref() == Some("1")),
                );
            }
        }
    }
    if path.join("bonding_slave").exists() {
        d.insert(
            "perm_macaddress".into(),
            json!(file_content(path.join("bonding_slave/perm_hwaddr")).unwrap_or_default()),
        );
    }
    if let Ok(target) = std::fs::read_link(path.join("device")) {
        if let Some(name) = target.file_name() {
            d.insert("pciid".into(), json!(name.to_string_lossy()));
        }
    }
    if path.join("speed").exists() {
        if let Some(speed) = file_content(path.join("speed")).and_then(|s| s.parse::<i64>().ok()) {
            d.insert("speed".into(), json!(speed));
        }
    }
    if let Some(flags) = file_content(path.join("flags")) {
        let value = i64::from_str_radix(flags.trim_start_matches("0x"), 16).unwrap_or(0);
        d.insert("promisc".into(), json!(value & 0x0100 > 0));
    }
}

struct AddrCtx<'a> {
    device: &'a str,
    macaddress: &'a str,
}

fn v4_facts(address: &str, broadcast: &str, prefix: &str) -> Option<Map<String, Value>> {
    let addr: Ipv4Addr = address.parse().ok()?;
    let len: u32 = prefix.parse().ok()?;
    let mask: u32 = if len == 0 {
        0
    } else {
        u32::MAX.checked_shl(32 - len.min(32)).unwrap_or(0)
    };
    let network = Ipv4Addr::from(u32::from(addr) & mask);
    let mut m = Map::new();
    m.insert("address".into(), json!(address));
    m.insert("broadcast".into(), json!(broadcast));
    m.insert("netmask".into(), json!(Ipv4Addr::from(mask).to_string()));
    m.insert("network".into(), json!(network.to_string()));
    m.insert("prefix".into(), json!(prefix));
    Some(m)
}

#[allow(clippy::too_many_arguments)]
fn parse_ip_output(
    ctx: &AddrCtx,
    lines: &[String],
    secondary: bool,
    interfaces: &mut Interfaces,
    default_v4: &mut Map<String, Value>,
    default_v6: &mut Map<String, Value>,
    all_v4: &mut Vec<String>,
    all_v6: &mut Vec<String>,
) {
    let device = ctx.device;
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        if words[0] == "inet" && words.len() > 1 {
            let (address, prefix) = match words[1].split_once('/') {
                Some((a, p)) => (a, p),
                None => (words[1], "32"),
            };
            let broadcast = if words[1].contains('/') && words.len() > 3 && words[2] == "brd" {
                words[3]
            } else {
                ""
            };
            let Some(info) = v4_facts(address, broadcast, prefix) else {
                continue;
            };
            let iface = words[words.len() - 1];
            if iface != device {
                *entry(interfaces, iface) = Map::new();
            }
            {
                let target = entry(interfaces, iface);
                if !secondary && !target.contains_key("ipv4") {
                    target.insert("ipv4".into(), Value::Object(info.clone()));
                } else {
                    push(target, "ipv4_secondaries", Value::Object(info.clone()));
                }
            }
            if secondary {
                let dev = entry(interfaces, device);
                if !dev.contains_key("ipv4_secondaries") {
                    dev.insert("ipv4_secondaries".into(), json!([]));
                }
                if device != iface {
                    push(dev, "ipv4_secondaries", Value::Object(info.clone()));
                }
            }
            if default_v4.get("address").and_then(Value::as_str) == Some(address) {
                let dev = entry(interfaces, device).clone();
                for k in ["broadcast", "netmask", "network", "prefix"] {
                    default_v4.insert(k.into(), info[k].clone());
                }
                default_v4.insert("macaddress".into(), json!(ctx.macaddress));
                default_v4.insert("mtu".into(), dev.get("mtu").cloned().unwrap_or(Value::Null));
                default_v4.insert(
                    "type".into(),
                    dev.get("type").cloned().unwrap_or_else(|| json!("unknown")),
                );
                default_v4.insert("alias".into(), json!(iface));
            }
            if !address.starts_with("127.") {
                all_v4.push(address.to_string());
            }
        } else if words[0] == "inet6" && words.len() > 3 {
            let (address, prefix, scope) = if words[2] == "peer" && words.len() > 5 {
                let prefix = words[3].split_once('/').map(|x| x.1).unwrap_or("");
                (words[1], prefix, words[5])
            } else {
                let (a, p) = words[1].split_once('/').unwrap_or((words[1], ""));
                (a, p, words[3])
            };
            let dev = entry(interfaces, device);
            push(
                dev,
                "ipv6",
                json!({"address": address, "prefix": prefix, "scope": scope}),
            );
            if default_v6.get("address").and_then(Value::as_str) == Some(address) {
                let dev = dev.clone();
                default_v6.insert("prefix".into(), json!(prefix));
                default_v6.insert("scope".into(), json!(scope));
                default_v6.insert("macaddress".into(), json!(ctx.macaddress));
                default_v6.insert("mtu".into(), dev.get("mtu").cloned().unwrap_or(Value::Null));
                default_v6.insert(
                    "type".into(),
                    dev.get("type").cloned().unwrap_or_else(|| json!("unknown")),
                );
            }
            if address != "::1" {
                all_v6.push(address.to_string());
            }
        }
    }
}

fn push(map: &mut Map<String, Value>, key: &str, value: Value) {
    match map.get_mut(key) {
        Some(Value::Array(list)) => list.push(value),
        _ => {
            map.insert(key.into(), Value::Array(vec![value]));
        }
    }
}

fn ethtool_data(programs: &Programs, device: &str) -> Map<String, Value> {
    let mut data = Map::new();
    let Some(ethtool) = programs.find("ethtool") else {
        return data;
    };
    if let (0, out, _) = programs.run(&ethtool, &["-k", device]) {
        let mut features = Map::new();
        for line in out.trim().lines() {
            if line.is_empty() || line.ends_with(':') {
                continue;
            }
            if let Some((k, v)) = line.split_once(": ") {
                if !v.is_empty() {
                    features.insert(k.trim().replace('-', "_"), json!(v.trim()));
                }
            }
        }
        data.insert("features".into(), Value::Object(features));
    }
    if let (0, out, _) = programs.run(&ethtool, &["-T", device]) {
        let words = |prefix: &str| -> Vec<Value> {
            let re = regex::Regex::new(&format!(r"{prefix}(\w+)")).ok();
            re.map(|re| {
                re.captures_iter(&out)
                    .filter_map(|c| c.get(1))
                    .map(|m| json!(m.as_str().to_lowercase()))
                    .collect()
            })
            .unwrap_or_default()
        };
        data.insert(
            "timestamping".into(),
            Value::Array(words("SOF_TIMESTAMPING_")),
        );
        data.insert(
            "hw_timestamp_filters".into(),
            Value::Array(words("HWTSTAMP_FILTER_")),
        );
        if let Some(n) = regex::Regex::new(r"PTP Hardware Clock: (\d+)")
            .ok()
            .and_then(|re| re.captures(&out))
            .and_then(|c| c.get(1))
            .and_then(|m| m.as_str().parse::<i64>().ok())
        {
            data.insert("phc_index".into(), json!(n));
        }
    }
    data
}

pub fn fibre_channel_wwn(_g: &Gather) -> Facts {
    let mut wwns = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/sys/class/fc_host") {
        for e in rd.filter_map(Result::ok) {
            for line in file_lines(e.path().join("port_name")) {
                wwns.push(json!(line.trim_end().get(2..).unwrap_or("")));
            }
        }
    }
    let mut f = Facts::new();
    f.insert("fibre_channel_wwn".into(), Value::Array(wwns));
    f
}

pub fn iscsi(_g: &Gather) -> Facts {
    let mut iqn = String::new();
    for line in file_content("/etc/iscsi/initiatorname.iscsi")
        .unwrap_or_default()
        .lines()
    {
        if let Some(v) = line.strip_prefix("InitiatorName=") {
            iqn = v.to_string();
        }
    }
    let mut f = Facts::new();
    f.insert("iscsi_iqn".into(), json!(iqn));
    f
}

pub fn nvme(_g: &Gather) -> Facts {
    let nqn = file_content("/etc/nvme/hostnqn")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("nqn."))
        .unwrap_or("")
        .to_string();
    let mut f = Facts::new();
    f.insert("hostnqn".into(), json!(nqn));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_netmask_and_network() {
        let m = v4_facts("192.0.2.2", "192.0.2.255", "24").expect("valid");
        assert_eq!(m["netmask"], json!("255.255.255.0"));
        assert_eq!(m["network"], json!("192.0.2.0"));
        let m = v4_facts("10.1.2.3", "", "32").expect("valid");
        assert_eq!(m["netmask"], json!("255.255.255.255"));
        let m = v4_facts("10.1.2.3", "", "0").expect("valid");
        assert_eq!(m["network"], json!("0.0.0.0"));
    }

    /// The words of an `inet`/`inet6` line that parse_ip_output reads.
    fn read_words(line: &str) -> Option<Vec<String>> {
        let w: Vec<&str> = line.split_whitespace().collect();
        let keep: Vec<&str> = match *w.first()? {
            "inet" if w.len() > 3 && w[2] == "brd" => vec![w[0], w[1], w[3], w[w.len() - 1]],
            "inet" => vec![w[0], w[1], w[w.len() - 1]],
            "inet6" if w.len() > 5 && w[2] == "peer" => w[..6].to_vec(),
            "inet6" => w.get(..4)?.to_vec(),
            _ => return None,
        };
        Some(keep.into_iter().map(str::to_string).collect())
    }

    /// `ip` as the agent runs it without a task environment.
    fn run(ip: &Path, args: &[&str]) -> (i32, String, String) {
        super::super::util::run(ip, args, &Default::default())
    }

    fn ip_program() -> PathBuf {
        crate::util::bin_path::get_bin_path("ip", &Default::default())
            .map(PathBuf::from)
            .expect("this test compares netlink with the `ip` program: install iproute2")
    }

    #[test]
    fn netlink_addresses_read_as_ip_addr_show() {
        let ip = ip_program();
        for which in ["primary", "secondary"] {
            let by_ip = sections(&run(&ip, &["addr", "show", which]).1);
            let by_netlink = netlink::addresses(which == "secondary").expect("netlink socket");
            let digest = |m: &HashMap<String, Vec<String>>| {
                let mut d: Vec<(String, Vec<Vec<String>>)> = m
                    .iter()
                    .map(|(k, lines)| {
                        (
                            k.clone(),
                            lines.iter().filter_map(|l| read_words(l)).collect(),
                        )
                    })
                    .filter(|(_, l): &(String, Vec<Vec<String>>)| !l.is_empty())
                    .collect();
                d.sort();
                d
            };
            assert_eq!(digest(&by_netlink), digest(&by_ip), "ip addr show {which}");
        }
    }

    #[test]
    fn netlink_routes_read_as_ip_route() {
        let ip = ip_program();
        for (family, probe) in [("-4", V4_PROBE), ("-6", V6_PROBE), ("-4", "127.0.0.2")] {
            let by_ip = route_facts(&run(&ip, &[family, "route", "get", probe]).1, probe);
            let line = netlink::route_get(probe).expect("netlink socket");
            assert_eq!(
                route_facts(&line, probe),
                by_ip,
                "ip {family} route get {probe}: {line}"
            );
        }
        for family in ["-4", "-6"] {
            let (rc, out, _) = run(&ip, &[family, "route", "show", "table", "local"]);
            let by_netlink = netlink::local_routes(family == "-6");
            if rc != 0 {
                assert!(by_netlink.is_none(), "ip {family} failed, netlink did not");
                continue;
            }
            let firsts = |lines: Vec<String>| -> Vec<String> {
                lines
                    .iter()
                    .filter(|l| l.starts_with("local "))
                    .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
                    .collect()
            };
            let ip_lines = out.lines().map(str::to_string).collect();
            assert_eq!(
                firsts(by_netlink.expect("netlink dump")),
                firsts(ip_lines),
                "table local {family}"
            );
        }
    }

    #[test]
    fn sections_strip_peer_suffix() {
        let s = sections("1: lo: <UP>\n    inet 127.0.0.1/8 scope host lo\n5: veth0@if4: <UP>\n    inet6 fe80::1/64 scope link\n");
        assert_eq!(s["lo"].len(), 1);
        assert_eq!(s["veth0"].len(), 1);
    }
}
