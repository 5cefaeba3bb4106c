//! The Python-module fallback, controller side: for a module with no native
//! twin in the agent, rsible runs the Python module itself, as Ansible would.
//!
//! Reading order:
//! - [`style`]: is the file a module we can run (new-style Python) or not.
//! - [`imports`]: the `import` / `from ... import` statements of a Python file.
//! - [`finder`]: which `ansible.module_utils` and collection `module_utils`
//!   files a module needs, transitively.
//! - [`payload`]: the self-contained zip (module, module_utils, bootstrap),
//!   cached per module for the run.
//! - [`module_args`]: the `ANSIBLE_MODULE_ARGS` document the module reads.
//! - [`interpreter`]: `ansible_python_interpreter` discovery as Ansible's `auto`.
//! - [`result`]: the module's stdout turned into its result, as Ansible does.

pub mod finder;
pub mod imports;
pub mod interpreter;
pub mod module_args;
pub mod payload;
pub mod result;
pub mod style;

pub use finder::SearchRoots;
pub use payload::{Payload, PayloadCache, PayloadError};
