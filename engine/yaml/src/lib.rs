//! YAML as Ansible reads it: PyYAML's YAML 1.1 resolution on top of an event
//! parser, with a source position on every node.

mod node;

pub use node::{Mapping, Mark, Node, Value};
