//! The TLS settings of Ansible's `make_context`, for rustls: the system's trust
//! store (or only `ca_path` when given), `validate_certs: false`, and a client
//! certificate with its key (PEM; the key may sit in the certificate's file).

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

/// What the caller asked for.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub validate_certs: bool,
    pub ca_path: Option<String>,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
}

/// CA bundles of the common distributions, as OpenSSL and Ansible's
/// `get_ca_certs` look for them.
const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/lib/ssl/cert.pem",
    "/usr/local/share/certs/ca-root-nss.crt",
];

/// Directories whose `.pem`/`.crt` files Ansible adds to the trust store.
const CA_DIRS: &[&str] = &[
    "/etc/ssl/certs",
    "/etc/pki/ca-trust/extracted/pem",
    "/etc/pki/tls/certs",
    "/usr/share/ca-certificates/cacert.org",
];

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Build the client configuration; the error text is what Python's ssl module
/// would have said in spirit (a file that cannot be read or parsed).
pub fn client_config(opts: &TlsOptions) -> Result<ClientConfig, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| e.to_string())?;
    let builder = if opts.validate_certs {
        builder.with_root_certificates(trust_store(opts.ca_path.as_deref())?)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert(provider())))
    };
    match &opts.client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some(cert_path) => {
            let chain = read_certs(Path::new(cert_path))?;
            let key_path = opts.client_key.as_deref().unwrap_or(cert_path);
            let key =
                PrivateKeyDer::from_pem_file(key_path).map_err(|e| pem_error(key_path, &e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("[SSL] PEM lib: {e}"))
        }
    }
}

fn pem_error(path: &str, e: &rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(io) => match io.raw_os_error() {
            Some(code) => format!(
                "[Errno {code}] {}",
                std::io::Error::from_raw_os_error(code)
                    .to_string()
                    .split(" (os error")
                    .next()
                    .unwrap_or_default()
            ),
            None => io.to_string(),
        },
        _ => format!("[SSL] PEM lib: no usable key or certificate in {path}"),
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let text = path.display().to_string();
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| pem_error(&text, &e))?;
    let certs: Vec<_> = iter.filter_map(Result::ok).collect();
    if certs.is_empty() {
        return Err(format!("[SSL] PEM lib: no certificate in {text}"));
    }
    Ok(certs)
}

/// `ca_path` alone when given (Ansible passes it as the only cafile), else the
/// system bundle and the certificate directories.
fn trust_store(ca_path: Option<&str>) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    if let Some(ca) = ca_path {
        for cert in read_certs(Path::new(ca))? {
            let _ = store.add(cert);
        }
        return Ok(store);
    }
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut add_file = |path: &Path, store: &mut RootCertStore| {
        if let Ok(iter) = CertificateDer::pem_file_iter(path) {
            for cert in iter.flatten() {
                if seen.insert(cert.as_ref().to_vec()) {
                    let _ = store.add(cert);
                }
            }
        }
    };
    if let Ok(file) = std::env::var("SSL_CERT_FILE") {
        add_file(Path::new(&file), &mut store);
    }
    for bundle in BUNDLES {
        add_file(Path::new(bundle), &mut store);
    }
    for dir in CA_DIRS {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            let is_cert = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "pem" | "crt" | "cer"));
            if is_cert && !BUNDLES.iter().any(|b| Path::new(b) == p) {
                add_file(&p, &mut store);
            }
        }
    }
    Ok(store)
}

/// `validate_certs: false`: any certificate and host name are accepted, but the
/// handshake signatures are still checked (as with OpenSSL's CERT_NONE).
#[derive(Debug)]
struct AcceptAnyServerCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
