//! Host addresses and ranges: Ansible's `parse_address` (host, optional port) and
//! `expand_hostname_range` (`web[01:50]`, `db-[a:f]`, `n[1:10:2]`).

use std::sync::OnceLock;

use regex::Regex;

/// Most hosts one range expression may produce; a guard against `h[0:999999999999]`.
const MAX_EXPANDED_HOSTS: usize = 1_000_000;

struct Patterns {
    bracketed_hostport: Regex,
    hostport: Regex,
    ipv4: Regex,
    /// Ansible's ipv6 regex only anchors its last alternative at the end, so in
    /// effect it accepts anything that *starts* like an IPv6 address; this is that.
    ipv6_prefix: Regex,
    alnum_range: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let numeric_range = r"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]";
        let hex_range = r"\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]";
        let i4 = format!(r"(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{numeric_range})");
        let h6 = format!(r"(?:[0-9a-f]{{1,4}}|{hex_range})");
        let ipv6 = format!(
            r"(?i)^(?:(?:{h6}:){{7}}{h6}|(?:{h6}:){{1,6}}:|::|(?:0:){{6}}(?:{h6}\.){{3}}{h6}|(?:0:){{5}}ffff:(?:{h6}\.){{3}}{h6})"
        );
        Patterns {
            bracketed_hostport: Regex::new(r"^\[(.+)\]:([0-9]+)$").expect("static regex"),
            hostport: Regex::new(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$").expect("static regex"),
            ipv4: Regex::new(&format!(r"(?i)^(?:{i4}\.){{3}}{i4}$")).expect("static regex"),
            ipv6_prefix: Regex::new(&ipv6).expect("static regex"),
            alnum_range: Regex::new(r"(?i)^\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]")
                .expect("static regex"),
        }
    })
}

/// `parse_address(address, allow_ranges)`: the host and the port, or Ansible's error text.
pub fn parse_address(address: &str, allow_ranges: bool) -> Result<(String, Option<i64>), String> {
    let p = patterns();
    let mut address = address.to_string();
    let mut port = None;
    // Both patterns are tried in turn, the second on what the first left.
    for re in [&p.bracketed_hostport, &p.hostport] {
        if let Some(c) = re.captures(&address) {
            let host = c[1].to_string();
            port = Some(c[2].parse::<i64>().map_err(|e| e.to_string())?);
            address = host;
        }
    }
    let valid =
        p.ipv4.is_match(&address) || p.ipv6_prefix.is_match(&address) || is_hostname(&address);
    if !valid {
        return Err(format!("Not a valid network hostname: {address}"));
    }
    if !allow_ranges && address.contains('[') {
        return Err("Detected range in host but was asked to ignore ranges".to_string());
    }
    Ok((address, port))
}

/// `is_ipv4_or_ipv6(name)`: what decides `inventory_hostname_short`.
pub fn looks_like_ip(name: &str) -> bool {
    let p = patterns();
    p.ipv4.is_match(name) || p.ipv6_prefix.is_match(name)
}

/// Ansible's hostname rule: dot-separated labels of word characters and `-`, with
/// ranges allowed anywhere, not starting with `-` nor ending with `-` or `_`.
fn is_hostname(address: &str) -> bool {
    address.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    let p = patterns();
    let mut rest = label;
    let mut first = true;
    let mut last_char = None;
    while !rest.is_empty() {
        if rest.starts_with('[') {
            let Some(m) = p.alnum_range.find(rest) else {
                return false;
            };
            rest = &rest[m.end()..];
            last_char = Some(']');
        } else {
            let Some(c) = rest.chars().next() else { break };
            let word = c.is_alphanumeric() || c == '_';
            if !(word || (!first && c == '-')) {
                return false;
            }
            rest = &rest[c.len_utf8()..];
            last_char = Some(c);
        }
        first = false;
    }
    matches!(last_char, Some(c) if c != '-' && c != '_')
}

/// `_expand_hostpattern`: hostnames (ranges expanded) and the port, if any.
pub fn expand_hostpattern(pattern: &str) -> Result<(Vec<String>, Option<i64>), String> {
    let (host, port) = match parse_address(pattern, true) {
        Ok(found) => found,
        Err(_) => (pattern.to_string(), None),
    };
    let hosts = if host.contains('[') {
        expand_hostname_range(&host)?
    } else {
        vec![host]
    };
    Ok((hosts, port))
}

/// Expand the first `[begin:end(:step)]` of `line`, then recurse for any further ranges.
pub fn expand_hostname_range(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    expand_into(line, &mut out)?;
    Ok(out)
}

fn expand_into(line: &str, out: &mut Vec<String>) -> Result<(), String> {
    if line.is_empty() {
        return Ok(());
    }
    // Python: line.replace('[', '|', 1).replace(']', '|', 1).split('|') unpacked into three.
    let replaced = line.replacen('[', "|", 1).replacen(']', "|", 1);
    let parts: Vec<&str> = replaced.split('|').collect();
    if parts.len() != 3 {
        return Err(if parts.len() > 3 {
            "too many values to unpack (expected 3)".to_string()
        } else {
            format!(
                "not enough values to unpack (expected 3, got {})",
                parts.len()
            )
        });
    }
    let (head, nrange, tail) = (parts[0], parts[1], parts[2]);
    let bounds: Vec<&str> = nrange.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err("host range must be begin:end or begin:end:step".to_string());
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    let step_text = bounds.get(2).copied();
    if end.is_empty() {
        return Err("host range must specify end value".to_string());
    }
    let width = if beg.starts_with('0') && beg.len() > 1 {
        if beg.chars().count() != end.chars().count() {
            return Err("host range must specify equal-length begin and end formats".to_string());
        }
        Some(beg.chars().count())
    } else {
        None
    };
    let step = match step_text {
        None => 1,
        Some(s) => python_int(s)?,
    };
    let fill = |s: String| match width {
        Some(w) if s.chars().count() < w => {
            let (sign, digits) = match s.strip_prefix('-') {
                Some(d) => ("-", d.to_string()),
                None => ("", s.clone()),
            };
            format!("{sign}{}{digits}", "0".repeat(w - s.chars().count()))
        }
        _ => s,
    };
    const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let items: Vec<String> = match (LETTERS.find(beg), LETTERS.find(end)) {
        (Some(b), Some(e)) => {
            if b > e {
                return Err("host range must have begin <= end".to_string());
            }
            if step == 0 {
                return Err("slice step cannot be zero".to_string());
            }
            let slice: Vec<char> = LETTERS[b..=e].chars().collect();
            python_slice_step(&slice, step)
                .into_iter()
                .map(|c| c.to_string())
                .collect()
        }
        _ => {
            let b = python_int(beg)?;
            let e = python_int(end)?;
            if step == 0 {
                return Err("range() arg 3 must not be zero".to_string());
            }
            let mut v = Vec::new();
            // range(b, e + 1, step), in i128 so the bounds cannot overflow.
            let (mut i, stop, step) = (b as i128, e as i128 + 1, step as i128);
            while (step > 0 && i < stop) || (step < 0 && i > stop) {
                v.push(i.to_string());
                if out.len() + v.len() > MAX_EXPANDED_HOSTS {
                    return Err("host range expands to too many hosts".to_string());
                }
                i += step;
            }
            v
        }
    };
    for item in items {
        let name = format!("{head}{}{tail}", fill(item));
        if name.contains('[') {
            expand_into(&name, out)?;
        } else {
            out.push(name);
        }
        if out.len() > MAX_EXPANDED_HOSTS {
            return Err("host range expands to too many hosts".to_string());
        }
    }
    Ok(())
}

/// Python's `int(text)` for range bounds, with its error text.
fn python_int(text: &str) -> Result<i64, String> {
    let clean = text.trim();
    let ok = !clean.is_empty()
        && clean
            .trim_start_matches(['+', '-'])
            .chars()
            .all(|c| c.is_ascii_digit() || c == '_');
    if ok {
        if let Ok(n) = clean.replace('_', "").parse::<i64>() {
            return Ok(n);
        }
    }
    Err(format!("invalid literal for int() with base 10: '{text}'"))
}

fn python_slice_step<T: Copy>(items: &[T], step: i64) -> Vec<T> {
    if step > 0 {
        items.iter().step_by(step as usize).copied().collect()
    } else {
        // A negative step over [b:e+1] walks from the end; with b <= e Python yields nothing.
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address("db:2222", true).unwrap(),
            ("db".into(), Some(2222))
        );
        assert_eq!(
            parse_address("[::1]:22", true).unwrap(),
            ("::1".into(), Some(22))
        );
        assert_eq!(
            parse_address("fe80::1", true).unwrap(),
            ("fe80::1".into(), None)
        );
        assert_eq!(
            parse_address("10.0.0.1", false).unwrap(),
            ("10.0.0.1".into(), None)
        );
        assert!(parse_address("web[1:3]", false).is_err());
        assert!(parse_address("web[1:3]", true).is_ok());
        assert!(parse_address("bad_", true).is_err());
        assert!(parse_address("-bad", true).is_err());
        assert!(parse_address("a b", true).is_err());
    }

    #[test]
    fn ranges() {
        assert_eq!(
            expand_hostname_range("web[01:03]").unwrap(),
            ["web01", "web02", "web03"]
        );
        assert_eq!(
            expand_hostname_range("n[1:10:4]x").unwrap(),
            ["n1x", "n5x", "n9x"]
        );
        assert_eq!(expand_hostname_range("h[a:c]").unwrap(), ["ha", "hb", "hc"]);
        assert_eq!(
            expand_hostname_range("r[1:2]c[a:b]").unwrap(),
            ["r1ca", "r1cb", "r2ca", "r2cb"]
        );
        assert_eq!(expand_hostname_range("h[:2]").unwrap(), ["h0", "h1", "h2"]);
        assert_eq!(
            expand_hostname_range("[::1]").unwrap_err(),
            "host range must specify end value"
        );
        assert_eq!(
            expand_hostname_range("h[01:100]").unwrap_err(),
            "host range must specify equal-length begin and end formats"
        );
        assert_eq!(
            expand_hostname_range("h[c:a]").unwrap_err(),
            "host range must have begin <= end"
        );
    }
}
