//! `apt_key`'s `download_key`: the key at `url` fetched as ansible-core's module
//! fetches it (`fetch_url` with the module's own parameters: only `validate_certs`;
//! proxies from the environment; the default agent, timeout and redirect policy).

use super::{ModuleContext, ModuleFail};
use crate::util::http::{fetch_url, FetchRequest, TlsOptions};
use std::io::Read;

/// Whether `url` is one the native client fetches (http and https); other schemes
/// (ftp, file) run ansible-core's module.
pub fn natively_fetched(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The key's bytes, or the module's failure: any answer but 200 is
/// "Failed to download key at <url>: <info msg>".
pub fn download_key(
    url: &str,
    validate_certs: bool,
    ctx: &ModuleContext,
) -> Result<Vec<u8>, ModuleFail> {
    let req = FetchRequest {
        tls: TlsOptions {
            validate_certs,
            ..TlsOptions::default()
        },
        ..FetchRequest::fetch_url_defaults(url, &ctx.env)
    };
    let fetched = fetch_url(&req);
    if fetched.status != 200 {
        let msg = fetched
            .info
            .get("msg")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_string();
        return Err(ModuleFail::msg(format!(
            "Failed to download key at {url}: {msg}"
        )));
    }
    let mut body = Vec::new();
    // The module's catch-all for a failure while reading the answer.
    let read_failed = || ModuleFail::msg(format!("error getting key id from url: {url}"));
    let mut reader = fetched.body.ok_or_else(read_failed)?;
    reader.read_to_end(&mut body).map_err(|_| read_failed())?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_fetched_natively() {
        assert!(natively_fetched(
            "https://download.docker.com/linux/debian/gpg"
        ));
        assert!(natively_fetched("HTTP://example.invalid/k.asc"));
        assert!(!natively_fetched("ftp://example.invalid/k.asc"));
        assert!(!natively_fetched("file:///tmp/k.asc"));
    }

    #[test]
    fn an_unreachable_server_fails_with_the_modules_message() {
        // Port 9 on loopback: nothing listens there in the test environment.
        let err = download_key(
            "http://127.0.0.1:9/key.asc",
            true,
            &ModuleContext::default(),
        )
        .expect_err("nothing listens on port 9");
        let msg = err.0["msg"].as_str().unwrap_or_default().to_string();
        assert!(
            msg.starts_with(
                "Failed to download key at http://127.0.0.1:9/key.asc: Request failed:"
            ),
            "{msg}"
        );
    }
}
