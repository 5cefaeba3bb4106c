//! What the user sees: the default stdout callback and its helpers.

pub mod adhoc;
pub mod default_callback;
pub mod display;
pub mod profile_tasks;
pub mod pyjson;
pub mod stats;
