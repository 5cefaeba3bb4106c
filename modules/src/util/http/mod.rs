//! HTTP(S) requests as Ansible's `module_utils.urls.fetch_url` makes them, for the
//! native `uri` and `get_url`: TLS (`tls.rs`), environment proxies (`proxy.rs`),
//! authentication (`auth.rs`), cookies (`cookies.rs`), redirects and the `info`
//! dictionary with Ansible's keys and messages (`fetch.rs`).

mod auth;
mod cookies;
mod errors;
mod fetch;
mod proxy;
mod tls;

pub use fetch::{fetch_url, parse_content_type, FetchRequest, Fetched};
pub use tls::TlsOptions;
