//! Loading shared by the binaries: inventory sources from `-i` or
//! ansible.cfg, inventory options from the config, extra vars, vars dirs.

use std::path::{Path, PathBuf};

use rsible_config::Config;
use rsible_inventory::{
    load_inventory, load_vars_dirs, GroupNamePolicy, Inventory, InventoryOptions, PatternMismatch,
    Vars, VarsDirs,
};

use crate::cli::common::InventoryArgs;
use crate::cli::extra_vars;
use crate::{print_error, print_warning, ExitCode};

pub fn inventory_options(config: &Config) -> InventoryOptions {
    let mut o = InventoryOptions {
        ignore_extensions: config.inventory_ignore_extensions.clone(),
        ignore_patterns: config.inventory_ignore_patterns.clone(),
        ..InventoryOptions::default()
    };
    if let Some(policy) = GroupNamePolicy::from_config(&config.force_valid_group_names) {
        o.force_valid_group_names = policy;
    }
    o.host_pattern_mismatch = match config.host_pattern_mismatch.as_str() {
        "error" => PatternMismatch::Error,
        "ignore" => PatternMismatch::Ignore,
        _ => PatternMismatch::Warning,
    };
    o
}

/// `-i` sources, or ansible.cfg's `inventory` when none were given.
pub fn inventory_sources(args: &InventoryArgs, config: &Config, cwd: &Path) -> Vec<String> {
    args.sources(cwd).unwrap_or_else(|| {
        config
            .inventory
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    })
}

pub fn load(args: &InventoryArgs, config: &Config, cwd: &Path) -> Result<Inventory, ExitCode> {
    let sources = inventory_sources(args, config, cwd);
    match load_inventory(&sources, inventory_options(config)) {
        Ok(inv) => {
            for w in &inv.warnings {
                print_warning(w);
            }
            Ok(inv)
        }
        Err(e) => {
            print_error(&e.to_string());
            Err(ExitCode::Error)
        }
    }
}

/// The inventory read again from the same sources (`meta: refresh_inventory`);
/// its warnings are printed again, as Ansible parses the sources anew.
pub fn reload(args: &InventoryArgs, config: &Config, cwd: &Path) -> Result<Inventory, String> {
    let sources = inventory_sources(args, config, cwd);
    let inv = load_inventory(&sources, inventory_options(config)).map_err(|e| e.to_string())?;
    for w in &inv.warnings {
        print_warning(w);
    }
    Ok(inv)
}

/// group_vars/ and host_vars/ beside each inventory source.
pub fn inventory_vars_dirs(inv: &Inventory) -> Result<VarsDirs, ExitCode> {
    let dirs: Vec<PathBuf> = inv
        .sources
        .iter()
        .filter(|s| !s.contains(',') || Path::new(s).exists())
        .map(|s| {
            let p = Path::new(s);
            if p.is_dir() {
                p.to_path_buf()
            } else {
                p.parent().map(Path::to_path_buf).unwrap_or_default()
            }
        })
        .collect();
    vars_dirs(inv, &dirs)
}

pub fn vars_dirs(inv: &Inventory, dirs: &[PathBuf]) -> Result<VarsDirs, ExitCode> {
    load_vars_dirs(inv, dirs).map_err(|e| {
        print_error(&e.to_string());
        ExitCode::Error
    })
}

/// `-e` values merged in order (later ones win), as one set of variables.
pub fn extra_vars(values: &[String], cwd: &Path) -> Result<Vars, ExitCode> {
    let parsed = extra_vars::parse(values, cwd).map_err(|e| {
        print_error(&e.to_string());
        e.exit_code()
    })?;
    let mut out = Vars::new();
    for ev in parsed {
        if let Some(map) = ev.vars.as_map() {
            for (k, v) in map.iter() {
                if let Some(name) = k.as_str() {
                    out.insert(name.to_string(), v.clone());
                }
            }
        }
    }
    Ok(out)
}

pub fn current_dir() -> Result<PathBuf, ExitCode> {
    std::env::current_dir().map_err(|e| {
        print_error(&format!("Unable to determine the current directory: {e}"));
        ExitCode::Error
    })
}
