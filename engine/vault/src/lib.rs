//! Ansible Vault, as ansible-core 2.18 reads and writes it.
//!
//! Reading order:
//! 1. [`envelope`]: the `$ANSIBLE_VAULT;1.1;AES256[;label]` header and the
//!    hexlified body wrapped at 80 columns;
//! 2. [`aes256`]: the one cipher (PBKDF2-HMAC-SHA256 keys, AES-256-CTR,
//!    HMAC-SHA256 checked in constant time);
//! 3. [`secrets`]: vault secrets with their ids, and the order Ansible tries
//!    them in when decrypting or picks one when encrypting;
//! 4. [`sources`]: where secrets come from (`--vault-id label@source`,
//!    password files, scripts, client scripts, prompts);
//! 5. [`installed`]: the secrets of this run, shared by every loader (YAML
//!    files, inventory, templar), with decrypted values cached.

mod aes256;
mod envelope;
mod error;
mod hex;
mod installed;
mod prompt;
mod secrets;
mod sources;

pub use envelope::{format_envelope, is_encrypted, parse_envelope, Envelope};
pub use error::VaultError;
pub use installed::{decrypt_installed, install, installed, read_file, ReadError};
pub use prompt::prompt_hidden;
pub use secrets::{Decrypted, Secret, Secrets, DEFAULT_VAULT_ID};
pub use sources::{build_vault_ids, load_secrets, split_vault_id, SecretOptions, SourceWarning};

/// Encrypt `plaintext` with `secret`, labelled `vault_id` (a label other than
/// `default` selects format 1.2, as ansible-vault does). Refuses input that is
/// already a vault.
pub fn encrypt(
    plaintext: &[u8],
    secret: &Secret,
    vault_id: Option<&str>,
) -> Result<String, VaultError> {
    if is_encrypted(plaintext) {
        return Err(VaultError::AlreadyEncrypted);
    }
    let body = aes256::encrypt(plaintext, secret.bytes(), &aes256::random_salt()?);
    Ok(format_envelope(&body, vault_id))
}
