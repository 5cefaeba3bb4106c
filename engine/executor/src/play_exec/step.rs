//! `--step`: before each task (not meta tasks) Ansible asks
//! `Perform task: TASK: <name> (N)o/(y)es/(c)ontinue: ` with Python's
//! `input()`: the prompt on stdout, one line read from stdin. `y`/`yes` runs
//! the task, `c`/`continue` runs it and stops asking for the rest of the play
//! (or `serial` batch), anything else skips it
//! for every host; the question is then repeated as a banner. End of input
//! stops the run (Ansible's strategy treats the EOFError as an abort: the
//! recap follows, exit status 2).

use std::io::{BufRead, Write};

use rsible_playbook::Task;

use super::Executor;
use crate::output::default_callback::Sink;
use crate::output::display::banner;

/// What `--step` leaves for the rest of the run.
#[derive(Default)]
pub(super) struct StepState {
    /// The answer could not be read: the run stops after the recap.
    pub aborted: bool,
    /// `c` was answered: no more questions until the next play or batch
    /// (Ansible keeps the flag in its strategy, made anew for each).
    continued: bool,
}

impl StepState {
    /// A play (or `serial` batch) starts: questions are asked again.
    pub(super) fn new_batch(&mut self) {
        self.continued = false;
    }
}

/// The user's answer to one question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StepAnswer {
    Run,
    RunAndStopAsking,
    Skip,
}

/// Ansible's reading of the answer (case-insensitive, no trimming but the line end).
pub(super) fn parse_answer(line: &str) -> StepAnswer {
    match line.to_lowercase().as_str() {
        "y" | "yes" => StepAnswer::Run,
        "c" | "continue" => StepAnswer::RunAndStopAsking,
        _ => StepAnswer::Skip,
    }
}

/// `Task.__repr__` / `Handler.__repr__`: the untemplated name.
pub(super) fn task_repr(task: &Task, prefix: &str) -> String {
    let kind = if prefix == "TASK" { "TASK" } else { "HANDLER" };
    format!("{kind}: {}", task.display_name())
}

/// Prints `prompt` on stdout and reads one line from stdin, as `input()`;
/// `None` at end of input or on a read error.
fn read_answer(prompt: &str) -> Option<String> {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(prompt.as_bytes());
    let _ = out.flush();
    drop(out);
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches('\n').to_string()),
    }
}

impl<S: Sink> Executor<'_, S> {
    /// Whether the task runs under `--step`; always true without it.
    /// `label` is the task as Ansible's `repr` shows it.
    pub(super) fn step_allows(&mut self, label: &str, hosts: &[String]) -> bool {
        if !self.options.step || self.step.continued {
            return true;
        }
        let question = format!("Perform task: {label} (N)o/(y)es/(c)ontinue: ");
        let Some(line) = read_answer(&question) else {
            self.step.aborted = true;
            // Nothing more runs: every host of the play is done.
            for h in hosts {
                self.state(h).ended = true;
            }
            return false;
        };
        let answer = parse_answer(&line);
        if answer == StepAnswer::RunAndStopAsking {
            self.step.continued = true;
        }
        self.callback
            .sink
            .out(&banner(&question, self.callback.options.columns));
        answer != StepAnswer::Skip
    }

    /// The run was stopped for want of an answer.
    pub fn step_aborted(&self) -> bool {
        self.step.aborted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_ansible_reads_them() {
        assert_eq!(parse_answer("Y"), StepAnswer::Run);
        assert_eq!(parse_answer("yes"), StepAnswer::Run);
        assert_eq!(parse_answer("C"), StepAnswer::RunAndStopAsking);
        assert_eq!(parse_answer("continue"), StepAnswer::RunAndStopAsking);
        assert_eq!(parse_answer(""), StepAnswer::Skip);
        assert_eq!(parse_answer(" y"), StepAnswer::Skip);
        assert_eq!(parse_answer("n"), StepAnswer::Skip);
    }
}
