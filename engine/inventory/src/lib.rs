//! Inventory as ansible-core 2.18 builds it: sources (ini, yaml, script, host lists,
//! directories), group_vars/host_vars files, host patterns and `--limit`, and
//! ansible-inventory's `--list`/`--graph`/`--host` output.
//!
//! Pipeline: [`load_inventory`] (sources -> [`Inventory`]) -> [`load_vars_dirs`]
//! (group_vars/host_vars beside sources and playbook) -> [`Inventory::select`]
//! (patterns) -> [`cli`] (ansible-inventory output).

mod address;
pub mod cli;
mod group_names;
mod ini;
mod literal;
mod model;
mod options;
mod paths;
mod pattern;
mod pyrepr;
mod pytype;
mod script;
mod shlex;
mod sources;
mod vars_files;
mod yaml_input;
mod yaml_source;

pub mod json_out;

pub use address::{expand_hostname_range, looks_like_ip, parse_address};
pub use literal::literal_eval;
pub use model::{Group, Host, Inventory, InventoryError, Vars, LOCALHOST_NAMES};
pub use options::{GroupNamePolicy, InventoryOptions, PatternMismatch};
pub use pattern::{fnmatch, split_host_pattern, PatternError};
pub use sources::{load_ini_str, load_inventory, load_yaml_inventory_str};
pub use vars_files::{load_vars_dirs, VarsDirs, VarsFileError};
