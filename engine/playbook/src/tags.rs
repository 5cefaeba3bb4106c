//! Tags: how they are read (a list, or a comma-separated string) and how
//! `--tags`/`--skip-tags` select tasks, with the special tags `always`,
//! `never`, `tagged`, `untagged` and `all` (Ansible's Taggable).

use std::collections::BTreeSet;

use rsible_yaml::{Node, Value};

use crate::error::{PlaybookError, Result};

fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) | Value::Unsafe(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        _ => None,
    }
}

/// Read a `tags:` value.
pub fn load(node: &Node) -> Result<Vec<String>> {
    match &node.value {
        Value::Seq(items) => {
            let mut out = Vec::new();
            for item in items {
                match &item.value {
                    // nested lists are flattened when tags are evaluated
                    Value::Seq(inner) => out.extend(inner.iter().filter_map(scalar_text)),
                    _ => match scalar_text(item) {
                        Some(t) => out.push(t),
                        None => {
                            return Err(PlaybookError::at(
                                "tags must be specified as a list",
                                &node.mark,
                            ))
                        }
                    },
                }
            }
            Ok(out)
        }
        Value::Str(s) | Value::Unsafe(s) => {
            Ok(s.split(',').map(|t| t.trim().to_string()).collect())
        }
        Value::Null => Ok(Vec::new()),
        _ => Err(PlaybookError::at(
            "tags must be specified as a list",
            &node.mark,
        )),
    }
}

/// Whether a task with `tags` (already including inherited ones) runs under
/// `only` (--tags) and `skip` (--skip-tags).
pub fn should_run(tags: &BTreeSet<String>, only: &[String], skip: &[String]) -> bool {
    let untagged: BTreeSet<String> = ["untagged".to_string()].into();
    let tags = if tags.is_empty() { &untagged } else { tags };
    let has = |t: &str| tags.contains(t);
    let any_in = |list: &[String]| list.iter().any(|t| tags.contains(t));
    let only_has = |t: &str| only.iter().any(|x| x == t);
    let skip_has = |t: &str| skip.iter().any(|x| x == t);
    let is_untagged = *tags == untagged;

    let mut run = true;
    if !only.is_empty() {
        run = has("always")
            || (only_has("all") && !has("never"))
            || any_in(only)
            || (only_has("tagged") && !is_untagged && !has("never"));
    }
    if run && !skip.is_empty() {
        if skip_has("all") {
            if !has("always") || skip_has("always") {
                run = false;
            }
        } else if any_in(skip) || (skip_has("tagged") && !is_untagged) {
            run = false;
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(tags: &[&str]) -> BTreeSet<String> {
        tags.iter().map(|s| s.to_string()).collect()
    }
    fn list(tags: &[&str]) -> Vec<String> {
        tags.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_run_skips_only_never_tagged_when_selected() {
        // With no --tags, even `never` tasks are selected by Taggable itself
        // (Ansible's CLI adds `--skip-tags never`-like behaviour via only_tags=['all']).
        assert!(should_run(&set(&[]), &[], &[]));
        assert!(!should_run(&set(&["never"]), &list(&["all"]), &[]));
        assert!(should_run(&set(&["x"]), &list(&["all"]), &[]));
    }

    #[test]
    fn special_tags() {
        assert!(should_run(&set(&["always"]), &list(&["foo"]), &[]));
        assert!(!should_run(&set(&["bar"]), &list(&["foo"]), &[]));
        assert!(should_run(&set(&[]), &list(&["untagged"]), &[]));
        assert!(should_run(&set(&["bar"]), &list(&["tagged"]), &[]));
        assert!(!should_run(&set(&[]), &list(&["tagged"]), &[]));
        assert!(should_run(&set(&["never", "foo"]), &list(&["foo"]), &[]));
        assert!(!should_run(
            &set(&["foo"]),
            &list(&["all"]),
            &list(&["foo"])
        ));
        assert!(should_run(
            &set(&["always"]),
            &list(&["all"]),
            &list(&["all"])
        ));
        assert!(!should_run(
            &set(&["always"]),
            &list(&["all"]),
            &list(&["all", "always"])
        ));
        assert!(!should_run(&set(&["x"]), &list(&["all"]), &list(&["all"])));
        assert!(should_run(
            &set(&["always"]),
            &list(&["all"]),
            &list(&["foo"])
        ));
    }

    #[test]
    fn string_tags_split_on_commas() {
        let n = Node::unplaced(Value::Str("a, b,c".into()));
        assert_eq!(load(&n).unwrap(), vec!["a", "b", "c"]);
        let n = Node::unplaced(Value::Map(Default::default()));
        assert_eq!(
            load(&n).unwrap_err().message,
            "tags must be specified as a list"
        );
    }
}
