//! State the task-control keywords keep while a play runs (retries'
//! progress lines, ...), kept apart from the executor's own fields.

use crate::output::default_callback::TaskView;

#[derive(Default)]
pub(super) struct ControlState {
    /// The banner view of the task being run on the current host, for
    /// lines printed while it runs (`FAILED - RETRYING`).
    pub current_view: Option<TaskView>,
}
