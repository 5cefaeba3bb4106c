//! `rsible-inventory --list | --graph | --host`.

use rsible_config::Config;
use rsible_inventory::cli::{graph, host, inventory_cli_list, CliVars};

use crate::cli::inventory::InventoryAction;
use crate::cli::InventoryCliArgs;
use crate::run::loading;
use crate::{print_error, ExitCode};

pub fn run(args: &InventoryCliArgs, action: InventoryAction, config: &Config) -> ExitCode {
    let cwd = match loading::current_dir() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut inv = match loading::load(&args.inventory, config, &cwd) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let inv_dirs = match loading::inventory_vars_dirs(&inv) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let play_dirs = match &args.playbook_dir.playbook_dir {
        Some(dir) => match loading::vars_dirs(&inv, &[cwd.join(dir)]) {
            Ok(d) => d,
            Err(code) => return code,
        },
        None => Default::default(),
    };
    let vars = CliVars {
        inventory: &inv_dirs,
        play: &play_dirs,
        playbook_dir_given: args.playbook_dir.playbook_dir.is_some(),
    };
    match action {
        InventoryAction::List => {
            let limit = match args
                .inventory
                .limit
                .as_deref()
                .map(rsible_inventory::Inventory::parse_limit)
            {
                Some(Ok(l)) => Some(l),
                Some(Err(e)) => {
                    print_error(&e.to_string());
                    return ExitCode::Error;
                }
                None => None,
            };
            match inventory_cli_list(&mut inv, vars, limit.as_deref()) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::Ok
                }
                Err(e) => {
                    print_error(&e.to_string());
                    ExitCode::Error
                }
            }
        }
        InventoryAction::Graph(group) => {
            match graph(&inv, group.as_deref(), args.show_vars, vars) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::Ok
                }
                Err(e) => {
                    print_error(&e);
                    ExitCode::Error
                }
            }
        }
        InventoryAction::Host(h) => match host(&mut inv, &h, vars) {
            Ok(text) => {
                print!("{text}");
                ExitCode::Ok
            }
            Err(e) => {
                print_error(&e);
                ExitCode::Error
            }
        },
    }
}
