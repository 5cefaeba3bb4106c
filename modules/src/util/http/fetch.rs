//! One `fetch_url` call: the request (with Ansible's redirect policy, basic
//! authentication, cookies, proxies and TLS settings) and the `info` dictionary
//! Ansible's modules read (`status`, `msg`, `url`, lower-cased headers,
//! `cookies`, `cookies_string`).

use super::auth::{basic_auth_header, configure};
use super::cookies::CookieJar;
use super::errors::transport_message;
use super::proxy::proxy_for;
use super::tls::{client_config, TlsOptions};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

/// urllib's limit of redirects for one request.
const MAX_REDIRECTS: usize = 10;

/// What to ask for: the module parameters `fetch_url` reads.
pub struct FetchRequest<'a> {
    pub url: &'a str,
    pub method: &'a str,
    pub body: Option<Vec<u8>>,
    /// User headers, in the order given.
    pub headers: Vec<(String, String)>,
    /// Headers (lower case) not sent again after a redirect.
    pub unredirected_headers: Vec<String>,
    pub timeout_secs: u64,
    pub use_proxy: bool,
    /// `cache-control: no-cache`.
    pub force: bool,
    /// Sent as `If-Modified-Since`.
    pub last_mod_time: Option<SystemTime>,
    pub url_username: Option<&'a str>,
    pub url_password: Option<&'a str>,
    pub force_basic_auth: bool,
    pub http_agent: Option<&'a str>,
    /// `safe`, `all`/`yes`, `none`/`no`, `urllib2`.
    pub follow_redirects: &'a str,
    pub tls: TlsOptions,
    pub decompress: bool,
    pub use_netrc: bool,
    pub env: &'a BTreeMap<String, String>,
}

impl<'a> FetchRequest<'a> {
    /// A GET as module_utils' `fetch_url(module, url)` makes it when the module
    /// passes nothing else (apt's `deb` download, apt_key's key): 10 s, proxies
    /// from the environment, urllib2 redirects, `ansible-httpget`, certificates
    /// checked, decompressed, `.netrc` read.
    pub fn fetch_url_defaults(url: &'a str, env: &'a BTreeMap<String, String>) -> FetchRequest<'a> {
        FetchRequest {
            url,
            method: "GET",
            body: None,
            headers: Vec::new(),
            unredirected_headers: Vec::new(),
            timeout_secs: 10,
            use_proxy: true,
            force: false,
            last_mod_time: None,
            url_username: None,
            url_password: None,
            force_basic_auth: false,
            http_agent: Some("ansible-httpget"),
            follow_redirects: "urllib2",
            tls: TlsOptions::default(),
            decompress: true,
            use_netrc: true,
            env,
        }
    }
}

/// The outcome: Ansible's `info`, and the body.
pub struct Fetched {
    pub info: Map<String, Value>,
    pub status: i64,
    /// The final response's headers (names lower-cased), in order.
    pub headers: Vec<(String, String)>,
    /// The body of a 2xx response, still to be read.
    pub body: Option<Box<dyn Read + Send>>,
    /// The body of an error response (urllib's HTTPError): Ansible's `info['body']`.
    pub error_body: Option<Vec<u8>>,
}

impl Fetched {
    /// Whether there was an HTTP response at all (Ansible's `r` is not None).
    pub fn has_response(&self) -> bool {
        self.body.is_some() || self.error_body.is_some()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Ansible's `parse_content_type`: (content type, main type, sub type, charset).
/// Without a usable Content-Type header Python's email parser says text/plain.
pub fn parse_content_type(header: Option<&str>) -> (String, String, String, String) {
    let raw = header.unwrap_or("");
    let mut parts = raw.split(';');
    let ty = parts.next().unwrap_or("").trim().to_lowercase();
    let ty = if ty.matches('/').count() == 1 {
        ty
    } else {
        "text/plain".to_string()
    };
    let ty = ty.split(',').next().unwrap_or("").to_string();
    let charset = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| "utf-8".to_string());
    let charset = charset.split(',').next().unwrap_or("utf-8").to_string();
    let (main, sub) = ty.split_once('/').unwrap_or(("text", "plain"));
    (ty.clone(), main.to_string(), sub.to_string(), charset)
}

/// Python's `email.utils`-style date for If-Modified-Since.
fn http_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = (days + 3).rem_euclid(7); // 1970-01-01 was a Thursday; 0 = Monday
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {d:02} {} {year:04} {h:02}:{m:02}:{s:02} GMT",
        DAYS[weekday as usize],
        MONTHS[(month - 1) as usize]
    )
}

/// The next request after a redirect, or None when urllib would not follow it.
fn follow(policy: &str, code: u16, method: &str) -> Option<String> {
    if !matches!(code, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let follows = match policy {
        "all" | "yes" | "urllib2" | "urllib" => true,
        "safe" => matches!(method, "GET" | "HEAD"),
        _ => false,
    };
    if !follows {
        return None;
    }
    let next = match code {
        303 | 302 if method != "HEAD" => "GET",
        301 if method == "POST" => "GET",
        _ => method,
    };
    Some(next.to_string())
}

fn failure(url: &str, msg: String) -> Fetched {
    let mut info = Map::new();
    info.insert("url".into(), json!(url));
    info.insert("status".into(), json!(-1));
    info.insert("msg".into(), json!(msg));
    Fetched {
        info,
        status: -1,
        headers: Vec::new(),
        body: None,
        error_body: None,
    }
}

fn response_headers(resp: &ureq::Response) -> Vec<(String, String)> {
    let mut names: Vec<String> = Vec::new();
    for n in resp.headers_names() {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let mut out = Vec::new();
    for n in names {
        for v in resp.all(&n) {
            out.push((n.clone(), v.to_string()));
        }
    }
    out
}

/// Make the request as `fetch_url` does. Never panics; every failure is in `info`.
pub fn fetch_url(req: &FetchRequest) -> Fetched {
    let creds = configure(
        req.url,
        req.url_username,
        req.url_password,
        req.use_netrc,
        req.env,
    );
    let mut url = match Url::parse(&creds.url) {
        Ok(u) => u,
        Err(e) => return failure(req.url, format!("Request failed: <urlopen error {e}>")),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return failure(
            req.url,
            format!(
                "rsible agent: {} URLs are not implemented natively",
                url.scheme()
            ),
        );
    }
    let tls = match client_config(&req.tls) {
        Ok(c) => Arc::new(c),
        Err(msg) => return failure(req.url, format!("Connection failure: {msg}")),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    if req.force {
        headers.push(("cache-control".into(), "no-cache".into()));
    } else if let Some(t) = req.last_mod_time {
        headers.push(("If-Modified-Since".into(), http_date(t)));
    }
    let mut auth_pending = None;
    if let Some(user) = &creds.username {
        let value = basic_auth_header(user, &creds.password);
        if req.force_basic_auth || creds.from_netrc {
            headers.push(("Authorization".into(), value));
        } else {
            auth_pending = Some(value);
        }
    }
    for (k, v) in &req.headers {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
        headers.push((k.clone(), v.clone()));
    }
    let mut method = req.method.to_string();
    let mut body = req.body.clone();
    let mut jar = CookieJar::default();
    let mut redirects = 0;
    let timeout = Duration::from_secs(req.timeout_secs.max(1));
    loop {
        let mut builder = ureq::AgentBuilder::new()
            .tls_config(tls.clone())
            .redirects(0)
            .timeout_connect(timeout)
            .timeout_read(timeout)
            .timeout_write(timeout)
            .user_agent(req.http_agent.unwrap_or("ansible-httpget"));
        if req.use_proxy {
            let host = url.host_str().unwrap_or_default().to_string();
            if let Some(p) = proxy_for(url.scheme(), &host, url.port_or_known_default(), req.env) {
                match ureq::Proxy::new(&p) {
                    Ok(proxy) => builder = builder.proxy(proxy),
                    Err(e) => {
                        return failure(req.url, format!("Request failed: <urlopen error {e}>"))
                    }
                }
            }
        }
        let agent = builder.build();
        let mut request = agent.request_url(&method, &url);
        for (k, v) in &headers {
            request = request.set(k, v);
        }
        let host = url.host_str().unwrap_or_default().to_string();
        if let Some(c) = jar.header_for(&host, url.path()) {
            request = request.set("Cookie", &c);
        }
        let result = match &body {
            Some(data) => request.send_bytes(data),
            None => request.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => return failure(req.url, transport_message(&t)),
        };
        let code = resp.status();
        let set_cookies: Vec<String> = resp
            .all("set-cookie")
            .iter()
            .map(|s| s.to_string())
            .collect();
        let set_refs: Vec<&str> = set_cookies.iter().map(String::as_str).collect();
        jar.absorb(&host, url.path(), &set_refs);
        if code == 401 {
            if let Some(value) = auth_pending.take() {
                let challenge = resp.header("www-authenticate").unwrap_or("").to_lowercase();
                if challenge.starts_with("basic") {
                    headers.push(("Authorization".into(), value));
                    continue;
                }
                if challenge.starts_with("digest") {
                    return failure(
                        req.url,
                        "rsible agent: HTTP digest authentication is not implemented natively"
                            .into(),
                    );
                }
            }
        }
        if let Some(next_method) = follow(req.follow_redirects, code, &method) {
            if let Some(location) = resp.header("location").map(str::to_string) {
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    let reason = format!(
                        "The HTTP server returned a redirect error that would lead to an infinite loop.\nThe last 30x error message was:\n{}",
                        resp.status_text()
                    );
                    return error_response(req.url, resp, &reason);
                }
                let location = location.replace(' ', "%20");
                let next = match url.join(&location) {
                    Ok(u) => u,
                    Err(e) => {
                        return failure(req.url, format!("Request failed: <urlopen error {e}>"))
                    }
                };
                if !matches!(code, 307 | 308) {
                    body = None;
                    headers.retain(|(n, _)| {
                        !matches!(
                            n.to_lowercase().as_str(),
                            "content-length" | "content-type" | "transfer-encoding"
                        )
                    });
                }
                headers.retain(|(n, _)| !req.unredirected_headers.contains(&n.to_lowercase()));
                method = next_method;
                url = next;
                continue;
            }
        }
        if (200..300).contains(&code) {
            return success(url.as_str(), resp, &jar, req.decompress);
        }
        let reason = resp.status_text().to_string();
        return error_response(req.url, resp, &reason);
    }
}

fn success(final_url: &str, resp: ureq::Response, jar: &CookieJar, decompress: bool) -> Fetched {
    let headers = response_headers(&resp);
    let mut info = Map::new();
    info.insert("url".into(), json!(final_url));
    for (name, value) in &headers {
        let joined = match info.get(name).and_then(Value::as_str) {
            Some(prev) if headers.iter().filter(|(n, _)| n == name).count() > 1 => {
                format!("{prev}, {value}")
            }
            _ => value.clone(),
        };
        info.insert(name.clone(), json!(joined));
    }
    let (cookies, cookies_string) = jar.report();
    info.insert("cookies_string".into(), json!(cookies_string));
    info.insert("cookies".into(), Value::Object(cookies));
    let length = resp
        .header("content-length")
        .unwrap_or("unknown")
        .to_string();
    info.insert("msg".into(), json!(format!("OK ({length} bytes)")));
    info.insert("url".into(), json!(final_url));
    let status = i64::from(resp.status());
    info.insert("status".into(), json!(status));
    let gzip = decompress
        && resp
            .header("content-encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
    let reader = resp.into_reader();
    let body: Box<dyn Read + Send> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    Fetched {
        info,
        status,
        headers,
        body: Some(body),
        error_body: None,
    }
}

/// urllib's HTTPError: headers (last value of a repeated one wins), the
/// `HTTP Error N: reason` message and the body; the URL stays the one asked for.
fn error_response(url: &str, resp: ureq::Response, reason: &str) -> Fetched {
    let headers = response_headers(&resp);
    let status = i64::from(resp.status());
    let mut info = Map::new();
    info.insert("url".into(), json!(url));
    for (name, value) in &headers {
        info.insert(name.clone(), json!(value));
    }
    info.insert(
        "msg".into(),
        json!(format!("HTTP Error {status}: {reason}")),
    );
    info.insert("status".into(), json!(status));
    let mut data = Vec::new();
    let _ = resp.into_reader().read_to_end(&mut data);
    Fetched {
        info,
        status,
        headers,
        body: None,
        error_body: Some(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_rfc_2822_in_gmt() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_005_267_727);
        assert_eq!(http_date(t), "Fri, 09 Nov 2001 01:02:07 GMT");
        assert_eq!(
            http_date(SystemTime::UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn redirect_policy_as_ansible() {
        assert_eq!(follow("safe", 302, "GET").as_deref(), Some("GET"));
        assert_eq!(follow("safe", 302, "POST"), None);
        assert_eq!(follow("all", 302, "POST").as_deref(), Some("GET"));
        assert_eq!(follow("all", 307, "POST").as_deref(), Some("POST"));
        assert_eq!(follow("none", 301, "GET"), None);
        assert_eq!(follow("all", 304, "GET"), None);
    }

    #[test]
    fn content_type_defaults_as_python() {
        assert_eq!(
            parse_content_type(Some("application/JSON; charset=latin-1")),
            (
                "application/json".into(),
                "application".into(),
                "json".into(),
                "latin-1".into()
            )
        );
        assert_eq!(parse_content_type(None).0, "text/plain");
    }
}
