//! `wait_for`: wait until a TCP port accepts connections (or stops, or drains), a
//! file appears (optionally containing a regex match) or disappears, or simply
//! sleep for `timeout` seconds — with Ansible's result keys and failure messages.

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use rsible_pyre::PyBytesRegex;
use serde_json::{json, Map, Value};
use std::io::{ErrorKind, Read};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

/// The TCP states `drained` counts, as Linux numbers them in /proc/net/tcp.
const CONNECTION_STATES: &[(&str, &str)] = &[
    ("ESTABLISHED", "01"),
    ("SYN_SENT", "02"),
    ("SYN_RECV", "03"),
    ("FIN_WAIT1", "04"),
    ("FIN_WAIT2", "05"),
    ("TIME_WAIT", "06"),
];

pub const SPEC: &[Param] = &[
    Param::new("host", Kind::Str).default(ParamDefault::Str("127.0.0.1")),
    Param::new("timeout", Kind::Int).default(ParamDefault::Int(300)),
    Param::new("connect_timeout", Kind::Int).default(ParamDefault::Int(5)),
    Param::new("delay", Kind::Int).default(ParamDefault::Int(0)),
    Param::new("port", Kind::Int),
    Param::new("active_connection_states", Kind::List).default(ParamDefault::List(&[
        "ESTABLISHED",
        "FIN_WAIT1",
        "FIN_WAIT2",
        "SYN_RECV",
        "SYN_SENT",
        "TIME_WAIT",
    ])),
    Param::new("path", Kind::Path),
    Param::new("search_regex", Kind::Str),
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("started"))
        .choices(&["absent", "drained", "present", "started", "stopped"]),
    Param::new("exclude_hosts", Kind::List),
    Param::new("sleep", Kind::Int).default(ParamDefault::Int(1)),
    Param::new("msg", Kind::Str),
];

/// The validated options.
struct Options {
    host: String,
    timeout: Duration,
    connect_timeout: u64,
    delay: u64,
    sleep: Duration,
    port: Option<u16>,
    path: Option<String>,
    search_regex: Option<String>,
    state: String,
    msg: Option<String>,
    active_states: Vec<String>,
    exclude_hosts: Option<Vec<String>>,
}

/// Seconds from a (possibly negative) int parameter; Python sleeps 0 for none.
fn secs(params: &Map<String, Value>, key: &str) -> u64 {
    params
        .get(key)
        .and_then(Value::as_i64)
        .map_or(0, |n| n.max(0) as u64)
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|items| {
        items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect()
    })
}

fn options(params: &Map<String, Value>) -> Result<Options, ModuleFail> {
    let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let port = match params.get("port").and_then(Value::as_i64) {
        // Python treats port 0 as "no port" (`if port`).
        None | Some(0) => None,
        Some(p) => Some(u16::try_from(p).map_err(|_| {
            ModuleFail::msg(format!("port must be 0-65535, got {p}")).with("elapsed", json!(0))
        })?),
    };
    Ok(Options {
        host: s("host").unwrap_or_else(|| "127.0.0.1".into()),
        timeout: Duration::from_secs(secs(params, "timeout")),
        connect_timeout: secs(params, "connect_timeout"),
        delay: secs(params, "delay"),
        sleep: Duration::from_secs(secs(params, "sleep")),
        port,
        path: s("path").filter(|p| !p.is_empty()),
        search_regex: s("search_regex"),
        state: s("state").unwrap_or_else(|| "started".into()),
        msg: s("msg"),
        active_states: strings(params.get("active_connection_states")).unwrap_or_default(),
        exclude_hosts: strings(params.get("exclude_hosts")),
    })
}

/// A failure carrying `elapsed` in whole seconds, as every wait_for failure does.
fn fail_after(start: Instant, text: String) -> ModuleFail {
    ModuleFail::msg(text).with("elapsed", json!(start.elapsed().as_secs()))
}

/// `search_regex` as Python compiles it: bytes, with re.MULTILINE.
fn compile_search(p: &str) -> Result<PyBytesRegex, ModuleFail> {
    PyBytesRegex::new(&format!("(?m){p}"))
        .map_err(|e| ModuleFail::msg(format!("Invalid regular expression: {e}")))
}

/// Whether this call needs Python's `re` (see `replace::declines`).
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    let pattern = args.get("search_regex").and_then(Value::as_str)?;
    compile_search(pattern)
        .is_err()
        .then_some("search_regex beyond the native regex engine")
}

pub fn run(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    if ctx.check_mode {
        // The module does not declare check mode support; AnsibleModule skips it.
        let mut r = Map::new();
        r.insert("skipped".into(), json!(true));
        r.insert(
            "msg".into(),
            json!("remote module (wait_for) does not support check mode"),
        );
        return Ok(r);
    }
    let o = options(params)?;
    // Python compiles the pattern as bytes with re.MULTILINE.
    let regex = o.search_regex.as_deref().map(compile_search).transpose()?;
    let early = |text: &str| Err(ModuleFail::msg(text).with("elapsed", json!(0)));
    if o.port.is_some() && o.path.is_some() {
        return early("port and path parameter can not both be passed to wait_for");
    }
    if o.path.is_some() && o.state == "stopped" {
        return early(
            "state=stopped should only be used for checking a port in the wait_for module",
        );
    }
    if o.path.is_some() && o.state == "drained" {
        return early(
            "state=drained should only be used for checking a port in the wait_for module",
        );
    }
    if o.exclude_hosts.is_some() && o.state != "drained" {
        return early("exclude_hosts should only be with state=drained");
    }
    for s in &o.active_states {
        if !CONNECTION_STATES.iter().any(|(name, _)| name == s) {
            return early(&format!("unknown active_connection_state ({s}) defined"));
        }
    }

    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(o.delay));
    let end = start + o.timeout;
    let mut groups = (Value::Array(Vec::new()), Value::Object(Map::new()));
    if o.port.is_none() && o.path.is_none() && o.state != "drained" {
        std::thread::sleep(o.timeout);
    } else if o.state == "absent" || o.state == "stopped" {
        wait_until_gone(&o, start, end)?;
    } else if o.state == "started" || o.state == "present" {
        groups = wait_until_there(&o, regex.as_ref(), start, end)?;
    } else {
        wait_until_drained(&o, start, end)?;
    }
    let mut r = Map::new();
    r.insert("state".into(), json!(o.state));
    r.insert("port".into(), json!(o.port));
    r.insert("search_regex".into(), json!(o.search_regex));
    r.insert("match_groups".into(), groups.0);
    r.insert("match_groupdict".into(), groups.1);
    r.insert("path".into(), json!(o.path));
    r.insert("elapsed".into(), json!(start.elapsed().as_secs()));
    Ok(r)
}

/// Connect as Python's `socket.create_connection` does: each resolved address in
/// turn, each with the timeout.
fn connect(host: &str, port: u16, timeout: Duration) -> Option<TcpStream> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs().ok()?.collect();
    let timeout = timeout.max(Duration::from_millis(1));
    addrs
        .iter()
        .find_map(|a| TcpStream::connect_timeout(a, timeout).ok())
}

fn wait_until_gone(o: &Options, start: Instant, end: Instant) -> Result<(), ModuleFail> {
    while Instant::now() < end {
        if let Some(path) = &o.path {
            // os.access(F_OK) follows links: a dangling link counts as gone.
            if !Path::new(path).exists() {
                return Ok(());
            }
        } else if let Some(port) = o.port {
            match connect(&o.host, port, Duration::from_secs(o.connect_timeout)) {
                Some(s) => {
                    let _ = s.shutdown(Shutdown::Both);
                }
                None => return Ok(()),
            }
        }
        std::thread::sleep(o.sleep);
    }
    let text = match (&o.path, o.port) {
        (_, Some(port)) => format!("Timeout when waiting for {}:{port} to stop.", o.host),
        (Some(path), _) => format!("Timeout when waiting for {path} to be absent."),
        (None, None) => return Ok(()),
    };
    Err(fail_after(start, o.msg.clone().unwrap_or(text)))
}

/// Groups of a match as Python's `groups()` / `groupdict()` return them; empty when
/// the pattern has no groups (Ansible only keeps non-empty ones).
fn match_groups(re: &PyBytesRegex, haystack: &[u8]) -> Result<Option<(Value, Value)>, ModuleFail> {
    let Some(spans) = re.captures(haystack).map_err(ModuleFail::msg)? else {
        return Ok(None);
    };
    let text = |g: usize| {
        spans
            .get(g)
            .copied()
            .flatten()
            .and_then(|(s, e)| haystack.get(s..e))
            .map_or(Value::Null, |m| {
                json!(String::from_utf8_lossy(m).into_owned())
            })
    };
    let groups: Vec<Value> = (1..spans.len()).map(text).collect();
    let mut named = Map::new();
    for (g, name) in re.capture_names().into_iter().enumerate() {
        if let Some(name) = name {
            named.insert(name, text(g));
        }
    }
    Ok(Some((Value::Array(groups), Value::Object(named))))
}

fn wait_until_there(
    o: &Options,
    regex: Option<&PyBytesRegex>,
    start: Instant,
    end: Instant,
) -> Result<(Value, Value), ModuleFail> {
    while Instant::now() < end {
        if let Some(path) = &o.path {
            match std::fs::metadata(path) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    // Python's `e.strerror`: the OS text without the code.
                    let full = e.to_string();
                    let strerror = full.split(" (os error").next().unwrap_or(&full);
                    let text = format!("Failed to stat {path}, {strerror}");
                    return Err(fail_after(start, o.msg.clone().unwrap_or(text)));
                }
                Err(_) => {}
                Ok(_) => {
                    let Some(re) = regex else {
                        return Ok((json!([]), json!({})));
                    };
                    // An unreadable file is waited on, as Python's IOError is ignored.
                    if let Ok(content) = std::fs::read(path) {
                        if let Some(found) = match_groups(re, &content)? {
                            return Ok(found);
                        }
                    }
                }
            }
        } else if let Some(port) = o.port {
            let left = end.saturating_duration_since(Instant::now());
            // Python rounds the time left up to whole seconds.
            let left_secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            let timeout = Duration::from_secs(o.connect_timeout.min(left_secs));
            if let Some(stream) = connect(&o.host, port, timeout) {
                let Some(re) = regex else {
                    let _ = stream.shutdown(Shutdown::Both);
                    return Ok((json!([]), json!({})));
                };
                let matched = read_until_match(stream, re, end).map_err(ModuleFail::msg)?;
                if matched {
                    // Python does not keep groups for a port match.
                    return Ok((json!([]), json!({})));
                }
            }
        }
        std::thread::sleep(o.sleep);
    }
    let text = match (&o.path, o.port, &o.search_regex) {
        (_, Some(port), Some(re)) => format!(
            "Timeout when waiting for search string {re} in {}:{port}",
            o.host
        ),
        (_, Some(port), None) => format!("Timeout when waiting for {}:{port}", o.host),
        (Some(path), _, Some(re)) => {
            format!("Timeout when waiting for search string {re} in {path}")
        }
        (Some(path), _, None) => format!("Timeout when waiting for file {path}"),
        (None, None, _) => return Ok((json!([]), json!({}))),
    };
    Err(fail_after(start, o.msg.clone().unwrap_or(text)))
}

/// Read what the peer sends until the pattern matches, the peer closes, or `end`.
fn read_until_match(
    mut stream: TcpStream,
    re: &PyBytesRegex,
    end: Instant,
) -> Result<bool, String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 1024];
    let mut matched = Ok(false);
    while Instant::now() < end {
        let left = end.saturating_duration_since(Instant::now());
        if stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .is_err()
        {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                data.extend_from_slice(&buf[..n]);
                match re.is_match(&data) {
                    Ok(true) => {
                        matched = Ok(true);
                        break;
                    }
                    Ok(false) => {}
                    Err(e) => {
                        matched = Err(e);
                        break;
                    }
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    matched
}

fn wait_until_drained(o: &Options, start: Instant, end: Instant) -> Result<(), ModuleFail> {
    let Some(port) = o.port else {
        return Err(ModuleFail::msg(
            "wait_for: state=drained needs a port (int() argument must be a string, a bytes-like object or a real number, not 'NoneType')",
        ));
    };
    let watched = proc_net_addresses(&o.host);
    let excluded: Vec<(Family, String)> = o
        .exclude_hosts
        .iter()
        .flatten()
        .flat_map(|h| proc_net_addresses(h))
        .collect();
    let states: Vec<&str> = o
        .active_states
        .iter()
        .filter_map(|s| {
            CONNECTION_STATES
                .iter()
                .find(|(n, _)| n == s)
                .map(|(_, id)| *id)
        })
        .collect();
    let port_hex = format!("{port:04X}");
    while Instant::now() < end {
        if active_connections(&watched, &excluded, &states, &port_hex) == 0 {
            return Ok(());
        }
        std::thread::sleep(o.sleep);
    }
    let text = format!("Timeout when waiting for {}:{port} to drain", o.host);
    Err(fail_after(start, o.msg.clone().unwrap_or(text)))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Family {
    V4,
    V6,
}

/// A host's addresses as /proc/net/tcp{,6} write them: each 32-bit word in host
/// (little-endian) order, upper-case hex; IPv4 addresses also as IPv4-mapped IPv6.
fn proc_net_addresses(host: &str) -> Vec<(Family, String)> {
    let words = |bytes: &[u8]| -> String {
        bytes
            .chunks(4)
            .map(|w| format!("{:08X}", u32::from_le_bytes([w[0], w[1], w[2], w[3]])))
            .collect()
    };
    let mut out = Vec::new();
    let Ok(addrs) = (host, 80u16).to_socket_addrs() else {
        return out;
    };
    for a in addrs {
        match a.ip() {
            std::net::IpAddr::V4(ip) => {
                out.push((Family::V4, words(&ip.octets())));
                out.push((Family::V6, words(&ip.to_ipv6_mapped().octets())));
            }
            std::net::IpAddr::V6(ip) => out.push((Family::V6, words(&ip.octets()))),
        }
    }
    out
}

fn active_connections(
    watched: &[(Family, String)],
    excluded: &[(Family, String)],
    states: &[&str],
    port_hex: &str,
) -> usize {
    let mut count = 0;
    for (family, file, any, mapped_prefix, mapped_any) in [
        (Family::V4, "/proc/net/tcp", "00000000", "", ""),
        (
            Family::V6,
            "/proc/net/tcp6",
            "00000000000000000000000000000000",
            "0000000000000000FFFF0000",
            "0000000000000000FFFF000000000000",
        ),
    ] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 4 || fields[1] == "local_address" {
                continue;
            }
            if !states.contains(&fields[3]) {
                continue;
            }
            let (Some((local_ip, local_port)), Some((remote_ip, _))) =
                (fields[1].split_once(':'), fields[2].split_once(':'))
            else {
                continue;
            };
            if local_port != port_hex {
                continue;
            }
            if excluded
                .iter()
                .any(|(f, ip)| *f == family && ip == remote_ip)
            {
                continue;
            }
            let has = |ip: &str| watched.iter().any(|(f, w)| *f == family && w == ip);
            if has(local_ip)
                || has(any)
                || (!mapped_prefix.is_empty()
                    && local_ip.starts_with(mapped_prefix)
                    && has(mapped_any))
            {
                count += 1;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::super::run_module;
    use super::*;
    use std::net::TcpListener;

    fn run_args(args: Value) -> Value {
        run_module(
            "wait_for",
            args.as_object().unwrap(),
            &ModuleContext::default(),
        )
    }

    #[test]
    fn open_port_is_found_and_closed_port_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let r = run_args(json!({"port": port, "timeout": 2}));
        assert_eq!(r["failed"], Value::Null, "{r}");
        assert_eq!(r["port"], json!(port));
        assert_eq!(r["state"], json!("started"));
        drop(listener);
        let r = run_args(json!({"port": port, "timeout": 1, "sleep": 1}));
        assert_eq!(r["failed"], json!(true));
        assert_eq!(
            r["msg"],
            json!(format!("Timeout when waiting for 127.0.0.1:{port}"))
        );
        let r = run_args(json!({"port": port, "state": "stopped", "timeout": 1}));
        assert_eq!(r["failed"], Value::Null, "{r}");
    }

    #[test]
    fn file_regex_groups_are_returned() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("log");
        std::fs::write(&f, "start\nready on port 6443\n").unwrap();
        let r = run_args(
            json!({"path": f, "search_regex": "^ready on port (?P<p>\\d+)$", "timeout": 1}),
        );
        assert_eq!(r["match_groups"], json!(["6443"]), "{r}");
        assert_eq!(r["match_groupdict"], json!({"p": "6443"}));
        assert_eq!(r["state"], json!("file"));
        let r =
            run_args(json!({"path": f, "search_regex": "never", "timeout": 1, "msg": "gave up"}));
        assert_eq!(r["msg"], json!("gave up"));
        assert_eq!(r["elapsed"], json!(1));
    }

    #[test]
    fn proc_net_addresses_are_little_endian_words() {
        let a = proc_net_addresses("127.0.0.1");
        assert_eq!(a[0], (Family::V4, "0100007F".to_string()));
        assert_eq!(
            a[1],
            (Family::V6, "0000000000000000FFFF00000100007F".to_string())
        );
    }
}
