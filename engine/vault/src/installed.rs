//! The secrets of this run, shared by every loader.
//!
//! Ansible hands one DataLoader (with the run's secrets) to every part that
//! reads files or values; rsible's loaders live in separate crates, so the
//! CLI installs the secrets here once, before anything is loaded. Decrypted
//! values are cached by their vault text: each is decrypted once however
//! often it is read (PBKDF2 is slow on purpose).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use zeroize::Zeroizing;

use crate::envelope::is_encrypted;
use crate::error::VaultError;
use crate::secrets::Secrets;

static INSTALLED: RwLock<Option<Arc<Secrets>>> = RwLock::new(None);

type CacheKey = (Vec<u8>, Option<String>);
type Cached = Result<Arc<Zeroizing<Vec<u8>>>, VaultError>;
static CACHE: Mutex<Option<HashMap<CacheKey, Cached>>> = Mutex::new(None);

/// Makes `secrets` the run's secrets (replacing earlier ones).
pub fn install(secrets: Secrets) {
    if let Ok(mut slot) = INSTALLED.write() {
        *slot = Some(Arc::new(secrets));
    }
    if let Ok(mut cache) = CACHE.lock() {
        *cache = None;
    }
}

/// The installed secrets, if any were installed.
pub fn installed() -> Option<Arc<Secrets>> {
    INSTALLED.read().ok().and_then(|s| s.clone())
}

/// Decrypts vault text with the installed secrets (none installed: "no vault
/// secrets found"). `filename` names the source in errors.
pub fn decrypt_installed(
    data: &[u8],
    filename: Option<&str>,
) -> Result<Arc<Zeroizing<Vec<u8>>>, VaultError> {
    let key = (data.to_vec(), filename.map(str::to_string));
    if let Some(hit) = CACHE
        .lock()
        .ok()
        .and_then(|c| c.as_ref().and_then(|m| m.get(&key).cloned()))
    {
        return hit;
    }
    let secrets = installed().unwrap_or_default();
    let result = secrets
        .decrypt(data, filename)
        .map(|d| Arc::new(d.plaintext));
    if let Ok(mut cache) = CACHE.lock() {
        cache
            .get_or_insert_with(HashMap::new)
            .insert(key, result.clone());
    }
    result
}

/// Reading a file that may be a vault.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    Vault(VaultError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => e.fmt(f),
            ReadError::Vault(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReadError {}

/// A file's bytes, decrypted with the installed secrets when it is a vault
/// (what Ansible's loader does for every vars, inventory, task and source file).
pub fn read_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    let bytes = std::fs::read(path).map_err(ReadError::Io)?;
    if !is_encrypted(&bytes) {
        return Ok(bytes);
    }
    let name = path.display().to_string();
    decrypt_installed(&bytes, Some(&name))
        .map(|p| p.to_vec())
        .map_err(ReadError::Vault)
}
