//! The open-files limit before a run: raised to the hard limit, and checked
//! against `forks` (each connection running side by side holds descriptors).

use rsible_config::Config;
use rsible_connection::fd_limit;

use crate::{print_error, ExitCode};

/// Raises the limit and refuses a `forks` it cannot hold, with advice.
pub fn prepare(forks_option: Option<i64>, config: &Config) -> Result<(), ExitCode> {
    let open_files = fd_limit::raise_open_files_limit();
    let forks = forks_option.map_or(u64::from(config.forks), |f| f.max(1) as u64);
    fd_limit::check_forks(forks, open_files).map_err(|message| {
        print_error(&message);
        ExitCode::Error
    })
}
