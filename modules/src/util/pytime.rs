//! Time formatting as Python prints it (`str(datetime.now())`, `str(timedelta)`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Broken-down calendar time of a SystemTime (local or UTC).
pub struct LocalTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
}

/// The calendar time in the machine's time zone, as `datetime.now()` gives it.
pub fn local_time(t: SystemTime) -> LocalTime {
    broken_down(t, libc::localtime_r)
}

/// The calendar time in UTC, as `datetime.now(timezone.utc)` or `time.gmtime` give it.
pub fn utc_time(t: SystemTime) -> LocalTime {
    broken_down(t, libc::gmtime_r)
}

type BreakDown = unsafe extern "C" fn(*const libc::time_t, *mut libc::tm) -> *mut libc::tm;

fn broken_down(t: SystemTime, convert: BreakDown) -> LocalTime {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs() as libc::time_t;
    // SAFETY: localtime_r/gmtime_r write into the zeroed tm we own; both pointers are valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe {
        convert(&secs, &mut tm);
    }
    LocalTime {
        year: tm.tm_year + 1900,
        month: (tm.tm_mon + 1) as u32,
        day: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        minute: tm.tm_min as u32,
        second: tm.tm_sec as u32,
        micros: since.subsec_micros(),
    }
}

/// `datetime.isoformat()` of a UTC time with `tz_suffix` appended:
/// "2026-11-22T07:30:01.547060" + suffix, the fraction left out when it is zero.
pub fn iso_utc(t: SystemTime, tz_suffix: &str) -> String {
    let u = utc_time(t);
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        u.year, u.month, u.day, u.hour, u.minute, u.second
    );
    if u.micros != 0 {
        s.push_str(&format!(".{:06}", u.micros));
    }
    s.push_str(tz_suffix);
    s
}

/// `str(datetime)`: "2024-05-01 12:34:56.123456" (no fraction when it is zero).
pub fn format_datetime(t: SystemTime) -> String {
    let l = local_time(t);
    let mut s = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        l.year, l.month, l.day, l.hour, l.minute, l.second
    );
    if l.micros != 0 {
        s.push_str(&format!(".{:06}", l.micros));
    }
    s
}

/// `str(timedelta)`: "0:00:00.003456", "1 day, 2:03:04".
pub fn format_delta(d: Duration) -> String {
    let total = d.as_secs();
    let days = total / 86400;
    let rem = total % 86400;
    let mut s = String::new();
    if days > 0 {
        s.push_str(&format!("{days} day{}, ", if days == 1 { "" } else { "s" }));
    }
    s.push_str(&format!(
        "{}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    ));
    let micros = d.subsec_micros();
    if micros != 0 {
        s.push_str(&format!(".{micros:06}"));
    }
    s
}

/// The suffix of Ansible's backup file names: "2024-05-01@12:34:56".
pub fn backup_stamp(t: SystemTime) -> String {
    let l = local_time(t);
    format!(
        "{:04}-{:02}-{:02}@{:02}:{:02}:{:02}",
        l.year, l.month, l.day, l.hour, l.minute, l.second
    )
}

/// Seconds since the epoch as a float, like Python's st_mtime.
pub fn epoch_float(secs: i64, nanos: i64) -> f64 {
    // CPython computes st_mtime as sec + nsec * 1e-9; the same rounding keeps floats equal.
    secs as f64 + nanos as f64 * 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_print_like_python() {
        assert_eq!(format_delta(Duration::from_micros(3456)), "0:00:00.003456");
        assert_eq!(format_delta(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(
            format_delta(Duration::from_secs(86400 + 5)),
            "1 day, 0:00:05"
        );
    }

    #[test]
    fn utc_isoformat_is_pythons() {
        let at =
            |secs: u64, micros: u64| UNIX_EPOCH + Duration::from_micros(secs * 1_000_000 + micros);
        assert_eq!(iso_utc(at(0, 0), "Z"), "1970-01-01T00:00:00Z");
        assert_eq!(
            iso_utc(at(1_795_332_601, 547_060), "Z"),
            "2026-11-22T07:30:01.547060Z"
        );
        assert_eq!(
            iso_utc(at(951_782_400, 5), "+00:00"),
            "2000-02-29T00:00:00.000005+00:00"
        );
    }

    #[test]
    fn datetimes_have_python_shape() {
        let s = format_datetime(UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456));
        assert_eq!(s.len(), "2023-11-14 22:13:20.123456".len(), "{s}");
        assert!(s.ends_with(".123456"), "{s}");
    }
}
