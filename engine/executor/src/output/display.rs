//! Ansible's `Display`: banners, warnings and the column width they use.

/// Ansible's width when stdout is not a terminal: `max(79, tty_columns - 1)`
/// with 0 columns.
pub const DEFAULT_COLUMNS: usize = 79;

/// `TASK [name] ****...`: the message, a space, then stars up to the column
/// width (at least three). Returned with its leading newline, as Ansible prints it.
pub fn banner(msg: &str, columns: usize) -> String {
    let msg = msg.trim();
    let width = msg.chars().count();
    let stars = columns.saturating_sub(width).max(3);
    // Ansible's rule is `star_len <= 3 -> 3`, the same as max(3).
    format!("\n{} {}", msg, "*".repeat(stars))
}

/// Python's `textwrap.wrap(text, width)` with its defaults (break on
/// whitespace, break long words, drop whitespace at line ends), which
/// Ansible uses for `[WARNING]:` and `[DEPRECATION WARNING]:` lines.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let expanded = text.replace('\t', "        ");
    // textwrap first replaces each whitespace character with a space.
    let normalised: String = expanded
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut current_len = 0usize;
    for chunk in chunks(&normalised) {
        let is_space = chunk.starts_with(' ');
        let len = chunk.chars().count();
        if is_space && current.is_empty() {
            // whitespace at the start of a line is dropped
            if !lines.is_empty() {
                continue;
            }
        }
        if current_len + len <= width {
            current.push_str(chunk);
            current_len += len;
            continue;
        }
        if is_space {
            lines.push(current.trim_end().to_string());
            current.clear();
            current_len = 0;
            continue;
        }
        if current.is_empty() || len > width {
            // a word longer than a line is cut to fill the current line
            let mut rest: Vec<char> = chunk.chars().collect();
            loop {
                let room = width.saturating_sub(current_len).max(1);
                if rest.len() <= room && current_len + rest.len() <= width {
                    current.extend(rest.iter());
                    current_len += rest.len();
                    break;
                }
                let take = room.min(rest.len());
                current.extend(rest[..take].iter());
                lines.push(current.trim_end().to_string());
                current.clear();
                current_len = 0;
                rest.drain(..take);
                if rest.is_empty() {
                    break;
                }
            }
            continue;
        }
        lines.push(current.trim_end().to_string());
        current = chunk.to_string();
        current_len = len;
    }
    if !current.trim().is_empty() {
        lines.push(current.trim_end().to_string());
    }
    lines
}

/// Splits into alternating runs of spaces and non-spaces.
fn chunks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space: Option<bool> = None;
    for (i, c) in text.char_indices() {
        let space = c == ' ';
        match in_space {
            Some(s) if s == space => {}
            Some(_) => {
                out.push(&text[start..i]);
                start = i;
            }
            None => {}
        }
        in_space = Some(space);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// `[WARNING]: msg`, wrapped to the column width, with a trailing newline, as
/// `Display.warning` formats it.
pub fn warning(msg: &str, columns: usize) -> String {
    let text = format!("[WARNING]: {}", msg);
    let mut out = wrap(&text, columns).join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_pads_to_eighty_characters() {
        let b = banner("PLAY RECAP", DEFAULT_COLUMNS);
        assert_eq!(b.len(), 81); // leading newline + 80
        assert!(b.ends_with(&"*".repeat(69)));
    }

    #[test]
    fn long_banner_gets_three_stars() {
        let name = format!("TASK [{}]", "x".repeat(90));
        assert!(banner(&name, DEFAULT_COLUMNS).ends_with("] ***"));
    }

    // Expected lines from Python 3.11 textwrap.wrap(text, 79).
    #[test]
    fn warning_wraps_like_textwrap() {
        let w = warning(
            "provided hosts list is empty, only localhost is available. Note that the implicit localhost does not match 'all'",
            DEFAULT_COLUMNS,
        );
        assert_eq!(
            w,
            "[WARNING]: provided hosts list is empty, only localhost is available. Note that\nthe implicit localhost does not match 'all'\n"
        );
    }
}
