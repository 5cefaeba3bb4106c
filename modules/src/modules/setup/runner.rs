//! Runs the selected collectors. Most are a few file reads and run one after
//! another; `hardware` waits on `lsblk` and walks /sys/block (tens of
//! milliseconds, most of a gathering's time), so it runs on its own thread as
//! soon as the collectors it reads have finished, beside the rest.
//!
//! The result is the same as a sequential run: every collector sees the facts
//! of the collectors it requires (the only ones any collector reads), and the
//! outputs are merged in collector order, so fact order and overrides match.

use super::subset::Collector;
use super::util::Programs;
use super::{timing, Facts, Gather};
use std::thread::ScopedJoinHandle;

/// Collectors worth a thread of their own: slow, and reading only their `requires`.
const BACKGROUND: &[&str] = &["hardware"];

pub(crate) fn run_collectors(
    collectors: &[&'static Collector],
    fact_path: &str,
    programs: &Programs,
) -> Facts {
    let mut outputs: Vec<Option<Facts>> = vec![None; collectors.len()];
    // Facts of the finished collectors, merged in collector order: what the
    // next sequential collector reads.
    let mut so_far = Facts::new();
    std::thread::scope(|scope| {
        let mut running: Vec<(usize, ScopedJoinHandle<'_, Facts>)> = Vec::new();
        for (i, collector) in collectors.iter().enumerate() {
            // A collector that reads a background one's facts waits for it.
            join_required(
                collector,
                collectors,
                &mut running,
                &mut outputs,
                &mut so_far,
            );
            if BACKGROUND.contains(&collector.name) {
                let input = so_far.clone();
                let handle = scope.spawn(move || timed(collector, &input, fact_path, programs));
                running.push((i, handle));
            } else {
                let found = timed(collector, &so_far, fact_path, programs);
                merge(&mut so_far, &found);
                outputs[i] = Some(found);
            }
        }
        for (i, handle) in running.drain(..) {
            outputs[i] = Some(join(handle));
        }
    });
    // Moved, not copied: the outputs are not needed after this.
    let mut facts = Facts::new();
    for found in outputs.into_iter().flatten() {
        for (k, v) in found {
            facts.insert(k, v);
        }
    }
    facts
}

fn timed(collector: &Collector, facts: &Facts, fact_path: &str, programs: &Programs) -> Facts {
    let started = timing::start();
    let found = (collector.collect)(&Gather {
        facts,
        fact_path,
        programs,
    });
    timing::done(collector.name, started);
    found
}

fn merge(into: &mut Facts, found: &Facts) {
    for (k, v) in found {
        into.insert(k.clone(), v.clone());
    }
}

/// Joins the running collectors `collector` requires, adding their facts.
fn join_required<'s>(
    collector: &Collector,
    collectors: &[&'static Collector],
    running: &mut Vec<(usize, ScopedJoinHandle<'s, Facts>)>,
    outputs: &mut [Option<Facts>],
    so_far: &mut Facts,
) {
    while let Some(pos) = running
        .iter()
        .position(|(i, _)| collector.requires.contains(&collectors[*i].name))
    {
        let (i, handle) = running.remove(pos);
        let found = join(handle);
        merge(so_far, &found);
        outputs[i] = Some(found);
    }
}

/// A collector's thread's facts; its panic goes on as the gathering's own,
/// as it would have without the thread.
fn join(handle: ScopedJoinHandle<'_, Facts>) -> Facts {
    match handle.join() {
        Ok(found) => found,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn facts(v: Value) -> Facts {
        match v {
            Value::Object(m) => m,
            _ => Facts::new(),
        }
    }
    fn first(_: &Gather) -> Facts {
        facts(json!({"a": 1, "shared": "first"}))
    }
    /// Named `hardware`, so it runs on its own thread; reads what `first` found.
    fn slow(g: &Gather) -> Facts {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let a = g.facts.get("a").and_then(Value::as_i64).unwrap_or(-1);
        facts(json!({"h": a + 1, "shared": "slow"}))
    }
    fn after(g: &Gather) -> Facts {
        // Does not require `hardware`: must not depend on whether it finished.
        let _ = g;
        facts(json!({"c": true, "shared": "after"}))
    }
    fn reader(g: &Gather) -> Facts {
        facts(json!({"saw_h": g.facts.get("h").cloned().unwrap_or(Value::Null)}))
    }

    static FIRST: Collector = Collector {
        name: "first",
        fact_ids: &[],
        requires: &[],
        collect: first,
    };
    static SLOW: Collector = Collector {
        name: "hardware",
        fact_ids: &[],
        requires: &["first"],
        collect: slow,
    };
    static AFTER: Collector = Collector {
        name: "after",
        fact_ids: &[],
        requires: &[],
        collect: after,
    };
    static READER: Collector = Collector {
        name: "reader",
        fact_ids: &[],
        requires: &["hardware"],
        collect: reader,
    };

    #[test]
    fn background_collector_gives_the_sequential_result() {
        let env = Default::default();
        let programs = Programs::new(&env);
        let out = run_collectors(&[&FIRST, &SLOW, &AFTER, &READER], "/nonexistent", &programs);
        // Keys in first-insertion order, later collectors overriding earlier ones.
        assert_eq!(
            out.keys().collect::<Vec<_>>(),
            ["a", "shared", "h", "c", "saw_h"]
        );
        assert_eq!(out["shared"], json!("after"));
        assert_eq!(out["h"], json!(2));
        // A collector requiring the background one waits for it.
        assert_eq!(out["saw_h"], json!(2));
        let without_reader = run_collectors(&[&FIRST, &SLOW, &AFTER], "/nonexistent", &programs);
        assert_eq!(without_reader["shared"], json!("after"));
        assert_eq!(without_reader["h"], json!(2));
    }
}
