//! ansible.cfg, ANSIBLE_* environment and the settings table.
//!
//! [`Config::load`] finds the one ansible.cfg Ansible would read
//! ([`locate`]), parses it as Python's configparser does ([`ini`]), and
//! resolves every setting of the [`settings`] table — environment over file
//! over default — converting text to the setting's type ([`value`]) with
//! paths expanded and made absolute ([`paths`]).

mod error;
mod ini;
mod load;
mod locate;
mod paths;
mod pyrepr;
pub mod settings;
mod typed;
mod value;

pub use error::ConfigError;
pub use ini::{parse as parse_ini, IniDoc};
pub use load::{Config, Origin, Resolved};
pub use locate::{find_config_file, Located};
pub use paths::{expand_user, expand_vars, normalize, resolve_path};
pub use pyrepr::{py_list_repr, py_repr};
pub use settings::{SettingDef, Settings, SETTINGS};
pub use value::{to_bool, Kind, Value};

/// The splitter, re-exported so the CLI (root package) can parse `-e k=v`
/// without a dependency line of its own in the shared root Cargo.toml.
pub use rsible_parsing as parsing;

/// How settings read the environment: a name in, its value out. Pass
/// `&|k| std::env::var(k).ok()` in programs and a fake in tests.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The real process environment, for [`Config::load`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests;
