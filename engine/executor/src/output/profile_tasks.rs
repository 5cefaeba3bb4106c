//! The `profile_tasks` callback (ansible.posix, enabled by Kubespray's
//! ansible.cfg): a timestamp line as each task starts (the wall clock, the
//! time since the previous line, the time since the run started), and at
//! the end the slowest tasks with their durations.
//!
//! Its options come from the environment, as the plugin reads them:
//! `PROFILE_TASKS_SORT_ORDER` (descending, ascending, none),
//! `PROFILE_TASKS_TASK_OUTPUT_LIMIT` (a number or `all`, 20 by default) and
//! `PROFILE_TASKS_SUMMARY_ONLY`.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use indexmap::IndexMap;

/// How the summary is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Descending,
    Ascending,
    /// In the order the tasks ran.
    None,
}

#[derive(Clone, Debug)]
pub struct ProfileOptions {
    pub sort_order: SortOrder,
    /// How many tasks the summary lists; `None` for all.
    pub output_limit: Option<usize>,
    pub summary_only: bool,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            sort_order: SortOrder::Descending,
            output_limit: Some(20),
            summary_only: false,
        }
    }
}

impl ProfileOptions {
    /// The plugin's environment variables; an unusable value is an error
    /// naming it, as Ansible refuses an invalid option value.
    pub fn from_env() -> Result<ProfileOptions, String> {
        let mut opts = ProfileOptions::default();
        if let Ok(v) = std::env::var("PROFILE_TASKS_SORT_ORDER") {
            opts.sort_order = match v.as_str() {
                "descending" => SortOrder::Descending,
                "ascending" => SortOrder::Ascending,
                "none" => SortOrder::None,
                other => {
                    return Err(format!(
                        "Invalid value \"{other}\" for configuration option \"sort_order\" of callback plugin profile_tasks, valid values are: descending, ascending, none"
                    ))
                }
            };
        }
        if let Ok(v) = std::env::var("PROFILE_TASKS_TASK_OUTPUT_LIMIT") {
            opts.output_limit = if v == "all" {
                None
            } else {
                Some(v.trim().parse().map_err(|_| {
                    format!("invalid literal for int() with base 10: '{v}' (PROFILE_TASKS_TASK_OUTPUT_LIMIT)")
                })?)
            };
        }
        if let Ok(v) = std::env::var("PROFILE_TASKS_SUMMARY_ONLY") {
            opts.summary_only = matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on" | "y" | "t"
            );
        }
        Ok(opts)
    }
}

struct Entry {
    name: String,
    path: Option<String>,
    started: Instant,
    elapsed: f64,
}

pub struct ProfileTasks {
    options: ProfileOptions,
    /// When the run started, and when the last timestamp line was made.
    started: Instant,
    last_line: Instant,
    /// Per task execution, in the order they started.
    tasks: IndexMap<u64, Entry>,
    current: Option<u64>,
}

impl ProfileTasks {
    pub fn new(options: ProfileOptions) -> Self {
        let now = Instant::now();
        ProfileTasks {
            options,
            started: now,
            last_line: now,
            tasks: IndexMap::new(),
            current: None,
        }
    }

    /// A task (or handler) starts: the timestamp line to print, if any.
    /// `path` is recorded for the summary at `-vv`.
    pub fn task_start(&mut self, id: u64, name: &str, path: Option<&str>) -> Option<String> {
        let line = (!self.options.summary_only).then(|| self.timestamp_line());
        self.close_current();
        let now = Instant::now();
        let entry = self.tasks.entry(id).or_insert_with(|| Entry {
            name: name.to_string(),
            path: None,
            started: now,
            elapsed: 0.0,
        });
        entry.started = now;
        if let Some(p) = path {
            entry.path = Some(p.to_string());
        }
        self.current = Some(id);
        line
    }

    /// The end of the run: the last timestamp line, a rule, and the tasks
    /// by time, each line `columns` wide.
    pub fn summary(&mut self, columns: usize) -> Vec<String> {
        let mut out = Vec::new();
        if !self.options.summary_only {
            out.push(self.timestamp_line());
        }
        out.push(filled("", '='));
        self.close_current();
        let mut entries: Vec<&Entry> = self.tasks.values().collect();
        match self.options.sort_order {
            // Stable sorts, as Python's `sorted`.
            SortOrder::Descending => entries.sort_by(|a, b| b.elapsed.total_cmp(&a.elapsed)),
            SortOrder::Ascending => entries.sort_by(|a, b| a.elapsed.total_cmp(&b.elapsed)),
            SortOrder::None => {}
        }
        if let Some(limit) = self.options.output_limit {
            entries.truncate(limit);
        }
        let name_width = columns.saturating_sub(9);
        for e in entries {
            let mut line = pad_right(&format!("{} ", e.name), name_width, '-');
            line.push_str(&pad_left(&format!(" {:.2}s", e.elapsed), 9, '-'));
            if let Some(path) = &e.path {
                line.push('\n');
                line.push_str(&pad_right(&format!("{path} "), columns, '-'));
            }
            out.push(line);
        }
        out
    }

    fn close_current(&mut self) {
        if let Some(id) = self.current.take() {
            if let Some(e) = self.tasks.get_mut(&id) {
                e.elapsed += e.started.elapsed().as_secs_f64();
            }
        }
    }

    /// `Sunday 22 November 2026  03:44:41 +0000 (0:00:00.189)       0:00:00.189 *****`
    fn timestamp_line(&mut self) -> String {
        let now = Instant::now();
        let since_last = now.duration_since(self.last_line).as_secs_f64();
        let since_start = now.duration_since(self.started).as_secs_f64();
        self.last_line = now;
        filled(
            &format!(
                "{} ({}){}{}",
                local_time_text(),
                duration_text(since_last),
                " ".repeat(7),
                duration_text(since_start)
            ),
            '*',
        )
    }
}

/// The plugin's `filled`: the message, a space, then the fill character up
/// to 79 columns (at least three), then a space.
fn filled(msg: &str, fill: char) -> String {
    let (msg, width) = if msg.is_empty() {
        (String::new(), 79)
    } else {
        let m = format!("{msg} ");
        let w = 79usize.saturating_sub(m.chars().count());
        (m, w)
    };
    format!("{msg}{} ", fill.to_string().repeat(width.max(3)))
}

/// `h:mm:ss.mmm`, milliseconds truncated (the plugin's `secondsToStr`).
fn duration_text(seconds: f64) -> String {
    let ms = (seconds * 1000.0).max(0.0);
    let whole_seconds = (ms / 1000.0).floor();
    let millis = (ms - whole_seconds * 1000.0) as u64;
    let s = whole_seconds as u64;
    format!(
        "{}:{:02}:{:02}.{:03}",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        millis
    )
}

fn pad_right(text: &str, width: usize, fill: char) -> String {
    let len = text.chars().count();
    let mut out = text.to_string();
    out.extend(std::iter::repeat_n(fill, width.saturating_sub(len)));
    out
}

fn pad_left(text: &str, width: usize, fill: char) -> String {
    let len = text.chars().count();
    let mut out: String = std::iter::repeat_n(fill, width.saturating_sub(len)).collect();
    out.push_str(text);
    out
}

/// `time.strftime('%A %d %B %Y  %H:%M:%S %z')` in the C locale, local time.
fn local_time_text() -> String {
    const DAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as libc::time_t)
        .unwrap_or(0);
    // SAFETY: localtime_r only writes the `tm` we own; a zeroed `tm` is a
    // valid value of that plain C struct.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            return String::from("?");
        }
        tm
    };
    let offset_minutes = tm.tm_gmtoff / 60;
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let offset = offset_minutes.abs();
    format!(
        "{} {:02} {} {}  {:02}:{:02}:{:02} {sign}{:02}{:02}",
        DAYS.get(tm.tm_wday as usize).unwrap_or(&"?"),
        tm.tm_mday,
        MONTHS.get(tm.tm_mon as usize).unwrap_or(&"?"),
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        offset / 60,
        offset % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_the_plugin_prints_them() {
        assert_eq!(duration_text(0.1899), "0:00:00.189");
        assert_eq!(duration_text(3725.5), "1:02:05.500");
    }

    #[test]
    fn filled_lines_are_eighty_wide() {
        let line = filled(
            "Sunday 22 November 2026  03:44:41 +0000 (0:00:00.189)       0:00:00.189",
            '*',
        );
        assert_eq!(line.chars().count(), 80);
        assert!(line.ends_with("******* "));
        assert_eq!(filled("", '='), format!("{} ", "=".repeat(79)));
    }

    #[test]
    fn summary_lines_fill_the_columns() {
        let mut p = ProfileTasks::new(ProfileOptions::default());
        assert!(p.task_start(1, "notify", None).is_some());
        p.task_start(2, "debug", Some("/x/site.yml:3"));
        let lines = p.summary(79);
        assert_eq!(lines[1], format!("{} ", "=".repeat(79)));
        let notify = lines.iter().find(|l| l.starts_with("notify ")).unwrap();
        assert_eq!(notify.chars().count(), 79);
        assert!(notify.ends_with("s"), "{notify}");
        let debug = lines.iter().find(|l| l.starts_with("debug ")).unwrap();
        assert!(debug.contains("\n/x/site.yml:3 ---"), "{debug}");
    }

    #[test]
    fn summary_only_prints_no_timestamps() {
        let mut p = ProfileTasks::new(ProfileOptions {
            summary_only: true,
            ..ProfileOptions::default()
        });
        assert!(p.task_start(1, "a", None).is_none());
        assert!(!p.summary(79)[0].contains('('));
    }
}
