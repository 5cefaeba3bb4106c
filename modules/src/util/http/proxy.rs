//! Proxies from the environment as Python's urllib reads them (`getproxies`,
//! `proxy_bypass_environment`), which is what Ansible's `use_proxy` honours.

use std::collections::BTreeMap;

/// `<scheme>_proxy` (lower case first, then upper case) unless `no_proxy`
/// names the host. `env` is the task's environment over the agent's own.
pub fn proxy_for(
    scheme: &str,
    host: &str,
    port: Option<u16>,
    env: &BTreeMap<String, String>,
) -> Option<String> {
    let get = |name: &str| -> Option<String> {
        env.get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
            .filter(|v| !v.is_empty())
    };
    let lower = format!("{scheme}_proxy");
    let proxy = get(&lower).or_else(|| get(&lower.to_uppercase()))?;
    let no_proxy = get("no_proxy").or_else(|| get("NO_PROXY"));
    if let Some(list) = no_proxy {
        if bypassed(&list, host, port) {
            return None;
        }
    }
    Some(proxy)
}

/// urllib's `proxy_bypass_environment`: `*` bypasses everything; otherwise a
/// name (leading dot dropped) matches the host, host:port, or a domain suffix.
fn bypassed(list: &str, host: &str, port: Option<u16>) -> bool {
    if list.trim() == "*" {
        return true;
    }
    let host = host.to_lowercase();
    let with_port = port.map(|p| format!("{host}:{p}"));
    list.split(',')
        .map(|n| n.trim().trim_start_matches('.').to_lowercase())
        .filter(|n| !n.is_empty())
        .any(|name| {
            let suffix = format!(".{name}");
            host == name
                || host.ends_with(&suffix)
                || with_port
                    .as_deref()
                    .is_some_and(|hp| hp == name || hp.ends_with(&suffix))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_matches_as_urllib() {
        let mut env = BTreeMap::new();
        env.insert("http_proxy".into(), "http://p:3128".into());
        env.insert(
            "no_proxy".into(),
            "localhost, .example.com,10.0.0.1:8080".into(),
        );
        assert_eq!(proxy_for("http", "a.example.com", Some(80), &env), None);
        assert_eq!(proxy_for("http", "example.com", Some(80), &env), None);
        assert_eq!(proxy_for("http", "10.0.0.1", Some(8080), &env), None);
        assert_eq!(
            proxy_for("http", "10.0.0.1", Some(80), &env).as_deref(),
            Some("http://p:3128")
        );
        assert_eq!(proxy_for("https", "x.org", None, &env), None);
        env.insert("no_proxy".into(), "*".into());
        assert_eq!(proxy_for("http", "x.org", None, &env), None);
    }
}
