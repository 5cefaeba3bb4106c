//! A minimal ansible-inventory stand-in for trying the crate by hand:
//! `inventory_cli -i SRC [-i SRC] [--kubespray] (--list | --graph [G] [--vars] | --host H) [--limit L] [--playbook-dir D]`

use std::path::PathBuf;

use rsible_inventory::cli::{graph, host, inventory_cli_list, CliVars};
use rsible_inventory::{
    load_inventory, load_vars_dirs, GroupNamePolicy, Inventory, InventoryOptions,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut sources = Vec::new();
    let mut action = None;
    let mut target = None;
    let mut limit = None;
    let mut show_vars = false;
    let mut playbook_dir = None;
    let mut options = InventoryOptions::default();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-i" => {
                i += 1;
                sources.push(args[i].clone());
            }
            "--list" => action = Some("list"),
            "--graph" => action = Some("graph"),
            "--host" => {
                action = Some("host");
                i += 1;
                target = Some(args[i].clone());
            }
            "--vars" => show_vars = true,
            "--limit" | "-l" => {
                i += 1;
                limit = Some(args[i].clone());
            }
            "--playbook-dir" => {
                i += 1;
                playbook_dir = Some(PathBuf::from(&args[i]));
            }
            "--kubespray" => {
                options.force_valid_group_names = GroupNamePolicy::Ignore;
                options.ignore_extensions = [
                    "~", ".orig", ".bak", ".ini", ".cfg", ".retry", ".pyc", ".pyo", ".creds",
                    ".gpg",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                options.ignore_patterns = vec!["artifacts".into(), "credentials".into()];
            }
            other => target = Some(other.to_string()),
        }
        i += 1;
    }
    let mut inv = match load_inventory(&sources, options) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("ERROR! {e}");
            std::process::exit(1);
        }
    };
    let inv_dirs = load_vars_dirs(&inv, &inv.inventory_vars_dirs()).unwrap_or_else(|e| {
        eprintln!("ERROR! {e}");
        std::process::exit(1)
    });
    let play_dir = playbook_dir
        .clone()
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
    let play_dirs = load_vars_dirs(&inv, &[play_dir]).unwrap_or_default();
    let vars = CliVars {
        inventory: &inv_dirs,
        play: &play_dirs,
        playbook_dir_given: playbook_dir.is_some(),
    };
    let out = match action {
        Some("list") => {
            let limit = limit.map(|l| Inventory::parse_limit(&l).unwrap_or_default());
            inventory_cli_list(&mut inv, vars, limit.as_deref()).map_err(|e| e.0)
        }
        Some("graph") => graph(&inv, target.as_deref(), show_vars, vars),
        Some("host") => host(&mut inv, target.as_deref().unwrap_or(""), vars),
        _ => Err(
            "No action selected, at least one of --host, --graph or --list needs to be specified."
                .into(),
        ),
    };
    for w in &inv.warnings {
        eprintln!("[WARNING]: {w}");
    }
    match out {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("ERROR! {e}");
            std::process::exit(1);
        }
    }
}
