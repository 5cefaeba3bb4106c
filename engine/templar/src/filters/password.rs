//! `password_hash`: crypt(3)-style hashes as Ansible 2.18 makes them through
//! passlib (`ansible/utils/encrypt.py`): sha512_crypt and sha256_crypt with
//! crypt's round counts when none is given, bcrypt with ident `2b` and 12
//! rounds. Without a salt a random one is drawn, as passlib does.

use minijinja::value::{Kwargs, Value};
use minijinja::Error;

use super::core::err;

/// The crypt alphabet (passlib's `hash64`/`bcrypt64` share these characters).
const CRYPT64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BCRYPT64: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn could_not_hash(detail: impl std::fmt::Display) -> Error {
    err(format!("Could not hash the secret.: {}", detail))
}

fn random_salt(len: usize, alphabet: &[u8]) -> Result<String, Error> {
    let mut bytes = vec![0u8; len];
    getrandom::getrandom(&mut bytes).map_err(|e| err(format!("no random salt: {}", e)))?;
    Ok(bytes
        .iter()
        .map(|b| alphabet[(*b as usize) % alphabet.len()] as char)
        .collect())
}

/// `password_hash(hashtype='sha512', salt=None, salt_size=None, rounds=None, ident=None)`.
pub fn password_hash(
    secret: Value,
    hashtype: Option<String>,
    salt: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let salt = match salt {
        Some(s) if !s.is_none() => Some(s),
        _ => kwargs.get::<Option<Value>>("salt")?,
    }
    .filter(|s| s.is_true())
    .map(|s| crate::python_repr::str_of(&s));
    let salt_size: Option<usize> = kwargs.get("salt_size")?;
    let rounds: Option<usize> = kwargs.get::<Option<usize>>("rounds")?.filter(|r| *r > 0);
    let ident: Option<String> = kwargs.get("ident")?;
    kwargs.assert_all_used()?;
    let hashtype = hashtype.unwrap_or_else(|| "sha512".into());
    let secret = crate::python_repr::str_of(&secret);
    match hashtype.as_str() {
        "sha512" | "sha512_crypt" => {
            sha_crypt(&secret, salt, salt_size, rounds.unwrap_or(656_000), true)
        }
        "sha256" | "sha256_crypt" => {
            sha_crypt(&secret, salt, salt_size, rounds.unwrap_or(535_000), false)
        }
        "blowfish" | "bcrypt" => bcrypt_hash(&secret, salt, rounds.unwrap_or(12), ident.as_deref()),
        other => Err(err(format!(
            "rsible does not implement password_hash('{}') (sha512, sha256 and bcrypt are)",
            other
        ))),
    }
}

fn sha_crypt(
    secret: &str,
    salt: Option<String>,
    salt_size: Option<usize>,
    rounds: usize,
    sha512: bool,
) -> Result<Value, Error> {
    let salt = match salt {
        Some(s) => s,
        None => random_salt(salt_size.unwrap_or(16), CRYPT64)?,
    };
    if let Some(bad) = salt
        .chars()
        .find(|c| !CRYPT64.contains(&(*c as u8)) || !c.is_ascii())
    {
        return Err(could_not_hash(format!(
            "invalid characters in salt: {:?}",
            bad
        )));
    }
    if salt.len() > 16 {
        return Err(could_not_hash("salt too large"));
    }
    let (id, checksum) = if sha512 {
        let params = sha_crypt::Sha512Params::new(rounds)
            .map_err(|_| could_not_hash("rounds out of range"))?;
        let c = sha_crypt::sha512_crypt_b64(secret.as_bytes(), salt.as_bytes(), &params)
            .map_err(|_| could_not_hash("sha512_crypt failed"))?;
        ("6", c)
    } else {
        let params = sha_crypt::Sha256Params::new(rounds)
            .map_err(|_| could_not_hash("rounds out of range"))?;
        let c = sha_crypt::sha256_crypt_b64(secret.as_bytes(), salt.as_bytes(), &params)
            .map_err(|_| could_not_hash("sha256_crypt failed"))?;
        ("5", c)
    };
    // crypt's default round count is implicit in the hash string.
    Ok(Value::from(if rounds == 5000 {
        format!("${}${}${}", id, salt, checksum)
    } else {
        format!("${}$rounds={}${}${}", id, rounds, salt, checksum)
    }))
}

/// Decodes bcrypt's 22-character salt to its 16 bytes (the last character's
/// unused low bits are dropped, as passlib's `repair_unused` does).
fn bcrypt_salt(salt: &str) -> Result<[u8; 16], Error> {
    if salt.len() != 22 {
        return Err(could_not_hash("salt must be 22 characters"));
    }
    let mut bits: u128 = 0;
    let mut extra = 0u8;
    for (i, c) in salt.bytes().enumerate() {
        let v = BCRYPT64
            .iter()
            .position(|a| *a == c)
            .ok_or_else(|| could_not_hash("invalid characters in salt"))? as u128;
        if i < 21 {
            bits = (bits << 6) | v;
        } else {
            extra = (v >> 4) as u8; // the two bits that complete 128
        }
    }
    let full = (bits << 2) | extra as u128;
    Ok(full.to_be_bytes())
}

fn bcrypt_hash(
    secret: &str,
    salt: Option<String>,
    cost: usize,
    ident: Option<&str>,
) -> Result<Value, Error> {
    let version = match ident.unwrap_or("2b") {
        "2a" => bcrypt::Version::TwoA,
        "2b" => bcrypt::Version::TwoB,
        "2y" => bcrypt::Version::TwoY,
        other => return Err(could_not_hash(format!("invalid ident: {:?}", other))),
    };
    let salt = match salt {
        Some(s) => bcrypt_salt(&s)?,
        None => {
            let mut raw = [0u8; 16];
            getrandom::getrandom(&mut raw).map_err(|e| err(format!("no random salt: {}", e)))?;
            raw
        }
    };
    let cost = u32::try_from(cost).map_err(|_| could_not_hash("rounds out of range"))?;
    let parts = bcrypt::hash_with_salt(secret.as_bytes(), cost, salt)
        .map_err(|e| could_not_hash(e.to_string()))?;
    Ok(Value::from(parts.format_for_version(version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(secret: &str, ty: &str, salt: &str) -> String {
        password_hash(
            Value::from(secret),
            Some(ty.into()),
            Some(Value::from(salt)),
            Kwargs::from_iter(Vec::<(&str, Value)>::new()),
        )
        .unwrap()
        .to_string()
    }

    // Expected values from passlib 1.7.4 (the reference venv).
    #[test]
    fn matches_passlib() {
        assert_eq!(
            hash("secret", "sha512", "abcdefgh"),
            "$6$rounds=656000$abcdefgh$/Ei/7YaGhLUaj/.Vzhbn8/qTav7snBIiSWc4ltNfH/h5CKGCnV8KtAzHxd56WDXc3DF7SfbULGkU/EoGIlOV70"
        );
        assert_eq!(
            hash("secret", "bcrypt", "abcdefghijklmnopqrstuu"),
            "$2b$12$abcdefghijklmnopqrstuuT1Iwu6o8Wx7BoOyIMHfgVJq6JO/IJhW"
        );
        assert!(password_hash(
            Value::from("x"),
            Some("md5".into()),
            None,
            Kwargs::from_iter(Vec::<(&str, Value)>::new())
        )
        .is_err());
    }
}
