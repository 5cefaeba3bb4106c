//! What the user sees: the default stdout callback and its helpers.

pub mod adhoc;
pub mod async_lines;
pub mod custom_stats;
pub mod default_callback;
pub mod diff_text;
pub mod display;
pub mod json_callback;
pub mod profile_tasks;
pub mod pyjson;
pub mod stats;
pub mod unified_diff;
pub mod utc_time;
