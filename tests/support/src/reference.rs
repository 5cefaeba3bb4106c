//! Where the reference ansible-core 2.18 lives for differential tests.

use std::path::PathBuf;

/// The bin directory of the venv holding the reference (`RSIBLE_REF_BIN`,
/// which scripts/test.sh sets). None only when `RSIBLE_SKIP_DIFFERENTIAL` is
/// set, so that a differential test is skipped knowingly, never quietly:
/// without either variable it panics.
pub fn reference_bin_dir() -> Option<PathBuf> {
    match std::env::var_os("RSIBLE_REF_BIN") {
        Some(dir) => Some(PathBuf::from(dir)),
        None if std::env::var_os("RSIBLE_SKIP_DIFFERENTIAL").is_some() => None,
        None => panic!(
            "RSIBLE_REF_BIN is not set: it must point at the bin directory of a venv with \
             ansible-core 2.18 (scripts/test.sh sets it); set RSIBLE_SKIP_DIFFERENTIAL=1 to skip \
             differential tests knowingly"
        ),
    }
}
