//! Variables of a (host, task): Ansible's precedence levels as layers.

pub mod layers;
pub mod precedence;

pub use layers::{Layer, VarLayers};
