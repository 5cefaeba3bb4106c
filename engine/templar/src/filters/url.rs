//! `urlsplit`: Python's `urllib.parse.urlsplit` (3.11) as Ansible's filter
//! exposes it: a dict of the components in `dir()` order, or one of them.

use indexmap::IndexMap;
use minijinja::value::Value;
use minijinja::Error;

use super::core::err;

/// The parts `urlsplit` gives, before the derived attributes.
struct SplitUrl<'a> {
    scheme: String,
    netloc: &'a str,
    path: &'a str,
    query: &'a str,
    fragment: &'a str,
}

fn is_scheme_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')
}

/// Python's `urlsplit` with `allow_fragments=True`.
fn split(url: &str) -> Result<SplitUrl<'_>, Error> {
    // Leading C0 controls and spaces are stripped; tabs and newlines removed
    // (the caller passes a string already without them: see `clean`).
    let mut rest = url;
    let mut scheme = String::new();
    if let Some(i) = rest.find(':') {
        let candidate = &rest[..i];
        if i > 0
            && candidate.starts_with(|c: char| c.is_ascii_alphabetic())
            && candidate.chars().all(is_scheme_char)
        {
            scheme = candidate.to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
    }
    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = &after[..end];
        rest = &after[end..];
        if netloc.contains('[') != netloc.contains(']') {
            return Err(err("Invalid IPv6 URL"));
        }
    }
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Ok(SplitUrl {
        scheme,
        netloc,
        path,
        query,
        fragment,
    })
}

/// Python strips leading C0 controls/spaces and drops tabs and newlines.
fn clean(url: &str) -> String {
    url.trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect()
}

fn opt(s: Option<&str>) -> Value {
    s.map(Value::from).unwrap_or(Value::from(()))
}

/// `hostname`, `port`, `username`, `password` from the netloc.
fn netloc_parts(netloc: &str) -> Result<[Value; 4], Error> {
    let (userinfo, hostport) = match netloc.rfind('@') {
        Some(i) => (Some(&netloc[..i]), &netloc[i + 1..]),
        None => (None, netloc),
    };
    let (username, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (Some(a), Some(b)),
            None => (Some(u), None),
        },
        None => (None, None),
    };
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (h, after) = inner.split_once(']').unwrap_or((inner, ""));
        (h, after.split_once(':').map(|(_, p)| p))
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let host = host.to_lowercase();
    let hostname = if host.is_empty() {
        Value::from(())
    } else {
        Value::from(host)
    };
    let port = match port {
        None | Some("") => Value::from(()),
        Some(p) if p.chars().all(|c| c.is_ascii_digit()) => match p.parse::<u64>() {
            Ok(n) if n <= 65535 => Value::from(n),
            _ => return Err(err("Port out of range 0-65535")),
        },
        Some(p) => {
            return Err(err(format!(
                "Port could not be cast to integer value as '{}'",
                p
            )))
        }
    };
    Ok([hostname, port, opt(username), opt(password)])
}

/// `urlsplit(query='')`.
pub fn urlsplit(value: Value, query: Option<String>) -> Result<Value, Error> {
    let Some(text) = value.as_str() else {
        return Err(err(format!(
            "urlsplit expects a string, got {}",
            crate::type_name(&value)
        )));
    };
    let url = clean(text);
    let parts = split(&url)?;
    let [hostname, port, username, password] = netloc_parts(parts.netloc)?;
    let mut out: IndexMap<&str, Value> = IndexMap::new();
    out.insert("fragment", Value::from(parts.fragment));
    out.insert("hostname", hostname);
    out.insert("netloc", Value::from(parts.netloc));
    out.insert("password", password);
    out.insert("path", Value::from(parts.path));
    out.insert("port", port);
    out.insert("query", Value::from(parts.query));
    out.insert("scheme", Value::from(parts.scheme));
    out.insert("username", username);
    match query.as_deref() {
        None | Some("") => Ok(Value::from(
            out.into_iter()
                .map(|(k, v)| (Value::from(k), v))
                .collect::<IndexMap<Value, Value>>(),
        )),
        Some(q) => out
            .shift_remove(q)
            .ok_or_else(|| err(format!("urlsplit: unknown URL component: {}", q))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(url: &str, q: &str) -> String {
        crate::python_repr::repr(&urlsplit(Value::from(url), Some(q.into())).unwrap())
    }

    #[test]
    fn splits_like_python() {
        let u = "http://user:pw@WWW.Acme.com:9000/dir/i.html?q=1#frag";
        assert_eq!(part(u, "hostname"), "'www.acme.com'");
        assert_eq!(part(u, "port"), "9000");
        assert_eq!(part(u, "username"), "'user'");
        assert_eq!(part(u, "password"), "'pw'");
        assert_eq!(part(u, "path"), "'/dir/i.html'");
        assert_eq!(part(u, "query"), "'q=1'");
        assert_eq!(part(u, "fragment"), "'frag'");
        assert_eq!(part("https://[fd00::1]:6443", "hostname"), "'fd00::1'");
        assert_eq!(part("https://[fd00::1]:6443", "port"), "6443");
        assert_eq!(part("10.0.0.1:2379", "scheme"), "''");
        assert_eq!(part("https://host", "port"), "None");
        assert!(urlsplit(Value::from("http://h:99999"), None).is_err());
        assert!(urlsplit(Value::from("http://[::1"), None).is_err());
        assert!(urlsplit(Value::from("http://h"), Some("nope".into())).is_err());
    }
}
