//! Jinja's `truncate`, with Jinja's defaults (length 255, end '...', leeway 5).

use minijinja::value::Value;
use minijinja::Error;

pub fn truncate(
    value: Value,
    length: Option<usize>,
    killwords: Option<bool>,
    end: Option<String>,
    leeway: Option<usize>,
) -> Result<Value, Error> {
    let text = value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| crate::python_repr::str_of(&value));
    let length = length.unwrap_or(255);
    let killwords = killwords.unwrap_or(false);
    let end = end.unwrap_or_else(|| "...".into());
    let leeway = leeway.unwrap_or(5);
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= length + leeway {
        return Ok(Value::from(text));
    }
    let keep: String = chars[..length.saturating_sub(end.chars().count())]
        .iter()
        .collect();
    if killwords {
        return Ok(Value::from(keep + &end));
    }
    let cut = match keep.rfind(' ') {
        Some(i) => keep[..i].to_string(),
        None => keep,
    };
    Ok(Value::from(cut + &end))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from Jinja2 3.1: Template("{{ s | truncate(...) }}").
    #[test]
    fn matches_jinja() {
        let t = |s: &str, n: usize, kill: bool, end: &str| {
            truncate(Value::from(s), Some(n), Some(kill), Some(end.into()), None)
                .unwrap()
                .to_string()
        };
        assert_eq!(t("hello world foo bar baz", 10, false, "..."), "hello...");
        assert_eq!(t("hello world foo bar baz", 10, true, "..."), "hello w...");
        assert_eq!(t("short", 10, false, "..."), "short");
        assert_eq!(
            t("9b8f8a6c5d4e3f2a1b0c", 16, true, ""),
            "9b8f8a6c5d4e3f2a1b0c"
        );
        assert_eq!(
            t("9b8f8a6c5d4e3f2a1b0c11223344", 16, true, ""),
            "9b8f8a6c5d4e3f2a"
        );
    }
}
