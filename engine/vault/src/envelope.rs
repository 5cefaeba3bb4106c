//! The vault envelope: a header line, then the hexlified body in 80-column lines.
//!
//! ```text
//! $ANSIBLE_VAULT;1.1;AES256            (1.1: no label)
//! $ANSIBLE_VAULT;1.2;AES256;prod       (1.2: the vault id that encrypted it)
//! 6138...  (80 columns per line, a final newline)
//! ```

use crate::error::VaultError;
use crate::secrets::DEFAULT_VAULT_ID;

pub const HEADER: &str = "$ANSIBLE_VAULT";
const WRAP: usize = 80;

/// A parsed envelope. `vault_id` is the label of a 1.2 header, or the
/// default id for 1.1 (as Ansible fills it in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub version: String,
    pub cipher: String,
    pub vault_id: String,
    /// The body with line breaks removed (still hexlified).
    pub body: Vec<u8>,
}

/// Is this vault data? (Pure ASCII starting with the header, as Ansible checks.)
pub fn is_encrypted(data: &[u8]) -> bool {
    data.is_ascii() && data.starts_with(HEADER.as_bytes())
}

/// Splits an envelope into header fields and body. `filename` only words errors.
pub fn parse_envelope(data: &[u8], filename: Option<&str>) -> Result<Envelope, VaultError> {
    let fail = |detail: &str| {
        let mut msg = "Vault envelope format error".to_string();
        if let Some(name) = filename {
            msg.push_str(&format!(" in {name}"));
        }
        VaultError::Format(format!("{msg}: {detail}"))
    };
    let lines = split_lines(data);
    let Some(first) = lines.first() else {
        return Err(fail("list index out of range"));
    };
    let header = String::from_utf8_lossy(first);
    let fields: Vec<&str> = header.trim().split(';').map(str::trim).collect();
    let (Some(version), Some(cipher)) = (fields.get(1), fields.get(2)) else {
        return Err(fail("list index out of range"));
    };
    let vault_id = fields.get(3).copied().unwrap_or(DEFAULT_VAULT_ID);
    Ok(Envelope {
        version: version.to_string(),
        cipher: cipher.to_string(),
        vault_id: vault_id.to_string(),
        body: lines[1..].concat(),
    })
}

/// Header plus the body wrapped at 80 columns, newline-terminated. A vault id
/// other than `default` makes it format 1.2.
pub fn format_envelope(body: &[u8], vault_id: Option<&str>) -> String {
    let label = vault_id.filter(|id| !id.is_empty() && *id != DEFAULT_VAULT_ID);
    let mut out = match label {
        Some(id) => format!("{HEADER};1.2;AES256;{id}"),
        None => format!("{HEADER};1.1;AES256"),
    };
    for chunk in body.chunks(WRAP) {
        out.push('\n');
        out.push_str(&String::from_utf8_lossy(chunk));
    }
    out.push('\n');
    out
}

/// Python's `bytes.splitlines()`: breaks at `\n`, `\r` and `\r\n`.
fn split_lines(data: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\n' => {
                lines.push(&data[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&data[start..i]);
                if data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < data.len() {
        lines.push(&data[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_both_versions() {
        let body = vec![b'a'; 170];
        let v11 = format_envelope(&body, None);
        let lines: Vec<&str> = v11.lines().collect();
        assert_eq!(lines[0], "$ANSIBLE_VAULT;1.1;AES256");
        assert_eq!(lines[1].len(), 80);
        assert_eq!(lines[3].len(), 10);
        assert!(v11.ends_with('\n'));
        let parsed = parse_envelope(v11.as_bytes(), None).unwrap();
        assert_eq!(
            (parsed.version.as_str(), parsed.vault_id.as_str()),
            ("1.1", "default")
        );
        assert_eq!(parsed.body, body);

        let v12 = format_envelope(b"ab", Some("prod"));
        assert!(v12.starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\nab\n"));
        assert_eq!(
            parse_envelope(v12.as_bytes(), None).unwrap().vault_id,
            "prod"
        );
        assert!(format_envelope(b"ab", Some("default")).starts_with("$ANSIBLE_VAULT;1.1;"));
    }

    #[test]
    fn bad_header_is_a_format_error() {
        let err = parse_envelope(b"$ANSIBLE_VAULT\nabc", Some("f.yml")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Vault envelope format error in f.yml: list index out of range"
        );
        assert!(is_encrypted(b"$ANSIBLE_VAULT;1.1;AES256\n"));
        assert!(!is_encrypted("$ANSIBLE_VAULT;é".as_bytes()));
    }
}
