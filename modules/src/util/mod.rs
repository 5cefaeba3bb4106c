//! Helpers shared by native modules.

pub mod atomic;
pub mod bin_path;
pub mod checksum;
pub mod child_guard;
pub mod expand;
pub mod fs_attrs;
pub mod http;
pub mod libselinux;
pub mod locale;
pub mod mode;
pub mod pytime;
pub mod run;
pub mod shlex;
pub mod systemd_canary;
pub mod users;
pub mod validate;
