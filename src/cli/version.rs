//! `--version`: an ansible-playbook-like block, minus the Python lines.

use rsible_config::{py_list_repr, Config};

/// The version block for `program` (`rsible-playbook`, `rsible`, ...).
pub fn version_text(program: &str, config: &Config) -> String {
    let file = config
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "None".to_string());
    let modules: Vec<String> = config
        .library
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let collections: Vec<String> = config
        .collections_path
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "unknown".to_string());
    format!(
        "{program} {version} (ansible-core 2.18 compatible)\n  \
         config file = {file}\n  \
         configured module search path = {modules}\n  \
         ansible collection location = {collections}\n  \
         executable location = {exe}\n  \
         python version = not needed on the controller (native binary)\n",
        version = env!("CARGO_PKG_VERSION"),
        modules = py_list_repr(&modules),
        collections = collections.join(":"),
    )
}
