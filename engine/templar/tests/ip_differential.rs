//! Differential test of the `ansible.utils` IP filters and tests: every
//! value × query pair goes through the reference collection's functions
//! (netaddr 1.x in the reference venv) and through rsible's; type and Python
//! repr of the results must match (errors only as "ERR"). The functions are
//! called directly, not through templates (templating costs ~10 ms a case in
//! Python); `differential.rs` covers the FQCN/short-name wiring in templates.
//! Fails when RSIBLE_REF_BIN is unset, unless RSIBLE_SKIP_DIFFERENTIAL=1.

mod reference;

use rsible_templar::filters::ipaddr as ip;
use rsible_templar::{python_repr::repr, type_name, MapVars, Value};
use serde_json::{json, Value as Json};

fn values() -> Vec<Json> {
    let mut v: Vec<Json> = [
        "10.0.0.1",
        "10.0.0.0/24",
        "10.0.0.5/24",
        "10.0.0.255/24",
        "192.168.1.1/31",
        "192.168.1.0/31",
        "192.168.1.7/32",
        "10.233.64.0/18",
        "10.233.0.0/18",
        "172.16.0.4/30",
        "172.16.0.5/30",
        "172.16.0.6/30",
        "1.2.3.4/255.255.255.0",
        "1.2.3.4/0.0.0.255",
        "0.0.0.0/0",
        "fd85:ee78:d8a6:8607::1:0000/112",
        "fd85:ee78:d8a6:8607::1/112",
        "2001:db8::/64",
        "2001:db8::1",
        "fe80::1/64",
        "::1",
        "::",
        "::ffff:10.1.2.3",
        "::2",
        "::1.2.3.4",
        "2001:db8:0:0:1:0:0:1",
        "0:0:1::",
        "2001:db8::1/127",
        "127.0.0.1",
        "169.254.3.4",
        "224.0.0.1",
        "167772161",
        "167772160/8",
        "not an ip",
        "10.0.0.256",
        "010.0.0.1",
        "10.0.0.1/33",
        "10.0.0.1/024",
        "",
        "10/8",
    ]
    .iter()
    .map(|s| json!(s))
    .collect();
    v.extend([
        json!(167772161),
        json!(null),
        json!(true),
        json!(false),
        json!(["10.0.0.1", "x", "2001:db8::1/64", "10.1.0.0/16"]),
        json!(["::1", "1.2.3.4", ""]),
    ]);
    v
}

fn queries() -> Vec<Json> {
    let mut q: Vec<Json> = [
        "",
        "net",
        "address",
        "1",
        "1.5",
        "prefix",
        "netmask",
        "network",
        "broadcast",
        "size",
        "host",
        "cidr",
        "subnet",
        "type",
        "version",
        "wrap",
        "ipv4",
        "ipv6",
        "int",
        "hostmask",
        "first_usable",
        "last_usable",
        "next_usable",
        "previous_usable",
        "range_usable",
        "size_usable",
        "revdns",
        "ip/prefix",
        "address/prefix",
        "network/prefix",
        "ip_netmask",
        "network_netmask",
        "network_wildcard",
        "loopback",
        "multicast",
        "unicast",
        "link-local",
        "bool",
        "peer",
        "10.0.0.0/8",
        "10.233.0.0/16",
        "2001:db8::/32",
        "bogus",
    ]
    .iter()
    .map(|s| json!(s))
    .collect();
    q.extend([
        json!(1),
        json!(3),
        json!(4),
        json!(-1),
        json!(300),
        json!(1.5),
    ]);
    q
}

/// (function, value, extra argument)
fn cases() -> Vec<(&'static str, Json, Option<Json>)> {
    let mut out = Vec::new();
    for v in values() {
        for q in queries() {
            out.push(("ipaddr", v.clone(), Some(q)));
        }
        for q in [json!(""), json!("address"), json!("net"), json!(1)] {
            out.push(("ipv4", v.clone(), Some(q.clone())));
            out.push(("ipv6", v.clone(), Some(q.clone())));
        }
        for q in [json!(""), json!("address")] {
            out.push(("ipwrap", v.clone(), Some(q)));
        }
        for n in [json!(5), json!(-1), json!(0), json!("2"), json!(null)] {
            out.push(("nthhost", v.clone(), Some(n)));
        }
        for n in [json!(2), json!(-1), json!(1000)] {
            out.push(("next_nth_usable", v.clone(), Some(n)));
        }
        for n in [json!(3), json!(-1), json!(-300), json!("x")] {
            out.push(("ipmath", v.clone(), Some(n)));
        }
        for t in ["test_ipv4", "test_ipv6", "test_ip", "test_ip_address"] {
            out.push((t, v.clone(), None));
        }
    }
    out
}

fn to_value(data: &Json) -> Value {
    MapVars::from_json(&json!({ "v": data }))
        .vars
        .swap_remove("v")
        .unwrap_or_default()
}

fn ours(func: &str, value: &Json, arg: &Option<Json>) -> String {
    let value = to_value(value);
    let arg = arg.as_ref().map(to_value);
    let result = match func {
        "ipaddr" => ip::ipaddr(value, arg),
        "ipv4" => ip::ipv4(value, arg),
        "ipv6" => ip::ipv6(value, arg),
        "ipwrap" => ip::ipwrap(value, arg),
        "nthhost" => ip::nthhost(value, arg),
        "next_nth_usable" => ip::next_nth_usable(value, arg.unwrap_or_default()),
        "ipmath" => ip::ipmath(value, arg.unwrap_or_default()),
        "test_ipv4" => ip::test_ip_network(&value, Some(false)).map(Value::from),
        "test_ipv6" => ip::test_ip_network(&value, Some(true)).map(Value::from),
        "test_ip" => ip::test_ip_network(&value, None).map(Value::from),
        "test_ip_address" => ip::test_ip_address(&value, None).map(Value::from),
        other => panic!("no case function {}", other),
    };
    match result {
        Ok(v) => format!("{} {}", type_name(&v), repr(&v)),
        Err(_) => "ERR".into(),
    }
}

const REF_SCRIPT: &str = r#"
import sys, json
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader()
from ansible_collections.ansible.utils.plugins.plugin_utils.base.ipaddr_utils import ipaddr
from ansible_collections.ansible.utils.plugins.filter.ipv4 import ipv4
from ansible_collections.ansible.utils.plugins.filter.ipv6 import ipv6
from ansible_collections.ansible.utils.plugins.filter.ipwrap import _ipwrap
# ipwrap's type check lives in its Jinja entry point
def ipwrap(value, query):
    return _ipwrap(None, value, query)
from ansible_collections.ansible.utils.plugins.filter.nthhost import nthhost
from ansible_collections.ansible.utils.plugins.filter.next_nth_usable import next_nth_usable
from ansible_collections.ansible.utils.plugins.filter.ipmath import ipmath
from ansible_collections.ansible.utils.plugins.test.ipv4 import _ipv4 as test_ipv4
from ansible_collections.ansible.utils.plugins.test.ipv6 import _ipv6 as test_ipv6
from ansible_collections.ansible.utils.plugins.test.ip import _ip as test_ip
from ansible_collections.ansible.utils.plugins.test.ip_address import _ip_address as test_ip_address
out = []
for func, value, arg in json.load(sys.stdin):
    f = globals()[func]
    try:
        r = f(value) if func.startswith("test_") else f(value, arg)
        out.append(type(r).__name__ + " " + repr(r))
    except Exception as e:
        out.append("ERR")
print(json.dumps(out))
"#;

#[test]
fn ip_filters_match_reference() {
    let cases = cases();
    let Some(reference) = reference::run_reference_script(REF_SCRIPT, &json!(cases)) else {
        return;
    };
    assert_eq!(reference.len(), cases.len());
    let mut failures = Vec::new();
    for ((func, value, arg), want) in cases.iter().zip(&reference) {
        let got = ours(func, value, arg);
        if &got != want {
            failures.push(format!(
                "{}({}, {:?})\n   ref: {}\n  ours: {}",
                func, value, arg, want, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
