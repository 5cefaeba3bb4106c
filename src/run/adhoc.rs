//! `rsible HOSTS -m MODULE -a ARGS`: Ansible's ad hoc command. The one task
//! becomes a one-task play built in memory (Ansible's `AdHocCLI._play_ds`)
//! and runs through the same executor as playbooks, so native modules, the
//! Python fallback, become and connection variables behave the same; results
//! print through the `minimal` (or `-o`: `oneline`) callback.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rsible_config::Config;
use rsible_executor::output::adhoc::AdhocStyle;
use rsible_executor::output::default_callback::{CallbackOptions, DefaultCallback};
use rsible_executor::{Executor, RunOptions};
use rsible_inventory::Inventory;
use rsible_playbook::{Loader, Playbook};
use rsible_templar::Templar;
use rsible_yaml::{Mapping, Node, Value};

use crate::cli::AdhocArgs;
use crate::run::{executor_setup, loading};
use crate::{print_error, print_warning, ExitCode};

/// Ansible's `MODULE_REQUIRE_ARGS`: modules that make no sense without `-a`.
const REQUIRE_ARGS: &[&str] = &[
    "command",
    "raw",
    "script",
    "shell",
    "win_command",
    "win_shell",
];

fn short_name(module: &str) -> &str {
    module
        .strip_prefix("ansible.builtin.")
        .or_else(|| module.strip_prefix("ansible.legacy."))
        .unwrap_or(module)
}

pub fn run(args: &AdhocArgs, config: &Config) -> ExitCode {
    let cwd = match loading::current_dir() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let pattern = args.pattern.clone().unwrap_or_default();
    let module = args.module(&config.module_name).to_string();
    let mut inventory = match loading::load(&args.inventory, config, &cwd) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let limit = match args.inventory.limit.as_deref().map(Inventory::parse_limit) {
        None => None,
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            print_error(&e.to_string());
            return ExitCode::Error;
        }
    };
    let already_warned = inventory.warnings.len();
    let hosts = match inventory.list_hosts(&pattern, limit.as_deref()) {
        Ok(h) => h,
        Err(e) => {
            print_error(&e.to_string());
            return ExitCode::Error;
        }
    };
    for w in inventory.warnings.iter().skip(already_warned) {
        print_warning(w);
    }
    if hosts.is_empty() {
        if limit.is_some() {
            print_error(
                "Specified inventory, host pattern and/or --limit leaves us with no hosts to target.",
            );
            return ExitCode::Error;
        }
        print_warning("No hosts matched, nothing to do");
    }
    if args.list_hosts.list_hosts {
        println!("  hosts ({}):", hosts.len());
        for h in &hosts {
            println!("    {h}");
        }
        return ExitCode::Ok;
    }
    let short = short_name(&module);
    let raw_args = args.module_args.clone().unwrap_or_default();
    if REQUIRE_ARGS.contains(&short) && raw_args.is_empty() {
        let mut err = format!("No argument passed to {module} module");
        if pattern.ends_with(".yml") {
            err.push_str(" (did you mean to run ansible-playbook?)");
        }
        print_error(&err);
        return ExitCode::BadOption;
    }
    if short == "import_playbook" {
        print_error(&format!(
            "'{module}' is not a valid action for ad-hoc commands"
        ));
        return ExitCode::BadOption;
    }
    let module_args = match module_args(&raw_args, REQUIRE_ARGS.contains(&short)) {
        Ok(a) => a,
        Err(message) => {
            print_error(&message);
            return ExitCode::Error;
        }
    };
    if hosts.is_empty() {
        return ExitCode::Ok;
    }
    let extra_vars = match loading::extra_vars(&args.extra_vars.extra_vars, &cwd) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let basedir = args
        .playbook_dir
        .playbook_dir
        .as_ref()
        .map(|d| cwd.join(d))
        .unwrap_or_else(|| cwd.clone());
    let registry = executor_setup::module_registry(config, &args.runner.module_path, &cwd);
    let loader = Loader::new(&registry, config.roles_path.clone(), extra_vars.clone());
    // `-B N` runs the task with `async: N`, polled every `-P` seconds (15 by default).
    let background = args
        .background
        .filter(|b| *b != 0)
        .map(|b| (b, args.poll_interval.unwrap_or(config.poll_interval)));
    let node = play_node(&pattern, &module, module_args, background);
    let play = match loader.load_play_node(&node, &basedir) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}", e.render().trim_end_matches('\n'));
            return executor_setup::exit_from(e.exit_code);
        }
    };
    let playbook = Playbook {
        path: PathBuf::from("__adhoc_playbook__"),
        plays: vec![play],
    };
    execute(
        args, config, &basedir, inventory, limit, extra_vars, &loader, &playbook,
    )
}

/// `-a` as Ansible reads it: a JSON object when it looks like one and parses,
/// else `k=v` words (free-form text kept as `_raw_params` for command-like modules).
fn module_args(raw: &str, check_raw: bool) -> Result<Mapping, String> {
    if raw.starts_with('{') && raw.ends_with('}') {
        if let Ok(serde_json::Value::Object(map)) =
            serde_json::from_str::<serde_json::Value>(raw.trim())
        {
            if !map.is_empty() {
                let mut out = Mapping::new();
                for (k, v) in map {
                    out.insert(str_node(&k), json_node(&v));
                }
                return Ok(out);
            }
        }
    }
    let kv = rsible_parsing::parse_kv(raw, check_raw).map_err(|e| e.to_string())?;
    let mut out = Mapping::new();
    for (k, v) in kv {
        out.insert(str_node(&k), str_node(&v));
    }
    Ok(out)
}

fn str_node(s: &str) -> Node {
    Node::unplaced(Value::Str(s.to_string()))
}

fn json_node(v: &serde_json::Value) -> Node {
    let value = match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(f)) if n.is_f64() => Value::Float(f),
            _ => Value::BigInt(n.to_string()),
        },
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(items) => Value::Seq(items.iter().map(json_node).collect()),
        serde_json::Value::Object(map) => {
            let mut m = Mapping::new();
            for (k, v) in map {
                m.insert(str_node(k), json_node(v));
            }
            Value::Map(m)
        }
    };
    Node::unplaced(value)
}

/// `{name: Ansible Ad-Hoc, hosts: PATTERN, gather_facts: no,
///   tasks: [{action: {module: MODULE, args: ARGS}, async_val: B, poll: P}]}`
/// (`async_val`/`poll` with `-B`).
fn play_node(pattern: &str, module: &str, args: Mapping, background: Option<(i64, i64)>) -> Node {
    let mut action = Mapping::new();
    action.insert(str_node("module"), str_node(module));
    action.insert(str_node("args"), Node::unplaced(Value::Map(args)));
    let mut task = Mapping::new();
    task.insert(str_node("action"), Node::unplaced(Value::Map(action)));
    if let Some((async_val, poll)) = background {
        task.insert(str_node("async_val"), Node::unplaced(Value::Int(async_val)));
        task.insert(str_node("poll"), Node::unplaced(Value::Int(poll)));
    }
    let mut play = Mapping::new();
    play.insert(str_node("name"), str_node("Ansible Ad-Hoc"));
    play.insert(str_node("hosts"), str_node(pattern));
    play.insert(str_node("gather_facts"), Node::unplaced(Value::Bool(false)));
    play.insert(
        str_node("tasks"),
        Node::unplaced(Value::Seq(vec![Node::unplaced(Value::Map(task))])),
    );
    Node::unplaced(Value::Map(play))
}

#[allow(clippy::too_many_arguments)]
fn execute(
    args: &AdhocArgs,
    config: &Config,
    basedir: &Path,
    mut inventory: Inventory,
    limit: Option<Vec<String>>,
    extra_vars: rsible_inventory::Vars,
    loader: &Loader,
    playbook: &Playbook,
) -> ExitCode {
    let inventory_dirs = match loading::inventory_vars_dirs(&inventory) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let playbook_dirs = match loading::vars_dirs(&inventory, &[basedir.to_path_buf()]) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let become_password = match executor_setup::become_password(&args.become_args, config) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if let Err(code) = crate::run::open_files::prepare(args.runner.forks, config) {
        return code;
    }
    let mut pool = match executor_setup::connection_pool(config, &args.connection, become_password)
    {
        Ok(p) => p,
        Err(code) => return code,
    };
    crate::run::interrupt::install();
    let style = if args.one_line {
        AdhocStyle::OneLine
    } else {
        AdhocStyle::Minimal
    };
    let callback = DefaultCallback::new(
        CallbackOptions {
            verbosity: args.verbosity.verbosity,
            adhoc: Some(style),
            ..CallbackOptions::default()
        },
        executor_setup::Stdout,
    );
    let options = RunOptions {
        check_mode: args.check_diff.check,
        connection: Some(
            args.connection
                .connection
                .clone()
                .unwrap_or_else(|| config.transport.clone()),
        ),
        diff: args.check_diff.diff,
        verbosity: args.verbosity.verbosity,
        limit,
        gathering: "explicit".into(),
        ssh: executor_setup::ssh_command_defaults(config, &args.connection),
        ..executor_setup::become_defaults(&args.become_args, config)
    };
    let mut executor = Executor::new(
        Arc::new(Templar::new()),
        &mut inventory,
        inventory_dirs,
        playbook_dirs,
        rsible_executor::scope::to_layer(&extra_vars),
        options,
        &mut pool,
        callback,
    )
    .with_loader(loader);
    let code = match executor.run(playbook) {
        Ok(outcome) => match outcome.exit_code() {
            4 => ExitCode::Unreachable,
            other => executor_setup::exit_from(other),
        },
        Err(e) => {
            executor.finish();
            print_error(&e.message);
            return executor_setup::exit_from(e.exit_code);
        }
    };
    executor.finish();
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_args_are_used_when_they_parse() {
        let m = module_args(r#"{"path": "/tmp/x", "mode": 420, "recurse": true}"#, false).unwrap();
        assert_eq!(m.get("path").and_then(Node::as_str), Some("/tmp/x"));
        assert!(matches!(
            m.get("mode").map(|n| &n.value),
            Some(Value::Int(420))
        ));
        assert_eq!(m.get("recurse").and_then(Node::as_bool), Some(true));
    }

    #[test]
    fn free_form_and_kv_words() {
        let m = module_args("chdir=/tmp echo hi", true).unwrap();
        assert_eq!(m.get("chdir").and_then(Node::as_str), Some("/tmp"));
        assert_eq!(m.get("_raw_params").and_then(Node::as_str), Some("echo hi"));
        // Not JSON after all: read as words.
        let m = module_args("{not json}", true).unwrap();
        assert_eq!(
            m.get("_raw_params").and_then(Node::as_str),
            Some("{not json}")
        );
    }

    #[test]
    fn the_play_has_one_task_and_no_fact_gathering() {
        let node = play_node("web:!db", "ping", Mapping::new(), None);
        let map = node.as_map().unwrap();
        assert_eq!(map.get("hosts").and_then(Node::as_str), Some("web:!db"));
        assert_eq!(map.get("gather_facts").and_then(Node::as_bool), Some(false));
        assert_eq!(
            map.get("tasks").and_then(Node::as_seq).map(<[Node]>::len),
            Some(1)
        );
    }
}
