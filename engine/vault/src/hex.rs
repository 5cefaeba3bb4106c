//! Python's `binascii.hexlify`/`unhexlify` (lower-case digits), with its error wording.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

pub fn hexlify(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 2);
    for b in data {
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 0x0f) as usize]);
    }
    out
}

pub fn unhexlify(text: &[u8]) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err("Odd-length string".into());
    }
    text.chunks(2)
        .map(|pair| match (digit(pair[0]), digit(pair[1])) {
            (Some(h), Some(l)) => Ok(h << 4 | l),
            _ => Err("Non-hexadecimal digit found".to_string()),
        })
        .collect()
}

fn digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        assert_eq!(hexlify(b"\x00\xffA"), b"00ff41");
        assert_eq!(unhexlify(b"00FF41").unwrap(), b"\x00\xffA");
        assert_eq!(unhexlify(b"abc").unwrap_err(), "Odd-length string");
        assert_eq!(unhexlify(b"zz").unwrap_err(), "Non-hexadecimal digit found");
    }
}
