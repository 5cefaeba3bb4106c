//! Errors raised while finding, reading or converting the configuration.

use std::fmt;
use std::path::PathBuf;

/// Everything that can stop the configuration from loading. The `Display`
/// text follows Ansible's wording so users see familiar messages.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    /// The config file has an extension Ansible does not read.
    UnsupportedExtension { path: PathBuf, ext: String },
    /// `.yaml`/`.yml` config files: Ansible refuses them too.
    UnsupportedType { ftype: String },
    /// The file could not be read (permissions vanished, I/O error).
    Read { path: PathBuf, message: String },
    /// The file is not UTF-8.
    NotUtf8 { path: PathBuf, message: String },
    /// configparser-style syntax error (message already in Python's wording).
    Syntax { path: PathBuf, message: String },
    /// A value that does not convert to the setting's type.
    InvalidType {
        setting: String,
        origin: String,
        message: String,
    },
    /// A value outside the setting's allowed choices.
    InvalidChoice {
        setting: String,
        value: String,
        valid: String,
    },
    /// A setting rsible refuses rather than silently behaving differently.
    Unsupported {
        setting: String,
        origin: String,
        message: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::UnsupportedExtension { path, ext } => write!(
                f,
                "Unsupported configuration file extension for {}: {}",
                path.display(),
                ext
            ),
            ConfigError::UnsupportedType { ftype } => {
                write!(f, "Unsupported configuration file type: {ftype}")
            }
            ConfigError::Read { path, message } => {
                write!(f, "Error reading config file ({}): {}", path.display(), message)
            }
            ConfigError::NotUtf8 { path, message } => write!(
                f,
                "Error reading config file({}) because the config file was not utf8 encoded: {}",
                path.display(),
                message
            ),
            ConfigError::Syntax { path, message } => {
                write!(f, "Error reading config file ({}): {}", path.display(), message)
            }
            ConfigError::InvalidType { setting, origin, message } => write!(
                f,
                "Invalid type for configuration option setting: {setting} (from {origin}): {message}"
            ),
            ConfigError::InvalidChoice { setting, value, valid } => write!(
                f,
                "Invalid value \"{value}\" for configuration option \"setting: {setting} \", valid values are: {valid}"
            ),
            ConfigError::Unsupported { setting, origin, message } => {
                write!(f, "rsible does not support {setting} (from {origin}): {message}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}
