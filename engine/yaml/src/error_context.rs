//! The "The error appears to be in ... ^ here" block Ansible appends to errors
//! that point into a file, with its hints for common mistakes.
//!
//! Behaviour follows ansible-core 2.18's `AnsibleError._get_extended_error`:
//! the target line is the reported one (clamped to the file, moved up past
//! blank lines), the previous line is shown above it, and `k=v` text on the
//! previous line moves the report there instead.

use std::path::Path;

const POSITION_DETAILS: &str =
    "The error appears to be in '{file}': line {line}, column {column}, but may\n\
be elsewhere in the file depending on the exact syntax problem.\n";

const AND_SHORTHAND_ERROR: &str =
    "There appears to be both 'k=v' shorthand syntax and YAML in this task. Only one syntax may be used.\n";

const LEADING_TAB_ERROR: &str = "There appears to be a tab character at the start of the line.\n\n\
YAML does not use tabs for formatting. Tabs should be replaced with spaces.\n\n\
For example:\n    - name: update tooling\n      vars:\n        version: 1.2.3\n#    ^--- there is a tab there.\n\n\
Should be written as:\n    - name: update tooling\n      vars:\n        version: 1.2.3\n# ^--- all spaces here.\n";

const UNQUOTED_VARIABLE_ERROR: &str =
    "We could be wrong, but this one looks like it might be an issue with\n\
missing quotes. Always quote template expression brackets when they\n\
start a value. For instance:\n\n    with_items:\n      - {{ foo }}\n\n\
Should be written as:\n\n    with_items:\n      - \"{{ foo }}\"\n";

const DICT_ERROR: &str = "This one looks easy to fix. YAML thought it was looking for the start of a\n\
hash/dictionary and was confused to see a second \"{\". Most likely this was\n\
meant to be an ansible template evaluation instead, so we have to give the\n\
parser a small hint that we wanted a string instead. The solution here is to\n\
just quote the entire value.\n\nFor instance, if the original line was:\n\n    app_path: {{ base_path }}/foo\n\n\
It should be written as:\n\n    app_path: \"{{ base_path }}/foo\"\n";

const UNQUOTED_COLON_ERROR: &str =
    "This one looks easy to fix. There seems to be an extra unquoted colon in the line\n\
and this is confusing the parser. It was only expecting to find one free\n\
colon. The solution is just add some quotes around the colon, or quote the\n\
entire line after the first colon.\n\nFor instance, if the original line was:\n\n    \
copy: src=file.txt dest=/path/filename:with_colon.txt\n\nIt can be written as:\n\n    \
copy: src=file.txt dest='/path/filename:with_colon.txt'\n\nOr:\n\n    \
copy: 'src=file.txt dest=/path/filename:with_colon.txt'\n";

const PARTIALLY_QUOTED_LINE_ERROR: &str = "This one looks easy to fix. It seems that there is a value started\n\
with a quote, and the YAML parser is expecting to see the line ended\n\
with the same kind of quote. For instance:\n\n    when: \"ok\" in result.stdout\n\n\
Could be written as:\n\n   when: '\"ok\" in result.stdout'\n\nOr equivalently:\n\n   when: \"'ok' in result.stdout\"\n";

const UNBALANCED_QUOTES_ERROR: &str =
    "We could be wrong, but this one looks like it might be an issue with\n\
unbalanced quotes. If starting a value with a quote, make sure the\n\
line ends with the same set of quotes. For instance this arbitrary\n\
example:\n\n    foo: \"bad\" \"wolf\"\n\nCould be written as:\n\n    foo: '\"bad\" \"wolf\"'\n";

/// Ansible's extended error block for a position in a file: the position,
/// the offending line with a `^ here` arrow under `column`, and hints.
/// `line` and `column` are 1-based, as in a [`crate::Mark`]. The file is read
/// from disk, as Ansible does; if it cannot be read the block says so.
pub fn error_context(source_path: &str, line: u32, column: u32) -> String {
    if is_pseudo_source(source_path) {
        return position_details(source_path, i64::from(line), i64::from(column));
    }
    match std::fs::read(Path::new(source_path)) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines = pick_lines(&text, line);
            extended_error_from_lines(
                source_path,
                line,
                column,
                lines.as_ref().map(|(p, t)| (p.as_str(), t.as_str())),
            )
        }
        Err(_) => format!(
            "{}\n(could not open file to display line)",
            position_details(source_path, i64::from(line), i64::from(column))
        ),
    }
}

fn is_pseudo_source(source: &str) -> bool {
    source == "<string>" || source == "<unicode>"
}

fn position_details(file: &str, line: i64, column: i64) -> String {
    POSITION_DETAILS
        .replace("{file}", file)
        .replace("{line}", &line.to_string())
        .replace("{column}", &column.to_string())
}

/// Ansible's choice of (previous line, target line) for a 1-based line: clamp
/// to the last line, then move up past whitespace-only lines. Lines keep
/// their line breaks, as Python's `readlines()` does. `None` when the text
/// has no usable line ("specified line no longer in file").
pub(crate) fn pick_lines(text: &str, line: u32) -> Option<(String, String)> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if lines.is_empty() {
        return None;
    }
    let mut index = usize::try_from(line)
        .ok()?
        .saturating_sub(1)
        .min(lines.len() - 1);
    while lines[index].trim().is_empty() {
        index = index.checked_sub(1)?;
    }
    let previous = if index > 0 { lines[index - 1] } else { "" };
    Some((previous.to_string(), lines[index].to_string()))
}

/// The extended error block from already-picked lines (see [`pick_lines`]).
pub(crate) fn extended_error_from_lines(
    source: &str,
    line: u32,
    column: u32,
    lines: Option<(&str, &str)>,
) -> String {
    let mut out = position_details(source, i64::from(line), i64::from(column));
    if is_pseudo_source(source) {
        return out;
    }
    let Some((previous, target)) = lines else {
        out.push_str("\n(specified line no longer in file, maybe it changed?)");
        return out;
    };
    if target.is_empty() {
        return out;
    }
    if has_key_equals_value(previous) {
        let trimmed = previous.trim_end();
        let position = trimmed
            .find('=')
            .map(|byte| trimmed[..byte].chars().count() as i64)
            .unwrap_or(-1);
        out = position_details(source, i64::from(line) - 1, position + 1);
        let arrow = format!(
            "{}^ here",
            " ".repeat(usize::try_from(position).unwrap_or(0))
        );
        out.push_str(&format!(
            "\nThe offending line appears to be:\n\n{trimmed}\n{arrow}\n\n"
        ));
        out.push_str(AND_SHORTHAND_ERROR);
    } else {
        let arrow = format!(
            "{}^ here",
            " ".repeat(usize::try_from(column).unwrap_or(1).saturating_sub(1))
        );
        out.push_str(&format!(
            "\nThe offending line appears to be:\n\n{}\n{}\n{}\n",
            previous.trim_end(),
            target.trim_end(),
            arrow
        ));
    }
    out.push_str(&hints(target, column));
    out
}

/// The remedies Ansible suggests after looking at the offending line.
fn hints(target: &str, column: u32) -> String {
    let mut out = String::new();
    if target.contains('\t') {
        out.push_str(LEADING_TAB_ERROR);
    }
    let stripped: String = target.chars().filter(|&c| c != ' ').collect();
    let chars: Vec<char> = target.chars().collect();
    let column = usize::try_from(column).unwrap_or(0);
    if target.contains("{{")
        && target.contains("}}")
        && (!target.contains("\"{{") || !target.contains("'{{"))
    {
        out.push_str(UNQUOTED_VARIABLE_ERROR);
    } else if stripped.contains(":{{") && stripped.contains("}}") {
        out.push_str(DICT_ERROR);
    } else if chars.len() > 1
        && chars.len() > column
        && chars[column] == ':'
        && target.matches(':').count() > 1
    {
        out.push_str(UNQUOTED_COLON_ERROR);
    } else {
        let parts: Vec<&str> = target.split(':').collect();
        if parts.len() > 1 {
            let middle = parts[1].trim();
            let partially_quoted = (middle.starts_with('\'') && !middle.ends_with('\''))
                || (middle.starts_with('"') && !middle.ends_with('"'));
            let quote = |c: Option<char>| matches!(c, Some('"') | Some('\''));
            // Python's precedence: (a and b and c and d) or e
            let unbalanced = (!middle.is_empty()
                && quote(middle.chars().next())
                && quote(middle.chars().last())
                && target.matches('\'').count() > 2)
                || target.matches('"').count() > 2;
            if partially_quoted {
                out.push_str(PARTIALLY_QUOTED_LINE_ERROR);
            }
            if unbalanced {
                out.push_str(UNBALANCED_QUOTES_ERROR);
            }
        }
    }
    out
}

/// Python's `re.search(r'\w+(\s+)?=(\s+)?[\w/-]+', line)`.
fn has_key_equals_value(line: &str) -> bool {
    let chars: Vec<char> = line.chars().collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    chars
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == '=')
        .any(|(i, _)| {
            let before = chars[..i].iter().rev().find(|c| !c.is_whitespace());
            let after = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            before.is_some_and(|&c| is_word(c))
                && after.is_some_and(|&c| is_word(c) || c == '/' || c == '-')
        })
}

/// Appends the position block of `mark` after a blank line, as Ansible ends a
/// task-level error; nothing when the node came from no file.
pub fn append_position(msg: &mut String, mark: &crate::Mark) {
    if let Some(source) = mark.source.as_deref() {
        msg.push_str("\n\n");
        msg.push_str(&error_context(source, mark.line, mark.column));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded from `ansible-playbook --syntax-check` (ansible-core 2.18) on
    /// a file whose line 3 is `    - debug: msg=foo: bar`.
    #[test]
    fn offending_line_block_matches_ansible() {
        let text = "- hosts: localhost\n  tasks:\n    - debug: msg=foo: bar\n";
        let lines = pick_lines(text, 3).unwrap();
        let got =
            extended_error_from_lines("/tmp/yref/bad1.yml", 3, 21, Some((&lines.0, &lines.1)));
        let want = "The error appears to be in '/tmp/yref/bad1.yml': line 3, column 21, but may\n\
be elsewhere in the file depending on the exact syntax problem.\n\n\
The offending line appears to be:\n\n  tasks:\n    - debug: msg=foo: bar\n                    ^ here\n";
        assert_eq!(got, want);
    }

    #[test]
    fn blank_target_lines_move_up_and_clamp() {
        let text = "a: 1\nb: 2\n\n\n";
        assert_eq!(
            pick_lines(text, 9),
            Some(("a: 1\n".into(), "b: 2\n".into()))
        );
        assert_eq!(pick_lines(text, 1), Some((String::new(), "a: 1\n".into())));
        assert_eq!(pick_lines("", 1), None);
        assert_eq!(pick_lines("\n\n", 2), None);
    }

    #[test]
    fn string_sources_show_no_lines() {
        let got = extended_error_from_lines("<string>", 1, 4, Some(("", "a: =")));
        assert_eq!(
            got,
            "The error appears to be in '<string>': line 1, column 4, but may\nbe elsewhere in the file depending on the exact syntax problem.\n"
        );
    }

    #[test]
    fn key_value_on_previous_line_moves_the_report() {
        let got =
            extended_error_from_lines("f.yml", 5, 3, Some(("  shell: echo a=b\n", "  x: y: z\n")));
        assert!(
            got.starts_with("The error appears to be in 'f.yml': line 4, column 16,"),
            "{got}"
        );
        assert!(
            got.contains("  shell: echo a=b\n               ^ here\n\nThere appears to be both"),
            "{got}"
        );
    }

    #[test]
    fn hints_for_common_mistakes() {
        assert!(hints("  a: {{ x }}\n", 5).contains("missing quotes"));
        assert!(hints("  when: \"ok\" in x\n", 9).contains("started\nwith a quote"));
        assert!(hints("\ta: b\n", 1).contains("tab character"));
        assert!(hints("  copy: src=a dest=/x:y\n", 21).contains("extra unquoted colon"));
        assert_eq!(hints("  a: b\n", 3), "");
    }

    #[test]
    fn unreadable_files_are_reported() {
        let got = error_context("/nonexistent/rsible/x.yml", 2, 3);
        assert!(
            got.ends_with("\n(could not open file to display line)"),
            "{got}"
        );
    }
}
