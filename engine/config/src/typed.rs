//! Turning a converted [`Value`] into the Rust type of a `Config` field.
//! A mismatch means the settings table itself is wrong, so it is reported as
//! an error naming the setting rather than a panic.

use std::path::PathBuf;

use crate::{ConfigError, Value};

pub trait FromValue: Sized {
    fn from_value(value: Option<Value>, name: &str) -> Result<Self, ConfigError>;
}

fn mismatch(name: &str, value: &Option<Value>) -> ConfigError {
    ConfigError::InvalidType {
        setting: name.to_string(),
        origin: "rsible settings table".to_string(),
        message: format!("unexpected value {value:?}"),
    }
}

impl FromValue for bool {
    fn from_value(value: Option<Value>, name: &str) -> Result<Self, ConfigError> {
        match value {
            Some(Value::Bool(b)) => Ok(b),
            other => Err(mismatch(name, &other)),
        }
    }
}

impl FromValue for i64 {
    fn from_value(value: Option<Value>, name: &str) -> Result<Self, ConfigError> {
        match value {
            Some(Value::Int(n)) => Ok(n),
            other => Err(mismatch(name, &other)),
        }
    }
}

impl FromValue for Option<i64> {
    fn from_value(value: Option<Value>, name: &str) -> Result<Self, ConfigError> {
        match value {
            Some(Value::None) => Ok(None),
            Some(Value::Int(n)) => Ok(Some(n)),
            other => Err(mismatch(name, &other)),
        }
    }
}

impl FromValue for u32 {
    fn from_value(value: Option<Value>, name: &str) -> Result<Self, ConfigError> {
        match value {
            Some(Value::Int(n)) => u32::try_from(n).map_err(|_| ConfigError::InvalidType {
                setting: name.to_string(),
                origin: "value".to_string(),
                message: format!("{n} is out of range"),
            }),
            other => Err(mismatch(name, &other)),
        }
    }
}

impl FromValue for String {
    fn from_value(value: Option<Value>, name: &str) -> Result<Self, ConfigError> {
        match value {
            Some(Value::Str(s)) => Ok(s),
            other => Err(mismatch(name, &other)),
        }
    }
}

impl FromValue for Option<String> {
    fn from_value(value: Option<Value>, name: &str) -> Result<Self, ConfigError> {
        match value {
            Some(Value::None) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            other => Err(mismatch(name, &other)),
        }
    }
}

impl FromValue for Vec<String> {
    fn from_value(value: Option<Value>, name: &str) -> Result<Self, ConfigError> {
        match value {
            Some(Value::List(v)) => Ok(v),
            other => Err(mismatch(name, &other)),
        }
    }
}

impl FromValue for PathBuf {
    fn from_value(value: Option<Value>, name: &str) -> Result<Self, ConfigError> {
        match value {
            Some(Value::Path(p)) => Ok(p),
            other => Err(mismatch(name, &other)),
        }
    }
}

impl FromValue for Option<PathBuf> {
    fn from_value(value: Option<Value>, name: &str) -> Result<Self, ConfigError> {
        match value {
            Some(Value::None) => Ok(None),
            Some(Value::Path(p)) => Ok(Some(p)),
            other => Err(mismatch(name, &other)),
        }
    }
}

impl FromValue for Vec<PathBuf> {
    fn from_value(value: Option<Value>, name: &str) -> Result<Self, ConfigError> {
        match value {
            Some(Value::Paths(v)) => Ok(v),
            other => Err(mismatch(name, &other)),
        }
    }
}
