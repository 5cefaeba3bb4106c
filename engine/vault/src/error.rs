//! Vault errors, worded as ansible-core words them.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultError {
    /// No secret was given at all.
    NoSecrets,
    /// Secrets were given, none opened the vault; `on <file>` when known.
    NoMatchingSecret {
        filename: Option<String>,
    },
    /// The text does not start with the vault header.
    NotEncrypted {
        filename: Option<String>,
    },
    AlreadyEncrypted,
    /// The envelope or the body is malformed.
    Format(String),
    UnknownCipher(String),
    /// Anything else (password sources, prompts), already in Ansible's words.
    Other(String),
}

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultError::NoSecrets => {
                f.write_str("Attempting to decrypt but no vault secrets found")
            }
            VaultError::NoMatchingSecret { filename } => {
                f.write_str("Decryption failed (no vault secrets were found that could decrypt)")?;
                if let Some(name) = filename {
                    write!(f, " on {name}")?;
                }
                Ok(())
            }
            VaultError::NotEncrypted { filename } => {
                f.write_str("input is not vault encrypted data. ")?;
                if let Some(name) = filename {
                    write!(f, "{name} is not a vault encrypted file")?;
                }
                Ok(())
            }
            VaultError::AlreadyEncrypted => f.write_str("input is already encrypted"),
            VaultError::Format(m) | VaultError::Other(m) => f.write_str(m),
            VaultError::UnknownCipher(name) => write!(f, "{name} cipher could not be found"),
        }
    }
}

impl std::error::Error for VaultError {}
