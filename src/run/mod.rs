//! What each binary does once its options are parsed: load the inventory and
//! playbooks through the engine crates, then list, print or run.

pub mod interrupt;
pub mod inventory;
pub mod loading;
pub mod playbook;
pub mod vault;
pub mod vault_secrets;
