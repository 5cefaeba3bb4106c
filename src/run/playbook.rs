//! `rsible-playbook`: the listing modes, or a run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rsible_config::Config;
use rsible_executor::fact_cache::{FactCache, FactCacheConfig};
use rsible_executor::output::default_callback::{CallbackOptions, DefaultCallback, Sink};
use rsible_executor::{Executor, RunOptions};
use rsible_inventory::Inventory;
use rsible_playbook::{list_with_warnings, HostSelector, ListOptions, Loader, ModuleRegistry};
use rsible_templar::Templar;

use crate::cli::PlaybookArgs;
use crate::run::{executor_setup, loading};
use crate::{print_error, print_warning, ExitCode};

/// The listing's view of the inventory: play patterns after `--limit`.
struct Selector<'a> {
    inventory: std::cell::RefCell<&'a mut Inventory>,
    limit: Option<Vec<String>>,
}

impl HostSelector for Selector<'_> {
    fn select_hosts(&self, patterns: &[String]) -> Vec<String> {
        let mut inv = self.inventory.borrow_mut();
        inv.select_limited(patterns, self.limit.as_deref())
            .unwrap_or_default()
    }
}

fn parse_limit(args: &PlaybookArgs) -> Result<Option<Vec<String>>, ExitCode> {
    match args.inventory.limit.as_deref() {
        None => Ok(None),
        Some(l) => Inventory::parse_limit(l).map(Some).map_err(|e| {
            print_error(&e.to_string());
            ExitCode::Error
        }),
    }
}

fn module_registry(config: &Config, args: &PlaybookArgs, cwd: &Path) -> ModuleRegistry {
    let registry = ModuleRegistry::discover(&config.collections_path);
    for dir in config.library.iter().chain(
        args.runner
            .module_path
            .iter()
            .map(|p| cwd.join(p))
            .collect::<Vec<_>>()
            .iter(),
    ) {
        registry.add_library_dir(dir);
    }
    registry
}

pub fn run(args: &PlaybookArgs, config: &Config) -> ExitCode {
    let cwd = match loading::current_dir() {
        Ok(c) => c,
        Err(code) => return code,
    };
    for line in super::verbose_header::before_inventory(args.verbosity.verbosity, config) {
        println!("{line}");
    }
    for pb in &args.playbooks {
        let path = cwd.join(pb);
        if !path.exists() {
            print_error(&format!("the playbook: {pb} could not be found"));
            return ExitCode::Error;
        }
    }
    let mut inventory = match loading::load(&args.inventory, config, &cwd) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let limit = match parse_limit(args) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let extra_vars = match loading::extra_vars(&args.extra_vars.extra_vars, &cwd) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let registry = module_registry(config, args, &cwd);
    let listing =
        args.syntax_check || args.list_tasks || args.list_tags || args.list_hosts.list_hosts;
    if listing {
        let selector = Selector {
            inventory: std::cell::RefCell::new(&mut inventory),
            limit,
        };
        let opts = ListOptions {
            playbooks: args.playbooks.iter().map(PathBuf::from).collect(),
            hosts: Some(&selector),
            tags: args.run_tags(),
            skip_tags: args.skip_tags(),
            extra_vars,
            list_hosts: args.list_hosts.list_hosts,
            list_tasks: args.list_tasks,
            list_tags: args.list_tags,
            syntax_check: args.syntax_check,
            roles_path: config.roles_path.clone(),
            modules: Some(&registry),
            library: config.library.clone(),
        };
        return match list_with_warnings(&opts) {
            Ok(listing) => {
                for w in &listing.warnings {
                    print_warning(w);
                }
                print!("{}", listing.stdout);
                ExitCode::Ok
            }
            Err(e) => {
                eprintln!("{}", e.render().trim_end_matches('\n'));
                executor_setup::exit_from(e.exit_code)
            }
        };
    }
    execute(args, config, &cwd, inventory, limit, extra_vars, &registry)
}

#[allow(clippy::too_many_arguments)]
fn execute(
    args: &PlaybookArgs,
    config: &Config,
    cwd: &Path,
    mut inventory: Inventory,
    limit: Option<Vec<String>>,
    extra_vars: rsible_inventory::Vars,
    registry: &ModuleRegistry,
) -> ExitCode {
    let inventory_dirs = match loading::inventory_vars_dirs(&inventory) {
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
    crate::run::interrupt::install();
    let extra_layer = rsible_executor::scope::to_layer(&extra_vars);
    let mut any_failed = ExitCode::Ok;
    let mut retry_hosts: Vec<String> = Vec::new();
    for (index, pb) in args.playbooks.iter().enumerate() {
        let path = cwd.join(pb);
        // Ansible makes the playbook's own library/ and collections/ available.
        if let Some(dir) = path.parent() {
            if dir.join("library").is_dir() {
                registry.add_adjacent_library_dir(&dir.join("library"));
            }
            if dir.join("collections").is_dir() {
                registry.add_collection_root(&dir.join("collections"));
            }
        }
        let loader = Loader::new(registry, config.roles_path.clone(), extra_vars.clone());
        let playbook = match loader.load_playbook(&path) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{}", e.render().trim_end_matches('\n'));
                return executor_setup::exit_from(e.exit_code);
            }
        };
        if let Err(msg) = super::not_implemented::refuse(config, &playbook) {
            print_error(&msg);
            return ExitCode::Error;
        }
        let playbook_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let playbook_dirs = match loading::vars_dirs(&inventory, &[playbook_dir]) {
            Ok(d) => d,
            Err(code) => return code,
        };
        let mut pool = match executor_setup::connection_pool(
            config,
            &args.connection,
            become_password.clone(),
        ) {
            Ok(p) => p,
            Err(code) => return code,
        };
        let mut callback = DefaultCallback::new(
            CallbackOptions {
                display_skipped_hosts: config.display_skipped_hosts,
                display_ok_hosts: config.display_ok_hosts,
                verbosity: args.verbosity.verbosity,
                diff_context: usize::try_from(config.diff_context).unwrap_or(0),
                show_custom_stats: config.show_custom_stats,
                ..CallbackOptions::default()
            },
            executor_setup::Stdout,
        );
        super::callbacks::select_stdout(&mut callback, config);
        if let Err(msg) = super::callbacks::enable(&mut callback, &config.callbacks_enabled) {
            print_error(&msg);
            return ExitCode::Error;
        }
        announce_playbook(
            &mut callback,
            args.verbosity.verbosity,
            index,
            pb,
            &playbook,
        );
        let options = RunOptions {
            forks: args
                .runner
                .forks
                .map(|f| f.max(1) as usize)
                .unwrap_or(config.forks as usize),
            check_mode: args.check_diff.check,
            diff: args.check_diff.diff || config.diff_always,
            verbosity: args.verbosity.verbosity,
            tags: args.run_tags(),
            skip_tags: args.skip_tags(),
            limit: limit.clone(),
            force_handlers: args.force_handlers,
            gathering: config.gathering.clone(),
            connection: Some(
                args.connection
                    .connection
                    .clone()
                    .unwrap_or_else(|| config.transport.clone()),
            ),
            flush_cache: args.flush_cache,
            start_at_task: args.start_at_task.clone(),
            strategy: config.strategy.clone(),
            playbook_python: python_beside(registry.ansible_core_dir()),
            option_vars: rsible_executor::magic::option_vars(&cli_options(
                args, config, &inventory,
            )),
            async_dir: Some(config.async_dir.clone()),
            poll_interval: Some(config.poll_interval),
            step: args.step,
            ssh: executor_setup::ssh_command_defaults(config, &args.connection),
            ..executor_setup::become_defaults(&args.become_args, config)
        };
        let fact_cache = match FactCache::new(&FactCacheConfig {
            plugin: config.fact_caching.clone(),
            connection: config.fact_caching_connection.clone(),
            // The jsonfile plugin's `_prefix` has no default of its own: files
            // are named after the host unless fact_caching_prefix is set.
            prefix: match config.origin("CACHE_PLUGIN_PREFIX") {
                Some(rsible_config::Origin::Default) | None => String::new(),
                Some(_) => config.fact_caching_prefix.clone(),
            },
            timeout: config.fact_caching_timeout,
        }) {
            Ok(cache) => cache,
            Err(msg) => {
                print_error(&msg);
                return ExitCode::Error;
            }
        };
        let mut executor = Executor::new(
            Arc::new(Templar::new().with_ansible_managed(&config.ansible_managed)),
            &mut inventory,
            inventory_dirs.clone(),
            playbook_dirs,
            extra_layer.clone(),
            options,
            &mut pool,
            callback,
        )
        .with_loader(&loader)
        .with_fact_cache(fact_cache)
        .with_inventory_reload(Box::new(|| loading::reload(&args.inventory, config, cwd)));
        match executor.run(&playbook) {
            Ok(outcome) => {
                retry_hosts.extend(outcome.failed_hosts.iter().cloned());
                retry_hosts.extend(outcome.unreachable_hosts.iter().cloned());
                let code = match outcome.exit_code() {
                    4 => ExitCode::Unreachable,
                    other => executor_setup::exit_from(other),
                };
                if code != ExitCode::Ok && any_failed == ExitCode::Ok {
                    any_failed = code;
                }
                if !retry_hosts.is_empty() && config.retry_files_enabled {
                    if let Some(file) = write_retry_file(config, &path, &retry_hosts) {
                        executor.display(&format!("\tto retry, use: --limit @{}", file.display()));
                    }
                }
                executor.finish();
                if let Some(msg) = executor.start_at_task_unmatched() {
                    // display.error: on stderr after the recap, exit code unchanged.
                    eprintln!("[ERROR]: {msg}");
                }
            }
            Err(e) => {
                // Ansible prints no recap when an error stops the run.
                executor.runner.close_all();
                print_error(&e.message);
                return executor_setup::exit_from(e.exit_code);
            }
        }
    }
    any_failed
}

/// What Ansible prints once a playbook is loaded: the skipped stdout
/// callbacks (first playbook only), its banner, how many plays it holds.
fn announce_playbook<S: Sink>(
    callback: &mut DefaultCallback<S>,
    verbosity: u8,
    index: usize,
    given: &str,
    playbook: &rsible_playbook::Playbook,
) {
    if index == 0 {
        for line in super::verbose_header::callbacks_loaded(verbosity) {
            callback.sink.out(&line);
        }
    }
    let base = Path::new(given)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| given.to_string());
    callback.playbook_start(&base);
    if let Some(line) = super::verbose_header::plays_in(verbosity, playbook.plays.len(), given) {
        callback.sink.out(&line);
    }
}

/// The command line as the magic variables show it (`ansible_run_tags`, ...).
fn cli_options(
    args: &PlaybookArgs,
    config: &Config,
    inventory: &Inventory,
) -> rsible_executor::magic::CliOptions {
    rsible_executor::magic::CliOptions {
        run_tags: args.run_tags(),
        skip_tags: args.skip_tags(),
        limit: args.inventory.limit.clone(),
        forks: args.runner.forks.unwrap_or(i64::from(config.forks)),
        verbosity: args.verbosity.verbosity,
        inventory_sources: inventory.sources.clone(),
        config_file: config.file.as_ref().map(|f| f.display().to_string()),
    }
}

/// The Python that runs the ansible-core rsible found (`<prefix>/bin/python3`
/// for `<prefix>/lib/python3.X/site-packages/ansible`): rsible's value of
/// `ansible_playbook_python`.
fn python_beside(core: Option<&Path>) -> Option<String> {
    let prefix = core?.parent()?.parent()?.parent()?.parent()?;
    let lib_python = core?.parent()?.parent()?.file_name()?.to_str()?;
    [lib_python, "python3", "python"]
        .iter()
        .map(|name| prefix.join("bin").join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// `<playbook>.retry` beside the playbook (or in retry_files_save_path):
/// the failed and unreachable hosts, one per line, sorted.
fn write_retry_file(config: &Config, playbook: &Path, hosts: &[String]) -> Option<PathBuf> {
    let mut hosts: Vec<&String> = hosts.iter().collect();
    hosts.sort();
    hosts.dedup();
    let stem = playbook
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = config
        .retry_files_save_path
        .clone()
        .unwrap_or_else(|| playbook.parent().map(Path::to_path_buf).unwrap_or_default());
    let path = dir.join(format!("{stem}.retry"));
    let body: String = hosts.iter().map(|h| format!("{h}\n")).collect();
    let tmp = dir.join(format!(".{stem}.retry.tmp"));
    let written = std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(&tmp, body))
        .and_then(|_| std::fs::rename(&tmp, &path));
    match written {
        Ok(()) => Some(path),
        Err(e) => {
            print_warning(&format!(
                "Could not create retry file '{}'. [Errno] {e}",
                path.display()
            ));
            None
        }
    }
}
