//! What the modules crate's differential tests share. Each test file runs module calls
//! through the reference Ansible (one `ansible-playbook` run on `localhost`, json
//! callback) and through `rsible_modules::run_module`, then compares the two.
#![allow(dead_code, unused_imports)] // each test file uses its own subset

pub mod cases;
pub mod file_tree;
pub mod reference;
pub mod result_view;
pub mod steps;

pub use reference::{localhost_results, reference_bin};

/// Fails with every difference found, one per paragraph.
pub fn assert_no_differences(mismatches: &[String]) {
    assert!(
        mismatches.is_empty(),
        "{} differences:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
