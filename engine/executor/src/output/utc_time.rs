//! The time as Python's `datetime.utcnow().isoformat() + 'Z'` writes it
//! (`2026-11-22T07:30:01.547060Z`), for the json callback's durations.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn iso_utc_now() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    iso_utc(since.as_secs(), since.subsec_micros())
}

/// `isoformat()` leaves the fraction out when the microseconds are zero.
pub fn iso_utc(secs: u64, micros: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let time = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    );
    if micros == 0 {
        format!("{time}Z")
    } else {
        format!("{time}.{micros:06}Z")
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_python_isoformat() {
        assert_eq!(iso_utc(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(
            iso_utc(1_795_332_601, 547_060),
            "2026-11-22T07:30:01.547060Z"
        );
        assert_eq!(iso_utc(951_782_400, 5), "2000-02-29T00:00:00.000005Z");
    }
}
