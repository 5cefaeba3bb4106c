//! INI files read the way Ansible reads ansible.cfg: Python's
//! `configparser.ConfigParser(inline_comment_prefixes=(';',))`, values taken
//! raw (no `%` interpolation, so `%%r@%%h` stays exactly that).
//!
//! Rules reproduced: `[section]` headers (case-sensitive), `key = value` or
//! `key: value` split at the first `=` or `:`, keys lower-cased, `#` and `;`
//! full-line comments, `;` inline comments only after whitespace, indented
//! lines continuing the previous value (joined with `\n`), blank lines kept
//! inside values, `[DEFAULT]` values visible from every other section, and
//! duplicate sections/keys rejected.

use indexmap::IndexMap;

use crate::pyrepr::py_repr;

/// Name of the section whose keys every other section inherits.
const DEFAULT_SECTION: &str = "DEFAULT";

/// A parsed INI document.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct IniDoc {
    defaults: IndexMap<String, String>,
    sections: IndexMap<String, IndexMap<String, String>>,
}

impl IniDoc {
    /// The value of `key` in `section`, falling back to `[DEFAULT]` — but only
    /// for sections that exist, as configparser does.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        let key = key.to_lowercase();
        if section == DEFAULT_SECTION {
            return self.defaults.get(&key).map(String::as_str);
        }
        let found = self.sections.get(section)?;
        found
            .get(&key)
            .or_else(|| self.defaults.get(&key))
            .map(String::as_str)
    }

    pub fn has_section(&self, section: &str) -> bool {
        self.sections.contains_key(section)
    }
}

/// Where a key is stored while the document is being read.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    Defaults,
    Section(usize),
}

/// Parse `text`; errors carry configparser's message text.
pub fn parse(text: &str) -> Result<IniDoc, String> {
    let mut lines_by_key: Vec<(Target, String, Vec<String>)> = Vec::new();
    let mut section_names: Vec<String> = Vec::new();
    let mut current: Option<Target> = None;
    // Index into `lines_by_key` of the key a continuation line would extend.
    let mut current_key: Option<usize> = None;
    let mut indent_level = 0usize;
    let mut seen_sections: Vec<String> = Vec::new();
    let mut seen_keys: Vec<(Target, String)> = Vec::new();
    let mut soft_errors: Vec<String> = Vec::new();

    for (index, raw_line) in split_keep_newline(text).into_iter().enumerate() {
        let line_no = index + 1;
        let content = strip_comment(raw_line);
        if content.is_empty() {
            // A blank line (not a comment line) inside a value is kept.
            if !raw_line_is_comment(raw_line) && has_inline_comment(raw_line).is_none() {
                if let (Some(_), Some(k)) = (current, current_key) {
                    lines_by_key[k].2.push(String::new());
                }
            }
            continue;
        }
        let indent = raw_line.len() - raw_line.trim_start().len();
        if let (Some(_), Some(k)) = (current, current_key) {
            if indent > indent_level {
                lines_by_key[k].2.push(content.to_string());
                continue;
            }
        }
        indent_level = indent;

        if let Some(name) = section_header(content) {
            if name == DEFAULT_SECTION {
                current = Some(Target::Defaults);
            } else if let Some(pos) = section_names.iter().position(|s| s == name) {
                if seen_sections.iter().any(|s| s == name) {
                    return Err(format!(
                        "While reading from '<string>' [line {line_no:2}]: section {} already exists",
                        py_repr(name)
                    ));
                }
                current = Some(Target::Section(pos));
            } else {
                section_names.push(name.to_string());
                current = Some(Target::Section(section_names.len() - 1));
            }
            seen_sections.push(name.to_string());
            current_key = None;
            continue;
        }
        let Some(target) = current else {
            return Err(format!(
                "File contains no section headers.\nfile: '<string>', line: {line_no}\n{}",
                py_repr(raw_line)
            ));
        };
        let Some((key, value)) = split_option(content) else {
            soft_errors.push(format!("\n\t[line {line_no:2}]: {}", py_repr(raw_line)));
            continue;
        };
        if key.is_empty() {
            soft_errors.push(format!("\n\t[line {line_no:2}]: {}", py_repr(raw_line)));
        }
        let key = key.to_lowercase();
        if seen_keys.iter().any(|(t, k)| *t == target && *k == key) {
            let section = match target {
                Target::Defaults => DEFAULT_SECTION.to_string(),
                Target::Section(i) => section_names[i].clone(),
            };
            return Err(format!(
                "While reading from '<string>' [line {line_no:2}]: option {} in section {} already exists",
                py_repr(&key),
                py_repr(&section)
            ));
        }
        seen_keys.push((target, key.clone()));
        // A key set again in a later read would replace; within one read it
        // is a duplicate (handled above), so a plain push is enough.
        lines_by_key.push((target, key, vec![value.to_string()]));
        current_key = Some(lines_by_key.len() - 1);
    }

    if !soft_errors.is_empty() {
        return Err(format!(
            "Source contains parsing errors: '<string>'{}",
            soft_errors.concat()
        ));
    }

    let mut doc = IniDoc {
        defaults: IndexMap::new(),
        sections: section_names
            .iter()
            .map(|n| (n.clone(), IndexMap::new()))
            .collect(),
    };
    for (target, key, lines) in lines_by_key {
        let value = lines.join("\n").trim_end().to_string();
        match target {
            Target::Defaults => {
                doc.defaults.insert(key, value);
            }
            Target::Section(i) => {
                if let Some((_, map)) = doc.sections.get_index_mut(i) {
                    map.insert(key, value);
                }
            }
        }
    }
    Ok(doc)
}

/// Lines as Python's StringIO yields them: split after each `\n`, which stays
/// attached (it shows up in error messages).
fn split_keep_newline(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Byte offset of an inline `;` comment: a `;` at the start of the line or
/// right after whitespace.
fn has_inline_comment(line: &str) -> Option<usize> {
    let mut prev: Option<char> = None;
    for (i, c) in line.char_indices() {
        if c == ';' && prev.is_none_or(char::is_whitespace) {
            return Some(i);
        }
        prev = Some(c);
    }
    None
}

fn raw_line_is_comment(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('#') || t.starts_with(';')
}

/// The line without its comment, trimmed.
fn strip_comment(line: &str) -> &str {
    if raw_line_is_comment(line) {
        return "";
    }
    match has_inline_comment(line) {
        Some(at) => line[..at].trim(),
        None => line.trim(),
    }
}

/// `[name]` at the start of the (trimmed) line: the name runs to the last `]`.
fn section_header(content: &str) -> Option<&str> {
    let rest = content.strip_prefix('[')?;
    let close = rest.rfind(']')?;
    if close == 0 {
        return None;
    }
    Some(&rest[..close])
}

/// Split `key = value` / `key: value` at the first `=` or `:`.
fn split_option(content: &str) -> Option<(&str, &str)> {
    let at = content.find(['=', ':'])?;
    Some((content[..at].trim_end(), content[at + 1..].trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> IniDoc {
        parse(text).expect("parses")
    }

    // Behaviour checked against Python 3.11's configparser with Ansible's
    // options (via `ansible-config dump` on the same files, /tmp/ref).
    #[test]
    fn keys_values_and_separators() {
        let d = doc("[defaults]\nForks = 5\nuser: bob\nempty =\nx=a=b\n");
        assert_eq!(d.get("defaults", "forks"), Some("5"));
        assert_eq!(d.get("defaults", "FORKS"), Some("5"));
        assert_eq!(d.get("defaults", "user"), Some("bob"));
        assert_eq!(d.get("defaults", "empty"), Some(""));
        assert_eq!(d.get("defaults", "x"), Some("a=b"));
        assert_eq!(d.get("Defaults", "forks"), None);
    }

    #[test]
    fn comments() {
        let d = doc("# top\n; top\n[defaults]\nremote_user = bob ; comment\nbecome_user = al;ice\nexecutable: /bin/bash  # not a comment\n  # indented comment\n");
        assert_eq!(d.get("defaults", "remote_user"), Some("bob"));
        assert_eq!(d.get("defaults", "become_user"), Some("al;ice"));
        assert_eq!(
            d.get("defaults", "executable"),
            Some("/bin/bash  # not a comment")
        );
    }

    #[test]
    fn percent_signs_are_raw() {
        let d = doc("[ssh_connection]\ncontrol_path = %%r@%%h:%%p\n");
        assert_eq!(d.get("ssh_connection", "control_path"), Some("%%r@%%h:%%p"));
    }

    #[test]
    fn continuation_lines() {
        let d = doc("[defaults]\nroles_path = a:\n  b\n\n  c\n\nnext = 1\n");
        assert_eq!(d.get("defaults", "roles_path"), Some("a:\nb\n\nc"));
        assert_eq!(d.get("defaults", "next"), Some("1"));
        // An indented first key is still a key, not a continuation.
        let d = doc("[defaults]\n  forks = 3\nother=1\n");
        assert_eq!(d.get("defaults", "forks"), Some("3"));
    }

    #[test]
    fn default_section_falls_through_to_existing_sections() {
        let d = doc("[DEFAULT]\ntimeout = 42\n[defaults]\n");
        assert_eq!(d.get("defaults", "timeout"), Some("42"));
        assert_eq!(d.get("ssh_connection", "timeout"), None);
        assert_eq!(d.get("DEFAULT", "timeout"), Some("42"));
    }

    // Messages recorded from `ansible-config dump` (ansible-core 2.18).
    #[test]
    fn errors_in_configparser_wording() {
        assert_eq!(
            parse("[defaults]\nforks = 1\nforks = 2\n").unwrap_err(),
            "While reading from '<string>' [line  3]: option 'forks' in section 'defaults' already exists"
        );
        assert_eq!(
            parse("forks = 1\n").unwrap_err(),
            "File contains no section headers.\nfile: '<string>', line: 1\n'forks = 1\\n'"
        );
        assert_eq!(
            parse("[defaults]\nforks\n").unwrap_err(),
            "Source contains parsing errors: '<string>'\n\t[line  2]: 'forks\\n'"
        );
        assert!(parse("[a]\n[a]\n")
            .unwrap_err()
            .contains("section 'a' already exists"));
    }
}
