//! `rsible-inventory` options: those of `ansible-inventory` 2.18.

use clap::Parser;

use super::common::*;

/// Show Ansible inventory information, by default it uses the inventory script JSON format
#[derive(Parser, Debug, Clone, Default, PartialEq)]
#[command(
    name = "rsible-inventory",
    disable_version_flag = true,
    args_override_self = true
)]
pub struct InventoryCliArgs {
    /// show program's version number, config file location, configured module search path and exit
    #[arg(long = "version")]
    pub version: bool,
    #[command(flatten)]
    pub verbosity: VerbosityArgs,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[command(flatten)]
    pub vault: VaultArgs,
    #[command(flatten)]
    pub playbook_dir: PlaybookDirArgs,
    #[command(flatten)]
    pub extra_vars: ExtraVarsArgs,
    /// Output all hosts info, works as inventory script
    #[arg(long = "list", group = "action")]
    pub list: bool,
    /// Output specific host info, works as inventory script.
    #[arg(long = "host", value_name = "HOST", group = "action")]
    pub host: Option<String>,
    /// create inventory graph, if supplying pattern it must be a valid group name.
    #[arg(long = "graph", group = "action")]
    pub graph: bool,
    /// Use YAML format instead of default JSON, ignored for --graph
    #[arg(short = 'y', long = "yaml")]
    pub yaml: bool,
    /// Use TOML format instead of default JSON, ignored for --graph
    #[arg(long = "toml")]
    pub toml: bool,
    /// Add vars to graph display, ignored unless used with --graph
    #[arg(long = "vars")]
    pub show_vars: bool,
    /// When doing --list, represent in a way that is optimized for export.
    #[arg(long = "export")]
    pub export: bool,
    /// When doing --list, send the inventory to a file instead of to the screen
    #[arg(long = "output", value_name = "OUTPUT_FILE")]
    pub output_file: Option<String>,
    /// The group to graph (with --graph), or the pattern to list
    #[arg(value_name = "group")]
    pub group: Option<String>,
}

/// Which output ansible-inventory was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryAction {
    List,
    Host(String),
    Graph(Option<String>),
}

impl InventoryCliArgs {
    /// The requested action; Ansible requires exactly one of --list, --host,
    /// --graph and fails with its own message otherwise.
    pub fn action(&self) -> Result<InventoryAction, String> {
        if let Some(host) = &self.host {
            return Ok(InventoryAction::Host(host.clone()));
        }
        if self.graph {
            return Ok(InventoryAction::Graph(self.group.clone()));
        }
        if self.list {
            return Ok(InventoryAction::List);
        }
        Err(
            "No action selected, at least one of --host, --graph or --list needs to be specified."
                .into(),
        )
    }
}
