//! Credentials as Ansible's `_configure_auth` finds them: `url_username`/
//! `url_password`, else user:password in the URL, else `~/.netrc` (`NETRC`).

use base64::Engine;
use std::collections::BTreeMap;

/// `Basic <base64(user:password)>`.
pub fn basic_auth_header(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
    )
}

/// Percent-decoding for credentials taken from a URL.
fn unquote(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The credentials to use and the URL without any embedded ones.
pub struct Credentials {
    pub url: String,
    pub username: Option<String>,
    pub password: String,
    /// Found in a netrc file: sent up front, as Ansible does.
    pub from_netrc: bool,
}

pub fn configure(
    url: &str,
    username: Option<&str>,
    password: Option<&str>,
    use_netrc: bool,
    env: &BTreeMap<String, String>,
) -> Credentials {
    let mut creds = Credentials {
        url: url.to_string(),
        username: username.filter(|u| !u.is_empty()).map(str::to_string),
        password: password.unwrap_or_default().to_string(),
        from_netrc: false,
    };
    if creds.username.is_some() {
        return creds;
    }
    if let Some((scheme, rest)) = url.split_once("://") {
        let netloc_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let netloc = &rest[..netloc_end];
        if let Some((userinfo, host)) = netloc.split_once('@') {
            let (u, p) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            creds.username = Some(unquote(u));
            creds.password = unquote(p);
            creds.url = format!("{scheme}://{host}{}", &rest[netloc_end..]);
            return creds;
        }
        if use_netrc {
            let host = netloc.rsplit_once(':').map_or(netloc, |(h, _)| h);
            if let Some((login, pw)) = netrc_login(host, env) {
                creds.username = Some(login);
                creds.password = pw;
                creds.from_netrc = true;
            }
        }
    }
    creds
}

/// Python's `netrc.authenticators(host)`: the host's `machine` entry, else `default`.
fn netrc_login(host: &str, env: &BTreeMap<String, String>) -> Option<(String, String)> {
    let path = env
        .get("NETRC")
        .cloned()
        .or_else(|| std::env::var("NETRC").ok())
        .or_else(|| {
            env.get("HOME")
                .cloned()
                .or_else(|| std::env::var("HOME").ok())
                .map(|h| format!("{h}/.netrc"))
        })?;
    let text = std::fs::read_to_string(path).ok()?;
    let mut tokens = text.split_whitespace();
    let mut current: Option<String> = None;
    let mut entries: Vec<(String, String, String)> = Vec::new();
    let (mut login, mut password) = (String::new(), String::new());
    let mut flush = |cur: &mut Option<String>, login: &mut String, password: &mut String| {
        if let Some(m) = cur.take() {
            entries.push((m, std::mem::take(login), std::mem::take(password)));
        }
    };
    while let Some(tok) = tokens.next() {
        match tok {
            "machine" => {
                flush(&mut current, &mut login, &mut password);
                current = tokens.next().map(str::to_string);
            }
            "default" => {
                flush(&mut current, &mut login, &mut password);
                current = Some(String::new());
            }
            "login" | "user" => login = tokens.next().unwrap_or_default().to_string(),
            "password" => password = tokens.next().unwrap_or_default().to_string(),
            "account" => {
                tokens.next();
            }
            _ => {}
        }
    }
    flush(&mut current, &mut login, &mut password);
    let found = entries
        .iter()
        .find(|(m, _, _)| m == host)
        .or_else(|| entries.iter().find(|(m, _, _)| m.is_empty()))?;
    if found.1.is_empty() || found.2.is_empty() {
        return None;
    }
    Some((found.1.clone(), found.2.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_url_are_taken_out() {
        let c = configure(
            "http://us%40r:p%3Aw@h:8/x",
            None,
            None,
            false,
            &BTreeMap::new(),
        );
        assert_eq!(c.url, "http://h:8/x");
        assert_eq!(c.username.as_deref(), Some("us@r"));
        assert_eq!(c.password, "p:w");
        assert_eq!(basic_auth_header("a", "b"), "Basic YTpi");
    }

    #[test]
    fn netrc_machine_then_default() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("netrc");
        std::fs::write(
            &p,
            "machine h login u password p\ndefault login d password q\n",
        )
        .unwrap();
        let mut env = BTreeMap::new();
        env.insert("NETRC".to_string(), p.display().to_string());
        let c = configure("http://h/x", None, None, true, &env);
        assert_eq!(
            (c.username.as_deref(), c.password.as_str()),
            (Some("u"), "p")
        );
        let c = configure("http://other/x", None, None, true, &env);
        assert_eq!(c.username.as_deref(), Some("d"));
        let c = configure("http://other/x", None, None, false, &env);
        assert_eq!(c.username, None);
    }
}
