//! The rtnetlink answers Ansible's network collector gets from `ip`, asked over
//! a netlink socket instead of starting `ip` six times per gathering. Each
//! function returns the lines `ip` would print, in its format and order, for the
//! words the parser in network.rs reads; None when netlink cannot be used (the
//! caller then runs `ip`).

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PREFSRC: u16 = 7;
const RTA_TABLE: u16 = 15;
const RTA_VIA: u16 = 18;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_BROADCAST: u16 = 4;
const IFA_ANYCAST: u16 = 5;
const IFA_FLAGS: u16 = 8;
/// IFA_F_SECONDARY, also IFA_F_TEMPORARY for IPv6: what `ip addr show secondary` selects.
const IFA_F_SECONDARY: u32 = 0x01;
const RTN_UNICAST: u8 = 1;
const RTN_LOCAL: u8 = 2;
const RT_TABLE_LOCAL: u32 = 255;
const NLMSG_HDRLEN: usize = 16;
/// A failure of the socket itself, not an answer of the kernel (those are -errno).
const IO_ERR: i32 = i32::MIN;

/// A NETLINK_ROUTE socket, closed on drop.
struct Socket(libc::c_int);

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: the descriptor is ours and closed once.
        unsafe { libc::close(self.0) };
    }
}

impl Socket {
    fn open() -> Option<Socket> {
        // SAFETY: plain socket(2) call; the result is checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        (fd >= 0).then_some(Socket(fd))
    }

    /// Sends one request and collects the payloads of its answers (for a dump,
    /// until NLMSG_DONE). Err(errno) when the kernel refuses it.
    fn request(&self, kind: u16, flags: u16, body: &[u8]) -> Result<Vec<(u16, Vec<u8>)>, i32> {
        let mut msg = Vec::with_capacity(NLMSG_HDRLEN + body.len());
        msg.extend_from_slice(&((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes());
        msg.extend_from_slice(&kind.to_ne_bytes());
        msg.extend_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
        msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
        msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
        msg.extend_from_slice(body);
        // SAFETY: msg is a valid buffer of msg.len() bytes.
        let sent = unsafe { libc::send(self.0, msg.as_ptr().cast(), msg.len(), 0) };
        if sent < 0 {
            return Err(IO_ERR);
        }
        let dump = flags & NLM_F_DUMP != 0;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: buf is a valid writable buffer of buf.len() bytes.
            let n = unsafe { libc::recv(self.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n <= 0 {
                return Err(IO_ERR);
            }
            let mut rest = &buf[..n as usize];
            while rest.len() >= NLMSG_HDRLEN {
                let len = u32_at(rest, 0)? as usize;
                let kind = u16_at(rest, 4)?;
                if len < NLMSG_HDRLEN || len > rest.len() {
                    return Err(IO_ERR);
                }
                let payload = &rest[NLMSG_HDRLEN..len];
                match kind {
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR => {
                        let code = i32::from_ne_bytes(
                            payload
                                .get(..4)
                                .ok_or(IO_ERR)?
                                .try_into()
                                .map_err(|_| IO_ERR)?,
                        );
                        if code != 0 {
                            return Err(code);
                        }
                        if !dump {
                            return Ok(out);
                        }
                    }
                    _ => out.push((kind, payload.to_vec())),
                }
                rest = &rest[align(len).min(rest.len())..];
            }
            if !dump && !out.is_empty() {
                return Ok(out);
            }
        }
    }
}

fn align(n: usize) -> usize {
    (n + 3) & !3
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, i32> {
    Ok(u16::from_ne_bytes(
        b.get(at..at + 2)
            .ok_or(IO_ERR)?
            .try_into()
            .map_err(|_| IO_ERR)?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, i32> {
    Ok(u32::from_ne_bytes(
        b.get(at..at + 4)
            .ok_or(IO_ERR)?
            .try_into()
            .map_err(|_| IO_ERR)?,
    ))
}

/// The rtattrs after a fixed header of `skip` bytes, by type (the last one wins).
fn attrs(payload: &[u8], skip: usize) -> HashMap<u16, Vec<u8>> {
    let mut out = HashMap::new();
    let mut rest = payload.get(skip..).unwrap_or(&[]);
    while rest.len() >= 4 {
        let (Ok(len), Ok(kind)) = (u16_at(rest, 0), u16_at(rest, 2)) else {
            break;
        };
        let len = len as usize;
        if len < 4 || len > rest.len() {
            break;
        }
        out.insert(kind, rest[4..len].to_vec());
        rest = &rest[align(len).min(rest.len())..];
    }
    out
}

/// An address as `ip` prints it (inet_ntop).
fn addr_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            Ipv6Addr::from(a).to_string()
        }
        _ => "?".to_string(),
    }
}

fn if_name(index: u32) -> String {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE + 1];
    // SAFETY: buf holds IF_NAMESIZE bytes plus a terminator, as if_indextoname needs.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return format!("if{index}");
    }
    // SAFETY: on success buf holds a NUL-terminated name.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// rtnl_rtscope_n2a's names.
fn scope_name(scope: u8) -> String {
    match scope {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => n.to_string(),
    }
}

/// rtnl_rtntype_n2a's names.
fn route_type_name(kind: u8) -> String {
    match kind {
        1 => "unicast",
        2 => "local",
        3 => "broadcast",
        4 => "anycast",
        5 => "multicast",
        6 => "blackhole",
        7 => "unreachable",
        8 => "prohibit",
        9 => "throw",
        10 => "nat",
        _ => "unknown",
    }
    .to_string()
}

fn family_of(probe: &str) -> Option<(u8, Vec<u8>)> {
    if let Ok(a) = probe.parse::<Ipv4Addr>() {
        return Some((libc::AF_INET as u8, a.octets().to_vec()));
    }
    let a = probe.parse::<Ipv6Addr>().ok()?;
    Some((libc::AF_INET6 as u8, a.octets().to_vec()))
}

/// `ip -4|-6 route get PROBE`'s first line (empty when there is no route), or
/// None when netlink is not usable.
pub fn route_get(probe: &str) -> Option<String> {
    let (family, dst) = family_of(probe)?;
    let sock = Socket::open()?;
    let mut body = vec![family, (dst.len() * 8) as u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(&((4 + dst.len()) as u16).to_ne_bytes());
    body.extend_from_slice(&RTA_DST.to_ne_bytes());
    body.extend_from_slice(&dst);
    let answers = match sock.request(RTM_GETROUTE, 0, &body) {
        Ok(a) => a,
        // No route: `ip` prints only an error on stderr.
        Err(code) if code != IO_ERR => return Some(String::new()),
        Err(_) => return None,
    };
    let Some((_, msg)) = answers.iter().find(|(k, _)| *k == RTM_NEWROUTE) else {
        return Some(String::new());
    };
    let kind = *msg.get(7)?;
    let a = attrs(msg, 12);
    let mut words: Vec<String> = Vec::new();
    if kind != RTN_UNICAST {
        words.push(route_type_name(kind));
    }
    words.push(
        a.get(&RTA_DST)
            .map(|d| addr_text(d))
            .unwrap_or_else(|| probe.into()),
    );
    if let Some(gw) = a.get(&RTA_GATEWAY) {
        words.extend(["via".into(), addr_text(gw)]);
    } else if let Some(via) = a.get(&RTA_VIA) {
        // struct rtvia: a family, then the address: printed "via inet6 ADDR".
        let fam = u16_at(via, 0).ok()?;
        let name = if fam == libc::AF_INET6 as u16 {
            "inet6"
        } else {
            "inet"
        };
        words.extend(["via".into(), name.into(), addr_text(via.get(2..)?)]);
    }
    if let Some(oif) = a.get(&RTA_OIF) {
        words.extend(["dev".into(), if_name(u32_at(oif, 0).ok()?)]);
    }
    if let Some(src) = a.get(&RTA_PREFSRC) {
        words.extend(["src".into(), addr_text(src)]);
    }
    Some(words.join(" "))
}

/// `ip -4|-6 route show table local` lines (only the `local` ones, which are all
/// the parser reads); None when the dump fails (`ip` would exit non-zero).
pub fn local_routes(ipv6: bool) -> Option<Vec<String>> {
    let family = if ipv6 { libc::AF_INET6 } else { libc::AF_INET } as u8;
    let sock = Socket::open()?;
    let body = [family, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let answers = sock.request(RTM_GETROUTE, NLM_F_DUMP, &body).ok()?;
    let mut lines = Vec::new();
    for (kind, msg) in answers {
        if kind != RTM_NEWROUTE || msg.len() < 12 || msg[0] != family {
            continue;
        }
        let a = attrs(&msg, 12);
        let table = a
            .get(&RTA_TABLE)
            .and_then(|t| u32_at(t, 0).ok())
            .unwrap_or(u32::from(msg[4]));
        if table != RT_TABLE_LOCAL || msg[7] != RTN_LOCAL {
            continue;
        }
        let full = if ipv6 { 128 } else { 32 };
        let dst = match a.get(&RTA_DST) {
            Some(d) if msg[1] == full => addr_text(d),
            Some(d) => format!("{}/{}", addr_text(d), msg[1]),
            None => "default".into(),
        };
        lines.push(format!("local {dst}"));
    }
    Some(lines)
}

/// `ip addr show primary` (secondary false) or `secondary`: each device's
/// `inet`/`inet6` lines, keyed by device name as network.rs's `sections` gives them.
pub fn addresses(secondary: bool) -> Option<HashMap<String, Vec<String>>> {
    let sock = Socket::open()?;
    let body = [libc::AF_UNSPEC as u8, 0, 0, 0, 0, 0, 0, 0];
    let answers = sock.request(RTM_GETADDR, NLM_F_DUMP, &body).ok()?;
    let mut names: HashMap<u32, String> = HashMap::new();
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (kind, msg) in answers {
        if kind != RTM_NEWADDR || msg.len() < 8 {
            continue;
        }
        let (family, prefix, scope) = (msg[0], msg[1], msg[3]);
        let index = u32_at(&msg, 4).ok()?;
        let a = attrs(&msg, 8);
        let flags = a
            .get(&IFA_FLAGS)
            .and_then(|f| u32_at(f, 0).ok())
            .unwrap_or(u32::from(msg[2]));
        if (flags & IFA_F_SECONDARY != 0) != secondary {
            continue;
        }
        let word = match i32::from(family) {
            libc::AF_INET => "inet",
            libc::AF_INET6 => "inet6",
            _ => continue,
        };
        // As iproute2 does: each of IFA_LOCAL/IFA_ADDRESS stands in for the other.
        let Some(local) = a.get(&IFA_LOCAL).or_else(|| a.get(&IFA_ADDRESS)) else {
            continue;
        };
        let address = a.get(&IFA_ADDRESS).unwrap_or(local);
        let mut line = format!("    {word} {}", addr_text(local));
        if address != local {
            line.push_str(&format!(" peer {}", addr_text(address)));
        }
        line.push_str(&format!("/{prefix}"));
        if let Some(brd) = a.get(&IFA_BROADCAST) {
            line.push_str(&format!(" brd {}", addr_text(brd)));
        }
        if let Some(any) = a.get(&IFA_ANYCAST) {
            line.push_str(&format!(" any {}", addr_text(any)));
        }
        line.push_str(&format!(" scope {}", scope_name(scope)));
        if flags & IFA_F_SECONDARY != 0 {
            line.push_str(if word == "inet" {
                " secondary"
            } else {
                " temporary"
            });
        }
        if let Some(label) = a.get(&IFA_LABEL) {
            let label = label.split(|b| *b == 0).next().unwrap_or(&[]);
            line.push(' ');
            line.push_str(&String::from_utf8_lossy(label));
        }
        let name = names.entry(index).or_insert_with(|| if_name(index)).clone();
        out.entry(name).or_default().push(line);
    }
    Some(out)
}
