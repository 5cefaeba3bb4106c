//! Load every `*.yml`/`*.yaml` under the given directories and report the
//! count, failures and time taken (Kubespray's 400 files should take a few ms
//! in release mode): `cargo run --release --example load_tree -- DIR...`.

use std::path::{Path, PathBuf};
use std::time::Instant;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

fn main() {
    let mut files = Vec::new();
    for dir in std::env::args().skip(1) {
        collect(Path::new(&dir), &mut files);
    }
    files.sort();
    let texts: Vec<(PathBuf, String)> = files
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
        .collect();
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    let start = Instant::now();
    let mut failures = 0;
    for (path, text) in &texts {
        if let Err(e) = rsible_yaml::load_str(text, Some(&path.to_string_lossy())) {
            failures += 1;
            eprintln!("{}: {e}\n", path.display());
        }
    }
    let elapsed = start.elapsed();
    println!(
        "{} files, {} KiB, {} failed, parsed in {:.2} ms (file reading excluded)",
        texts.len(),
        bytes / 1024,
        failures,
        elapsed.as_secs_f64() * 1000.0
    );
    if failures > 0 {
        std::process::exit(1);
    }
}
