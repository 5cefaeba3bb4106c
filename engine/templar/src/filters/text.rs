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

/// Jinja's `indent(width=4, first=False, blank=False)` as Python runs it:
/// `width` may be a string; the text's final newline is kept (Jinja appends
/// one before `splitlines`, so "a\nb\n" indents to "a\n    b\n"), which
/// `to_nice_yaml | indent` output in Kubespray's templates depends on.
pub fn indent(
    value: &minijinja::Value,
    width: Option<minijinja::Value>,
    first: Option<bool>,
    blank: Option<bool>,
    kwargs: minijinja::value::Kwargs,
) -> Result<minijinja::Value, minijinja::Error> {
    let width = match width {
        Some(w) => Some(w),
        None => kwargs.get::<Option<minijinja::Value>>("width")?,
    };
    let first = match first {
        Some(f) => f,
        None => kwargs.get::<Option<bool>>("first")?.unwrap_or(false),
    };
    let blank = match blank {
        Some(b) => b,
        None => kwargs.get::<Option<bool>>("blank")?.unwrap_or(false),
    };
    kwargs.assert_all_used()?;
    let indention = match &width {
        None => "    ".to_string(),
        Some(w) => match w.as_str() {
            Some(s) => s.to_string(),
            None => {
                let n = i64::try_from(w.clone()).map_err(|_| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!(
                            "can't multiply sequence by non-int of type '{}'",
                            crate::type_name(w)
                        ),
                    )
                })?;
                " ".repeat(usize::try_from(n).unwrap_or(0))
            }
        },
    };
    let mut text = crate::python_repr::str_of(value);
    text.push('\n');
    let lines = rsible_pytext::splitlines(&text);
    let mut out = String::with_capacity(text.len() * 2);
    if blank {
        out.push_str(&lines.join(&format!("\n{indention}")));
    } else {
        let mut rest = lines.iter();
        if let Some(head) = rest.next() {
            out.push_str(head);
        }
        let tail: Vec<String> = rest
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{indention}{l}")
                }
            })
            .collect();
        if !tail.is_empty() {
            out.push('\n');
            out.push_str(&tail.join("\n"));
        }
    }
    if first {
        out.insert_str(0, &indention);
    }
    Ok(minijinja::Value::from(out))
}

#[cfg(test)]
mod indent_tests {
    use super::*;

    fn ind(s: &str, width: i64, first: bool, blank: bool) -> String {
        let kwargs =
            minijinja::value::Kwargs::from_iter(std::iter::empty::<(&str, minijinja::Value)>());
        indent(
            &minijinja::Value::from(s),
            Some(minijinja::Value::from(width)),
            Some(first),
            Some(blank),
            kwargs,
        )
        .unwrap()
        .to_string()
    }

    #[test]
    fn keeps_the_final_newline_as_jinja_does() {
        assert_eq!(ind("- a\n- b\n", 4, true, false), "    - a\n    - b\n");
        assert_eq!(ind("a\n\nb", 2, false, false), "a\n\n  b");
        assert_eq!(ind("a\n\nb", 2, false, true), "a\n  \n  b");
        assert_eq!(ind("a\r\nb", 1, false, false), "a\n b");
    }
}
