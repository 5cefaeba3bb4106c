//! Host patterns as InventoryManager.get_hosts evaluates them: unions (`a:b`, `a,b`),
//! intersections (`&b`) and exclusions (`!b`) applied after all unions, globs,
//! `~regex`, subscripts (`g[0]`, `g[1:3]`, `g[-1]`, `g[2:]`) and `--limit` with `@file`.

use std::sync::OnceLock;

use indexmap::IndexSet;
use regex::Regex;

use crate::address::parse_address;
use crate::model::{Inventory, LOCALHOST_NAMES};
use crate::options::PatternMismatch;

#[derive(Clone, Debug, PartialEq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatternError {}

/// Split a pattern string into single patterns: on commas if there are any, else on
/// colons and whitespace outside brackets (unless the whole thing is one address, e.g. IPv6).
pub fn split_host_pattern(pattern: &str) -> Vec<String> {
    let parts: Vec<String> = if pattern.contains(',') {
        pattern.split(',').map(str::to_string).collect()
    } else if parse_address(pattern, true).is_ok() {
        vec![pattern.to_string()]
    } else {
        static R: OnceLock<Regex> = OnceLock::new();
        let re = R.get_or_init(|| Regex::new(r"(?:[^\s:\[\]]|\[[^\]]*\])+").expect("static regex"));
        re.find_iter(pattern)
            .map(|m| m.as_str().to_string())
            .collect()
    };
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Regular patterns first, then `&` intersections, then `!` exclusions; `all` if only modifiers.
fn order_patterns(patterns: &[String]) -> Vec<String> {
    let mut regular = Vec::new();
    let mut intersect = Vec::new();
    let mut exclude = Vec::new();
    for p in patterns.iter().filter(|p| !p.is_empty()) {
        if p.starts_with('!') {
            exclude.push(p.clone());
        } else if p.starts_with('&') {
            intersect.push(p.clone());
        } else {
            regular.push(p.clone());
        }
    }
    if regular.is_empty() {
        regular.push("all".to_string());
    }
    regular
        .into_iter()
        .chain(intersect)
        .chain(exclude)
        .collect()
}

/// A `[start]` or `[start:end]` suffix; `end == -1` means "to the last host".
#[derive(Clone, Copy, Debug)]
enum Subscript {
    Index(i64),
    Range(i64, i64),
}

fn split_subscript(pattern: &str) -> Result<(String, Option<Subscript>, bool), PatternError> {
    if pattern.starts_with('~') {
        return Ok((pattern.to_string(), None, false));
    }
    static R: OnceLock<Regex> = OnceLock::new();
    let re = R.get_or_init(|| {
        Regex::new(r"(?s)^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$").expect("static regex")
    });
    let Some(c) = re.captures(pattern) else {
        return Ok((pattern.to_string(), None, false));
    };
    let base = c[1].to_string();
    let num = |s: &str| {
        s.parse::<i64>().map_err(|_| {
            PatternError(format!(
                "No hosts matched the subscripted pattern '{pattern}'"
            ))
        })
    };
    if let Some(idx) = c.get(2) {
        return Ok((base, Some(Subscript::Index(num(idx.as_str())?)), false));
    }
    let start = num(&c[3])?;
    let end = if c[5].is_empty() { -1 } else { num(&c[5])? };
    let dash = &c[4] == "-";
    // Python tests `if end:`, so an explicit end of 0 behaves like a single index.
    let sub = if end == 0 {
        Subscript::Index(start)
    } else {
        Subscript::Range(start, end)
    };
    Ok((base, Some(sub), dash))
}

fn apply_subscript(hosts: Vec<String>, sub: Option<Subscript>) -> Option<Vec<String>> {
    let Some(sub) = sub else { return Some(hosts) };
    if hosts.is_empty() {
        return Some(hosts);
    }
    let len = hosts.len() as i64;
    match sub {
        Subscript::Index(i) => {
            let i = if i < 0 { len + i } else { i };
            if i < 0 || i >= len {
                return None;
            }
            Some(vec![hosts[i as usize].clone()])
        }
        Subscript::Range(start, end) => {
            let end = if end == -1 { len - 1 } else { end };
            // Python slice hosts[start:end + 1], clamped to the list.
            let s = start.clamp(0, len) as usize;
            let e = (end + 1).clamp(0, len) as usize;
            Some(if s < e {
                hosts[s..e].to_vec()
            } else {
                Vec::new()
            })
        }
    }
}

/// Python's `fnmatch.fnmatch` on already-normalised text (case-sensitive,
/// as on POSIX).
pub fn fnmatch(glob: &str, text: &str) -> bool {
    regex::Regex::new(&glob_to_regex(glob)).is_ok_and(|re| re.is_match(text))
}

/// Python's fnmatch.translate, anchored at both ends.
fn glob_to_regex(glob: &str) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::from("(?s)^(?:");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => {
                // Consecutive stars mean the same as one.
                while i < chars.len() && chars[i] == '*' {
                    i += 1;
                }
                out.push_str(".*");
            }
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if j < chars.len() && chars[j] == '!' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                } else {
                    let mut class = String::from("[");
                    let mut k = i;
                    if chars[k] == '!' {
                        class.push('^');
                        k += 1;
                    } else if chars[k] == '^' {
                        class.push_str("\\^");
                        k += 1;
                    }
                    for &ch in &chars[k..j] {
                        match ch {
                            '\\' | '[' | '&' | '~' | '|' => {
                                class.push('\\');
                                class.push(ch);
                            }
                            _ => class.push(ch),
                        }
                    }
                    class.push(']');
                    out.push_str(&class);
                    i = j + 1;
                }
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push_str(")$");
    out
}

fn compile_pattern(pattern: &str) -> Result<Regex, PatternError> {
    let source = match pattern.strip_prefix('~') {
        Some(re) => format!("^(?:{re})"),
        None => glob_to_regex(pattern),
    };
    Regex::new(&source).map_err(|_| PatternError(format!("Invalid host list pattern: {pattern}")))
}

impl Inventory {
    /// Hosts matching `pattern` (a play's `hosts:` string), in Ansible's order.
    pub fn select(&mut self, pattern: &str) -> Result<Vec<String>, PatternError> {
        self.select_limited(&[pattern.to_string()], None)
    }

    /// Hosts matching `patterns` (a play's `hosts:` list, or one string), restricted
    /// to `limit` (the output of [`Inventory::parse_limit`]) when given.
    pub fn select_limited(
        &mut self,
        patterns: &[String],
        limit: Option<&[String]>,
    ) -> Result<Vec<String>, PatternError> {
        let split: Vec<String> = patterns
            .iter()
            .flat_map(|p| split_host_pattern(p))
            .collect();
        let mut hosts = self.evaluate_patterns(&split)?;
        if let Some(limit) = limit {
            let allowed: IndexSet<String> = self.evaluate_patterns(limit)?.into_iter().collect();
            hosts.retain(|h| allowed.contains(h));
        }
        let unique: IndexSet<String> = hosts.into_iter().collect();
        Ok(unique.into_iter().collect())
    }

    /// InventoryManager.list_hosts (what `ansible --list-hosts` prints): like
    /// [`Inventory::select_limited`], but a localhost name that matched nothing
    /// (e.g. because of the limit) is still listed.
    pub fn list_hosts(
        &mut self,
        pattern: &str,
        limit: Option<&[String]>,
    ) -> Result<Vec<String>, PatternError> {
        let hosts = self.select_limited(&[pattern.to_string()], limit)?;
        if hosts.is_empty() && LOCALHOST_NAMES.contains(&pattern) {
            return Ok(vec![pattern.to_string()]);
        }
        Ok(hosts)
    }

    /// `--limit` text to the list of patterns InventoryManager.subset keeps
    /// (`@file` entries replaced by the file's lines).
    pub fn parse_limit(limit: &str) -> Result<Vec<String>, PatternError> {
        let mut out = Vec::new();
        for p in split_host_pattern(limit) {
            if let Some(file) = p.strip_prefix('@') {
                let path = std::path::Path::new(file);
                if !path.exists() {
                    return Err(PatternError(format!("Unable to find limit file b'{file}'")));
                }
                if !path.is_file() {
                    return Err(PatternError(format!(
                        "Limit starting with \"@\" must be a file, not a directory: b'{file}'"
                    )));
                }
                let text = std::fs::read_to_string(path)
                    .map_err(|e| PatternError(format!("Unable to read limit file {file}: {e}")))?;
                out.extend(text.split('\n').map(|l| l.trim().to_string()));
            } else {
                out.push(p);
            }
        }
        Ok(out)
    }

    fn evaluate_patterns(&mut self, patterns: &[String]) -> Result<Vec<String>, PatternError> {
        let mut hosts: Vec<String> = Vec::new();
        for p in order_patterns(patterns) {
            if self.hosts.contains_key(&p) {
                hosts.push(p);
                continue;
            }
            let that = self.match_one_pattern(&p)?;
            if p.starts_with('!') {
                let that: IndexSet<&String> = that.iter().collect();
                hosts.retain(|h| !that.contains(h));
            } else if p.starts_with('&') {
                let that: IndexSet<&String> = that.iter().collect();
                hosts.retain(|h| that.contains(h));
            } else {
                let existing: IndexSet<String> = hosts.iter().cloned().collect();
                hosts.extend(that.into_iter().filter(|h| !existing.contains(h)));
            }
        }
        Ok(hosts)
    }

    fn match_one_pattern(&mut self, pattern: &str) -> Result<Vec<String>, PatternError> {
        let pattern = pattern
            .strip_prefix('&')
            .or_else(|| pattern.strip_prefix('!'))
            .unwrap_or(pattern);
        if pattern.is_empty() {
            return Ok(Vec::new());
        }
        let (expr, sub, dash) = split_subscript(pattern)?;
        if dash {
            self.warn("Use [x:y] inclusive subscripts instead of [x-y] which has been removed");
        }
        let hosts = self.enumerate_matches(&expr)?;
        apply_subscript(hosts, sub).ok_or_else(|| {
            PatternError(format!(
                "No hosts matched the subscripted pattern '{pattern}'"
            ))
        })
    }

    fn enumerate_matches(&mut self, pattern: &str) -> Result<Vec<String>, PatternError> {
        let re = compile_pattern(pattern)?;
        let mut results = Vec::new();
        let matching_groups: Vec<String> = self
            .groups
            .keys()
            .filter(|g| re.is_match(g))
            .cloned()
            .collect();
        for g in &matching_groups {
            results.extend(self.group_hosts(g));
        }
        let special = pattern.starts_with('~') || pattern.contains(['.', '?', '*', '[']);
        if matching_groups.is_empty() || special {
            results.extend(self.hosts.keys().filter(|h| re.is_match(h)).cloned());
        }
        if results.is_empty() && LOCALHOST_NAMES.contains(&pattern) {
            results.push(pattern.to_string());
        }
        if results.is_empty() && matching_groups.is_empty() && pattern != "all" {
            let msg = format!("Could not match supplied host pattern, ignoring: {pattern}");
            match self.options.host_pattern_mismatch {
                PatternMismatch::Warning => self.warn(msg),
                PatternMismatch::Error => return Err(PatternError(msg)),
                PatternMismatch::Ignore => {}
            }
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        // Expected values from ansible.inventory.manager.split_host_pattern (reference 2.18).
        assert_eq!(
            split_host_pattern("a,b[1], c[2:3] , d"),
            ["a", "b[1]", "c[2:3]", "d"]
        );
        assert_eq!(split_host_pattern("a:b:&c:!d"), ["a", "b", "&c", "!d"]);
        assert_eq!(
            split_host_pattern("kube_control_plane | first"),
            ["kube_control_plane", "|", "first"]
        );
        assert_eq!(split_host_pattern("fe80::1"), ["fe80::1"]);
        assert_eq!(split_host_pattern("web[1:3]:db"), ["web[1:3]", "db"]);
        assert_eq!(split_host_pattern("  "), Vec::<String>::new());
    }

    #[test]
    fn globs() {
        let re = Regex::new(&glob_to_regex("web*[!x]")).unwrap();
        assert!(re.is_match("web01"));
        assert!(!re.is_match("webx"));
        assert!(Regex::new(&glob_to_regex("a[")).unwrap().is_match("a["));
    }
}
