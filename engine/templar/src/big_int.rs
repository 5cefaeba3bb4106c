//! Python's integers have no size limit; a module may return one beyond any
//! machine type (community.crypto's RSA modulus: 2048 bits). Up to 128 bits
//! rsible keeps them as minijinja's own i128/u128 numbers (arithmetic and
//! comparisons work); beyond that as [`BigInt`], which keeps the exact
//! digits: it prints, converts to text and to JSON as Python's int does,
//! `type_debug` says `int` and `int` keeps it, but no arithmetic or ordering
//! is done on it (see COMPATIBILITY.md).

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use minijinja::value::{DynObject, Object, ObjectRepr, Value};

/// An integer beyond 128 bits, as its decimal digits (`-` first when negative).
#[derive(Debug)]
pub struct BigInt {
    digits: String,
}

impl Object for BigInt {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digits)
    }

    /// Two big ints compare by value (`==`, `<` between them).
    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        let other = other.downcast_ref::<Self>()?;
        Some(compare_digits(&self.digits, &other.digits))
    }
}

/// Compares canonical decimal texts (no leading zeros) as numbers.
fn compare_digits(a: &str, b: &str) -> Ordering {
    match (a.strip_prefix('-'), b.strip_prefix('-')) {
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(x), Some(y)) => compare_digits(y, x),
        (None, None) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
    }
}

/// The value of a decimal integer text (optional sign, digits, nothing else):
/// a number up to 128 bits, a [`BigInt`] beyond. None when `text` is no
/// integer.
pub fn int_from_digits(text: &str) -> Option<Value> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Ok(i) = text.parse::<i128>() {
        return Some(Value::from(i));
    }
    if !negative {
        if let Ok(u) = digits.parse::<u128>() {
            return Some(Value::from(u));
        }
    }
    let trimmed = digits.trim_start_matches('0');
    let mut canonical = String::with_capacity(trimmed.len() + 1);
    if negative {
        canonical.push('-');
    }
    canonical.push_str(trimmed);
    Some(Value::from_object(BigInt { digits: canonical }))
}

/// The digits of `value` when it is a [`BigInt`].
pub fn big_int_digits(value: &Value) -> Option<&str> {
    value
        .downcast_object_ref::<BigInt>()
        .map(|b| b.digits.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_sized_integers_stay_numbers() {
        assert_eq!(int_from_digits("-5").unwrap().as_i64(), Some(-5));
        let u = int_from_digits("340282366920938463463374607431768211455").unwrap();
        assert_eq!(u.to_string(), "340282366920938463463374607431768211455");
        assert!(big_int_digits(&u).is_none());
        assert!(int_from_digits("1.5").is_none());
        assert!(int_from_digits("-").is_none());
        assert!(int_from_digits("1e5").is_none());
    }

    #[test]
    fn beyond_128_bits_the_digits_are_kept() {
        let text = "-3402823669209384634633746074317682114650";
        let v = int_from_digits(text).unwrap();
        assert_eq!(big_int_digits(&v), Some(text));
        assert_eq!(v.to_string(), text);
        let padded = int_from_digits("0003402823669209384634633746074317682114650").unwrap();
        assert_eq!(padded, int_from_digits(&text[1..]).unwrap());
        assert_ne!(padded, v);
        assert_eq!(
            padded.to_string(),
            "3402823669209384634633746074317682114650"
        );
    }
}
