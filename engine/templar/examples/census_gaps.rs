//! Lists every filter, test, lookup, global function and method in a
//! Kubespray census (`filters.tsv`, `tests.tsv`, `lookups.tsv`) that the
//! templar does not implement.
//!
//! `cargo run -p rsible-templar --example census_gaps -- CENSUS_DIR`
//! (or `bench/templar-census-gaps.sh`). Exit status 1 when something is missing.

use std::path::Path;

use rsible_templar::{MapVars, Templar};

/// Global names the census counts that are macros defined inside Kubespray's
/// own templates, not functions Ansible provides.
const TEMPLATE_MACROS: &[&str] = &["increment", "convert_keys"];

/// One name the census lists and the templar lacks.
#[derive(Debug)]
pub struct Gap {
    pub kind: &'static str,
    pub name: String,
    pub uses: String,
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {}", path.display(), e));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1) // the header
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Does some receiver (a string, a dict or a list) have the method?
fn knows_method(templar: &Templar, method: &str) -> bool {
    let vars = MapVars::default();
    ["'a b'", "{'k': 1}", "[1]"].iter().any(|receiver| {
        match templar.template_str(&format!("{{{{ {}.{}() }}}}", receiver, method), &vars) {
            Ok(_) => true,
            Err(e) => !e.message.contains("unknown method") && !e.message.contains("has no method"),
        }
    })
}

/// Every census entry the templar does not implement.
pub fn gaps(census: &Path) -> Vec<Gap> {
    let templar = Templar::new();
    let mut out = Vec::new();
    let mut gap = |kind: &'static str, name: &str, uses: &str| {
        out.push(Gap {
            kind,
            name: name.to_string(),
            uses: uses.to_string(),
        })
    };
    for row in rows(&census.join("filters.tsv")) {
        let (kind, name, uses) = (row[0].as_str(), row[1].as_str(), row[2].as_str());
        match kind {
            "filter" | "filter(by-name)" if !templar.knows_filter(name) => {
                gap("filter", name, uses)
            }
            "global" => {
                let f = name.trim_end_matches("()");
                if !TEMPLATE_MACROS.contains(&f) && !templar.knows_function(f) {
                    gap("function", f, uses);
                }
            }
            "method" => {
                let m = name.trim_start_matches('.').trim_end_matches("()");
                if !knows_method(&templar, m) {
                    gap("method", m, uses);
                }
            }
            _ => {}
        }
    }
    for row in rows(&census.join("tests.tsv")) {
        let name = row[0].as_str();
        // `(truthy)` is select()/reject() without a test name.
        if name != "(truthy)" && !templar.knows_test(name) {
            gap("test", name, &row[1]);
        }
    }
    for row in rows(&census.join("lookups.tsv")) {
        if !templar.knows_lookup(&row[0]) {
            gap("lookup", &row[0], &row[2]);
        }
    }
    out
}

#[allow(dead_code)] // the census test includes this file for `gaps` only
fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: census_gaps CENSUS_DIR");
        std::process::exit(2);
    };
    let missing = gaps(Path::new(&dir));
    for g in &missing {
        println!("{}\t{}\t(used {} times)", g.kind, g.name, g.uses);
    }
    println!("{} missing", missing.len());
    if !missing.is_empty() {
        std::process::exit(1);
    }
}
