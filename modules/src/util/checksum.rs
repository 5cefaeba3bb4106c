//! File digests with the algorithm names Ansible's stat/copy use.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Algorithms accepted by `stat`'s `checksum_algorithm`.
pub const ALGORITHMS: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest_reader<D: Digest>(mut r: impl Read) -> io::Result<String> {
    let mut d = D::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        d.update(&buf[..n]);
    }
    Ok(hex(&d.finalize()))
}

/// Hex digest of a file; `None` for an unknown algorithm name.
pub fn digest_file(path: &Path, algorithm: &str) -> io::Result<Option<String>> {
    let f = File::open(path)?;
    Ok(Some(match algorithm {
        "md5" => digest_reader::<Md5>(f)?,
        "sha1" => digest_reader::<Sha1>(f)?,
        "sha224" => digest_reader::<Sha224>(f)?,
        "sha256" => digest_reader::<Sha256>(f)?,
        "sha384" => digest_reader::<Sha384>(f)?,
        "sha512" => digest_reader::<Sha512>(f)?,
        _ => return Ok(None),
    }))
}

/// sha1 of bytes in memory (Ansible's `checksum_s`).
pub fn sha1_bytes(data: &[u8]) -> String {
    hex(&Sha1::digest(data))
}

/// md5 of bytes in memory.
pub fn md5_bytes(data: &[u8]) -> String {
    hex(&Md5::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_values() {
        // Reference: copy content="hello\n" reported checksum f572d396... and md5sum b1946ac9...
        assert_eq!(
            sha1_bytes(b"hello\n"),
            "f572d396fae9206628714fb2ce00f72e94f2258f"
        );
        assert_eq!(md5_bytes(b"hello\n"), "b1946ac92492d2347c6235b4d2611184");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello\n").unwrap();
        assert_eq!(
            digest_file(&p, "sha256").unwrap().unwrap(),
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
        assert_eq!(digest_file(&p, "crc32").unwrap(), None);
    }
}
