//! Variables of a (host, task): Ansible's precedence levels as layers.

pub mod layers;
pub mod play_vars_files;
pub mod precedence;

pub use layers::{Layer, VarLayers};
