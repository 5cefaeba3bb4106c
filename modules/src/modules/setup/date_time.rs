//! `date_time`: the target's clock, formatted as Ansible's collector formats it
//! (strftime in local time; ISO 8601 stamps in UTC).

use super::{Facts, Gather};
use serde_json::{Map, Value};
use std::ffi::CStr;
use std::time::{SystemTime, UNIX_EPOCH};

extern "C" {
    fn tzset();
    static tzname: [*const libc::c_char; 2];
}

fn broken_down(secs: libc::time_t, utc: bool) -> libc::tm {
    // SAFETY: localtime_r/gmtime_r write into the zeroed tm we own.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if utc {
            libc::gmtime_r(&secs, &mut tm);
        } else {
            libc::localtime_r(&secs, &mut tm);
        }
        tm
    }
}

fn strftime(tm: &libc::tm, format: &str) -> String {
    let Ok(cfmt) = std::ffi::CString::new(format) else {
        return String::new();
    };
    let mut buf = [0u8; 128];
    // SAFETY: strftime writes at most buf.len() bytes and returns the count.
    let n = unsafe {
        libc::strftime(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            cfmt.as_ptr(),
            tm,
        )
    };
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

pub fn collect(_g: &Gather) -> Facts {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    let micros = now.subsec_micros();
    // SAFETY: tzset only initialises the C library's time zone globals.
    unsafe { tzset() };
    let local = broken_down(secs, false);
    let utc = broken_down(secs, true);
    let mut d = Map::new();
    let mut put = |k: &str, v: String| {
        d.insert(k.to_string(), Value::String(v));
    };
    put("year", strftime(&local, "%Y"));
    put("month", strftime(&local, "%m"));
    put("weekday", strftime(&local, "%A"));
    put("weekday_number", strftime(&local, "%w"));
    put("weeknumber", strftime(&local, "%W"));
    put("day", strftime(&local, "%d"));
    put("hour", strftime(&local, "%H"));
    put("minute", strftime(&local, "%M"));
    put("second", strftime(&local, "%S"));
    put("epoch", secs.to_string());
    put("epoch_int", secs.to_string());
    put("date", strftime(&local, "%Y-%m-%d"));
    put("time", strftime(&local, "%H:%M:%S"));
    put(
        "iso8601_micro",
        format!("{}.{micros:06}Z", strftime(&utc, "%Y-%m-%dT%H:%M:%S")),
    );
    put("iso8601", strftime(&utc, "%Y-%m-%dT%H:%M:%SZ"));
    put(
        "iso8601_basic",
        format!("{}{micros:06}", strftime(&local, "%Y%m%dT%H%M%S")),
    );
    put("iso8601_basic_short", strftime(&local, "%Y%m%dT%H%M%S"));
    put("tz", strftime(&local, "%Z"));
    // SAFETY: tzname is set by tzset above; entries are NUL-terminated or null.
    let dst = unsafe {
        let p = tzname[1];
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    put("tz_dst", dst);
    put("tz_offset", strftime(&local, "%z"));
    let mut f = Facts::new();
    f.insert("date_time".into(), Value::Object(d));
    f
}
