//! Every filter, test, lookup, global function and method in the Kubespray
//! census (`shared/kubespray-census/`) is implemented, except the ones listed
//! in COMPATIBILITY.md as not yet implemented (NOT_YET below).

#[path = "../examples/census_gaps.rs"]
mod census_gaps;

use std::path::PathBuf;

/// Known gaps, each named in COMPATIBILITY.md.
const NOT_YET: &[&str] = &["community.crypto.x509_certificate_info"];

fn census_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("RSIBLE_CENSUS_DIR") {
        return PathBuf::from(dir);
    }
    // shared/ sits beside the repository (CI's clone, /work/main); worktrees
    // elsewhere find it through RSIBLE_CENSUS_DIR or /work/shared.
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let beside = repo.join("../shared/kubespray-census");
    if beside.is_dir() {
        return beside;
    }
    PathBuf::from("/work/shared/kubespray-census")
}

#[test]
fn census_names_are_implemented() {
    let dir = census_dir();
    assert!(
        dir.join("filters.tsv").is_file(),
        "no Kubespray census at {} (set RSIBLE_CENSUS_DIR)",
        dir.display()
    );
    let gaps = census_gaps::gaps(&dir);
    let unexpected: Vec<String> = gaps
        .iter()
        .filter(|g| !NOT_YET.contains(&g.name.as_str()))
        .map(|g| format!("{} {}", g.kind, g.name))
        .collect();
    assert!(unexpected.is_empty(), "not implemented: {:?}", unexpected);
    // A known gap that got implemented must leave NOT_YET (and COMPATIBILITY.md).
    for name in NOT_YET {
        assert!(
            gaps.iter().any(|g| g.name == *name),
            "{} is implemented now: remove it from NOT_YET",
            name
        );
    }
}
