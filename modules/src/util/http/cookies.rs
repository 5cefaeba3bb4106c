//! A small cookie jar: what Ansible's `fetch_url` reports as `cookies` and
//! `cookies_string`, and sends back on redirects (Python's CookieJar).

/// One cookie as the jar keeps it.
#[derive(Debug, Clone)]
struct Cookie {
    domain: String,
    path: String,
    name: String,
    value: String,
}

#[derive(Debug, Default)]
pub struct CookieJar {
    cookies: Vec<Cookie>,
}

/// The default path of a cookie set by a response to `request_path`.
fn default_path(request_path: &str) -> String {
    match request_path.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => request_path[..i].to_string(),
    }
}

impl CookieJar {
    /// Take the `Set-Cookie` headers of a response from `host` for `path`.
    pub fn absorb(&mut self, host: &str, request_path: &str, set_cookies: &[&str]) {
        for header in set_cookies {
            let mut parts = header.split(';');
            let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
                continue;
            };
            let mut path = default_path(request_path);
            for attr in parts {
                if let Some((k, v)) = attr.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("path") && v.trim().starts_with('/') {
                        path = v.trim().to_string();
                    }
                }
            }
            let cookie = Cookie {
                domain: host.to_lowercase(),
                path,
                name: name.trim().to_string(),
                value: value.trim().to_string(),
            };
            // A cookie set again keeps its place, as in Python's nested dicts.
            match self.cookies.iter_mut().find(|c| {
                c.domain == cookie.domain && c.path == cookie.path && c.name == cookie.name
            }) {
                Some(existing) => existing.value = cookie.value,
                None => self.cookies.push(cookie),
            }
        }
    }

    /// Cookies in the order Python's CookieJar iterates its nested dicts
    /// (domain, then path, then name), each in the order first seen.
    fn ordered(&self) -> Vec<&Cookie> {
        let first_seen = |pick: &dyn Fn(&Cookie) -> bool| {
            self.cookies.iter().position(pick).unwrap_or(usize::MAX)
        };
        let mut all: Vec<(usize, usize, usize, &Cookie)> = self
            .cookies
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let d = first_seen(&|o: &Cookie| o.domain == c.domain);
                let p = first_seen(&|o: &Cookie| o.domain == c.domain && o.path == c.path);
                (d, p, i, c)
            })
            .collect();
        all.sort_by_key(|(d, p, i, _)| (*d, *p, *i));
        all.into_iter().map(|(_, _, _, c)| c).collect()
    }

    /// `name=value; ...` for a request to `host` and `path`.
    pub fn header_for(&self, host: &str, path: &str) -> Option<String> {
        let host = host.to_lowercase();
        let mut matching: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| c.domain == host && path.starts_with(&c.path))
            .collect();
        if matching.is_empty() {
            return None;
        }
        // Most specific path first, as Python sends them.
        matching.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
        Some(
            matching
                .iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    /// `(cookies, cookies_string)` of Ansible's result.
    pub fn report(&self) -> (serde_json::Map<String, serde_json::Value>, String) {
        let mut dict = serde_json::Map::new();
        let mut pairs = Vec::new();
        for c in self.ordered() {
            dict.insert(c.name.clone(), serde_json::Value::String(c.value.clone()));
            pairs.push(format!("{}={}", c.name, c.value));
        }
        (dict, pairs.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_orders_by_path_then_name() {
        let mut jar = CookieJar::default();
        jar.absorb("h", "/a/b", &["z=1", "a=2; Path=/", "m=3; HttpOnly"]);
        let (dict, text) = jar.report();
        // Path "/a" was seen first (z), then "/" (a); names in arrival order.
        assert_eq!(text, "z=1; m=3; a=2");
        assert_eq!(dict.len(), 3);
        assert_eq!(
            jar.header_for("h", "/a/c").as_deref(),
            Some("z=1; m=3; a=2")
        );
    }
}
