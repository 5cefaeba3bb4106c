//! Errors Ansible raises (rather than returns) while a task runs: an
//! undefined variable in the task's arguments, an error `debug` does not
//! catch. Its TaskExecutor lets them out of the loop, so a loop ends at the
//! item that raised one and the task fails with that error alone (`fatal:`,
//! no `results`); the items before it were already shown.

use serde_json::{Map, Value as Json};

/// Marks a result made from a raised error (an internal key: callbacks and
/// `register` drop `_ansible_*` keys).
pub(crate) const RAISED: &str = "_ansible_rsible_raised";
/// The results of the items before the one that raised, shown per item
/// before the task's failure.
pub(super) const ITEMS_BEFORE: &str = "_ansible_rsible_items_before";

/// Whether `result` came from a raised error.
pub(super) fn raised(result: &Map<String, Json>) -> bool {
    result.get(RAISED) == Some(&Json::Bool(true))
}

/// The task's result when the item `raised_item` raised after `before`
/// items ran: its failure alone, the earlier items kept for display.
pub(super) fn aborted_loop(
    raised_item: &Map<String, Json>,
    before: Vec<Map<String, Json>>,
) -> Map<String, Json> {
    let mut out = Map::new();
    out.insert("failed".into(), Json::Bool(true));
    if let Some(msg) = raised_item.get("msg") {
        out.insert("msg".into(), msg.clone());
    }
    if let Some(no_log) = raised_item.get("_ansible_no_log") {
        out.insert("_ansible_no_log".into(), no_log.clone());
    }
    out.insert(
        ITEMS_BEFORE.into(),
        Json::Array(before.into_iter().map(Json::Object).collect()),
    );
    out
}
