//! What `uri` and `get_url` share: Ansible's `url_argument_spec`, the request
//! built from the parameters, and masking of the password in results (as
//! AnsibleModule's `remove_values` does for `no_log` parameters).

use super::{Kind, Param, ParamDefault};
use crate::util::http::{FetchRequest, TlsOptions};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// `url_argument_spec()` less `url`, `url_username`, `url_password`, whose
/// aliases differ between the modules.
pub const URL_COMMON: [Param; 8] = [
    Param::new("force", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("http_agent", Kind::Str).default(ParamDefault::Str("ansible-httpget")),
    Param::new("use_proxy", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("validate_certs", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("force_basic_auth", Kind::Bool).default(ParamDefault::Bool(false)),
    Param::new("client_cert", Kind::Path),
    Param::new("client_key", Kind::Path),
    Param::new("use_gssapi", Kind::Bool).default(ParamDefault::Bool(false)),
];

pub fn s<'a>(params: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    params.get(k).and_then(Value::as_str)
}

pub fn b(params: &Map<String, Value>, k: &str) -> bool {
    params.get(k).and_then(Value::as_bool).unwrap_or(false)
}

/// Python's `str()` of a header value.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

/// The `headers` parameter as (name, value) pairs, in order.
pub fn header_pairs(params: &Map<String, Value>) -> Vec<(String, String)> {
    match params.get("headers") {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), py_str(v))).collect(),
        _ => Vec::new(),
    }
}

/// The request for `url` with the connection settings of `params`.
pub fn request<'a>(
    params: &'a Map<String, Value>,
    url: &'a str,
    method: &'a str,
    env: &'a BTreeMap<String, String>,
) -> FetchRequest<'a> {
    let timeout = params.get("timeout").and_then(Value::as_i64).unwrap_or(10);
    FetchRequest {
        url,
        method,
        body: None,
        headers: header_pairs(params),
        unredirected_headers: params
            .get("unredirected_headers")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect()
            })
            .unwrap_or_default(),
        timeout_secs: timeout.max(0) as u64,
        use_proxy: b(params, "use_proxy"),
        force: b(params, "force"),
        last_mod_time: None,
        url_username: s(params, "url_username"),
        url_password: s(params, "url_password"),
        force_basic_auth: b(params, "force_basic_auth"),
        http_agent: s(params, "http_agent"),
        follow_redirects: s(params, "follow_redirects").unwrap_or("urllib2"),
        tls: TlsOptions {
            validate_certs: b(params, "validate_certs"),
            ca_path: s(params, "ca_path").map(str::to_string),
            client_cert: s(params, "client_cert").map(str::to_string),
            client_key: s(params, "client_key").map(str::to_string),
        },
        decompress: params
            .get("decompress")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        use_netrc: params
            .get("use_netrc")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        env,
    }
}

/// Parameters the agent leaves to the Python module: none of these can be
/// honoured by the native client.
pub fn declines_common(args: &Map<String, Value>) -> Option<&'static str> {
    let set = |k: &str| {
        args.get(k)
            .is_some_and(|v| !v.is_null() && v != &Value::Bool(false))
    };
    if set("use_gssapi") {
        return Some("use_gssapi");
    }
    if set("ciphers") {
        return Some("ciphers");
    }
    if set("unix_socket") {
        return Some("unix_socket");
    }
    None
}

/// Replace the password, wherever it appears in a string of the result, with
/// `********` (AnsibleModule's `remove_values`).
pub fn mask_secret(value: &mut Value, secret: Option<&str>) {
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return;
    };
    match value {
        Value::String(text) if text.contains(secret) => {
            *text = text.replace(secret, "********");
        }
        Value::Array(items) => items.iter_mut().for_each(|v| mask_secret(v, Some(secret))),
        Value::Object(map) => map.values_mut().for_each(|v| mask_secret(v, Some(secret))),
        _ => {}
    }
}

/// The `elapsed` of Ansible's results: whole seconds.
pub fn elapsed_secs(start: std::time::Instant) -> i64 {
    start.elapsed().as_secs() as i64
}
