//! Failed requests in the words of Python's urllib, as Ansible's `fetch_url`
//! reports them (`Request failed: <urlopen error ...>`). OpenSSL's texts are
//! matched for the common certificate failures; the `(_ssl.c:NNNN)` suffix,
//! which names a line of the target's Python build, is left out.

use std::error::Error as StdError;

/// Python's `os.strerror` wording for an errno (Rust's, without its suffix).
fn strerror(code: i32) -> String {
    let text = std::io::Error::from_raw_os_error(code).to_string();
    text.split(" (os error").next().unwrap_or(&text).to_string()
}

/// The message of a request that got no HTTP response.
pub fn transport_message(t: &ureq::Transport) -> String {
    if t.kind() == ureq::ErrorKind::Dns {
        return "Request failed: <urlopen error [Errno -2] Name or service not known>".into();
    }
    let mut source: Option<&(dyn StdError + 'static)> = t.source();
    while let Some(err) = source {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return format!("Request failed: <urlopen error {}>", tls_message(tls));
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(tls) = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
                return format!("Request failed: <urlopen error {}>", tls_message(tls));
            }
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                return "Request failed: <urlopen error timed out>".into();
            }
            if let Some(code) = io.raw_os_error() {
                return format!(
                    "Request failed: <urlopen error [Errno {code}] {}>",
                    strerror(code)
                );
            }
        }
        source = err.source();
    }
    format!("Request failed: <urlopen error {t}>")
}

fn tls_message(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let verify =
        |why: &str| format!("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {why}");
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => verify("unable to get local issuer certificate"),
            C::Expired | C::ExpiredContext { .. } => verify("certificate has expired"),
            C::NotValidYet | C::NotValidYetContext { .. } => verify("certificate is not yet valid"),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                verify("Hostname mismatch, certificate is not valid")
            }
            C::Revoked => verify("certificate revoked"),
            other => verify(&format!("{other:?}")),
        },
        rustls::Error::AlertReceived(alert) => {
            let name = format!("{alert:?}");
            format!(
                "[SSL: TLSV13_ALERT_{}] tlsv13 alert {}",
                snake_upper(&name),
                snake_upper(&name).to_lowercase().replace('_', " ")
            )
        }
        other => format!("[SSL] {other}"),
    }
}

/// `CertificateRequired` -> `CERTIFICATE_REQUIRED`.
fn snake_upper(camel: &str) -> String {
    let mut out = String::new();
    for (i, ch) in camel.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_follow_openssl() {
        assert_eq!(snake_upper("CertificateRequired"), "CERTIFICATE_REQUIRED");
        let m = tls_message(&rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        ));
        assert!(m.ends_with("unable to get local issuer certificate"), "{m}");
    }
}
