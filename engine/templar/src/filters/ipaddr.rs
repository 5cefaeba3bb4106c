//! The `ansible.utils` IP filters (`ipaddr` and its query forms, `ipv4`,
//! `ipv6`, `ipwrap`, `ipmath`, `nthhost`, `next_nth_usable`) and the
//! `ansible.utils.ipv4`/`ipv6`/`ip`/`ip_address` tests, with netaddr 1.x's
//! parsing and address formatting (glibc's `inet_ntop` for IPv6).

use std::net::{Ipv4Addr, Ipv6Addr};

use minijinja::value::{Value, ValueKind};
use minijinja::Error;

use crate::python_repr::str_of;

/// An address with a prefix length, as netaddr's `IPNetwork`: the host
/// bits are kept (`10.0.0.5/24` has ip 10.0.0.5 and network 10.0.0.0).
#[derive(Clone, Copy, Debug)]
struct Net {
    v6: bool,
    ip: u128,
    prefix: u32,
}

impl Net {
    fn bits(&self) -> u32 {
        if self.v6 {
            128
        } else {
            32
        }
    }
    fn version(&self) -> i64 {
        if self.v6 {
            6
        } else {
            4
        }
    }
    fn all_ones(&self) -> u128 {
        if self.v6 {
            u128::MAX
        } else {
            u32::MAX as u128
        }
    }
    fn hostmask(&self) -> u128 {
        let host_bits = self.bits() - self.prefix;
        if host_bits == 0 {
            0
        } else if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        }
    }
    fn netmask(&self) -> u128 {
        self.all_ones() & !self.hostmask()
    }
    fn network(&self) -> u128 {
        self.ip & self.netmask()
    }
    fn last(&self) -> u128 {
        self.network() | self.hostmask()
    }
    /// Number of addresses; saturates for a whole IPv6 space (2^128).
    fn size(&self) -> u128 {
        self.hostmask().saturating_add(1)
    }
    /// netaddr has no broadcast for /31, /32 (and /127, /128).
    fn broadcast(&self) -> Option<u128> {
        if self.bits() - self.prefix > 1 {
            Some(self.last())
        } else {
            None
        }
    }
    fn fmt_addr(&self, a: u128) -> String {
        format_addr(self.v6, a)
    }
    /// `str(IPNetwork)`: address with host bits, then the prefix.
    fn text(&self) -> String {
        format!("{}/{}", self.fmt_addr(self.ip), self.prefix)
    }
    fn cidr(&self) -> String {
        format!("{}/{}", self.fmt_addr(self.network()), self.prefix)
    }
    /// `IPNetwork[i]`: from the network address, negative from the end.
    fn index(&self, i: i128) -> Option<u128> {
        let size = self.size() as i128;
        let off = if i < 0 { size.checked_add(i)? } else { i };
        if off < 0 || (off >= size && self.size() != u128::MAX) {
            return None;
        }
        self.network().checked_add(off as u128)
    }
    /// netaddr's `_first_last`: the usable range.
    fn first_last(&self) -> Option<(u128, u128)> {
        match self.size() {
            2 => Some((self.network(), self.last())),
            s if s > 1 => Some((self.network() + 1, self.last() - 1)),
            _ => None,
        }
    }
}

/// `IPAddress(int(v.ip) + delta)`: out of the address space is an error.
fn offset_addr(v: &Net, delta: i64) -> Result<u128, Error> {
    let r = if delta >= 0 {
        v.ip.checked_add(delta as u128)
    } else {
        v.ip.checked_sub(delta.unsigned_abs() as u128)
    };
    r.filter(|r| *r <= v.all_ones()).ok_or_else(|| {
        err(format!(
            "{} is not a valid IPv{} address",
            v.ip as i128 + delta as i128,
            v.version()
        ))
    })
}

fn format_addr(v6: bool, a: u128) -> String {
    if !v6 {
        return Ipv4Addr::from(a as u32).to_string();
    }
    let words: Vec<u16> = (0..8).map(|i| (a >> (112 - 16 * i)) as u16).collect();
    // The first longest run of at least two zero words is written as `::`.
    let (mut best, mut best_len) = (usize::MAX, 0usize);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best = usize::MAX;
    }
    let dotted_tail = best == 0
        && (best_len == 6
            || (best_len == 7 && words[7] != 1)
            || (best_len == 5 && words[5] == 0xffff));
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if i == best {
            out.push_str(if i == 0 { "::" } else { ":" });
            i += best_len;
            continue;
        }
        if dotted_tail && i == 6 {
            out.push_str(&Ipv4Addr::from(a as u32).to_string());
            break;
        }
        out.push_str(&format!("{:x}", words[i]));
        if i < 7 {
            out.push(':');
        }
        i += 1;
    }
    out
}

fn parse_addr(text: &str) -> Option<(bool, u128)> {
    if let Ok(a) = text.parse::<Ipv4Addr>() {
        return Some((false, u32::from(a) as u128));
    }
    if text.contains(':') {
        if let Ok(a) = text.parse::<Ipv6Addr>() {
            return Some((true, u128::from(a)));
        }
    }
    None
}

/// `netaddr.IPNetwork(text)`: an address, optionally `/prefix`, or for
/// IPv4 `/netmask` or `/hostmask`.
fn parse_network(text: &str) -> Option<Net> {
    let (addr, suffix) = match text.split_once('/') {
        Some((a, s)) => (a, Some(s)),
        None => (text, None),
    };
    let (v6, ip) = parse_addr(addr)?;
    let bits = if v6 { 128 } else { 32 };
    let prefix = match suffix {
        None => bits,
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            let p: u32 = s.parse().ok()?;
            if p > bits {
                return None;
            }
            p
        }
        Some(s) if !v6 => {
            let mask = u32::from(s.parse::<Ipv4Addr>().ok()?);
            if mask.leading_ones() + mask.trailing_zeros() == 32 {
                mask.leading_ones()
            } else if mask.leading_zeros() + mask.trailing_ones() == 32 {
                mask.leading_zeros()
            } else {
                return None;
            }
        }
        Some(_) => return None,
    };
    Some(Net { v6, ip, prefix })
}

fn from_int(n: u128, prefix: Option<u32>) -> Option<Net> {
    if n <= u32::MAX as u128 && prefix.is_none_or(|p| p <= 32) {
        Some(Net {
            v6: false,
            ip: n,
            prefix: prefix.unwrap_or(32),
        })
    } else if prefix.is_none_or(|p| p <= 128) {
        Some(Net {
            v6: true,
            ip: n,
            prefix: prefix.unwrap_or(128),
        })
    } else {
        None
    }
}

#[derive(Clone, Copy, PartialEq)]
enum VType {
    Address,
    Network,
}

/// ansible.utils' ip filters raise AnsibleFilterError.
fn err(msg: impl Into<String>) -> Error {
    crate::TemplateError::new(crate::ErrorKind::Other, msg)
        .with_python_class(crate::error::ANSIBLE_FILTER_ERROR)
        .into_jinja()
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// The value as netaddr sees it, or `None` when it is not an address.
/// `rewritten` is set when the value was a number (or numeric CIDR) that
/// Ansible replaces by its text form.
fn parse_value(value: &Value, version: i64) -> Option<(Net, VType, bool)> {
    let text = str_of(value);
    if is_digits(&text) {
        let n: u128 = text.parse().ok()?;
        let net = if version == 6 {
            Net {
                v6: true,
                ip: n,
                prefix: 128,
            }
        } else {
            from_int(n, None)?
        };
        return Some((net, VType::Address, true));
    }
    value.as_str()?;
    if let Some(net) = parse_network(&text) {
        let vtype = if text.matches('/').count() == 1 {
            VType::Network
        } else {
            VType::Address
        };
        return Some((net, vtype, false));
    }
    // a numeric CIDR, "167772160/8"
    let (a, p) = text.split_once('/')?;
    if p.contains('/') {
        return None;
    }
    let a: u128 = a.trim().parse().ok()?;
    let p: u32 = p.trim().parse().ok()?;
    Some((from_int(a, Some(p))?, VType::Network, true))
}

/// Python truthiness of a filter result.
fn truthy(v: &Value) -> bool {
    v.is_true()
}

/// Ansible's `ipaddr(value, query, version)`.
fn ipaddr_impl(value: &Value, query: &Value, version: i64, alias: &str) -> Result<Value, Error> {
    if matches!(value.kind(), ValueKind::Seq | ValueKind::Iterable) {
        let q = if query.is_none() || query.is_undefined() {
            Value::from("")
        } else {
            Value::from(str_of(query))
        };
        let mut out = Vec::new();
        for item in value.try_iter()? {
            let r = ipaddr_impl(&item, &q, version, alias)?;
            if truthy(&r) {
                out.push(r);
            }
        }
        return Ok(Value::from(out));
    }
    if !value.is_true() || (value.kind() == ValueKind::Bool) {
        return Ok(Value::from(false));
    }
    let Some((v, vtype, rewritten)) = parse_value(value, version) else {
        return Ok(Value::from(false));
    };
    // numeric inputs are rewritten as text
    let value = if rewritten {
        Value::from(v.text())
    } else {
        value.clone()
    };
    let mut qtext = if query.is_none() || query.is_undefined() {
        String::new()
    } else {
        str_of(query)
    };
    let query_is_str = query.as_str().is_some();
    let mut lookup_net = None;
    if !qtext.is_empty()
        && (!is_known_query(&qtext) || qtext == "cidr_lookup")
        && !is_digits(&qtext)
    {
        if let Some((n, VType::Network, _)) = parse_value(&Value::from(qtext.as_str()), 0) {
            lookup_net = Some(n);
            qtext = "cidr_lookup".into();
        }
    }
    if version != 0 && v.version() != version {
        return Ok(Value::from(false));
    }
    let s = |x: String| Ok(Value::from(x));
    let none = || Ok(Value::from(()));
    let not_network = || Err(err("Not a network address"));
    let is_ip_network = v.ip == v.network();
    match qtext.as_str() {
        "" => match vtype {
            VType::Address => s(v.fmt_addr(v.ip)),
            VType::Network => s(v.text()),
        },
        "address" | "ip" => {
            if v.size() == 1 || !is_ip_network || v.broadcast().is_none() || v.v6 {
                s(v.fmt_addr(v.ip))
            } else {
                none()
            }
        }
        "address/prefix" | "gateway" | "gw" | "host/prefix" | "hostnet" | "router" => {
            if v.size() > 2 && (is_ip_network || Some(v.ip) == v.broadcast()) {
                Ok(Value::from(false))
            } else {
                s(format!("{}/{}", v.fmt_addr(v.ip), v.prefix))
            }
        }
        "bool" => Ok(Value::from(true)),
        "broadcast" => match v.broadcast() {
            Some(b) if v.size() > 2 => s(v.fmt_addr(b)),
            _ => none(),
        },
        "cidr" => s(v.text()),
        "cidr_lookup" => match lookup_net {
            Some(n)
                if n.v6 == v.v6 && n.prefix <= v.prefix && v.ip & n.netmask() == n.network() =>
            {
                Ok(value)
            }
            _ => none(),
        },
        "first_usable" => match vtype {
            VType::Address => not_network(),
            VType::Network => match v.first_last() {
                Some((f, _)) => s(v.fmt_addr(f)),
                None => none(),
            },
        },
        "last_usable" => match vtype {
            VType::Address => not_network(),
            VType::Network => match v.first_last() {
                Some((_, l)) => s(v.fmt_addr(l)),
                None => none(),
            },
        },
        "next_usable" | "previous_usable" => match vtype {
            VType::Address => not_network(),
            VType::Network => {
                let Some((f, l)) = v.first_last() else {
                    return none();
                };
                let delta = if qtext == "next_usable" { 1 } else { -1 };
                let c = offset_addr(&v, delta)?;
                if c >= f && c <= l {
                    s(v.fmt_addr(c))
                } else {
                    none()
                }
            }
        },
        "range_usable" => match vtype {
            VType::Address => not_network(),
            VType::Network => match v.first_last() {
                Some((f, l)) => s(format!("{}-{}", v.fmt_addr(f), v.fmt_addr(l))),
                None => none(),
            },
        },
        "host" => {
            if v.size() == 1 {
                s(v.text())
            } else if !is_ip_network || v.broadcast().is_none() {
                s(format!("{}/{}", v.fmt_addr(v.ip), v.prefix))
            } else {
                none()
            }
        }
        "hostmask" | "wildcard" => s(v.fmt_addr(v.hostmask())),
        "int" => match vtype {
            VType::Address => Ok(Value::from(v.ip)),
            VType::Network => s(format!("{}/{}", v.ip, v.prefix)),
        },
        "ip/prefix" => {
            if v.size() == 2 || (v.size() > 1 && !is_ip_network) {
                s(format!("{}/{}", v.fmt_addr(v.ip), v.prefix))
            } else {
                none()
            }
        }
        "ip_netmask" => {
            if v.size() == 2 || (v.size() > 1 && !is_ip_network) {
                s(format!("{} {}", v.fmt_addr(v.ip), v.fmt_addr(v.netmask())))
            } else {
                none()
            }
        }
        "ipv4" | "v4" => {
            if v.v6 {
                // netaddr's ipv4(): only IPv4-compatible and -mapped addresses
                let upper = v.ip >> 32;
                if upper == 0 || upper == 0xffff {
                    let prefix = v.prefix.saturating_sub(96);
                    s(format!(
                        "{}/{}",
                        format_addr(false, v.ip & 0xffff_ffff),
                        prefix
                    ))
                } else {
                    Ok(Value::from(false))
                }
            } else {
                Ok(value)
            }
        }
        "ipv6" | "v6" => {
            if v.v6 {
                Ok(value)
            } else {
                s(format!(
                    "{}/{}",
                    format_addr(true, 0xffff_0000_0000 | v.ip),
                    v.prefix + 96
                ))
            }
        }
        "link-local" => {
            let ll = if v.v6 {
                v.ip >> 118 == 0x3fa
            } else {
                v.ip >> 16 == 0xa9fe
            };
            if ll {
                Ok(value)
            } else {
                none()
            }
        }
        "lo" | "loopback" => {
            let lo = if v.v6 { v.ip == 1 } else { v.ip >> 24 == 127 };
            if lo {
                Ok(value)
            } else {
                none()
            }
        }
        "multicast" | "unicast" => {
            let mc = if v.v6 {
                v.ip >> 120 == 0xff
            } else {
                v.ip >> 28 == 0xe
            };
            if mc == (qtext == "multicast") {
                Ok(value)
            } else {
                none()
            }
        }
        "net" => {
            if v.size() > 1 && is_ip_network {
                s(v.cidr())
            } else {
                none()
            }
        }
        "netmask" => s(v.fmt_addr(v.netmask())),
        "network" | "network_id" => s(v.fmt_addr(v.network())),
        "network/prefix" | "subnet" => s(v.cidr()),
        "network_netmask" => s(format!(
            "{} {}",
            v.fmt_addr(v.network()),
            v.fmt_addr(v.netmask())
        )),
        "network_wildcard" => s(format!(
            "{} {}",
            v.fmt_addr(v.network()),
            v.fmt_addr(v.hostmask())
        )),
        "peer" => match vtype {
            VType::Address => not_network(),
            VType::Network => match v.size() {
                2 => s(v.fmt_addr(v.ip ^ 1)),
                4 if v.ip % 4 == 0 => Err(err("Network address of /30 has no peer")),
                4 if v.ip % 4 == 3 => Err(err("Broadcast address of /30 has no peer")),
                4 => s(v.fmt_addr(v.ip ^ 3)),
                _ => Err(err("Not a point-to-point network")),
            },
        },
        "prefix" => Ok(Value::from(v.prefix)),
        "revdns" => s(revdns(&v)),
        "size" => Ok(Value::from(v.size())),
        "size_usable" => Ok(Value::from(match v.size() {
            1 => 0,
            2 => 2,
            n => n - 2,
        })),
        "type" => s(if v.size() == 1 || !is_ip_network {
            "address".into()
        } else {
            "network".into()
        }),
        "version" => Ok(Value::from(v.version())),
        "wrap" => {
            if v.v6 {
                match vtype {
                    VType::Address => s(format!("[{}]", v.fmt_addr(v.ip))),
                    VType::Network => s(format!("[{}]/{}", v.fmt_addr(v.ip), v.prefix)),
                }
            } else {
                Ok(value)
            }
        }
        "private" => Ok(if super::ip_scope::is_global(v.v6, v.ip) {
            Value::from(())
        } else {
            value
        }),
        "public" => Ok(if super::ip_scope::is_public(v.v6, v.ip) {
            value
        } else {
            Value::from(())
        }),
        "6to4" => Err(err(format!(
            "{}: the '{}' query is not implemented in rsible",
            alias, qtext
        ))),
        _ => numeric_query(&v, vtype, query, query_is_str, &qtext, alias),
    }
}

fn is_known_query(q: &str) -> bool {
    matches!(
        q,
        "" | "6to4"
            | "address"
            | "address/prefix"
            | "bool"
            | "broadcast"
            | "cidr"
            | "cidr_lookup"
            | "first_usable"
            | "gateway"
            | "gw"
            | "host"
            | "host/prefix"
            | "hostmask"
            | "hostnet"
            | "int"
            | "ip"
            | "ip/prefix"
            | "ip_netmask"
            | "ipv4"
            | "ipv6"
            | "last_usable"
            | "link-local"
            | "lo"
            | "loopback"
            | "multicast"
            | "net"
            | "next_usable"
            | "netmask"
            | "network"
            | "network_id"
            | "network/prefix"
            | "network_netmask"
            | "network_wildcard"
            | "peer"
            | "prefix"
            | "previous_usable"
            | "private"
            | "public"
            | "range_usable"
            | "revdns"
            | "router"
            | "size"
            | "size_usable"
            | "subnet"
            | "type"
            | "unicast"
            | "v4"
            | "v6"
            | "version"
            | "wildcard"
            | "wrap"
    )
}

/// A number as query: the n-th address of the network (`ipaddr(1)`).
fn numeric_query(
    v: &Net,
    vtype: VType,
    query: &Value,
    query_is_str: bool,
    qtext: &str,
    alias: &str,
) -> Result<Value, Error> {
    let unknown = || err(format!("{}: unknown filter type: {}", alias, qtext));
    if qtext.trim().parse::<f64>().is_err() {
        return Err(unknown());
    }
    if v.size() == 1 {
        return Ok(Value::from(match vtype {
            VType::Address => v.fmt_addr(v.ip),
            VType::Network => v.text(),
        }));
    }
    // netaddr takes `int(query)` as the index: "1.5" fails, 1.5 is 1.
    let n = if query.is_integer() {
        i128::try_from(query.clone()).map_err(|_| unknown())?
    } else if query_is_str {
        match qtext.trim().parse::<i128>() {
            Ok(n) => n,
            Err(_) => return Ok(Value::from(false)),
        }
    } else {
        match f64::try_from(query.clone()) {
            Ok(f) if f.is_finite() => f.trunc() as i128,
            _ => return Ok(Value::from(false)),
        }
    };
    match v.index(n) {
        Some(a) => Ok(Value::from(format!("{}/{}", v.fmt_addr(a), v.prefix))),
        None => Ok(Value::from(false)),
    }
}

fn revdns(v: &Net) -> String {
    if v.v6 {
        let mut out = String::new();
        for i in 0..32 {
            let nibble = (v.ip >> (4 * i)) & 0xf;
            out.push_str(&format!("{:x}.", nibble));
        }
        out + "ip6.arpa."
    } else {
        let a = v.ip as u32;
        format!(
            "{}.{}.{}.{}.in-addr.arpa.",
            a & 0xff,
            (a >> 8) & 0xff,
            (a >> 16) & 0xff,
            a >> 24
        )
    }
}

pub fn ipaddr(value: Value, query: Option<Value>) -> Result<Value, Error> {
    ipaddr_impl(&value, &query.unwrap_or_default(), 0, "ipaddr")
}

pub fn ipv4(value: Value, query: Option<Value>) -> Result<Value, Error> {
    ipaddr_impl(&value, &query.unwrap_or_default(), 4, "ipv4")
}

pub fn ipv6(value: Value, query: Option<Value>) -> Result<Value, Error> {
    ipaddr_impl(&value, &query.unwrap_or_default(), 6, "ipv6")
}

/// `ipwrap`: IPv6 addresses in brackets, everything else unchanged.
/// The query argument is accepted and ignored, as the collection's argument
/// spec drops it.
pub fn ipwrap(value: Value, _query: Option<Value>) -> Result<Value, Error> {
    let query = Value::from("");
    let wrap_one = |item: &Value| -> Value {
        let r = match ipaddr_impl(item, &query, 0, "ipwrap") {
            Ok(r) => r,
            Err(_) => return item.clone(),
        };
        if truthy(&r) {
            ipaddr_impl(&r, &Value::from("wrap"), 0, "ipwrap").unwrap_or_else(|_| item.clone())
        } else {
            item.clone()
        }
    };
    match value.kind() {
        ValueKind::Seq => Ok(Value::from(
            value.try_iter()?.map(|i| wrap_one(&i)).collect::<Vec<_>>(),
        )),
        ValueKind::String | ValueKind::Bool => Ok(wrap_one(&value)),
        _ => Err(err(format!(
            "Unrecognized type <<class '{}'>> for ipwrap filter <value>",
            crate::python_types::type_name(&value)
        ))),
    }
}

pub fn ipmath(value: Value, amount: Value) -> Result<Value, Error> {
    let text = str_of(&value);
    let parsed = if text.contains('/') {
        parse_network(&text).map(|n| (n.v6, n.ip))
    } else {
        parse_addr(&text)
    };
    let Some((v6, ip)) = parsed else {
        return Err(err(format!(
            "You must pass a valid IP address; {} is invalid",
            text
        )));
    };
    let Some(delta) = amount
        .as_i64()
        .filter(|_| amount.kind() == ValueKind::Number)
    else {
        return Err(err(format!(
            "You must pass an integer for arithmetic; {} is not a valid integer",
            str_of(&amount)
        )));
    };
    let max = if v6 { u128::MAX } else { u32::MAX as u128 };
    let result = if delta >= 0 {
        ip.checked_add(delta as u128)
    } else {
        ip.checked_sub(delta.unsigned_abs() as u128)
    };
    match result.filter(|r| *r <= max) {
        Some(r) => Ok(Value::from(format_addr(v6, r))),
        None => Err(err(format!(
            "result {} outside valid IP address boundary!",
            ip as i128 + delta as i128
        ))),
    }
}

/// The network `nthhost`/`next_nth_usable` work on: the value itself for an
/// address with host bits, its subnet for a network.
fn host_or_subnet(value: &Value) -> Option<Net> {
    let t = ipaddr_impl(value, &Value::from("type"), 0, "ipaddr").ok()?;
    let q = match t.as_str()? {
        "address" => "cidr",
        "network" => "subnet",
        _ => return None,
    };
    let text = ipaddr_impl(value, &Value::from(q), 0, "ipaddr").ok()?;
    parse_network(text.as_str()?)
}

pub fn nthhost(value: Value, query: Option<Value>) -> Result<Value, Error> {
    let Some(net) = host_or_subnet(&value) else {
        return Ok(Value::from(false));
    };
    let Some(q) = query.filter(|q| q.is_true()) else {
        return Ok(Value::from(false));
    };
    let Ok(n) = str_of(&q).trim().parse::<i128>() else {
        return Ok(Value::from(false));
    };
    if (net.size() as i128) > n {
        if let Some(a) = net.index(n) {
            return Ok(Value::from(net.fmt_addr(a)));
        }
    }
    Ok(Value::from(false))
}

pub fn next_nth_usable(value: Value, offset: Value) -> Result<Value, Error> {
    let Some(net) = host_or_subnet(&value) else {
        return Ok(Value::from(false));
    };
    let Some(off) = offset.as_i64().filter(|_| offset.is_integer()) else {
        return Err(err("Must pass in an integer"));
    };
    if let Some((first, last)) = net.first_last() {
        let c = offset_addr(&net, off)?;
        if c >= first && c <= last {
            return Ok(Value::from(net.fmt_addr(c)));
        }
    }
    Ok(Value::from(()))
}

/// The `ansible.utils.ipv4`/`ipv6`/`ip` tests: Python's strict
/// `ip_network()` (host bits set is not a network).
pub fn test_ip_network(value: &Value, version: Option<bool>) -> Result<bool, Error> {
    let text = test_arg(value)?;
    Ok(match parse_network(&text) {
        Some(n) if n.ip == n.network() => version.is_none_or(|v6| n.v6 == v6),
        _ => false,
    })
}

/// The tests' argument check: none fails; a list is converted to its text
/// (and so is never an address).
fn test_arg(value: &Value) -> Result<String, Error> {
    match value.kind() {
        ValueKind::String | ValueKind::Number | ValueKind::Bool | ValueKind::Seq => {
            Ok(str_of(value))
        }
        _ => Err(err(format!(
            "argument ip is of type {} and we were unable to convert to str",
            crate::python_types::type_name(value)
        ))),
    }
}

/// `ansible.utils.ip_address`/`ipv4_address`/`ipv6_address`.
pub fn test_ip_address(value: &Value, version: Option<bool>) -> Result<bool, Error> {
    let text = test_arg(value)?;
    Ok(match parse_addr(&text) {
        Some((v6, _)) => version.is_none_or(|want| want == v6),
        None => false,
    })
}
