//! The play's `vars_files` level in a task's scope (see
//! `vars::play_vars_files` for how entries are read).

use rsible_playbook::Play;

use super::{Executor, FatalError};
use crate::output::default_callback::Sink;
use crate::vars::play_vars_files::{self as vf, VarsFilesError};
use crate::vars::precedence as level;
use crate::vars::VarLayers;

impl<S: Sink> Executor<'_, S> {
    /// Before the play starts, as Ansible's host-less `get_vars(play)` does:
    /// a vars file that does not parse (or is not a mapping) stops the run.
    /// Entries that need a host's variables are read per host later.
    pub(super) fn check_play_vars_files(&mut self, play: &Play) -> Result<(), FatalError> {
        let entries = vf::entries(play.keywords.get("vars_files"));
        if entries.is_empty() || !vf::is_static(&entries) {
            return Ok(());
        }
        vf::layer(
            &self.templar,
            &entries,
            &play.basedir,
            &VarLayers::new(),
            &mut self.vars_files_cache,
        )
        .map(|_| ())
        .map_err(fatal)
    }

    /// Adds the vars_files level to a scope built without it.
    pub(super) fn add_play_vars_files(&mut self, play: &Play, scope: &mut VarLayers) {
        let entries = vf::entries(play.keywords.get("vars_files"));
        if entries.is_empty() {
            return;
        }
        let mut context = scope.clone();
        context.retain_levels(vf::is_template_context);
        match vf::layer(
            &self.templar,
            &entries,
            &play.basedir,
            &context,
            &mut self.vars_files_cache,
        ) {
            Ok(layer) => scope.insert_above(level::PLAY_VARS_FILES, layer, vf::is_below_vars_files),
            // Only a file whose name depends on the host gets here: the play
            // goes on without it, and says why.
            Err(e) => {
                let text = crate::output::display::warning(&e.message, 80);
                self.callback.sink.err(&text);
            }
        }
    }
}

fn fatal(e: VarsFilesError) -> FatalError {
    FatalError {
        message: e.message,
        exit_code: e.exit_code,
    }
}
