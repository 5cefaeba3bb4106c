//! The two sides of a differential test run at once: each engine works in its
//! own sandbox, so nothing orders them, and the test takes the longer's time
//! rather than the sum.

/// Runs `reference` and `rsible` on two threads; returns (reference's, rsible's).
pub fn side_by_side<T: Send>(
    reference: impl FnOnce() -> T + Send,
    rsible: impl FnOnce() -> T + Send,
) -> (T, T) {
    std::thread::scope(|s| {
        let theirs = s.spawn(reference);
        let mine = s.spawn(rsible);
        (
            theirs.join().expect("reference run"),
            mine.join().expect("rsible run"),
        )
    })
}
