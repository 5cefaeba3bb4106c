//! The listing modes of ansible-playbook: `--list-hosts`, `--list-tasks`,
//! `--list-tags` and `--syntax-check`, with output byte-for-byte as
//! ansible-playbook 2.18 prints it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::error::Result;
use crate::loader::Loader;
use crate::model::{Item, Play, TaskKind};
use crate::modules::ModuleRegistry;
use crate::simple_template::Vars;
use crate::tags;

/// What the listing needs from the inventory: the hosts a play's pattern
/// selects (after `--limit`), in inventory order.
pub trait HostSelector {
    fn select_hosts(&self, patterns: &[String]) -> Vec<String>;
}

pub struct ListOptions<'a> {
    /// Playbook paths as given on the command line (printed as given).
    pub playbooks: Vec<PathBuf>,
    pub hosts: Option<&'a dyn HostSelector>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub extra_vars: Vars,
    pub list_hosts: bool,
    pub list_tasks: bool,
    pub list_tags: bool,
    pub syntax_check: bool,
    /// ansible.cfg roles_path entries, absolute.
    pub roles_path: Vec<PathBuf>,
    /// The modules that exist; `None` discovers them as Ansible would.
    pub modules: Option<&'a ModuleRegistry>,
    /// ansible.cfg `library` directories, absolute.
    pub library: Vec<PathBuf>,
}

impl Default for ListOptions<'_> {
    fn default() -> Self {
        ListOptions {
            playbooks: Vec::new(),
            hosts: None,
            tags: Vec::new(),
            skip_tags: Vec::new(),
            extra_vars: Vars::new(),
            list_hosts: false,
            list_tasks: false,
            list_tags: false,
            syntax_check: false,
            roles_path: Vec::new(),
            modules: None,
            library: Vec::new(),
        }
    }
}

/// The listing's output: what goes to stdout, and warnings for stderr.
#[derive(Debug, Default)]
pub struct Listing {
    pub stdout: String,
    pub warnings: Vec<String>,
}

/// Load the playbooks and produce the listing; an error is what Ansible
/// would stop with (exit code in the error).
pub fn list(opts: &ListOptions) -> Result<String> {
    list_with_warnings(opts).map(|l| l.stdout)
}

pub fn list_with_warnings(opts: &ListOptions) -> Result<Listing> {
    let discovered;
    let modules = match opts.modules {
        Some(m) => m,
        None => {
            discovered = ModuleRegistry::discover(&[]);
            &discovered
        }
    };
    for dir in &opts.library {
        modules.add_library_dir(dir);
    }
    let loader = Loader::new(modules, opts.roles_path.clone(), opts.extra_vars.clone());
    // ansible-playbook lists `never` tasks too when --list-tags is given
    // without any --tags/--skip-tags; otherwise the default is `all`.
    let only_tags: Vec<String> = if !opts.tags.is_empty() {
        opts.tags.clone()
    } else if opts.list_tags && opts.skip_tags.is_empty() {
        vec!["never".into(), "all".into()]
    } else {
        vec!["all".into()]
    };
    let mut out = String::new();
    for path in &opts.playbooks {
        // Ansible makes the playbook's own library/ available.
        if let Some(dir) = path.parent() {
            let lib = if dir.as_os_str().is_empty() {
                PathBuf::from("library")
            } else {
                dir.join("library")
            };
            if lib.is_dir() {
                modules.add_adjacent_library_dir(&lib);
            }
            let collections = lib.with_file_name("collections");
            if collections.is_dir() {
                modules.add_collection_root(&collections);
            }
        }
        let playbook = loader.load_playbook(path)?;
        out.push_str(&format!("\nplaybook: {}\n", path.display()));
        if opts.syntax_check {
            continue;
        }
        for (index, play) in playbook.plays.iter().enumerate() {
            out.push_str(&render_play(index, play, opts, &only_tags));
        }
    }
    let warnings = loader.warnings.borrow().clone();
    Ok(Listing {
        stdout: out,
        warnings,
    })
}

/// Python's repr() of a list of strings: `['a', "b'c"]`.
fn py_list_repr(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| py_str_repr(s)).collect();
    format!("[{}]", parts.join(", "))
}

fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn render_play(index: usize, play: &Play, opts: &ListOptions, only_tags: &[String]) -> String {
    // Ansible prints the play tags from a set (unordered in Python); we keep
    // them sorted so the output is stable.
    let play_tags: BTreeSet<String> = play.tags.iter().cloned().collect();
    let mut msg = format!(
        "\n  play #{} ({}): {}\tTAGS: [{}]",
        index + 1,
        play.hosts.join(","),
        play.name,
        play_tags.iter().cloned().collect::<Vec<_>>().join(",")
    );
    if opts.list_hosts {
        let hosts = opts
            .hosts
            .map(|h| h.select_hosts(&play.hosts))
            .unwrap_or_default();
        msg.push_str(&format!(
            "\n    pattern: {}\n    hosts ({}):",
            py_list_repr(&play.hosts),
            hosts.len()
        ));
        for host in hosts {
            msg.push_str(&format!("\n      {host}"));
        }
    }
    msg.push('\n');
    if opts.list_tags || opts.list_tasks {
        let mut taskmsg = String::new();
        if opts.list_tasks {
            taskmsg.push_str("    tasks:\n");
        }
        let mut all_tags: BTreeSet<String> = BTreeSet::new();
        for item in play.compile() {
            walk(
                &item,
                &play_tags,
                &play_tags,
                opts,
                only_tags,
                &mut all_tags,
                &mut taskmsg,
            );
        }
        if opts.list_tags {
            let mut cur: BTreeSet<String> = play_tags.clone();
            cur.extend(all_tags);
            taskmsg.push_str(&format!(
                "      TASK TAGS: [{}]\n",
                cur.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        // Ansible's display adds a newline only when the text lacks one.
        msg.push_str(&taskmsg);
        if !taskmsg.ends_with('\n') {
            msg.push('\n');
        }
    }
    msg
}

/// Visit the tasks Ansible lists: only a block's main section (its rescue
/// and always sections are not listed), skipping tasks `--tags` filters out.
fn walk(
    item: &Item,
    inherited: &BTreeSet<String>,
    play_tags: &BTreeSet<String>,
    opts: &ListOptions,
    only_tags: &[String],
    all_tags: &mut BTreeSet<String>,
    out: &mut String,
) {
    match item {
        Item::Block(block) => {
            let mut tags = inherited.clone();
            tags.extend(block.tags.iter().cloned());
            for child in &block.block {
                walk(child, &tags, play_tags, opts, only_tags, all_tags, out);
            }
        }
        Item::Task(task) => {
            let mut tags = inherited.clone();
            tags.extend(task.tags.iter().cloned());
            if !tags::should_run(&tags, only_tags, &opts.skip_tags) {
                return;
            }
            all_tags.extend(tags.iter().cloned());
            if opts.list_tasks {
                let mut cur = play_tags.clone();
                cur.extend(tags.iter().cloned());
                let name = match &task.name {
                    // include_role names itself without its role's prefix
                    Some(n) if !n.is_empty() && task.kind == TaskKind::IncludeRole => n.clone(),
                    Some(n) if !n.is_empty() => task.display_name(),
                    _ => task.action.clone(),
                };
                out.push_str(&format!(
                    "      {}\tTAGS: [{}]\n",
                    name,
                    cur.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_reprs() {
        assert_eq!(py_list_repr(&["all".into()]), "['all']");
        assert_eq!(py_list_repr(&["a'b".into(), "c".into()]), "[\"a'b\", 'c']");
    }
}
