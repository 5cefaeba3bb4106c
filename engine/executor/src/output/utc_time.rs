//! The time as Python's `datetime.utcnow().isoformat() + 'Z'` writes it
//! (`2026-11-22T07:30:01.547060Z`), for the json callback's durations.

use std::time::SystemTime;

pub fn iso_utc_now() -> String {
    rsible_modules::util::pytime::iso_utc(SystemTime::now(), "Z")
}
