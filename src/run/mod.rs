//! What each binary does once its options are parsed: load the inventory and
//! playbooks through the engine crates, then list, print or run.

pub mod adhoc;
pub mod callbacks;
pub mod executor_setup;
pub mod interrupt;
pub mod inventory;
pub mod loading;
pub mod not_implemented;
pub mod open_files;
pub mod playbook;
pub mod vault;
pub mod vault_secrets;
pub mod verbose_header;
