//! `hash` and `checksum`: hex digests of a string's UTF-8 bytes, as
//! Ansible's filters compute them with hashlib.

use minijinja::value::Value;
use minijinja::{Error, ErrorKind};
use sha1::Digest;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The text a value hashes as: strings as they are, others as Python's `str()`.
fn text_of(value: &Value) -> String {
    match value.as_str() {
        Some(s) => s.to_string(),
        None => crate::python_repr::str_of(value),
    }
}

/// `hash(algorithm='sha1')`.
pub fn hash(value: Value, algorithm: Option<String>) -> Result<Value, Error> {
    let data = text_of(&value);
    let bytes = data.as_bytes();
    let digest = match algorithm.as_deref().unwrap_or("sha1") {
        "sha1" => hex(&sha1::Sha1::digest(bytes)),
        "md5" => hex(&md5::Md5::digest(bytes)),
        "sha224" => hex(&sha2::Sha224::digest(bytes)),
        "sha256" => hex(&sha2::Sha256::digest(bytes)),
        "sha384" => hex(&sha2::Sha384::digest(bytes)),
        "sha512" => hex(&sha2::Sha512::digest(bytes)),
        other => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("rsible does not support the hash algorithm '{other}' yet"),
            ))
        }
    };
    Ok(Value::from(digest))
}

/// `checksum`: the sha1 of the text.
pub fn checksum(value: Value) -> Result<Value, Error> {
    hash(value, Some("sha1".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected digests from Python: hashlib.sha1(b"sandbox.local").hexdigest() etc.
    #[test]
    fn digests_match_hashlib() {
        assert_eq!(
            hash(Value::from("abc"), None).unwrap().as_str(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            hash(Value::from("abc"), Some("md5".into()))
                .unwrap()
                .as_str(),
            Some("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            hash(Value::from("abc"), Some("sha256".into()))
                .unwrap()
                .as_str(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert!(hash(Value::from("abc"), Some("whirlpool".into())).is_err());
    }
}
