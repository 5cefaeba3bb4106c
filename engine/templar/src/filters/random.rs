//! `random` and `shuffle` as Ansible runs them: with a `seed`, Python's
//! `random.Random(seed)` (Mersenne Twister, seeded the way CPython seeds it)
//! so that seeded results are the same as Ansible's; without one, the
//! operating system's randomness.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind};
use sha2::{Digest, Sha512};

use crate::python_repr::str_of;

/// MT19937 with CPython's `init_by_array` seeding.
struct PyRandom {
    mt: [u32; 624],
    index: usize,
}

impl PyRandom {
    fn from_key(key: &[u32]) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = 19650218;
        for i in 1..624 {
            mt[i] = 1812433253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        let key: Vec<u32> = if key.is_empty() {
            vec![0]
        } else {
            key.to_vec()
        };
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..624.max(key.len()) {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1664525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= 624 {
                mt[0] = mt[623];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..623 {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1566083941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= 624 {
                mt[0] = mt[623];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        PyRandom { mt, index: 624 }
    }

    /// `Random(seed)`: ints by their absolute value, strings (version 2) as
    /// the big-endian number of their UTF-8 bytes followed by their SHA-512.
    fn from_seed(seed: &Value) -> Self {
        let bytes: Vec<u8> = if seed.is_integer() {
            let n = i128::try_from(seed.clone()).unwrap_or(0).unsigned_abs();
            n.to_be_bytes().to_vec()
        } else {
            let text = str_of(seed);
            let mut b = text.as_bytes().to_vec();
            b.extend_from_slice(&Sha512::digest(text.as_bytes()));
            b
        };
        // the number as 32-bit words, least significant first
        let mut key = Vec::new();
        let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        let mut chunk_end = trimmed.len();
        while chunk_end > 0 {
            let start = chunk_end.saturating_sub(4);
            let mut w = 0u32;
            for b in &trimmed[start..chunk_end] {
                w = (w << 8) | *b as u32;
            }
            key.push(w);
            chunk_end = start;
        }
        PyRandom::from_key(&key)
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            for i in 0..624 {
                let y = (self.mt[i] & 0x8000_0000) | (self.mt[(i + 1) % 624] & 0x7fff_ffff);
                let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
                if y & 1 != 0 {
                    v ^= 0x9908_b0df;
                }
                self.mt[i] = v;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn getrandbits(&mut self, k: u32) -> u64 {
        if k <= 32 {
            (self.next_u32() >> (32 - k)) as u64
        } else {
            let low = self.next_u32() as u64;
            let high = (self.next_u32() >> (64 - k)) as u64;
            (high << 32) | low
        }
    }

    /// CPython's `_randbelow_with_getrandbits`.
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }
}

/// A uniform number below `n` from the operating system (passwords).
pub fn secure_below(n: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let limit = u64::MAX - u64::MAX % n;
    loop {
        let mut buf = [0u8; 8];
        if getrandom(&mut buf).is_err() {
            // /dev/urandom unreadable: no secret can be made; fail closed
            // by returning the least surprising value rather than panicking.
            return 0;
        }
        let v = u64::from_le_bytes(buf);
        if v < limit {
            return v % n;
        }
    }
}

fn getrandom(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// A number below `n` for unseeded choices.
pub fn below(n: u64) -> u64 {
    secure_below(n)
}

fn rng_below(rng: &mut Option<PyRandom>, n: u64) -> u64 {
    match rng {
        Some(r) => r.below(n),
        None => below(n),
    }
}

/// Ansible's `random` filter: an int `end` gives `randrange(start, end,
/// step)`, a sequence a `choice`.
/// `random(end, start=None, step=None, seed=None)`: the arguments may be
/// given by position too (`10 | random(1)` starts at 1).
pub fn random(
    value: Value,
    start_pos: Option<Value>,
    step_pos: Option<Value>,
    seed_pos: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let seed: Option<Value> = kwargs.get::<Option<Value>>("seed")?.or(seed_pos);
    let start = int_arg(kwargs.get::<Option<Value>>("start")?.or(start_pos))?;
    let step = int_arg(kwargs.get::<Option<Value>>("step")?.or(step_pos))?;
    kwargs.assert_all_used()?;
    let mut rng = seed
        .filter(|s| !s.is_none())
        .map(|s| PyRandom::from_seed(&s));
    if value.is_integer() {
        let end = i64::try_from(value.clone())
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
        let start = start.filter(|s| *s != 0).unwrap_or(0);
        let step = step.filter(|s| *s != 0).unwrap_or(1);
        let width = end - start;
        let n = if step > 0 {
            (width + step - 1) / step
        } else {
            (width + step + 1) / step
        };
        if n <= 0 {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "empty range for randrange() ({}, {}, {})",
                    start, end, width
                ),
            ));
        }
        let r = rng_below(&mut rng, n as u64) as i64;
        return Ok(Value::from(start + step * r));
    }
    if matches!(
        value.kind(),
        ValueKind::Seq | ValueKind::String | ValueKind::Map | ValueKind::Iterable
    ) {
        if start.is_some_and(|s| s != 0) || step.is_some_and(|s| s != 0) {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "start and step can only be used with integer values",
            ));
        }
        let items: Vec<Value> = if let Some(s) = value.as_str() {
            s.chars().map(|c| Value::from(c.to_string())).collect()
        } else {
            value.try_iter()?.collect()
        };
        if items.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "Cannot choose from an empty sequence",
            ));
        }
        let i = rng_below(&mut rng, items.len() as u64) as usize;
        return Ok(items[i].clone());
    }
    Err(Error::new(
        ErrorKind::InvalidOperation,
        "random can only be used on sequences and integers",
    ))
}

/// An optional integer argument (none counts as not given).
fn int_arg(value: Option<Value>) -> Result<Option<i64>, Error> {
    match value {
        None => Ok(None),
        Some(v) if v.is_none() || v.is_undefined() => Ok(None),
        Some(v) => i64::try_from(v)
            .map(Some)
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string())),
    }
}

/// Ansible's `shuffle`: Python's Fisher-Yates over a copy of the list.
pub fn shuffle(value: Value, seed: Option<Value>) -> Result<Value, Error> {
    let mut items: Vec<Value> = value.try_iter()?.collect();
    let mut rng = seed
        .filter(|s| !s.is_none())
        .map(|s| PyRandom::from_seed(&s));
    for i in (1..items.len()).rev() {
        let j = rng_below(&mut rng, (i + 1) as u64) as usize;
        items.swap(i, j);
    }
    Ok(Value::from(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_like_cpython() {
        // random.Random(42).getrandbits(32) in CPython
        let mut r = PyRandom::from_seed(&Value::from(42));
        assert_eq!(r.next_u32(), 2746317213);
    }
}
