//! Building int and float values from scalar text, as PyYAML's SafeConstructor does.

use super::bigint::digits_to_decimal;
use crate::Value;

/// `construct_yaml_int`: underscores dropped, optional sign, then `0b`, `0x`,
/// leading-`0` octal, sexagesimal `a:b:c`, or decimal. `None` if the text is
/// not an int at all (only possible with an explicit `!!int` tag).
pub(crate) fn construct_int(text: &str) -> Option<Value> {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, &cleaned[..]),
    };
    if body == "0" {
        return Some(Value::Int(0));
    }
    let (digits, radix) = if let Some(rest) = body.strip_prefix("0b") {
        (rest, 2)
    } else if let Some(rest) = body.strip_prefix("0x") {
        (rest, 16)
    } else if body.contains(':') {
        return sexagesimal_int(body, negative);
    } else if let Some(rest) = body.strip_prefix('0') {
        (rest, 8)
    } else {
        (body, 10)
    };
    if digits.is_empty() {
        return None;
    }
    if let Ok(magnitude) = i128::from_str_radix(digits, radix) {
        return Some(int_value(if negative { -magnitude } else { magnitude }));
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let decimal = digits_to_decimal(digits, radix)?;
    Some(Value::BigInt(if negative {
        format!("-{decimal}")
    } else {
        decimal
    }))
}

fn int_value(n: i128) -> Value {
    match i64::try_from(n) {
        Ok(small) => Value::Int(small),
        Err(_) => Value::BigInt(n.to_string()),
    }
}

fn sexagesimal_int(body: &str, negative: bool) -> Option<Value> {
    let mut total: i128 = 0;
    for part in body.split(':') {
        let digit: i128 = part.parse().ok()?;
        total = total.checked_mul(60)?.checked_add(digit)?;
    }
    Some(int_value(if negative { -total } else { total }))
}

/// `construct_yaml_float`: underscores dropped, lower-cased, `.inf`/`.nan`,
/// sexagesimal, or Python's `float()`.
pub(crate) fn construct_float(text: &str) -> Option<f64> {
    let cleaned: String = text
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    let (sign, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (-1.0, &cleaned[1..]),
        Some(b'+') => (1.0, &cleaned[1..]),
        _ => (1.0, &cleaned[..]),
    };
    match body {
        ".inf" => return Some(sign * f64::INFINITY),
        ".nan" => return Some(f64::NAN),
        _ => {}
    }
    if body.contains(':') {
        // Python sums from the least significant group up; keep that order for identical rounding.
        let mut value = 0.0;
        let mut base = 1.0;
        for part in body.split(':').rev() {
            value += python_float(part)? * base;
            base *= 60.0;
        }
        return Some(sign * value);
    }
    Some(sign * python_float(body)?)
}

/// Python's `float()` on the already-cleaned text. Rust's parser accepts the
/// same decimal forms (`1.`, `.5`, `1.5e-3`) but also words like `inf` that
/// the YAML patterns never let through; reject those for explicit `!!float`.
fn python_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if matches!(body, "inf" | "infinity" | "nan") {
        return t.parse().ok();
    }
    if !body.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values recorded from PyYAML 6.0.3 (`yaml.safe_load`) in the reference venv.
    #[test]
    fn ints_in_every_base() {
        assert_eq!(construct_int("0644"), Some(Value::Int(420)));
        assert_eq!(construct_int("0_"), Some(Value::Int(0)));
        assert_eq!(construct_int("-0"), Some(Value::Int(0)));
        assert_eq!(construct_int("0b1010"), Some(Value::Int(10)));
        assert_eq!(construct_int("-0b11"), Some(Value::Int(-3)));
        assert_eq!(construct_int("0x_1F"), Some(Value::Int(31)));
        assert_eq!(construct_int("+0x10"), Some(Value::Int(16)));
        assert_eq!(construct_int("1__0"), Some(Value::Int(10)));
        assert_eq!(construct_int("190:20:30"), Some(Value::Int(685230)));
        assert_eq!(construct_int("-1:30"), Some(Value::Int(-90)));
        assert_eq!(construct_int("1:2:3"), Some(Value::Int(3723)));
        assert_eq!(construct_int("abc"), None);
    }

    #[test]
    fn ints_beyond_i64_are_big() {
        assert_eq!(
            construct_int("12345678901234567890"),
            Some(Value::BigInt("12345678901234567890".into()))
        );
        assert_eq!(
            construct_int("-9223372036854775809"),
            Some(Value::BigInt("-9223372036854775809".into()))
        );
        assert_eq!(
            construct_int("-9223372036854775808"),
            Some(Value::Int(i64::MIN))
        );
        assert_eq!(
            construct_int("0xffffffffffffffffffffffffffffffffff"),
            Some(Value::BigInt(
                "87112285931760246646623899502532662132735".into()
            ))
        );
    }

    #[test]
    fn floats() {
        assert_eq!(construct_float("6.8523015e+5"), Some(685230.15));
        assert_eq!(construct_float("190:20:30.15"), Some(685230.15));
        assert_eq!(construct_float("1_000.5_0"), Some(1000.5));
        assert_eq!(construct_float("0."), Some(0.0));
        assert_eq!(construct_float(".5"), Some(0.5));
        assert_eq!(construct_float("1.5E-3"), Some(0.0015));
        assert_eq!(construct_float("-.Inf"), Some(f64::NEG_INFINITY));
        assert!(construct_float(".NaN").is_some_and(f64::is_nan));
        // explicit !!float on an int-looking text, as `float('1')`
        assert_eq!(construct_float("1"), Some(1.0));
        assert_eq!(construct_float("x"), None);
    }
}
