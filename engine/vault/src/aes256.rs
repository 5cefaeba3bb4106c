//! The AES256 vault cipher: keys from PBKDF2-HMAC-SHA256 (10,000 rounds, a
//! 32-byte salt), AES-256 in CTR mode over PKCS#7-padded plaintext, and an
//! HMAC-SHA256 of the ciphertext that is checked (in constant time) before
//! anything is decrypted.
//!
//! The body is `hexlify(hexlify(salt) \n hexlify(hmac) \n hexlify(ciphertext))`:
//! hexlified twice, as the format has always been.

use aes::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::VaultError;
use crate::hex::{hexlify, unhexlify};

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;
type HmacSha256 = Hmac<Sha256>;

const ITERATIONS: u32 = 10_000;
const KEY_LEN: usize = 32;
const IV_LEN: usize = 16;
const SALT_LEN: usize = 32;
const BLOCK: usize = 16;

struct Keys {
    material: Zeroizing<[u8; 2 * KEY_LEN + IV_LEN]>,
}

impl Keys {
    fn derive(password: &[u8], salt: &[u8]) -> Keys {
        let mut material = Zeroizing::new([0u8; 2 * KEY_LEN + IV_LEN]);
        pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, ITERATIONS, material.as_mut());
        Keys { material }
    }
    fn cipher_key(&self) -> &[u8] {
        &self.material[..KEY_LEN]
    }
    fn mac_key(&self) -> &[u8] {
        &self.material[KEY_LEN..2 * KEY_LEN]
    }
    fn iv(&self) -> &[u8] {
        &self.material[2 * KEY_LEN..]
    }
    fn apply_keystream(&self, data: &mut [u8]) {
        // Lengths are fixed by the slices above, so construction cannot fail.
        if let Ok(mut c) = Aes256Ctr::new_from_slices(self.cipher_key(), self.iv()) {
            c.apply_keystream(data);
        }
    }
    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length.
        HmacSha256::new_from_slice(self.mac_key()).expect("HMAC takes any key length")
    }
}

pub fn random_salt() -> Result<[u8; SALT_LEN], VaultError> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::getrandom(&mut salt)
        .map_err(|e| VaultError::Other(format!("could not read random bytes for a salt: {e}")))?;
    Ok(salt)
}

/// Encrypts to the (unwrapped) vault body.
pub fn encrypt(plaintext: &[u8], password: &[u8], salt: &[u8]) -> Vec<u8> {
    let keys = Keys::derive(password, salt);
    let pad = BLOCK - plaintext.len() % BLOCK;
    let mut data = Vec::with_capacity(plaintext.len() + pad);
    data.extend_from_slice(plaintext);
    data.extend(std::iter::repeat_n(pad as u8, pad));
    keys.apply_keystream(&mut data);
    let mut mac = keys.mac();
    mac.update(&data);
    let tag = mac.finalize().into_bytes();
    let mut inner = hexlify(salt);
    inner.push(b'\n');
    inner.extend(hexlify(&tag));
    inner.push(b'\n');
    inner.extend(hexlify(&data));
    hexlify(&inner)
}

/// Decrypts a vault body. `Ok(None)`: this password is not the one (the
/// HMAC does not match); `Err`: the body is malformed.
pub fn decrypt(body: &[u8], password: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
    let (ciphertext, salt, tag_hex) = split_body(body)?;
    let keys = Keys::derive(password, &salt);
    let tag = unhexlify(&tag_hex).map_err(unhexlify_error)?;
    let mut mac = keys.mac();
    mac.update(&ciphertext);
    if mac.verify_slice(&tag).is_err() {
        return Ok(None);
    }
    let mut data = Zeroizing::new(ciphertext);
    keys.apply_keystream(&mut data);
    let pad = data.last().copied().unwrap_or(0) as usize;
    let valid = (1..=BLOCK).contains(&pad)
        && data.len() >= pad
        && data.len().is_multiple_of(BLOCK)
        && data[data.len() - pad..].iter().all(|b| *b as usize == pad);
    if !valid {
        return Err(VaultError::Format("Invalid padding bytes.".into()));
    }
    let len = data.len() - pad;
    data.truncate(len);
    Ok(Some(data))
}

fn unhexlify_error(detail: String) -> VaultError {
    VaultError::Format(format!("Vault format unhexlify error: {detail}"))
}

/// The three parts of a body: ciphertext, salt and the still-hexlified HMAC.
type BodyParts = (Vec<u8>, Vec<u8>, Vec<u8>);

fn split_body(body: &[u8]) -> Result<BodyParts, VaultError> {
    let inner = unhexlify(body).map_err(unhexlify_error)?;
    let parts: Vec<&[u8]> = inner.splitn(3, |b| *b == b'\n').collect();
    if parts.len() != 3 {
        return Err(VaultError::Format(format!(
            "Vault vaulttext format error: not enough values to unpack (expected 3, got {})",
            parts.len()
        )));
    }
    let salt = unhexlify(parts[0]).map_err(unhexlify_error)?;
    let ciphertext = unhexlify(parts[2]).map_err(unhexlify_error)?;
    Ok((ciphertext, salt, parts[1].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_password() {
        let salt = [7u8; SALT_LEN];
        for text in [
            &b""[..],
            b"x",
            b"sixteen bytes!!!",
            b"a longer text\nwith lines\n",
        ] {
            let body = encrypt(text, b"pw", &salt);
            assert_eq!(decrypt(&body, b"pw").unwrap().unwrap().as_slice(), text);
            assert!(decrypt(&body, b"other").unwrap().is_none());
        }
    }

    #[test]
    fn tampered_ciphertext_fails_the_mac() {
        let mut body = encrypt(b"secret", b"pw", &[1u8; SALT_LEN]);
        let last = body.len() - 1;
        body[last] = if body[last] == b'0' { b'1' } else { b'0' };
        assert!(decrypt(&body, b"pw").unwrap().is_none());
    }

    #[test]
    fn malformed_bodies_are_format_errors() {
        assert!(
            matches!(decrypt(b"abc", b"pw"), Err(VaultError::Format(m)) if m.contains("Odd-length"))
        );
        assert!(
            matches!(decrypt(&hexlify(b"onlyone"), b"pw"), Err(VaultError::Format(m)) if m.contains("expected 3, got 1"))
        );
    }
}
