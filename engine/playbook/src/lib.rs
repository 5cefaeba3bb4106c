//! The playbook model: plays, roles, blocks, tasks, handlers, and the listing modes.
//!
//! Pipeline: `files` reads YAML once per path -> `loader` builds the `model`
//! (with `action` parsing each task's module and arguments, `modules` telling
//! which modules exist, `tags` reading tags) -> `list` prints the listing modes.

pub mod action;
pub mod action_groups;
pub mod error;
mod error_context;
pub mod files;
pub mod keywords;
pub mod list;
pub mod loader;
pub mod model;
pub mod modules;
mod simple_template;
pub mod tags;

pub use error::{PlaybookError, Result};
pub use list::{list, list_with_warnings, HostSelector, ListOptions, Listing};
pub use loader::{Loader, RoleEntryFiles};
pub use model::{Block, Item, Play, Playbook, Role, Task, TaskKind};
pub use modules::ModuleRegistry;
