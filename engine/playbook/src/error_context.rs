//! The "The error appears to be in ..." block Ansible appends to parse errors.
//!
//! rsible-yaml owns the full version (with Ansible's remediation hints); this
//! local helper covers the common case until its `error_context` is available,
//! so that playbook errors already point at the offending line.

use std::fs;

use rsible_yaml::Mark;

pub fn render(mark: &Mark) -> String {
    let source = mark.source.as_deref().unwrap_or("<string>");
    let mut out = format!(
        "The error appears to be in '{}': line {}, column {}, but may\nbe elsewhere in the file depending on the exact syntax problem.\n",
        source, mark.line, mark.column
    );
    let Ok(text) = fs::read_to_string(source) else {
        return out;
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if lines.is_empty() {
        return out;
    }
    // Ansible clamps to the last line and walks back over blank lines.
    let mut index = (mark.line.max(1) as usize - 1).min(lines.len() - 1);
    while lines[index].trim().is_empty() && index > 0 {
        index -= 1;
    }
    let target = lines[index];
    let previous = if index > 0 { lines[index - 1] } else { "" };
    let arrow = format!("{}^ here", " ".repeat(mark.column.max(1) as usize - 1));
    out.push_str(&format!(
        "\nThe offending line appears to be:\n\n{}\n{}\n{}\n",
        previous.trim_end(),
        target.trim_end(),
        arrow
    ));
    out
}
