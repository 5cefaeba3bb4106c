//! Just enough arbitrary precision to print integers beyond i64 in decimal,
//! because PyYAML's ints are unbounded and Ansible passes them on unchanged.

/// Little-endian limbs in base 10^9.
const LIMB_BASE: u64 = 1_000_000_000;

/// Convert digits in `radix` (2..=16, no sign, no underscores) to a decimal string.
pub(crate) fn digits_to_decimal(digits: &str, radix: u32) -> Option<String> {
    let mut limbs: Vec<u64> = vec![0];
    for ch in digits.chars() {
        let mut carry = u64::from(ch.to_digit(radix)?);
        for limb in limbs.iter_mut() {
            let v = *limb * u64::from(radix) + carry;
            *limb = v % LIMB_BASE;
            carry = v / LIMB_BASE;
        }
        while carry > 0 {
            limbs.push(carry % LIMB_BASE);
            carry /= LIMB_BASE;
        }
    }
    let mut out = String::new();
    let mut iter = limbs.iter().rev();
    if let Some(top) = iter.next() {
        out.push_str(&top.to_string());
    }
    for limb in iter {
        out.push_str(&format!("{limb:09}"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_large_values_in_any_radix() {
        assert_eq!(
            digits_to_decimal("12345678901234567890", 10).as_deref(),
            Some("12345678901234567890")
        );
        // 2**64 == 18446744073709551616
        assert_eq!(
            digits_to_decimal("10000000000000000", 16).as_deref(),
            Some("18446744073709551616")
        );
        assert_eq!(digits_to_decimal("0", 8).as_deref(), Some("0"));
        assert_eq!(digits_to_decimal("12", 2), None);
    }
}
