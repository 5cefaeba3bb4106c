//! Vault secrets and the order Ansible tries them in.

use std::fmt;

use zeroize::Zeroizing;

use crate::aes256;
use crate::envelope::{is_encrypted, parse_envelope};
use crate::error::VaultError;

/// The id of a secret given without a label, and of 1.1 vaults.
pub const DEFAULT_VAULT_ID: &str = "default";

/// One password. Its bytes are wiped on drop and never printed.
#[derive(Clone)]
pub struct Secret {
    bytes: Zeroizing<Vec<u8>>,
}

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Secret {
        Secret {
            bytes: Zeroizing::new(bytes),
        }
    }
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The secrets of a run, best first, each with its vault id.
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    entries: Vec<(String, Secret)>,
    /// `vault_id_match`: only a secret whose id is the vault's label may open it.
    pub id_must_match: bool,
}

/// A successful decryption: the plaintext and the id of the secret that worked.
pub struct Decrypted {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub vault_id: String,
    pub secret: Secret,
}

impl fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Decrypted(<{} bytes>, vault_id={})",
            self.plaintext.len(),
            self.vault_id
        )
    }
}

impl Secrets {
    pub fn new() -> Secrets {
        Secrets::default()
    }
    pub fn push(&mut self, vault_id: impl Into<String>, secret: Secret) {
        self.entries.push((vault_id.into(), secret));
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(id, _)| id.as_str())
    }

    /// Opens vault data. Every secret is tried in order (a secret labelled
    /// as the vault is among them; Ansible does not try it first), unless
    /// `id_must_match`. A malformed vault stops at once; a wrong password
    /// moves on to the next secret.
    pub fn decrypt(&self, data: &[u8], filename: Option<&str>) -> Result<Decrypted, VaultError> {
        if !is_encrypted(data) {
            return Err(VaultError::NotEncrypted {
                filename: filename.map(str::to_string),
            });
        }
        let envelope = parse_envelope(data, filename)?;
        if envelope.cipher != "AES256" {
            return Err(VaultError::UnknownCipher(envelope.cipher));
        }
        if self.entries.is_empty() {
            return Err(VaultError::NoSecrets);
        }
        let candidates = self
            .entries
            .iter()
            .filter(|(id, _)| !self.id_must_match || *id == envelope.vault_id);
        for (id, secret) in candidates {
            if let Some(plaintext) = aes256::decrypt(&envelope.body, secret.bytes())? {
                return Ok(Decrypted {
                    plaintext,
                    vault_id: id.clone(),
                    secret: secret.clone(),
                });
            }
        }
        Err(VaultError::NoMatchingSecret {
            filename: filename.map(str::to_string),
        })
    }

    /// The secret to encrypt with: the one labelled `encrypt_vault_id`, or
    /// the first. `None` when there are no secrets.
    pub fn encrypt_secret(
        &self,
        encrypt_vault_id: Option<&str>,
    ) -> Result<Option<(&str, &Secret)>, VaultError> {
        match encrypt_vault_id {
            Some(wanted) => match self.entries.iter().find(|(id, _)| id == wanted) {
                Some((id, s)) => Ok(Some((id.as_str(), s))),
                None => Err(VaultError::Other(format!(
                    "Did not find a match for --encrypt-vault-id={wanted} in the known vault-ids [{}]",
                    self.entries
                        .iter()
                        .map(|(id, _)| format!("'{id}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            },
            None => Ok(self.entries.first().map(|(id, s)| (id.as_str(), s))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encrypt;

    fn secrets(list: &[(&str, &str)]) -> Secrets {
        let mut s = Secrets::new();
        for (id, pw) in list {
            s.push(*id, Secret::new(pw.as_bytes().to_vec()));
        }
        s
    }

    #[test]
    fn tries_every_secret_in_order() {
        let vault = encrypt(b"data", &Secret::new(b"two".to_vec()), Some("b")).unwrap();
        let all = secrets(&[("a", "one"), ("x", "two")]);
        let d = all.decrypt(vault.as_bytes(), None).unwrap();
        assert_eq!(
            (d.plaintext.as_slice(), d.vault_id.as_str()),
            (&b"data"[..], "x")
        );
        let mut strict = all.clone();
        strict.id_must_match = true;
        assert_eq!(
            strict
                .decrypt(vault.as_bytes(), Some("f"))
                .unwrap_err()
                .to_string(),
            "Decryption failed (no vault secrets were found that could decrypt) on f"
        );
    }

    #[test]
    fn errors_in_ansible_order() {
        let none = Secrets::new();
        assert_eq!(
            none.decrypt(b"plain", Some("f")).unwrap_err().to_string(),
            "input is not vault encrypted data. f is not a vault encrypted file"
        );
        let vault = encrypt(b"x", &Secret::new(b"pw".to_vec()), None).unwrap();
        assert_eq!(
            none.decrypt(vault.as_bytes(), None).unwrap_err(),
            VaultError::NoSecrets
        );
        assert_eq!(
            secrets(&[("a", "1")])
                .encrypt_secret(Some("b"))
                .unwrap_err()
                .to_string(),
            "Did not find a match for --encrypt-vault-id=b in the known vault-ids ['a']"
        );
    }
}
